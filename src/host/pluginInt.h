/* pluginInt.h: what the plugin files share.
 *
 *   plugin.c       compiled plugins, plugin instances, calls, cancel
 *   plugin_mem.c   the call memory: Extism's "kernel" memory, native
 *   plugin_env.c   the extism:host/env imports, variables, logging
 *   plugin_http.c  http_request over libcurl, behind the allow-list
 *
 * Uses only the public API (wharf.h) and WASI (wasi.h): nothing here
 * reaches into the engine. The call memory lives in a host buffer, not in
 * a second wasm module: handles are offsets into that buffer, offset 0 is
 * the null handle, and the buffer may move when it grows (so nothing keeps
 * a pointer into it across an allocation).
 */
#ifndef WH_HOST_PLUGIN_INT_H
#define WH_HOST_PLUGIN_INT_H

#include <pthread.h>

#include "../../include/wharf.h"
#include "../base/base.h"
#include "../wasi/wasi.h"

#define WH_HOST_ENV_MODULE "extism:host/env"
#define WH_HOST_USER_MODULE "extism:host/user"

/* ---- Call memory (plugin_mem.c) ---------------------------------------- */

/* The first handle ever returned; smaller offsets are never valid, so 0
 * stays the null handle. */
#define WH_HOST_MEM_BASE 8u

enum { WH_BLK_ACTIVE, WH_BLK_FREE, WH_BLK_RETIRED };

/* One allocation. Blocks are kept sorted by offset: new ones are bumped at
 * the top, freed ones are reused in place (first fit, never split). */
typedef struct wh_host_block {
    uint64_t off, cap, len;   /* start, room, bytes in use (length()) */
    uint8_t state;            /* WH_BLK_* */
    bool pinned;              /* holds the output: freeing retires it */
} wh_host_block;

typedef struct wh_host_mem {
    uint8_t *data;            /* offsets index this buffer directly */
    uint64_t top;             /* end of the last block */
    uint64_t cap;             /* bytes allocated for data */
    uint64_t limit;           /* largest top allowed */
    wh_host_block *blocks;
    uint32_t nblocks, capblocks, nfree;
} wh_host_mem;

void wh_host_mem_init(wh_host_mem *m, uint64_t limit);
void wh_host_mem_release(wh_host_mem *m);
/* Forgets every block; keeps the buffers for the next call. O(1). */
void wh_host_mem_reset(wh_host_mem *m);
/* A new block of n bytes (contents unspecified); 0 when n is 0 or the
 * limit or the host's memory is exhausted. */
uint64_t wh_host_mem_alloc(wh_host_mem *m, uint64_t n);
/* Marks the live block at h free; anything else is ignored (as Extism). */
void wh_host_mem_free(wh_host_mem *m, uint64_t h);
/* The live block starting at h, or NULL. O(log blocks). */
wh_host_block *wh_host_mem_block(wh_host_mem *m, uint64_t h);
/* Whether [off, off + n) lies inside allocated memory. */
static inline bool wh_host_mem_in(const wh_host_mem *m, uint64_t off, uint64_t n)
{
    return off >= WH_HOST_MEM_BASE && off <= m->top && n <= m->top - off;
}
/* Keeps the blocks under [off, off + n) from being reused this call. */
void wh_host_mem_pin(wh_host_mem *m, uint64_t off, uint64_t n);

/* ---- Compiled plugin and plugin (plugin.c) ----------------------------- */

struct wharf_compiled_plugin {
    wharf_engine *engine;
    wharf_module *module;
    wh_allocator alloc;           /* libc, for the arena */
    wh_arena arena;               /* the manifest copy below */
    wharf_limits limits;
    uint64_t fuel;
    uint64_t mem_limit;           /* call memory bytes */
    bool wasi;
    char **hosts; size_t nhosts;
    wh_wasi_preopen *paths; size_t npaths;
    wharf_plugin_kv *config; size_t nconfig;
    wharf_plugin_func *funcs; size_t nfuncs;
    uint64_t max_var_bytes, max_http_bytes;
    wharf_plugin_log_fn log;
    void *log_user;
    wharf_log_level log_level;
    /* The imports (extism:host/env, the manifest's functions, WASI), linked
     * once for every plugin: their host functions find the calling plugin
     * as the instance's user pointer. When linking failed, pre is NULL and
     * link_err says why, for every instantiation to report. */
    wharf_linker *linker;
    wharf_instance_pre *pre;
    wharf_error link_err;
};

typedef struct wh_host_var {
    char *key;                    /* key and value share one allocation */
    size_t key_len;
    uint8_t *val;
    size_t val_len;
} wh_host_var;

struct wharf_plugin_cancel {
    pthread_mutex_t lock;         /* guards inst against a rebuild */
    wharf_instance *inst;
    volatile int requested;       /* read by the HTTP transfer callback */
};

struct wharf_plugin {
    wharf_compiled_plugin *code;
    bool own_code, own_engine;
    wh_wasi *wasi;
    wharf_instance *inst;         /* NULL while it needs rebuilding; its
                                     user pointer is this plugin */
    wharf_plugin_cancel cancel;

    /* The last function looked up, so repeated calls skip the search. */
    char *fname;
    wharf_func *func;
    bool func_returns;            /* () -> i32 rather than () -> () */

    /* Per-call state, reset by each call. */
    wh_host_mem mem;
    uint64_t input, input_len;
    uint64_t out_off, out_len;
    char *error;                  /* copied by error_set; NULL = none */
    size_t error_len;
    wharf_caller *caller;         /* while a host function runs */
    uint64_t deadline_ns;         /* for HTTP; 0 = none */

    /* Per-plugin state that persists across calls. */
    wh_host_var *vars;
    size_t nvars, capvars;
    uint64_t var_bytes;
    int32_t http_status;
    char *http_headers;           /* JSON object of the last response */
    size_t http_headers_len;
};

/* ---- Imports (plugin_env.c, plugin_http.c) ----------------------------- */

/* Defines every extism:host/env function into `l`, for any plugin: each
 * call finds its plugin as the calling instance's user pointer. */
wharf_status wh_host_env_define(wharf_linker *l);
/* Frees the variables. */
void wh_host_vars_free(wharf_plugin *p);

/* http_request: performs the request described by the JSON at handle
 * `req` with the body at handle `body` (0 = none) and stores the response
 * body in a new block, its handle in *out. Sets p->http_status and
 * p->http_headers. Returns WHARF_OK or a trap made with wharf_caller_trap
 * (host not allowed, bad request, transfer failure). */
wharf_status wh_host_http_request(wharf_plugin *p, uint64_t req, uint64_t body,
                                  uint64_t *out);

#endif /* WH_HOST_PLUGIN_INT_H */
