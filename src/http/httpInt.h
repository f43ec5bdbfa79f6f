/* httpInt.h: what the files of src/http share.
 *
 *   server.c   listeners, worker threads and their loops, TLS, signals
 *   handler.c  a request's way through: route, gate, run, respond, and
 *              requests that wait in a service's queue
 *   router.c   the route table (exact routes, then longest prefix)
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

/* Builds the table from every route of every service. False on OOM. */
bool wh_http_router_init(wh_http_router *r, wh_host_app *app);
void wh_http_router_free(wh_http_router *r);
/* The route for `path` (normalized, no query), or NULL. Thread-safe. */
const wh_http_route *wh_http_router_match(const wh_http_router *r,
                                          const char *path, size_t len);

/* ---- Server and loops ---------------------------------------------------- */

typedef struct wh_http_server wh_http_server;

/* One worker thread: its event loop and everything only it touches. */
typedef struct wh_http_loop {
    wh_http_server *srv;
    int id;
    pthread_t thread;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
    h2o_socket_t *listener;
    h2o_multithread_receiver_t granted;   /* gate slots from other threads */
    h2o_timeout_t *queue_timeouts;        /* per service: limits.queue_timeout */
    wh_host_worker *worker;
    bool ready;                           /* initialised; joinable */
} wh_http_loop;

struct wh_http_server {
    wh_host_app *app;
    const wh_http_options *opts;
    h2o_globalconf_t config;
    SSL_CTX *ssl;
    int listen_fd;
    uint16_t port;
    wh_http_router router;
    wh_http_loop *loops;
    int nloops;
    volatile int stopping;                /* set once by the main thread */
};

/* handler.c */
/* Installs the request handler on the server's one path ("/"). */
void wh_http_handler_register(wh_http_server *srv, h2o_pathconf_t *path);
/* Receives gate slots granted to requests parked on `loop`. */
void wh_http_on_granted(h2o_multithread_receiver_t *recv, h2o_linklist_t *msgs);

#endif /* WH_HTTP_INT_H */
