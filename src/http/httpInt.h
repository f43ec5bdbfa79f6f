/* httpInt.h: what the files of src/http share.
 *
 *   server.c   listeners, worker threads and their loops, TLS, signals
 *   handler.c  a request's way through: route, gate, run, respond, and
 *              requests that wait in a service's queue
 *   router.c   the route table (exact routes, then longest prefix), one
 *              per registry snapshot
 *   metrics.c  counting and logging each request; GET /metrics
 *   admin.c    the admin API: its own listener, thread and loop
 *
 * h2o is used in its evloop flavour only; this header selects it. */
#ifndef WH_HTTP_INT_H
#define WH_HTTP_INT_H

#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <pthread.h>

#include "http.h"

/* ---- Router ------------------------------------------------------------- */

typedef struct wh_http_route {
    const wh_host_route *route;
    wh_host_service *service;
} wh_http_route;

typedef struct wh_http_router {
    wh_http_route *exact;     /* sorted by path (length, then bytes) */
    int nexact;
    wh_http_route *prefix;    /* sorted by prefix length, longest first */
    int nprefix;
} wh_http_router;

/* Builds the table from every route of the snapshot's services (which
 * must outlive it). False on OOM. */
bool wh_http_router_init(wh_http_router *r, const wh_host_snapshot *snap);
void wh_http_router_free(wh_http_router *r);
/* The route for `path` (normalized, no query), or NULL. Thread-safe. */
const wh_http_route *wh_http_router_match(const wh_http_router *r,
                                          const char *path, size_t len);

/* ---- Server and loops ---------------------------------------------------- */

typedef struct wh_http_server wh_http_server;
typedef struct wh_http_admin wh_http_admin;

/* A queue timeout of one duration (limits.queue_timeout), per loop:
 * services come and go, so timeouts are made as durations appear. */
typedef struct wh_http_qtimeout {
    struct wh_http_qtimeout *next;
    uint64_t ms;
    h2o_timeout_t timeout;
} wh_http_qtimeout;

/* One worker thread: its event loop and everything only it touches. */
typedef struct wh_http_loop {
    wh_http_server *srv;
    int id;
    pthread_t thread;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
    h2o_socket_t *listener;
    h2o_multithread_receiver_t granted;   /* gate slots from other threads */
    wh_http_qtimeout *queue_timeouts;
    wh_host_worker *worker;
    wh_host_snapshot *snap;               /* the services it routes to */
    uint64_t snap_gen;                    /* the registry's generation then */
    bool ready;                           /* initialised; joinable */
} wh_http_loop;

struct wh_http_server {
    wh_host_registry *reg;
    wh_host_app *app;                     /* the registry's */
    wh_http_admin *admin;                 /* NULL: no admin API */
    uint64_t started_ns;
    const wh_http_options *opts;
    h2o_globalconf_t config;
    SSL_CTX *ssl;
    int listen_fd;
    uint16_t port;
    wh_http_loop *loops;
    int nloops;
    volatile int stopping;                /* set once by the main thread */
    volatile int ready;                   /* all loops accept, not stopping */
};

/* server.c */
/* A listening socket. */
typedef struct wh_http_bound {
    int fd;                               /* -1 when there is none */
    uint16_t port;
    bool loopback;                        /* bound to 127.0.0.0/8 or ::1 */
    char shown[300];                      /* "ADDR:PORT" as bound */
} wh_http_bound;
/* Binds and listens on `listen` ("ADDR:PORT"); false with one line in
 * err (out->fd is then -1 or an fd to close). */
bool wh_http_listen(const char *listen, wh_http_bound *out, char *err, size_t errlen);
/* At shutdown: asks HTTP/2 peers to go away and closes idle HTTP/1
 * connections within a tick; requests in flight go on. */
void wh_http_context_drain(h2o_context_t *ctx);
/* Whether the context still has connections open. */
bool wh_http_context_busy(h2o_context_t *ctx);
/* Disposes a context with no connection left, and its evloop. */
void wh_http_context_dispose(h2o_context_t *ctx);
/* Brings the loop's snapshot up to date with the registry and lets its
 * worker drop instances of retired services. Loop thread only. */
void wh_http_loop_refresh(wh_http_loop *l);
/* The loop's queue timeout for `ns`, made on first use; NULL on OOM. */
h2o_timeout_t *wh_http_queue_timeout(wh_http_loop *l, uint64_t ns);

/* metrics.c */
/* What the access log and the counters need of a request in flight. */
typedef struct wh_http_ticket {
    char id[12];                          /* the request id */
    uint64_t start_ns;
} wh_http_ticket;

/* Counts a request answered with `status` and `bytes` of body in the
 * counters of `s` (NULL: no service matched) and logs its access line.
 * Call before sending: the line reads `req`. Any loop thread. */
void wh_http_observe(h2o_req_t *req, const wh_http_ticket *t, const wh_host_service *s,
                     int status, size_t bytes);
/* The Prometheus text of GET /metrics, malloc'd (NUL-terminated). */
char *wh_http_metrics_text(wh_http_server *srv, size_t *len);

/* admin.c */
/* Binds the admin API's listener (srv->opts->admin_listen) and prepares
 * its loop; true with srv->admin NULL when there is none to run. False
 * after logging one line. Main thread, before the loops start. */
bool wh_http_admin_open(wh_http_server *srv);
/* Runs the admin loop on a thread of its own / stops and frees it. */
bool wh_http_admin_start(wh_http_admin *a);
void wh_http_admin_close(wh_http_admin *a);

/* handler.c */
/* Installs the request handler on the server's one path ("/"). */
void wh_http_handler_register(wh_http_server *srv, h2o_pathconf_t *path);
/* The reason phrase of an HTTP status. */
const char *wh_http_reason(int status);
/* Receives gate slots granted to requests parked on `loop`. */
void wh_http_on_granted(h2o_multithread_receiver_t *recv, h2o_linklist_t *msgs);
/* The client's IP address as text ("unknown" when there is none). */
void wh_http_peer_address(h2o_req_t *req, char *out, size_t len);

#endif /* WH_HTTP_INT_H */
