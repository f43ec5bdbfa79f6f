/* wasi.h: WASI preview1 (wasi_snapshot_preview1) for wharf instances.
 *
 * A wh_wasi holds one guest process's WASI state: arguments, environment,
 * the fd table (stdio and preopened directories) and the exit code. It is
 * built from a config, its functions are defined into a linker (or into a
 * shared linker once, see wh_wasi_define_shared), and it serves exactly
 * one instance at a time. Uses only the public wharf.h API.
 * Not thread-safe: one wh_wasi per running guest. */
#ifndef WH_WASI_H
#define WH_WASI_H

#include "../../include/wharf.h"

typedef struct wh_wasi wh_wasi;

typedef struct wh_wasi_preopen {
    const char *host_path;    /* directory on the host */
    const char *guest_path;   /* the name the guest sees, e.g. "/data" or "." */
} wh_wasi_preopen;

typedef struct wh_wasi_config {
    const char *const *argv;  /* argv[0] is the program name */
    int argc;
    const char *const *env;   /* "NAME=VALUE" strings */
    int nenv;
    const wh_wasi_preopen *preopens;
    int npreopens;
    /* Host fds for guest 0, 1, 2. Each is duplicated (close-on-exec), so
     * the guest closing its fd never closes the embedder's; a negative
     * value leaves that guest fd closed. */
    int stdin_fd, stdout_fd, stderr_fd;
    /* Use those fds themselves rather than duplicates, saving a dup and a
     * close each: the embedder keeps them open while the wh_wasi lives,
     * and a guest closing one only frees its own guest fd. */
    bool borrow_stdio;
} wh_wasi_config;

/* Creates the WASI state; copies everything in `cfg`. Opens the preopened
 * directories as guest fds 3, 4, ... in order (an error names the one that
 * failed: WHARF_ERR_ARG with the host's reason; or WHARF_ERR_NOMEM). A
 * preopen with a NULL guest_path is named by its host path. The guest can
 * reach nothing outside the preopens: see docs/wasi.md. */
wharf_status wh_wasi_new(const wh_wasi_config *cfg, WHARF_OWN wh_wasi **out,
                         wharf_error *err);
void wh_wasi_free(WHARF_OWN wh_wasi *w);

/* Defines every wasi_snapshot_preview1 function into `l`, bound to `w`. */
wharf_status wh_wasi_define(wh_wasi *w, wharf_linker *l);

/* Defines them bound to no state: each call finds the calling instance's
 * WASI state as get(user), `user` being that instance's user pointer
 * (wharf_instance_set_user, wharf_instance_pre_instantiate). So one
 * linker, made once, serves every instance, each with its own wh_wasi. A
 * call from an instance for which get returns NULL traps. `get` must be
 * thread-safe when instances run on several threads. */
wharf_status wh_wasi_define_shared(wharf_linker *l, wh_wasi *(*get)(void *inst_user));

/* The exit code the guest passed to proc_exit (0 if it returned). Codes
 * of 126 and more are refused with a trap, as wasmtime does. */
int wh_wasi_exit_code(const wh_wasi *w);

#endif /* WH_WASI_H */
