/* handler.c: one request's way through the server, on its loop's thread:
 * route it, check its size, take a slot of the service's gate, run the
 * guest (wh_host_handle), turn the result into an h2o response, count and
 * log it (metrics.c).
 *
 * Routing uses the loop's snapshot of the registry. A routed request holds
 * a reference to its service version from routing to its answer, so that
 * a version swapped out meanwhile finishes the request and is freed after
 * it; every path below that ends a routed request drops that reference
 * once, after the gate slot is given back.
 *
 * A request that finds its service at max_concurrent waits "parked": a
 * malloc'd `parked` record sits in the service's queue and a pointer to it
 * sits in the request's memory pool, whose dispose callback tells us if
 * the client goes away. Whoever frees a slot hands it to the oldest
 * waiter by posting the record to the waiter's loop (h2o_multithread);
 * the loop then runs the request. The queue timeout and the request's
 * disposal race with that hand-off only through wh_host_gate_cancel,
 * under the gate's lock; everything else happens on the owning loop. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "httpInt.h"

typedef struct handler {
    h2o_handler_t super;
    wh_http_server *srv;
} handler;

typedef struct parked {
    wh_host_waiter waiter;            /* in the service's queue */
    h2o_multithread_message_t msg;    /* posted to `loop` when granted */
    h2o_timeout_entry_t timeout;      /* limits.queue_timeout */
    wh_http_loop *loop;
    h2o_req_t *req;                   /* NULL once the request is gone */
    struct parked **holder;           /* our pointer in req->pool */
    wh_http_route route;              /* a copy: the loop's snapshot (and its
                                         router) may change while we wait */
    wh_http_ticket ticket;
} parked;

static wh_http_loop *loop_of(h2o_req_t *req)
{
    return H2O_STRUCT_FROM_MEMBER(wh_http_loop, ctx, req->conn->ctx);
}

/* ---- Responses ------------------------------------------------------------ */

