/* serviceInt.h: internals shared by the files behind service.h.
 *
 *   service.c           the app (modules, checks), dispatch, errors, log
 *   service_gate.c      admission: concurrency slots and the wait queue
 *   service_function.c  the function executor (plugin ABI, docs/config.md)
 *   wagi.c              the WAGI executor (CGI over WASI)
 *   wagi_cgi.c          the CGI response parser (no I/O)
 *   pool.c              per-thread workers: stdio pipes, reused instances
 */
#ifndef WH_HOST_SERVICE_INT_H
#define WH_HOST_SERVICE_INT_H

#include <pthread.h>

#include "../../include/wharf.h"
#include "../wasi/wasi.h"
#include "service.h"

struct wh_host_service {
    const wh_host_service_conf *conf;
    int index;
    wharf_module *module;             /* WAGI: the compiled command */
    wharf_compiled_plugin *plugin;    /* function: the compiled plugin */
    wharf_limits limits;              /* per instance, from conf->limits */
    wh_wasi_preopen *preopens;        /* conf->dirs as WASI wants them */

    /* The gate; unused (no locking) when max_concurrent is 0. */
    pthread_mutex_t lock;
    uint32_t running, waiting;
    wh_host_waiter *head, *tail;      /* FIFO of waiters */
};

struct wh_host_app {
    const wh_host_config *cfg;
    wharf_engine *engine;
    wh_host_service *services;
    int nservices;
    size_t stdout_bytes;              /* WAGI stdout capacity a worker needs */
};

/* A function-executor instance kept for reuse by one worker. */
typedef struct wh_host_slot {
    wharf_plugin *plugin;
    uint32_t uses;                    /* requests served so far */
} wh_host_slot;

struct wh_host_worker {
    wh_host_app *app;
    int stdin_fd;                     /* memfd: the request body */
    int out_rd, out_wr;               /* pipe: the guest's stdout */
    size_t out_pipe;                  /* its capacity in bytes */
    int err_rd, err_wr;               /* pipe: the guest's stderr */
    uint8_t *out;                     /* the response bytes, drained here */
    size_t out_cap;
    wh_arena scratch;                 /* per request; emptied after each */
    uint64_t rng;                     /* error ids */
    wh_host_slot *slots;              /* per service (function + reuse) */
};

/* wagi.c */
void wh_host_wagi_run(wh_host_worker *w, wh_host_service *s,
                      const wh_host_request *req, wh_host_response *res);
/* Checks at start that `s`'s module can run as a WAGI guest: it exports
 * _start and every import links against WASI. */
bool wh_host_wagi_check(wh_host_app *app, wh_host_service *s,
                        char *err, size_t errlen);

/* service_function.c */
void wh_host_function_run(wh_host_worker *w, wh_host_service *s,
                          const wh_host_request *req, wh_host_response *res);
bool wh_host_function_load(wh_host_app *app, wh_host_service *s,
                           char *err, size_t errlen);

/* wagi_cgi.c: parses a CGI response (RFC 3875 section 6) from the whole
 * output of a guest. Header names and values point into `buf`. */
typedef enum wh_host_cgi_result {
    WH_HOST_CGI_DONE,      /* headers complete; body from body_off */
    WH_HOST_CGI_AGAIN,     /* no blank line ending the headers yet */
    WH_HOST_CGI_ERROR,     /* malformed; `error` says why */
} wh_host_cgi_result;

typedef struct wh_host_cgi {
    int status;                       /* Status, 302 for Location, or 200 */
    wh_host_header headers[WH_HOST_MAX_HEADERS];  /* Status excluded */
    int nheaders;
    size_t body_off;
    const char *error;                /* static text, with ERROR */
} wh_host_cgi;

wh_host_cgi_result wh_host_cgi_parse(const uint8_t *buf, size_t len,
                                     wh_host_cgi *out);
/* Fills `res` from a guest's output: a parsed CGI response, or a 500
 * with an error id when it is malformed. */
void wh_host_cgi_respond(wh_host_worker *w, const wh_host_service *s,
                         const uint8_t *out, size_t len, wh_host_response *res);

/* pool.c */
/* Reads everything the guest wrote to stdout into w->out; returns the byte
 * count, or SIZE_MAX when it wrote more than `max`. */
size_t wh_host_pool_drain_stdout(wh_host_worker *w, size_t max);
/* Logs what the guest wrote to stderr (bounded) and empties the pipe. */
void wh_host_pool_drain_stderr(wh_host_worker *w, const wh_host_service *s);
/* Puts the request body on the worker's stdin file, rewound. */
bool wh_host_pool_set_stdin(wh_host_worker *w, const uint8_t *body, size_t len);
/* Room for `len` bytes of output in w->out (grown as needed). */
bool wh_host_pool_reserve(wh_host_worker *w, size_t len);
/* The worker's reusable plugin for `s`, instantiating when it has none.
 * NULL on failure with `err` filled. */
wharf_plugin *wh_host_pool_plugin(wh_host_worker *w, wh_host_service *s,
                                  wharf_error *err);
/* Returns the plugin after a call: kept for the next request when the
 * policy allows and the call succeeded (`ok`), otherwise freed. */
void wh_host_pool_release(wh_host_worker *w, wh_host_service *s,
                          wharf_plugin *p, bool ok);

/* service.c */
/* Reads and compiles the module at `path`; on failure one line in `why`
 * (naming the path, and the byte offset for a bad module). */
bool wh_host_load_module(wh_host_app *app, const char *path, wharf_module **out,
                         char *why, size_t len);
/* Writes `s` (len bytes) as a double-quoted logfmt value into dst, escaping
 * quotes, backslashes and control bytes; truncates to fit `cap`. */
void wh_host_log_quote(char *dst, size_t cap, const char *s, size_t len);
/* The error response for a failed engine call: 504 for fuel, deadline and
 * interrupt traps, else 500. `what` names the step ("instantiate"). */
void wh_host_fail_call(wh_host_worker *w, const wh_host_service *s,
                       const char *what, const wharf_error *err,
                       wh_host_response *res);

#endif /* WH_HOST_SERVICE_INT_H */
