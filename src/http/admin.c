/* admin.c: the admin API (docs/admin-api.md) on a listener of its own
 * (`--admin ADDR:PORT`), served by one thread running its own h2o loop:
 * a deploy compiles on this thread, so it never holds up a request, and
 * requests never hold up a deploy. Changes go through the registry,
 * which applies them one at a time; this file authenticates, routes and
 * answers.
 *
 *   GET    /healthz, /readyz            probes: no token needed
 *   GET    /metrics                     Prometheus text (metrics.c)
 *   GET    /v1/services                 every service
 *   GET    /v1/services/NAME            one, with its history
 *   PUT    /v1/services/NAME            deploy or update
 *   DELETE /v1/services/NAME            undeploy
 *   POST   /v1/services/NAME/rollback   back to the version before
 *
 * With a token, every other path needs "Authorization: Bearer TOKEN";
 * without one, the listener must be on loopback. Every answer carries a
 * request id (x-request-id, and "id" in error bodies), which its log
 * line also shows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin.h"

#define ADMIN_TICK_MS 100
#define ADMIN_MAX_BODY (256ull << 20)    /* a module, base64'd, plus config */
#define ADMIN_DRAIN_NS 1000000000ull     /* open admin connections at exit */

struct wh_http_admin {
    wh_http_server *srv;
    h2o_globalconf_t config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept;
    h2o_socket_t *listener;
    int fd;                      /* until the listener owns it */
    pthread_t thread;
    bool started, has_ctx;
    volatile int stopping;
    uint64_t rng;                /* request ids */
};

typedef struct admin_handler {
    h2o_handler_t super;
    wh_http_admin *a;
} admin_handler;

/* One admin request being answered. */
typedef struct call {
    wh_http_admin *a;
    h2o_req_t *req;
    char id[12];
    uint64_t start_ns;
} call;

/* ---- Answers --------------------------------------------------------------- */

static void reply(call *c, int status, const char *type, const char *body, size_t len)
{
    h2o_req_t *req = c->req;
    char path[600];
    wh_host_log_quote(path, sizeof path, req->path.base, req->path.len);
    wh_host_log(status >= 500 ? "error" : "info",
                "msg=admin id=%s method=%.*s path=%s status=%d ms=%.3f", c->id,
                (int)req->method.len, req->method.base, path, status,
                (double)(wh_now_ns() - c->start_ns) / 1e6);
    req->res.status = status;
    req->res.reason = wh_http_reason(status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, type,
                   strlen(type));
    h2o_iovec_t id = h2o_strdup(&req->pool, c->id, strlen(c->id));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0,
                          NULL, id.base, id.len);
    req->res.content_length = len;
    h2o_send_inline(req, body, len);
}

static void send_text(call *c, int status, const char *text)
{
    reply(c, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* Sends `o` (freed here) as the body. */
static void send_json(call *c, int status, cJSON *o)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text) {
        send_text(c, 500, "out of memory\n");
        return;
    }
    size_t n = strlen(text);
    char *body = realloc(text, n + 2);
    if (body) {
        body[n++] = '\n';
        text = body;
    }
    reply(c, status, "application/json", text, n);
    free(text);
}

/* {"error": why, "id": ID}; the reason also goes to the log. */
static void send_error(call *c, int status, const char *why)
{
    char quoted[1600];
    wh_host_log_quote(quoted, sizeof quoted, why, strlen(why));
    wh_host_log("warn", "msg=\"admin request refused\" id=%s status=%d error=%s", c->id,
                status, quoted);
    cJSON *o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "error", why) ||
              !cJSON_AddStringToObject(o, "id", c->id))) {
        cJSON_Delete(o);
        o = NULL;
    }
    send_json(c, status, o);
}

/* ---- Authentication --------------------------------------------------------- */

/* Compares in time that depends on the lengths only, not on where the
 * first difference is. */