const char *wh_http_reason(int status)
{
    static const struct { int code; const char *text; } t[] = {
        { 200, "OK" }, { 201, "Created" }, { 202, "Accepted" }, { 204, "No Content" },
        { 301, "Moved Permanently" }, { 302, "Found" }, { 303, "See Other" },
        { 304, "Not Modified" }, { 307, "Temporary Redirect" },
        { 308, "Permanent Redirect" }, { 400, "Bad Request" },
        { 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
        { 405, "Method Not Allowed" }, { 409, "Conflict" },
        { 413, "Payload Too Large" }, { 422, "Unprocessable Entity" },
        { 429, "Too Many Requests" }, { 431, "Request Header Fields Too Large" },
        { 500, "Internal Server Error" }, { 501, "Not Implemented" },
        { 502, "Bad Gateway" }, { 503, "Service Unavailable" },
        { 504, "Gateway Timeout" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].code == status)
            return t[i].text;
    return status < 400 ? "OK" : "Error";
}

/* Headers h2o owns (framing, connection management, its own Date and
 * Server) or that HTTP/2 forbids. */
static bool reserved_header(const wh_host_header *h)
{
    static const char *const names[] = {
        "connection", "keep-alive", "proxy-connection", "transfer-encoding",
        "upgrade", "te", "trailer", "content-length", "date", "server",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (h->name_len == strlen(names[i]) && !strncasecmp(h->name, names[i], h->name_len))
            return true;
    return false;
}

/* Sends `res`; copies everything, as the worker reuses its buffers. */
static void respond(h2o_req_t *req, const wh_host_response *res)
{
    req->res.status = res->status;
    req->res.reason = wh_http_reason(res->status);
    for (int i = 0; i < res->nheaders; i++) {
        const wh_host_header *h = &res->headers[i];
        if (reserved_header(h))
            continue;
        char *name = h2o_mem_alloc_pool(&req->pool, h->name_len);
        for (size_t k = 0; k < h->name_len; k++)   /* HTTP/2 wants lower case */
            name[k] = (char)(h->name[k] >= 'A' && h->name[k] <= 'Z' ? h->name[k] + 32 : h->name[k]);
        h2o_iovec_t v = h2o_strdup(&req->pool, h->value, h->value_len);
        h2o_add_header_by_str(&req->pool, &req->res.headers, name, h->name_len, 1,
                              NULL, v.base, v.len);
    }
    req->res.content_length = res->body_len;
    h2o_send_inline(req, res->body_len ? (const char *)res->body : "", res->body_len);
}

/* Sends `res` for a routed request with its request id, after counting
 * and logging it. */
static void answer(h2o_req_t *req, const wh_http_ticket *t, const wh_host_service *s,
                   const wh_host_response *res)
{
    h2o_iovec_t id = h2o_strdup(&req->pool, t->id, strlen(t->id));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0,
                          NULL, id.base, id.len);
    wh_http_observe(req, t, s, res->status, res->body_len);
    respond(req, res);
}

/* ---- Requests as the host sees them -------------------------------------- */

static const char *protocol_of(int version)
{
    return version >= 0x200 ? "HTTP/2" : version == 0x100 ? "HTTP/1.0" : "HTTP/1.1";
}

void wh_http_peer_address(h2o_req_t *req, char *out, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t n = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&ss);
    const void *a = ss.ss_family == AF_INET6
        ? (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr
        : (const void *)&((struct sockaddr_in *)&ss)->sin_addr;
    if (n == 0 || !inet_ntop(ss.ss_family, a, out, (socklen_t)len))
        snprintf(out, len, "unknown");
}

/* Request headers, plus "host" for HTTP/2, which carries it as
 * :authority, so that guests see the same headers either way. */
static void convert_headers(h2o_req_t *req, wh_host_request *hr)
{
    size_t n = req->headers.size;
    wh_host_header *hs = h2o_mem_alloc_pool(&req->pool, (n + 1) * sizeof *hs);
    bool has_host = false;
    for (size_t i = 0; i < n; i++) {
        const h2o_header_t *h = &req->headers.entries[i];
        hs[i] = (wh_host_header){ h->name->base, h->name->len, h->value.base, h->value.len };
        has_host |= h->name == &H2O_TOKEN_HOST->buf;
    }
    if (!has_host && req->authority.len)
        hs[n++] = (wh_host_header){ "host", 4, req->authority.base, req->authority.len };
    hr->headers = hs;
    hr->nheaders = n;
}

/* The part of the path after the route's prefix, as sent when the raw
 * path still starts with the prefix, else from the normalized path. */
static void path_info(h2o_req_t *req, const wh_host_route *rt, wh_host_request *hr)
{
    size_t n = rt->prefix_len;
    if (!rt->wildcard) {
        hr->path_info = "";
        hr->path_info_len = 0;
    } else if (hr->path_len >= n && !memcmp(hr->path, rt->prefix, n)) {
        hr->path_info = hr->path + n;
        hr->path_info_len = hr->path_len - n;
    } else {
        hr->path_info = req->path_normalized.base + n;
        hr->path_info_len = req->path_normalized.len - n;
    }
}

static void convert(wh_http_loop *loop, h2o_req_t *req, const wh_http_route *rt,
                    wh_host_request *hr, char *addr, size_t addrlen)
{
    size_t q = req->query_at;
    *hr = (wh_host_request){
        .method = req->method.base, .method_len = req->method.len,
        .path = req->path.base,
        .path_len = q == SIZE_MAX ? req->path.len : q,
        .query = q == SIZE_MAX ? "" : req->path.base + q + 1,
        .query_len = q == SIZE_MAX ? 0 : req->path.len - q - 1,
        .route = rt->route,
        .authority = req->authority.base, .authority_len = req->authority.len,
        .scheme = req->scheme->name.base,
        .protocol = protocol_of(req->version),
        .remote_addr = addr,
        .server_port = loop->srv->port,
        .body = (const uint8_t *)req->entity.base,
        .body_len = req->entity.base ? req->entity.len : 0,
    };
    path_info(req, rt->route, hr);
    convert_headers(req, hr);
    wh_http_peer_address(req, addr, addrlen);
}

/* Runs the guest for `req` (the caller holds a gate slot) and responds. */
static void run(wh_http_loop *loop, h2o_req_t *req, const wh_http_ticket *t,
                const wh_http_route *rt)
{
    wh_host_request hr;
    wh_host_response res;
    char addr[INET6_ADDRSTRLEN];
    convert(loop, req, rt, &hr, addr, sizeof addr);
    wh_host_worker_set_request(loop->worker, t->id);
    wh_host_handle(loop->worker, rt->service, &hr, &res);
    answer(req, t, rt->service, &res);
}

static void reply_busy(wh_http_loop *loop, h2o_req_t *req, const wh_http_ticket *t,
                       wh_host_service *s, const char *why)
{
    wh_host_response res;
    wh_host_worker_set_request(loop->worker, t->id);
    wh_host_error(loop->worker, s, 503, "the service is busy, try again later", &res,
                  "%s", why);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_RETRY_AFTER, NULL, H2O_STRLIT("1"));
    answer(req, t, s, &res);
}

