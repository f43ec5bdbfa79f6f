/* wagi.c: the WAGI executor, following the conventions of Spin and
 * deislabs/wagi. A request runs a fresh instance of the service's WASI
 * command (`_start`) with:
 *
 *   argv   the request path, then each '&'-separated part of the query;
 *   env    the service's `environment`, then the CGI/1.1 variables
 *          (REQUEST_METHOD, PATH_INFO, QUERY_STRING, SERVER_NAME, ...,
 *          the WAGI extras X_MATCHED_ROUTE, X_FULL_URL, X_RAW_PATH_INFO,
 *          and HTTP_* for the request headers except Authorization and
 *          Connection); a name the service sets itself is not overridden;
 *   stdin  the request body;
 *   stdout the CGI response (wagi_cgi.c); stderr goes to the log.
 *
 * Owns the per-request WASI state and instance. The module is the
 * service's, compiled once and linked once against a WASI linker shared
 * by all requests: each instance carries its request's WASI state as its
 * user pointer. A non-zero exit code is a failure (500), as in Spin. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "serviceInt.h"

/* The environment being built for one request, in the worker's scratch. */
typedef struct envb {
    wh_host_worker *w;
    const wh_host_service_conf *conf;
    const char **vars;
    int n, cap;
    int headers_from;             /* where the HTTP_* vars start (INT_MAX
                                     until they do) */
    bool oom;
} envb;

static bool conf_sets(const wh_host_service_conf *c, const char *name, size_t len)
{
    for (int i = 0; i < c->nenv; i++)
        if (strlen(c->env[i].key) == len && !memcmp(c->env[i].key, name, len))
            return true;
    return false;
}

/* Index of the variable named name[0..len) built so far, or -1. Only
 * header variables can repeat (the CGI ones are set once each), so only
 * they are searched. */
static int find_var(const envb *e, const char *name, size_t len)
{
    for (int i = e->headers_from; i < e->n; i++)
        if (!strncmp(e->vars[i], name, len) && e->vars[i][len] == '=')
            return i;
    return -1;
}

/* Adds NAME=VALUE; a repeated name (a repeated header) joins the values
 * with ", " as RFC 3875 section 4.1.18 says. */
static void env_put(envb *e, const char *name, size_t nlen, const char *val, size_t vlen)
{
    if (e->oom || conf_sets(e->conf, name, nlen))
        return;
    int at = find_var(e, name, nlen);
    const char *old = at >= 0 ? e->vars[at] + nlen + 1 : "";
    size_t olen = at >= 0 ? strlen(old) + 2 : 0;
    char *kv = wh_arena_alloc(&e->w->scratch, nlen + olen + vlen + 2);
    if (!kv || (at < 0 && e->n == e->cap)) {
        e->oom = true;
        return;
    }
    memcpy(kv, name, nlen);
    kv[nlen] = '=';
    if (at >= 0)
        snprintf(kv + nlen + 1, olen + 1, "%s, ", old);
    memcpy(kv + nlen + 1 + olen, val, vlen);
    e->vars[at >= 0 ? at : e->n++] = kv;
}