static bool same(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned char diff = alen != blen;
    for (size_t i = 0; i < alen && i < blen; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static bool authorized(const call *c)
{
    const char *token = c->a->srv->opts->admin_token;
    if (!token)
        return true;
    ssize_t i = h2o_find_header(&c->req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (i < 0)
        return false;
    h2o_iovec_t v = c->req->headers.entries[i].value;
    return v.len > 7 && !strncasecmp(v.base, "Bearer ", 7) &&
           same(v.base + 7, v.len - 7, token, strlen(token));
}

/* ---- /v1/services ----------------------------------------------------------- */

static bool method_is(const h2o_req_t *req, const char *m)
{
    return h2o_memis(req->method.base, req->method.len, m, strlen(m));
}

/* The current service named `name`, held in *snap (release it), or NULL. */
static wh_host_service *find(wh_http_admin *a, const char *name, wh_host_snapshot **snap)
{
    *snap = wh_host_registry_acquire(a->srv->reg);
    for (int i = 0; i < wh_host_snapshot_count(*snap); i++) {
        wh_host_service *s = wh_host_snapshot_service(*snap, i);
        if (!strcmp(wh_host_service_conf_of(s)->name, name))
            return s;
    }
    return NULL;
}

static void list(call *c)
{
    wh_host_snapshot *snap = wh_host_registry_acquire(c->a->srv->reg);
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "services");
    for (int i = 0; i < wh_host_snapshot_count(snap); i++)
        cJSON_AddItemToArray(arr, wh_http_admin_service_json(
                                      c->a->srv->reg, wh_host_snapshot_service(snap, i), false));
    wh_host_snapshot_release(snap);
    send_json(c, 200, o);
}

/* Answers with service `name` as it is now (after a change). */
static void show(call *c, const char *name, int status)
{
    wh_host_snapshot *snap;
    wh_host_service *s = find(c->a, name, &snap);
    if (s)
        send_json(c, status, wh_http_admin_service_json(c->a->srv->reg, s, true));
    else
        send_error(c, 404, "no such service");
    wh_host_snapshot_release(snap);
}

static void deploy(call *c, const char *name)
{
    wh_http_admin_body b;
    char why[600];
    h2o_iovec_t e = c->req->entity;
    if (!wh_http_admin_body_parse(e.base ? e.base : "", e.base ? e.len : 0, &b, why,
                                  sizeof why)) {
        send_error(c, 400, why);
        return;
    }
    wh_host_deploy d = { .name = name, .wasm = b.wasm, .wasm_len = b.wasm_len,
                         .module_name = b.module_name, .config = b.config };
    wh_host_outcome out;
    wh_host_registry_deploy(c->a->srv->reg, &d, &out);
    wh_http_admin_body_free(&b);
    if (out.status >= 400)
        send_error(c, out.status, out.message);
    else
        show(c, name, out.status);
}

static void undeploy(call *c, const char *name)
{
    wh_host_outcome out;
    wh_host_registry_undeploy(c->a->srv->reg, name, &out);
    if (out.status >= 400) {
        send_error(c, out.status, out.message);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "deleted", name);
    send_json(c, 200, o);
}

static void rollback(call *c, const char *name)
{
    wh_host_outcome out;
    wh_host_registry_rollback(c->a->srv->reg, name, &out);
    if (out.status >= 400)
        send_error(c, out.status, out.message);
    else
        show(c, name, out.status);
}

static void not_allowed(call *c, const char *allow)
{
    h2o_add_header(&c->req->pool, &c->req->res.headers, H2O_TOKEN_ALLOW, NULL, allow,
                   strlen(allow));
    send_error(c, 405, "method not allowed here");
}

/* NAME[/rollback] after "/v1/services/". */
static void one_service(call *c, const char *p, size_t n)
{
    const char *slash = memchr(p, '/', n);
    size_t len = slash ? (size_t)(slash - p) : n;
    char name[129];
    bool rb = slash && n - len == 9 && !memcmp(slash, "/rollback", 9);
    if (len == 0 || len >= sizeof name || (slash && !rb)) {
        send_error(c, 404, "no such endpoint (see docs/admin-api.md)");
        return;
    }
    memcpy(name, p, len);
    name[len] = '\0';
    const h2o_req_t *req = c->req;
    if (rb)
        method_is(req, "POST") ? rollback(c, name) : not_allowed(c, "POST");
    else if (method_is(req, "GET"))
        show(c, name, 200);
    else if (method_is(req, "PUT"))
        deploy(c, name);
    else if (method_is(req, "DELETE"))
        undeploy(c, name);
    else
        not_allowed(c, "GET, PUT, DELETE");
}

static void api(call *c)
{
    static const char prefix[] = "/v1/services";
    h2o_iovec_t path = c->req->path_normalized;
    size_t k = sizeof prefix - 1;
    if (path.len < k || memcmp(path.base, prefix, k) != 0 ||
        (path.len > k && path.base[k] != '/'))
        send_error(c, 404, "no such endpoint (see docs/admin-api.md)");
    else if (path.len <= k + 1)
        method_is(c->req, "GET") ? list(c) : not_allowed(c, "GET");
    else
        one_service(c, path.base + k + 1, path.len - k - 1);
}

static void metrics(call *c)
{
    size_t len = 0;
    char *text = wh_http_metrics_text(c->a->srv, &len);
    if (text)
        reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    else
        send_text(c, 500, "out of memory\n");
    free(text);
}

static bool path_is(const h2o_req_t *req, const char *p)
{
    return h2o_memis(req->path_normalized.base, req->path_normalized.len, p, strlen(p));
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    call c = { .a = ((admin_handler *)self)->a, .req = req, .start_ns = wh_now_ns() };
    wh_host_random_id(&c.a->rng, c.id);
    if (path_is(req, "/healthz")) {
        send_text(&c, 200, "ok\n");
    } else if (path_is(req, "/readyz")) {
        bool ready = __atomic_load_n(&c.a->srv->ready, __ATOMIC_ACQUIRE);
        send_text(&c, ready ? 200 : 503, ready ? "ready\n" : "not ready\n");
    } else if (!authorized(&c)) {
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_WWW_AUTHENTICATE, NULL,
                       H2O_STRLIT("Bearer realm=\"wharf admin\""));
        send_error(&c, 401, "missing or wrong bearer token");
    } else if (path_is(req, "/metrics")) {
        metrics(&c);
    } else {
        api(&c);
    }
    return 0;
}

/* ---- The listener and its thread ---------------------------------------------- */

static void on_accept(h2o_socket_t *listener, const char *err)
{
    wh_http_admin *a = listener->data;
    h2o_socket_t *sock = err ? NULL : h2o_evloop_socket_accept(listener);
    if (sock)
        h2o_accept(&a->accept, sock);
}

/* Binds; false when the caller should go on without an admin API (a
 * busy default address) or stop (anything else), as *fatal says. */
static bool bind_admin(wh_http_admin *a, const wh_http_options *o, bool *fatal)
{
    wh_http_bound b = { .fd = -1 };
    char err[300];
    *fatal = true;
    if (!wh_http_listen(o->admin_listen, &b, err, sizeof err)) {
        if (b.fd >= 0)
            close(b.fd);
        *fatal = !o->admin_optional;
        wh_host_log(*fatal ? "error" : "warn", "msg=\"%s\" listen=%s error=\"%s\"",
                    *fatal ? "cannot listen for the admin API"
                           : "admin API off: its default address is not available",
                    o->admin_listen, err);
        return false;
    }
    a->fd = b.fd;
    if (!b.loopback && !o->admin_token) {
        wh_host_log("error", "msg=\"the admin API off loopback needs a token "
                    "(WHARF_ADMIN_TOKEN or --admin-token-file)\" listen=%s", b.shown);
        return false;
    }
    wh_host_log("info", "msg=\"admin listening\" addr=%s auth=%s", b.shown,
                o->admin_token ? "token" : "none");
    return true;
}

bool wh_http_admin_open(wh_http_server *srv)
{
    const wh_http_options *o = srv->opts;
    bool fatal;
    if (!o->admin_listen)
        return true;
    wh_http_admin *a = calloc(1, sizeof *a);
    if (!a)
        return false;
    *a = (wh_http_admin){ .srv = srv, .fd = -1, .rng = wh_now_ns() | 1 };
    srv->admin = a;
    if (!bind_admin(a, o, &fatal)) {
        wh_http_admin_close(a);
        srv->admin = NULL;
        return !fatal;
    }
    h2o_config_init(&a->config);
    a->config.server_name = h2o_iovec_init(H2O_STRLIT("wharf-admin"));
    a->config.max_request_entity_size = ADMIN_MAX_BODY;
    h2o_hostconf_t *host = h2o_config_register_host(&a->config,
                                                    h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    admin_handler *h = (admin_handler *)h2o_create_handler(path, sizeof *h);
    h->super.on_req = on_req;
    h->a = a;
    h2o_context_init(&a->ctx, h2o_evloop_create(), &a->config);
    a->has_ctx = true;
    a->accept = (h2o_accept_ctx_t){ .ctx = &a->ctx, .hosts = a->config.hosts };
    a->listener = h2o_evloop_socket_create(a->ctx.loop, a->fd, H2O_SOCKET_FLAG_DONT_READ);
    a->fd = -1;
    a->listener->data = a;
    h2o_socket_read_start(a->listener, on_accept);
    return true;
}

/* Serves until told to stop, then gives open connections a moment. */
static void *admin_main(void *arg)
{
    wh_http_admin *a = arg;
    while (!__atomic_load_n(&a->stopping, __ATOMIC_ACQUIRE))
        h2o_evloop_run(a->ctx.loop, ADMIN_TICK_MS);
    h2o_socket_read_stop(a->listener);
    h2o_socket_close(a->listener);
    a->listener = NULL;
    wh_http_context_drain(&a->ctx);
    uint64_t deadline = wh_now_ns() + ADMIN_DRAIN_NS;
    while (wh_http_context_busy(&a->ctx) && wh_now_ns() < deadline)
        h2o_evloop_run(a->ctx.loop, ADMIN_TICK_MS);
    return NULL;
}

bool wh_http_admin_start(wh_http_admin *a)
{
    a->started = pthread_create(&a->thread, NULL, admin_main, a) == 0;
    return a->started;
}

void wh_http_admin_close(wh_http_admin *a)
{
    if (!a)
        return;
    if (a->started) {
        __atomic_store_n(&a->stopping, 1, __ATOMIC_RELEASE);
        pthread_join(a->thread, NULL);
    }
    if (a->listener)
        h2o_socket_close(a->listener);
    if (a->has_ctx && !wh_http_context_busy(&a->ctx))
        wh_http_context_dispose(&a->ctx);
    else if (a->has_ctx)
        wh_host_log("warn", "msg=\"admin connections still open at exit\"");
    if (a->config.hosts)
        h2o_config_dispose(&a->config);
    if (a->fd >= 0)
        close(a->fd);
    free(a);
}
