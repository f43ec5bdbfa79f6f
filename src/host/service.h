/* service.h: what `wharf serve` runs, independent of HTTP libraries.
 *
 *   wh_host_app      every service of one configuration: the engine, each
 *                    service's compiled module, its admission gate. Built
 *                    once at start; shared by all threads.
 *   wh_host_worker   one thread's execution resources (stdio pipes for
 *                    WAGI guests, reusable instances, scratch buffers).
 *                    Belongs to one thread.
 *   wh_host_request  one HTTP request as the executors see it (borrowed).
 *   wh_host_response what an executor produced; its pointers stay valid
 *                    until the worker handles its next request.
 *
 * The HTTP layer routes a request to a service, asks the service's gate
 * for a slot, calls wh_host_handle on its own thread and sends the
 * response. Executors never block on the network; a guest runs for at
 * most its service's timeout (or fuel). */
#ifndef WH_HOST_SERVICE_H
#define WH_HOST_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct wh_host_app wh_host_app;
typedef struct wh_host_service wh_host_service;
typedef struct wh_host_worker wh_host_worker;

/* Header names and values are not NUL-terminated. */
typedef struct wh_host_header {
    const char *name; size_t name_len;
    const char *value; size_t value_len;
} wh_host_header;

#define WH_HOST_MAX_HEADERS 64   /* response headers a guest may set */

typedef struct wh_host_request {
    const char *method; size_t method_len;
    const char *path; size_t path_len;         /* as sent, without query */
    const char *query; size_t query_len;       /* after '?'; may be empty */
    const char *path_info; size_t path_info_len;  /* after the route's
                                                     prefix, not decoded */
    const wh_host_route *route;                /* the route that matched */
    const char *authority; size_t authority_len;  /* Host; may be empty */
    const char *scheme;                        /* "http" or "https" */
    const char *protocol;                      /* "HTTP/1.1", "HTTP/2" */
    const char *remote_addr;                   /* client IP as text */
    uint16_t server_port;                      /* the listener's port */
    const wh_host_header *headers; size_t nheaders;
    const uint8_t *body; size_t body_len;
} wh_host_request;

typedef struct wh_host_response {
    int status;
    wh_host_header headers[WH_HOST_MAX_HEADERS];
    int nheaders;
    const uint8_t *body; size_t body_len;
    char error_id[12];        /* "" unless the host made an error response */
    char error_text[224];     /* the body of such a response */
} wh_host_response;

/* ---- The application --------------------------------------------------- */

/* Reads and compiles every service's module and checks it can run under
 * its executor (exports, imports). Borrows `cfg`, which must outlive the
 * app. On failure returns NULL with one line in err, naming the config
 * file and line of the service's module key. */
wh_host_app *wh_host_app_new(const wh_host_config *cfg, char *err, size_t errlen);
void wh_host_app_free(wh_host_app *app);

const wh_host_service_conf *wh_host_service_conf_of(const wh_host_service *s);

/* References, for services a registry (registry.h) swaps at run time:
 * whoever uses a service beyond the routing snapshot it found it in (a
 * request in flight, a pooled instance) holds one. Any thread. */
void wh_host_service_ref(wh_host_service *s);
void wh_host_service_unref(wh_host_service *s);

/* ---- Counters (GET /metrics, the admin API) ---------------------------- */

#define WH_HOST_LATENCY_BUCKETS 12   /* their bounds: src/http/metrics.c */

/* One service name's counters, kept across its versions. Every field is
 * read and written with relaxed atomics, from any thread. */
typedef struct wh_host_stats {
    uint64_t requests[6];        /* by status class: [2] is 2xx; [0] other */
    uint64_t latency[WH_HOST_LATENCY_BUCKETS + 1];  /* per bucket; last +Inf */
    uint64_t latency_ns;         /* their sum */
    uint64_t traps;              /* guests that trapped (not limits) */
    uint64_t timeouts;           /* out of time (timeout, interrupt) */
    uint64_t fuel_exhausted;     /* out of fuel */
    uint64_t fuel_used;          /* by services with a fuel limit */
    int64_t active;              /* guests running now */
    int64_t pooled;              /* instances kept for reuse */
    int64_t memory;              /* linear memory bytes of pooled instances */
    uint64_t memory_max;         /* the most an instance ended a request with */
} wh_host_stats;

wh_host_stats *wh_host_service_stats(const wh_host_service *s);

/* ---- Workers ------------------------------------------------------------ */

/* Makes one thread's resources. NULL on failure, with a line in err. */
wh_host_worker *wh_host_worker_new(wh_host_app *app, char *err, size_t errlen);
void wh_host_worker_free(wh_host_worker *w);

/* A fresh request id (8 hex digits and a NUL) into `id`. */
void wh_host_request_id(wh_host_worker *w, char id[12]);
/* The same from a generator of the caller's (seed it non-zero). */
void wh_host_random_id(uint64_t *state, char id[12]);
/* Makes `id` the request the worker answers now: the id error responses
 * carry until the next call ("" = a fresh id for each). */
void wh_host_worker_set_request(wh_host_worker *w, const char *id);
/* Drops the worker's pooled instances of retired services. */
void wh_host_worker_sweep(wh_host_worker *w);

/* Runs `req` on service `s` on the calling thread (the worker's) and
 * fills `res`: the guest's response, or an error response (500 for a
 * failing guest, 504 for one out of time or fuel) with an error id whose
 * details go to the log. The caller holds a slot of the service's gate
 * and has checked the body against limits.max_body. */
void wh_host_handle(wh_host_worker *w, wh_host_service *s,
                    const wh_host_request *req, wh_host_response *res);

/* Fills `res` with an error response made by the host: `status`, a short
 * text body naming `reason` and a fresh error id, and logs one line with
 * the id, the service (NULL for none) and `detail`. The body lives in
 * res->error_text. Any thread, with its own worker. */
void wh_host_error(wh_host_worker *w, const wh_host_service *s, int status,
                   const char *reason, wh_host_response *res,
                   const char *detail_fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Writes `s` (len bytes) as a double-quoted logfmt value into dst, escaping
 * quotes, backslashes and control bytes; truncates to fit `cap`. */
void wh_host_log_quote(char *dst, size_t cap, const char *s, size_t len);

/* Logs one logfmt line on stderr ("level=info msg=..."), atomically. */
void wh_host_log(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- Admission: at most limits.max_concurrent guests run at once --------- */

/* A request waiting for a slot. `grant` is called, from whichever thread
 * frees the slot and without the gate's lock, once the slot is the
 * waiter's; the waiter then owns it and must call wh_host_gate_leave. */
typedef struct wh_host_waiter {
    struct wh_host_waiter *next;
    void (*grant)(struct wh_host_waiter *w);
} wh_host_waiter;

typedef enum wh_host_gate_result {
    WH_HOST_GATE_ENTERED,     /* the slot is the caller's now */
    WH_HOST_GATE_QUEUED,      /* `w` waits; grant will be called */
    WH_HOST_GATE_FULL,        /* the queue is full: answer 503 */
} wh_host_gate_result;

/* Thread-safe. `w` must stay valid until granted or cancelled. */
wh_host_gate_result wh_host_gate_enter(wh_host_service *s, wh_host_waiter *w);
/* Frees a slot, handing it to the oldest waiter if there is one. */
void wh_host_gate_leave(wh_host_service *s);
/* Removes a waiting `w`: true if it was still queued, false if it has
 * already been granted (the grant call is then on its way). */
bool wh_host_gate_cancel(wh_host_service *s, wh_host_waiter *w);

#endif /* WH_HOST_SERVICE_H */
