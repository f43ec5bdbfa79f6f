/* serviceInt.h: internals shared by the files behind service.h.
 *
 *   service.c           the app (modules, checks), dispatch, errors, log
 *   service_gate.c      admission: concurrency slots and the wait queue
 *   service_function.c  the function executor (plugin ABI, docs/config.md)
 *   pipeline.c          the pipeline executor: function stages in a row
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
    wharf_linker *linker;             /* WAGI: WASI, shared by all requests */
    wharf_instance_pre *pre;          /* WAGI: the module linked to it */
    wharf_compiled_plugin *plugin;    /* function: the compiled plugin */
    wh_host_service *stages;          /* pipeline: one function service per
                                         stage (conf->stages[i].fn) */
    wharf_limits limits;              /* per instance, from conf->limits */
    wh_wasi_preopen *preopens;        /* conf->dirs as WASI wants them */
    bool module_borrowed;             /* `module` is the registry's (cache) */
    const uint8_t *wasm;              /* during wh_host_service_new only: */
    size_t wasm_len;                  /* the module's bytes, if in memory */

    /* The gate; unused (no locking) when max_concurrent is 0. */
    pthread_mutex_t lock;
    uint32_t running, waiting;
    wh_host_waiter *head, *tail;      /* FIFO of waiters */

    /* Lifetime, for services that a registry swaps at run time: one
     * reference per routing snapshot holding the service, per request in
     * flight and per worker's pooled instance. The last unref calls
     * `release` (wh_host_service_free when NULL). */
    int refs;
    bool retired;                     /* replaced: drop pooled instances */
    void (*release)(wh_host_service *s);
    void *owner;                      /* release's context (the registry's) */
    struct wh_host_service *root;     /* the routed service (a pipeline
                                         stage's parent), or itself */
    wh_host_stats *stats;             /* the name's counters, or own_stats */
    wh_host_stats own_stats;
};

struct wh_host_app {
    const wh_host_config *cfg;        /* NULL for a registry's app */
    wharf_engine *engine;
    wh_host_service **services;
    int nservices;
    size_t stdout_bytes;              /* WAGI stdout capacity a worker needs */
};

/* A function-executor instance kept by one worker: of `owner` (a
 * reference), which may be an older version than the service's current. */
typedef struct wh_host_slot {
    wharf_plugin *plugin;
    wh_host_service *owner;
    uint32_t uses;                    /* requests served so far */
    uint64_t memory;                  /* linear memory counted as pooled */
    bool pooled;                      /* counted in owner's stats->pooled */
} wh_host_slot;

struct wh_host_worker {
    wh_host_app *app;
    int stdin_fd;                     /* memfd: the request body */
    int stdin_guest;                  /* the guest's stdin: the memfd opened
                                         read-only, else stdin_fd itself */
    size_t stdin_len;                 /* bytes in it now */
    int out_rd, out_wr;               /* pipe: the guest's stdout */
    size_t out_pipe;                  /* its capacity in bytes */
    int err_rd, err_wr;               /* pipe: the guest's stderr */
    uint8_t *out;                     /* the response bytes, drained here */
    size_t out_cap;
    wh_arena scratch;                 /* per request; emptied after each */
    uint64_t rng;                     /* request ids */
    char request_id[12];              /* the current request's, or "" */
    wh_host_slot *slots;              /* by service index (function + reuse) */
    int nslots;
};

/* wagi.c */
void wh_host_wagi_run(wh_host_worker *w, wh_host_service *s,
                      const wh_host_request *req, wh_host_response *res);
/* Checks at start that `s`'s module can run as a WAGI guest: it exports
 * _start and every import links against WASI. Links it once for all its
 * requests (s->linker, s->pre). */
bool wh_host_wagi_check(wh_host_app *app, wh_host_service *s,
                        char *err, size_t errlen);
/* Frees what wh_host_wagi_check made (safe on any service). */
void wh_host_wagi_free(wh_host_service *s);

/* service_function.c */
void wh_host_function_run(wh_host_worker *w, wh_host_service *s,
                          const wh_host_request *req, wh_host_response *res);
bool wh_host_function_load(wh_host_app *app, wh_host_service *s,
                           char *err, size_t errlen);

/* pipeline.c: the pipeline executor (docs/config.md, "Pipelines"). */
void wh_host_pipeline_run(wh_host_worker *w, wh_host_service *s,
                          const wh_host_request *req, wh_host_response *res);
/* Compiles every stage and checks its function, as wh_host_function_load. */
bool wh_host_pipeline_load(wh_host_app *app, wh_host_service *s,
                           char *err, size_t errlen);
/* Frees what wh_host_pipeline_load made (safe on a service without). */
void wh_host_pipeline_free(wh_host_service *s);

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
/* Puts the request body on the worker's stdin file (w->stdin_guest, for
 * the guest), rewound. */
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
/* Where a service's module comes from, for wh_host_service_new. */
typedef struct wh_host_service_src {
    int index;                        /* its per-worker table slot */
    const uint8_t *wasm;              /* the module's bytes (borrowed for the */
    size_t wasm_len;                  /* call), or NULL to read conf->module */
    wharf_module *module;             /* WAGI: compiled already (borrowed; the
                                         caller keeps it alive), or NULL */
    wh_host_stats *stats;             /* counters to add to; NULL = its own */
} wh_host_service_src;

/* Builds the service `c` describes (borrowed; it must outlive the
 * service), compiled and checked against its executor, with one
 * reference. On failure returns NULL with one line in `why` (naming
 * c->module). Thread-safe for a shared app. */
wh_host_service *wh_host_service_new(wh_host_app *app, const wh_host_service_conf *c,
                                     const wh_host_service_src *src,
                                     char *why, size_t len);
/* Frees at once, whatever the references (an app's own services). */
void wh_host_service_free(wh_host_service *s);
/* Marks `s` replaced: workers drop their pooled instances of it. */
void wh_host_service_retire(wh_host_service *s);
/* Adds n to counter `field` of s's stats: relaxed, from any thread. */
#define WH_HOST_STAT_ADD(s, field, n) \
    __atomic_add_fetch(&(s)->stats->field, (n), __ATOMIC_RELAXED)
/* Records what one request's instance used: fuel (when the service limits
 * it) and its linear memory, in s->stats. NULL `inst` is ignored. */
void wh_host_note_usage(const wh_host_service *s, wharf_instance *inst);
/* The file at `path` in a malloc'd buffer; NULL with one line in `why`. */
uint8_t *wh_host_read_module(const char *path, size_t *len, char *why, size_t whylen);
/* Compiles `bytes`; on failure one line in `why` naming `path` and, for a
 * bad module, the decoder's or validator's message and byte offset. */
bool wh_host_compile_module(wh_host_app *app, const char *path, const uint8_t *bytes,
                            size_t n, wharf_module **out, char *why, size_t len);
/* Reads and compiles the module at `path`; on failure one line in `why`
 * (naming the path, and the byte offset for a bad module). */
bool wh_host_load_module(wh_host_app *app, const char *path, wharf_module **out,
                         char *why, size_t len);
/* The error response for a failed engine call: 504 for fuel, deadline and
 * interrupt traps, else 500. `what` names the step ("instantiate"). */
void wh_host_fail_call(wh_host_worker *w, const wh_host_service *s,
                       const char *what, const wharf_error *err,
                       wh_host_response *res);

#endif /* WH_HOST_SERVICE_INT_H */
