/* server.c: the process side of `wharf serve`: one listening socket,
 * N worker threads each running its own h2o event loop and h2o context
 * over a duplicate of that socket (so whichever loop is idle accepts),
 * optional TLS with ALPN (h2, http/1.1), shutdown on SIGINT/SIGTERM and
 * reload on SIGHUP. Each loop routes through its own reference to the
 * registry's current snapshot, renewed when the registry changes (at the
 * next request or within a tick), so a swap never waits for a loop.
 *
 * Everything is set up on the main thread before any loop runs, so a
 * start-up error is reported once and nothing is half-running. Signals
 * are blocked in every thread and taken by the main thread with
 * sigwait(), so no code runs in signal context. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpInt.h"

#define LOOP_TICK_MS 100          /* how often a loop looks at `stopping` */

static uint64_t to_ms(uint64_t ns)
{
    return ns / 1000000 ? ns / 1000000 : 1;
}

static bool stopping(const wh_http_server *srv)
{
    return __atomic_load_n(&srv->stopping, __ATOMIC_ACQUIRE);
}

/* ---- Listening socket ---------------------------------------------------- */

static int bind_first(struct addrinfo *ai)
{
    int one = 1;
    for (; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
            bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
            return fd;
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return -1;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

bool wh_http_listen(const char *listen, wh_http_bound *out, char *err, size_t errlen)
{
    char host[256], port[8];
    uint16_t p;
    if (!wh_host_parse_listen(listen, host, sizeof host, &p)) {
        snprintf(err, errlen, "expected ADDR:PORT, got '%s'", listen);
        return false;
    }
    snprintf(port, sizeof port, "%u", (unsigned)p);
    struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
                              .ai_socktype = SOCK_STREAM }, *ai;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return false;
    }
    out->fd = bind_first(ai);
    freeaddrinfo(ai);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (out->fd < 0 || getsockname(out->fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(err, errlen, "%s", strerror(errno));
        return false;
    }
    out->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    out->loopback = is_loopback(&ss);
    snprintf(out->shown, sizeof out->shown, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host,
             (unsigned)out->port);
    return true;
}

static bool open_listener(wh_http_server *srv, char *shown, size_t len)
{
    wh_http_bound b = { .fd = -1 };
    char err[300];
    bool ok = wh_http_listen(srv->opts->listen, &b, err, sizeof err);
    srv->listen_fd = b.fd;
    if (!ok) {
        wh_host_log("error", "msg=\"cannot listen\" listen=%s error=\"%s\"",
                    srv->opts->listen, err);
        return false;
    }
    srv->port = b.port;
    snprintf(shown, len, "%s", b.shown);
    return true;
}

/* ---- TLS ------------------------------------------------------------------- */

static bool open_tls(wh_http_server *srv)
{
    const char *cert = srv->opts->tls_cert, *key = srv->opts->tls_key;
    if (!cert)
        return true;
    SSL_CTX *c = SSL_CTX_new(TLS_server_method());
    if (!c)
        return false;
    srv->ssl = c;
    SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(c, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(c, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(c) != 1) {
        wh_host_log("error", "msg=\"cannot use the TLS certificate or key\" cert=%s key=%s",
                    cert, key);
        return false;
    }
    h2o_ssl_register_alpn_protocols(c, h2o_http2_alpn_protocols);
    return true;
}

/* ---- h2o configuration -------------------------------------------------------- */

static void configure(wh_http_server *srv)
{
    h2o_globalconf_t *g = &srv->config;
    h2o_config_init(g);
    g->server_name = h2o_iovec_init(H2O_STRLIT("wharf"));
    g->http1.req_timeout = to_ms(srv->opts->request_timeout_ns);
    g->http2.idle_timeout = to_ms(srv->opts->idle_timeout_ns);
    /* h2o itself turns away bodies larger than any service may accept (the
     * registry refuses services past it); the handler applies each
     * service's own limit with an error id. */
    g->max_request_entity_size = wh_host_registry_max_body(srv->reg);
    h2o_hostconf_t *host = h2o_config_register_host(g, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    wh_http_handler_register(srv, h2o_config_register_path(host, "/", 0));
}

/* ---- Routing snapshots ---------------------------------------------------------- */

static void *router_make(void *ctx, wh_host_snapshot *snap)
{
    wh_http_router *r = malloc(sizeof *r);
    if (r && !wh_http_router_init(r, snap)) {
        free(r);
        r = NULL;
    }
    return r;
}

static void router_free(void *ctx, void *view)
{
    wh_http_router_free(view);
    free(view);
}

void wh_http_loop_refresh(wh_http_loop *l)
{
    uint64_t gen = wh_host_registry_generation(l->srv->reg);
    if (l->snap && gen == l->snap_gen)
        return;
    wh_host_snapshot *s = wh_host_registry_acquire(l->srv->reg);
    if (l->snap)
        wh_host_snapshot_release(l->snap);
    l->snap = s;
    l->snap_gen = gen;
    wh_host_worker_sweep(l->worker);
}

h2o_timeout_t *wh_http_queue_timeout(wh_http_loop *l, uint64_t ns)
{
    uint64_t ms = ns / 1000000;
    wh_http_qtimeout *q = l->queue_timeouts;
    while (q && q->ms != ms)
        q = q->next;
    if (!q && (q = calloc(1, sizeof *q))) {
        q->ms = ms;
        h2o_timeout_init(l->ctx.loop, &q->timeout, ms);
        q->next = l->queue_timeouts;
        l->queue_timeouts = q;
    }
    return q ? &q->timeout : NULL;
}

/* ---- Loops ---------------------------------------------------------------------- */

static void on_accept(h2o_socket_t *listener, const char *err)
{
    wh_http_loop *l = listener->data;
    if (err)
        return;
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock)   /* NULL: another loop took the connection first */
        h2o_accept(&l->accept, sock);
}

static bool loop_init(wh_http_server *srv, wh_http_loop *l, int id)
{
    char err[256];
    l->srv = srv;
    l->id = id;
    if (!(l->worker = wh_host_worker_new(srv->app, err, sizeof err))) {
        wh_host_log("error", "msg=\"cannot start a worker\" error=\"%s\"", err);
        return false;
    }
    int fd = fcntl(srv->listen_fd, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
        wh_host_log("error", "msg=\"cannot start a loop\" error=\"%s\"", strerror(errno));
        return false;
    }
    h2o_context_init(&l->ctx, h2o_evloop_create(), &srv->config);
    l->accept = (h2o_accept_ctx_t){ .ctx = &l->ctx, .hosts = srv->config.hosts,
                                    .ssl_ctx = srv->ssl };
    l->listener = h2o_evloop_socket_create(l->ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    l->listener->data = l;
    h2o_socket_read_start(l->listener, on_accept);
    h2o_multithread_register_receiver(l->ctx.queue, &l->granted, wh_http_on_granted);
    wh_http_loop_refresh(l);
    l->ready = true;
    return true;
}

void wh_http_context_drain(h2o_context_t *ctx)
{
    h2o_context_request_shutdown(ctx);
    /* h2o 2.2 keeps an idle HTTP/1 keep-alive connection until the request
     * timeout, as shutdown asks only HTTP/2 peers to leave. Shortening the
     * timeout (entries are checked against its current value) closes idle
     * connections at the next tick; a client still sending its request
     * keeps its connection while it sends. */
    if (ctx->http1.req_timeout.timeout > LOOP_TICK_MS)
        ctx->http1.req_timeout.timeout = LOOP_TICK_MS;
}

bool wh_http_context_busy(h2o_context_t *ctx)
{
    return !h2o_linklist_is_empty(&ctx->http1._conns) ||
           !h2o_linklist_is_empty(&ctx->http2._conns);
}

static bool has_connections(wh_http_loop *l)
{
    return wh_http_context_busy(&l->ctx);
}

void wh_http_context_dispose(h2o_context_t *ctx)
{
    h2o_evloop_t *loop = ctx->loop;
    h2o_multithread_queue_t *queue = ctx->queue;
    /* request_shutdown armed HTTP/2's 1 s GOAWAY follow-up; with no
     * connection left it has nothing to do, and dispose wants every
     * timeout empty. */
    if (h2o_timeout_is_linked(&ctx->http2._graceful_shutdown_timeout))
        h2o_timeout_unlink(&ctx->http2._graceful_shutdown_timeout);
    h2o_context_dispose(ctx);
    /* With evloop, h2o 2.2 destroys the context's queue but never frees
     * its memory; its socket is closed on the next turn of the loop. */
    free(queue);
    h2o_evloop_run(loop, 0);
    h2o_evloop_destroy(loop);
}

static void *loop_main(void *arg)
{
    wh_http_loop *l = arg;
    while (!stopping(l->srv)) {
        h2o_evloop_run(l->ctx.loop, LOOP_TICK_MS);
        wh_http_loop_refresh(l);
    }
    /* Stop accepting, ask HTTP/2 peers to go away, finish what is open. */
    h2o_socket_read_stop(l->listener);
    h2o_socket_close(l->listener);
    l->listener = NULL;
    wh_http_context_drain(&l->ctx);
    uint64_t deadline = wh_now_ns() + l->srv->opts->grace_ns;
    while (has_connections(l) && wh_now_ns() < deadline)
        h2o_evloop_run(l->ctx.loop, LOOP_TICK_MS);
    return NULL;
}

/* Disposes the h2o side of a loop with no connection left. */
static void loop_dispose(wh_http_loop *l)
{
    h2o_multithread_unregister_receiver(l->ctx.queue, &l->granted);
    for (wh_http_qtimeout *q = l->queue_timeouts, *next; q; q = next) {
        next = q->next;
        h2o_timeout_dispose(l->ctx.loop, &q->timeout);
        free(q);
    }
    wh_http_context_dispose(&l->ctx);
}

/* Frees a loop that has stopped. With connections still open past the
 * grace period h2o's context cannot be disposed safely; the process is
 * about to exit, so it is left to the kernel. */
static void loop_free(wh_http_loop *l)
{
    if (!l->ready)
        return;
    if (has_connections(l)) {
        wh_host_log("warn", "msg=\"connections still open at exit\" loop=%d", l->id);
    } else {
        loop_dispose(l);
        wh_host_worker_free(l->worker);
        wh_host_snapshot_release(l->snap);
    }
}

/* ---- Serving ------------------------------------------------------------------ */

static int start_loops(wh_http_server *srv, const sigset_t *blocked)
{
    int started = 0;
    for (; started < srv->nloops; started++) {
        wh_http_loop *l = &srv->loops[started];
        if (pthread_create(&l->thread, NULL, loop_main, l) != 0)
            break;
    }
    if (started < srv->nloops || (srv->admin && !wh_http_admin_start(srv->admin))) {
        wh_host_log("error", "msg=\"cannot start worker threads\"");
        __atomic_store_n(&srv->stopping, 1, __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&srv->ready, 1, __ATOMIC_RELEASE);
        int sig = 0;
        while (sigwait(blocked, &sig) == 0 && sig == SIGHUP) {
            if (srv->opts->reload)
                srv->opts->reload(srv->opts->reload_ctx);
            else
                wh_host_log("warn", "msg=\"SIGHUP: no config file to reload\"");
        }
        wh_host_log("info", "msg=\"shutting down\" signal=%d grace_ms=%llu", sig,
                    (unsigned long long)(srv->opts->grace_ns / 1000000));
        __atomic_store_n(&srv->ready, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&srv->stopping, 1, __ATOMIC_RELEASE);
        /* Every loop listens on a duplicate of this socket, and a loop busy
         * with a guest closes its own only when the guest is done: shut
         * the socket itself so that new connections are refused now. */
        shutdown(srv->listen_fd, SHUT_RDWR);
    }
    for (int i = 0; i < started; i++)
        pthread_join(srv->loops[i].thread, NULL);
    return started == srv->nloops ? 0 : 1;
}

static bool server_open(wh_http_server *srv, char *shown, size_t len)
{
    static const wh_host_view_ops views = { router_make, router_free, NULL };
    /* Workers size their pipes from the limits the registry settles here. */
    wh_host_registry_seal(srv->reg);
    if (!wh_host_registry_set_view(srv->reg, &views) || !open_tls(srv) ||
        !open_listener(srv, shown, len) || !wh_http_admin_open(srv))
        return false;
    configure(srv);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    srv->nloops = srv->opts->workers > 0 ? srv->opts->workers : cores > 0 ? (int)cores : 1;
    if (!(srv->loops = calloc((size_t)srv->nloops, sizeof *srv->loops)))
        return false;
    for (int i = 0; i < srv->nloops; i++)
        if (!loop_init(srv, &srv->loops[i], i))
            return false;
    return true;
}

static void server_close(wh_http_server *srv)
{
    wh_http_admin_close(srv->admin);
    for (int i = 0; srv->loops && i < srv->nloops; i++)
        loop_free(&srv->loops[i]);
    free(srv->loops);
    if (srv->config.hosts)
        h2o_config_dispose(&srv->config);
    if (srv->listen_fd >= 0)
        close(srv->listen_fd);
    if (srv->ssl)
        SSL_CTX_free(srv->ssl);
}

int wh_http_serve(wh_host_registry *reg, const wh_http_options *o)
{
    wh_http_server srv = { .reg = reg, .app = wh_host_registry_app(reg), .opts = o,
                           .listen_fd = -1, .started_ns = wh_now_ns() };
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGHUP);
    /* Blocked here, so every loop thread inherits the mask. */
    pthread_sigmask(SIG_BLOCK, &blocked, NULL);
    signal(SIGPIPE, SIG_IGN);
    char shown[300];
    int rc = 1;
    if (server_open(&srv, shown, sizeof shown)) {
        wh_host_snapshot *snap = wh_host_registry_acquire(reg);
        wh_host_log("info", "msg=listening addr=%s scheme=%s workers=%d services=%d",
                    shown, srv.ssl ? "https" : "http", srv.nloops,
                    wh_host_snapshot_count(snap));
        wh_host_snapshot_release(snap);
        rc = start_loops(&srv, &blocked);
    }
    server_close(&srv);
    pthread_sigmask(SIG_UNBLOCK, &blocked, NULL);
    return rc;
}