/* ---- Waiting for a slot --------------------------------------------------- */

/* Any thread: the slot is p's now; its loop will run the request. */
static void grant(wh_host_waiter *w)
{
    parked *p = (parked *)w;
    h2o_multithread_send_message(&p->loop->granted, &p->msg);
}

static void resume(parked *p)
{
    wh_host_service *s = p->route.service;
    if (h2o_timeout_is_linked(&p->timeout))
        h2o_timeout_unlink(&p->timeout);
    if (p->req) {
        *p->holder = NULL;
        run(p->loop, p->req, &p->ticket, &p->route);
    }
    free(p);
    wh_host_gate_leave(s);
    wh_host_service_unref(s);
}

void wh_http_on_granted(h2o_multithread_receiver_t *recv, h2o_linklist_t *msgs)
{
    while (!h2o_linklist_is_empty(msgs)) {
        h2o_multithread_message_t *m =
            H2O_STRUCT_FROM_MEMBER(h2o_multithread_message_t, link, msgs->next);
        h2o_linklist_unlink(&m->link);
        resume(H2O_STRUCT_FROM_MEMBER(parked, msg, m));
    }
}

/* The request's pool is being freed: the client is gone (or done). */
static void on_request_gone(void *obj)
{
    parked *p = *(parked **)obj;
    if (!p)
        return;
    wh_host_service *s = p->route.service;
    p->req = NULL;
    if (!wh_host_gate_cancel(s, &p->waiter))
        return;   /* granted: resume() will give the slot back */
    if (h2o_timeout_is_linked(&p->timeout))
        h2o_timeout_unlink(&p->timeout);
    free(p);
    wh_host_service_unref(s);
}

static void on_queue_timeout(h2o_timeout_entry_t *entry)
{
    parked *p = H2O_STRUCT_FROM_MEMBER(parked, timeout, entry);
    wh_host_service *s = p->route.service;
    if (!wh_host_gate_cancel(s, &p->waiter))
        return;   /* granted meanwhile: the hand-off is on its way */
    *p->holder = NULL;
    reply_busy(p->loop, p->req, &p->ticket, s, "queue timeout");
    free(p);
    wh_host_service_unref(s);
}

/* Sets up a request the gate queued; the grant cannot be processed before
 * this returns, as it is delivered on this same loop. Without memory for
 * its timeout it waits without one, until granted or gone. */
static void park(parked *p)
{
    h2o_req_t *req = p->req;
    uint64_t ns = wh_host_service_conf_of(p->route.service)->limits.queue_timeout_ns;
    h2o_timeout_t *t = wh_http_queue_timeout(p->loop, ns);
    p->holder = h2o_mem_alloc_shared(&req->pool, sizeof *p->holder, on_request_gone);
    *p->holder = p;
    p->timeout.cb = on_queue_timeout;
    if (t)
        h2o_timeout_link(p->loop->ctx.loop, t, &p->timeout);
}

/* Takes the request's reference to its service: released here, or by
 * whoever ends the request if it waits in the queue. */