static void env_str(envb *e, const char *name, const char *val)
{
    env_put(e, name, strlen(name), val, strlen(val));
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* %XX escapes decoded into dst (room for len bytes); %00 stays as it is,
 * since an environment string cannot hold a NUL. */
static size_t percent_decode(char *dst, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int hi = -1, lo = -1;
        if (s[i] == '%' && i + 2 < len) {
            hi = hexval(s[i + 1]);
            lo = hexval(s[i + 2]);
        }
        if (hi >= 0 && lo >= 0 && (hi | lo)) {
            dst[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            dst[o++] = s[i];
        }
    }
    return o;
}

/* SERVER_NAME and SERVER_PORT from the Host header, as Spin does; the
 * listener's port when the header has none. */
static void split_authority(const wh_host_request *r, char *host, size_t hcap,
                            char *port, size_t pcap)
{
    const char *a = r->authority, *end = a + r->authority_len, *colon;
    if (r->authority_len && a[0] == '[') {
        colon = memchr(a, ']', r->authority_len);
        colon = colon && colon + 1 < end && colon[1] == ':' ? colon + 1 : NULL;
    } else {
        colon = memchr(a, ':', r->authority_len);
    }
    size_t hlen = colon ? (size_t)(colon - a) : r->authority_len;
    snprintf(host, hcap, "%.*s", (int)hlen, hlen ? a : "localhost");
    size_t plen = colon ? (size_t)(end - colon - 1) : 0;
    bool digits = plen > 0 && plen < 6;
    for (size_t i = 0; digits && i < plen; i++)
        digits = colon[1 + i] >= '0' && colon[1 + i] <= '9';
    if (digits)
        snprintf(port, pcap, "%.*s", (int)plen, colon + 1);
    else
        snprintf(port, pcap, "%u", (unsigned)r->server_port);
}

static void env_path_info(envb *e, const wh_host_request *r)
{
    char *dec = wh_arena_alloc(&e->w->scratch, r->path_info_len + 1);
    if (!dec) {
        e->oom = true;
        return;
    }
    size_t n = percent_decode(dec, r->path_info, r->path_info_len);
    env_put(e, "PATH_INFO", 9, dec, n);
    env_put(e, "PATH_TRANSLATED", 15, dec, n);
    env_put(e, "X_RAW_PATH_INFO", 15, r->path_info, r->path_info_len);
}

static void env_full_url(envb *e, const wh_host_request *r, const char *host,
                         const char *port)
{
    size_t cap = strlen(host) + r->path_len + r->query_len + 48;
    char *url = wh_arena_alloc(&e->w->scratch, cap);
    if (!url) {
        e->oom = true;
        return;
    }
    snprintf(url, cap, "%s://%s:%s%.*s%s%.*s", r->scheme, host, port,
             (int)r->path_len, r->path, r->query_len ? "?" : "",
             (int)r->query_len, r->query);
    env_str(e, "X_FULL_URL", url);
}

static const wh_host_header *find_header(const wh_host_request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (r->headers[i].name_len == strlen(name) &&
            !strncasecmp(r->headers[i].name, name, r->headers[i].name_len))
            return &r->headers[i];
    return NULL;
}

/* The CGI/1.1 meta-variables (RFC 3875 section 4.1) plus WAGI's X_*. */
static void env_cgi(envb *e, const wh_host_request *r)
{
    char host[256], port[8], len[24];
    split_authority(r, host, sizeof host, port, sizeof port);
    snprintf(len, sizeof len, "%zu", r->body_len);
    const wh_host_header *ct = find_header(r, "content-type");
    env_str(e, "AUTH_TYPE", "");
    env_str(e, "CONTENT_LENGTH", len);
    env_put(e, "CONTENT_TYPE", 12, ct ? ct->value : "", ct ? ct->value_len : 0);
    env_str(e, "GATEWAY_INTERFACE", "CGI/1.1");
    env_path_info(e, r);
    env_put(e, "QUERY_STRING", 12, r->query, r->query_len);
    env_str(e, "REMOTE_ADDR", r->remote_addr);
    env_str(e, "REMOTE_HOST", r->remote_addr);
    env_str(e, "REMOTE_USER", "");
    env_put(e, "REQUEST_METHOD", 14, r->method, r->method_len);
    env_str(e, "SCRIPT_NAME", r->route->prefix);
    env_str(e, "SERVER_NAME", host);
    env_str(e, "SERVER_PORT", port);
    env_str(e, "SERVER_PROTOCOL", r->protocol);
    env_str(e, "SERVER_SOFTWARE", "WAGI/1");
    env_str(e, "X_MATCHED_ROUTE", r->route->text);
    env_full_url(e, r, host, port);
}

/* HTTP_<NAME> for each request header: upper case, '-' and any other
 * non-alphanumeric byte as '_'. */
static void env_headers(envb *e, const wh_host_request *r)
{
    char name[128];
    e->headers_from = e->n;
    for (size_t i = 0; i < r->nheaders; i++) {
        const wh_host_header *h = &r->headers[i];
        if (h->name_len > sizeof name - 6 ||
            (h->name_len == 13 && !strncasecmp(h->name, "authorization", 13)) ||
            (h->name_len == 10 && !strncasecmp(h->name, "connection", 10)))
            continue;
        memcpy(name, "HTTP_", 5);
        for (size_t k = 0; k < h->name_len; k++) {
            char c = h->name[k];
            name[5 + k] = c >= 'a' && c <= 'z' ? (char)(c - 32)
                        : (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
        }
        env_put(e, name, 5 + h->name_len, h->value, h->value_len);
    }
}

static bool build_env(envb *e, const wh_host_request *r)
{
    e->headers_from = INT_MAX;
    e->cap = e->conf->nenv + 24 + (int)r->nheaders;
    e->vars = wh_arena_alloc(&e->w->scratch, (size_t)e->cap * sizeof *e->vars);
    if (!e->vars)
        return false;
    for (int i = 0; i < e->conf->nenv; i++) {
        const wh_host_kv *kv = &e->conf->env[i];
        size_t n = strlen(kv->key) + strlen(kv->value) + 2;
        char *s = wh_arena_alloc(&e->w->scratch, n);
        if (!s)
            return false;
        snprintf(s, n, "%s=%s", kv->key, kv->value);
        e->vars[e->n++] = s;
    }
    env_cgi(e, r);
    env_headers(e, r);
    return !e->oom;
}

static char *scratch_strndup(wh_host_worker *w, const char *s, size_t n)
{
    char *p = wh_arena_alloc(&w->scratch, n + 1);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* argv: the path, then the query's '&'-separated parts (as Spin's
 * default "${SCRIPT_NAME} ${ARGS}"), not decoded. */
static const char **build_argv(wh_host_worker *w, const wh_host_request *r, int *argc)
{
    size_t cap = 2;
    for (size_t i = 0; i < r->query_len; i++)
        cap += r->query[i] == '&';
    const char **argv = wh_arena_alloc(&w->scratch, (cap + 1) * sizeof *argv);
    if (!argv || !(argv[0] = scratch_strndup(w, r->path, r->path_len)))
        return NULL;
    int n = 1;
    for (const char *p = r->query, *end = p + r->query_len; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if (stop > p && !(argv[n++] = scratch_strndup(w, p, (size_t)(stop - p))))
            return NULL;
        p = stop + 1;
    }
    *argc = n;
    return argv;
}

/* Instantiates and runs `_start` once. *code gets a proc_exit code. */
static wharf_status run_guest(wh_host_service *s, const wh_wasi_config *cfg,
                              wharf_error *err, int *code, const char **step)
{
    wh_wasi *wasi = NULL;
    wharf_instance *inst = NULL;
    wharf_func *start;
    *step = "WASI setup";
    wharf_status st = wh_wasi_new(cfg, &wasi, err);
    if (st == WHARF_OK) {
        *step = "instantiate";
        st = wharf_instance_pre_instantiate(s->pre, &s->limits, wasi, &inst, err);
    }
    if (st == WHARF_OK && wharf_instance_func(inst, "_start", &start) == WHARF_OK) {
        *step = "_start";
        st = wharf_call(inst, start, NULL, 0, NULL, 0, err);
    }
    *code = st == WHARF_ERR_EXIT ? wh_wasi_exit_code(wasi) : 0;
    if (st == WHARF_ERR_EXIT && *code == 0)
        st = WHARF_OK;
    wh_host_note_usage(s, inst);
    if (inst)
        wharf_instance_free(inst);
    wh_wasi_free(wasi);
    return st;
}

/* Everything the guest wrote, or an error response; false on error. */
static bool collect(wh_host_worker *w, wh_host_service *s, wharf_status st,
                    const wharf_error *err, int code, const char *step,
                    wh_host_response *res, size_t *len)
{
    wh_host_pool_drain_stderr(w, s);
    *len = wh_host_pool_drain_stdout(w, s->conf->limits.max_response);
    if (st == WHARF_ERR_EXIT) {
        wh_host_error(w, s, 500, "the service failed", res,
                      "%s: exited with code %d", step, code);
        return false;
    }
    if (st != WHARF_OK) {
        wh_host_fail_call(w, s, step, err, res);
        return false;
    }
    if (*len == SIZE_MAX) {
        wh_host_error(w, s, 500, "the service's response is too large", res,
                      "stdout over limits.max_response (%llu bytes)",
                      (unsigned long long)s->conf->limits.max_response);
        return false;
    }
    return true;
}

void wh_host_wagi_run(wh_host_worker *w, wh_host_service *s,
                      const wh_host_request *req, wh_host_response *res)
{
    envb e = { .w = w, .conf = s->conf };
    int argc = 0;
    const char **argv = build_argv(w, req, &argc);
    if (!argv || !build_env(&e, req) || !wh_host_pool_set_stdin(w, req->body, req->body_len)) {
        wh_host_error(w, s, 500, "the server could not start the service", res,
                      "request setup failed (out of memory or stdin)");
        return;
    }
    wh_wasi_config cfg = {
        .argv = argv, .argc = argc, .env = e.vars, .nenv = e.n,
        .preopens = s->preopens, .npreopens = s->conf->ndirs,
        .stdin_fd = w->stdin_guest, .stdout_fd = w->out_wr, .stderr_fd = w->err_wr,
        .borrow_stdio = true,     /* the worker's, open for its whole life */
    };
    wharf_error err = { 0 };
    const char *step;
    int code;
    wharf_status st = run_guest(s, &cfg, &err, &code, &step);
    size_t len;
    if (collect(w, s, st, &err, code, step, res, &len))
        wh_host_cgi_respond(w, s, w->out, len, res);
}

/* ---- Start-up checks ---------------------------------------------------------- */

static bool exports_start(const wharf_module *m)
{
    uint32_t n = wharf_module_export_count(m);
    for (uint32_t i = 0; i < n; i++) {
        wharf_extern_info x;
        wharf_module_export(m, i, &x);
        if (x.kind != WHARF_EXTERN_FUNC || x.name_len != 6 || memcmp(x.name, "_start", 6))
            continue;
        const wharf_valkind *p, *r;
        uint32_t np, nr;
        return wharf_module_func_type(m, x.index, &p, &np, &r, &nr) && np == 0 && nr == 0;
    }
    return false;
}

/* A WAGI instance's user pointer is its request's WASI state. */
static wh_wasi *wasi_of(void *inst_user)
{
    return inst_user;
}

/* Links the module against the shared WASI linker, then instantiates it
 * once without running _start, so that a missing import (or a memory over
 * the limit) is reported at start instead of on every request. */
static bool link_once(wh_host_app *app, wh_host_service *s, char *why, size_t len)
{
    wh_wasi_config cfg = { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
                           .preopens = s->preopens, .npreopens = s->conf->ndirs };
    wharf_error err = { 0 };
    wh_wasi *wasi = NULL;
    wharf_instance *inst = NULL;
    wharf_status st = wharf_linker_new(app->engine, &s->linker);
    if (st == WHARF_OK)
        st = wh_wasi_define_shared(s->linker, wasi_of);
    if (st == WHARF_OK)
        st = wharf_instance_pre_new(s->module, s->linker, &s->pre, &err);
    if (st == WHARF_OK)
        st = wh_wasi_new(&cfg, &wasi, &err);
    if (st == WHARF_OK)
        st = wharf_instance_pre_instantiate(s->pre, &s->limits, wasi, &inst, &err);
    if (st != WHARF_OK)
        snprintf(why, len, "%s: %s", s->conf->module,
                 err.message[0] ? err.message : wharf_status_name(st));
    if (inst)
        wharf_instance_free(inst);
    wh_wasi_free(wasi);
    return st == WHARF_OK;
}

bool wh_host_wagi_check(wh_host_app *app, wh_host_service *s, char *why, size_t len)
{
    /* A registry hands over the module compiled (and cached) already. */
    if (!s->module && !wh_host_load_module(app, s->conf->module, &s->module, why, len))
        return false;
    if (!exports_start(s->module)) {
        snprintf(why, len, "%s: a WAGI guest must export `_start: func() -> ()` "
                 "(a WASI command)", s->conf->module);
        return false;
    }
    return link_once(app, s, why, len);
}

void wh_host_wagi_free(wh_host_service *s)
{
    wharf_instance_pre_free(s->pre);
    wharf_linker_free(s->linker);
    s->pre = NULL;
    s->linker = NULL;
}
