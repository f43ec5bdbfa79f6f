/* http.h: the HTTP front door of `wharf serve`, on libh2o (evloop).
 *
 * One event loop per worker thread, all accepting from one listening
 * socket; HTTP/1.1 (keep-alive, pipelining), HTTP/2 over cleartext
 * (prior knowledge or Upgrade: h2c) and, with a certificate, over TLS
 * (ALPN). A request is routed to a service and its guest runs on the
 * loop's own thread, so a loop's other connections wait at most one
 * request's execution, which the service's timeout bounds; idle loops
 * keep accepting. The services come from a registry (host/registry.h)
 * that the admin API (admin.c) and SIGHUP change while requests run. The
 * callers are the CLI (`wharf serve`); nothing below src/http knows of
 * h2o. */
#ifndef WH_HTTP_H
#define WH_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "../host/registry.h"

typedef struct wh_http_options {
    const char *listen;           /* "ADDR:PORT"; port 0 picks a free one */
    int workers;                  /* event loops; 0 = one per core */
    const char *tls_cert, *tls_key;   /* both or neither (PEM files) */
    uint64_t request_timeout_ns;  /* reading one request (slow clients) */
    uint64_t idle_timeout_ns;     /* idle HTTP/2 connections */
    uint64_t max_header_bytes;    /* request headers; more is a 431 */
    const char *health_path;      /* answered "ok" without wasm; NULL = none */
    uint64_t grace_ns;            /* finishing requests at shutdown */
    const char *admin_listen;     /* the admin API's "ADDR:PORT"; NULL = none */
    bool admin_optional;          /* a default address: if it is taken, warn
                                     and run without the admin API */
    const char *admin_token;      /* its bearer token; NULL = none, which only
                                     a loopback address allows */
    void (*reload)(void *ctx);    /* on SIGHUP; NULL = ignore it */
    void *reload_ctx;
} wh_http_options;

/* Serves the registry's services until SIGINT or SIGTERM: stops
 * accepting, finishes the requests in flight (up to o->grace_ns) and
 * returns 0. Logs "listening" with the bound address once it accepts (and
 * "admin listening" for the admin API). Returns non-zero, after logging
 * one line, when it cannot start (address in use, bad TLS files, an admin
 * address off loopback without a token). Seals the registry's limits.
 * Must be called once, from the main thread. */
int wh_http_serve(wh_host_registry *reg, const wh_http_options *o);

/* Base64 (RFC 4648, padded), the admin API's encoding of module bytes:
 * encode into a malloc'd NUL-terminated string; decode `len` characters
 * into a malloc'd buffer, NULL when they are not base64 (or out of
 * memory). */
char *wh_http_base64_encode(const uint8_t *bytes, size_t len);
uint8_t *wh_http_base64_decode(const char *text, size_t len, size_t *outlen);

#endif /* WH_HTTP_H */