static void admit(wh_http_loop *loop, h2o_req_t *req, const wh_http_ticket *t,
                  const wh_http_route *rt)
{
    wh_host_service *s = rt->service;
    parked *p = NULL;
    if (wh_host_service_conf_of(s)->limits.max_concurrent == 0) {
        run(loop, req, t, rt);     /* an open gate: nothing to take or give */
    } else if (!(p = calloc(1, sizeof *p))) {
        reply_busy(loop, req, t, s, "out of memory");
    } else {
        *p = (parked){ .waiter.grant = grant, .loop = loop, .req = req, .route = *rt,
                       .ticket = *t };
        switch (wh_host_gate_enter(s, &p->waiter)) {
        case WH_HOST_GATE_ENTERED:
            run(loop, req, t, rt);
            wh_host_gate_leave(s);
            break;
        case WH_HOST_GATE_QUEUED:
            park(p);
            return;
        case WH_HOST_GATE_FULL:
            reply_busy(loop, req, t, s, "queue full");
            break;
        }
        free(p);
    }
    wh_host_service_unref(s);
}

/* ---- The handler ------------------------------------------------------------ */

static size_t header_bytes(const h2o_req_t *req)
{
    size_t n = req->path.len + req->method.len;
    for (size_t i = 0; i < req->headers.size; i++)
        n += req->headers.entries[i].name->len + req->headers.entries[i].value.len + 4;
    return n;
}

static bool is_path(const h2o_req_t *req, const char *path)
{
    return path && req->path_normalized.len == strlen(path) &&
           !memcmp(req->path_normalized.base, path, req->path_normalized.len);
}

/* A request-level error before any guest runs (413, 431); releases the
 * request's reference to `s`. */
static void reject(wh_http_loop *loop, h2o_req_t *req, const wh_http_ticket *t,
                   wh_host_service *s, int status, const char *reason, size_t size)
{
    wh_host_response res;
    wh_host_worker_set_request(loop->worker, t->id);
    wh_host_error(loop->worker, s, status, reason, &res, "%s of %zu bytes",
                  status == 413 ? "body" : "headers", size);
    answer(req, t, s, &res);
    wh_host_service_unref(s);
}

static void not_found(h2o_req_t *req, const wh_http_ticket *t)
{
    static const char body[] = "no service serves this path\n";
    h2o_iovec_t id = h2o_strdup(&req->pool, t->id, strlen(t->id));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-request-id"), 0,
                          NULL, id.base, id.len);
    wh_http_observe(req, t, NULL, 404, sizeof body - 1);
    h2o_send_error_404(req, "Not Found", body, 0);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    wh_http_server *srv = ((handler *)self)->srv;
    wh_http_loop *loop = loop_of(req);
    if (is_path(req, srv->opts->health_path)) {
        req->res.status = 200;
        req->res.reason = "OK";
        h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
                       H2O_STRLIT("text/plain"));
        req->res.content_length = 3;
        h2o_send_inline(req, H2O_STRLIT("ok\n"));
        return 0;
    }
    wh_http_ticket t = { .start_ns = wh_now_ns() };
    wh_host_request_id(loop->worker, t.id);
    wh_http_loop_refresh(loop);
    const wh_http_route *rt = wh_http_router_match(wh_host_snapshot_view(loop->snap),
                                                   req->path_normalized.base,
                                                   req->path_normalized.len);
    if (!rt) {
        not_found(req, &t);
        return 0;
    }
    wh_host_service_ref(rt->service);
    size_t hb = header_bytes(req);
    size_t body = req->entity.base ? req->entity.len : 0;
    if (hb > srv->opts->max_header_bytes)
        reject(loop, req, &t, rt->service, 431, "the request headers are too large", hb);
    else if (body > wh_host_service_conf_of(rt->service)->limits.max_body)
        reject(loop, req, &t, rt->service, 413, "the request body is too large", body);
    else
        admit(loop, req, &t, rt);
    return 0;
}

void wh_http_handler_register(wh_http_server *srv, h2o_pathconf_t *path)
{
    handler *h = (handler *)h2o_create_handler(path, sizeof *h);
    h->super.on_req = on_req;
    h->srv = srv;
}
