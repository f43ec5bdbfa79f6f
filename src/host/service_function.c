/* service_function.c: the function executor. A request calls one export
 * of a plugin (the Extism-compatible ABI of wharf.h) with the request as
 * its input and reads the response from its output:
 *
 *   input   the request as an HTTP/1.1 message: "METHOD TARGET PROTOCOL",
 *           one "name: value" line per header, an empty line, the body
 *           (lines end in CRLF; TARGET is the path plus "?query");
 *   output  a CGI-style response, as a WAGI guest prints it: header lines
 *           (Status, Content-Type, Location, others), an empty line, the
 *           body.
 *
 * docs/config.md describes the mapping for guest authors. The compiled
 * plugin is the service's; instances come from the worker's pool (fresh
 * per request unless the service says `instances: reuse`). */
#include <stdio.h>
#include <string.h>

#include "serviceInt.h"

static void plugin_log(void *user, wharf_log_level level, const char *msg, size_t len)
{
    static const char *const names[] = { "trace", "debug", "info", "warn", "error" };
    const wh_host_service *s = user;
    char quoted[1100];
    wh_host_log_quote(quoted, sizeof quoted, msg, len);
    wh_host_log(level < WH_ARRAY_LEN(names) ? names[level] : "info",
                "service=%s guest_log=%s", s->conf->name, quoted);
}

/* The manifest of `s`: everything points into its config. */
static void make_manifest(const wh_host_service *s, wharf_manifest *m,
                          wharf_plugin_path *paths, wharf_plugin_kv *vars)
{
    const wh_host_service_conf *c = s->conf;
    for (int i = 0; i < c->ndirs; i++)
        paths[i] = (wharf_plugin_path){ c->dirs[i].value, c->dirs[i].key };
    for (int i = 0; i < c->nvars; i++)
        vars[i] = (wharf_plugin_kv){ c->vars[i].key, c->vars[i].value };
    uint64_t pages = c->limits.max_memory / 65536;
    *m = (wharf_manifest){
        .wasm = s->wasm, .wasm_len = s->wasm_len,
        .wasm_path = s->wasm ? NULL : c->module,
        .max_pages = pages > 65536 ? 65536 : (uint32_t)pages,
        .timeout_ns = c->limits.timeout_ns,
        .fuel = c->limits.fuel,
        .wasi = true,
        .allowed_paths = paths, .nallowed_paths = (size_t)c->ndirs,
        .config = vars, .nconfig = (size_t)c->nvars,
        .log = plugin_log, .log_user = (void *)s, .log_level = WHARF_LOG_INFO,
    };
}

/* Instantiates once at start so that a missing import or export is a
 * start-up error rather than a 500 on every request. */
static bool trial_instance(wh_host_service *s, char *why, size_t len)
{
    wharf_plugin *p = NULL;
    wharf_error err = { 0 };
    if (wharf_plugin_instantiate(s->plugin, &p, &err) != WHARF_OK) {
        snprintf(why, len, "%s: %s", s->conf->module,
                 err.message[0] ? err.message : wharf_status_name(err.status));
        return false;
    }
    bool ok = wharf_plugin_has_function(p, s->conf->function);
    if (!ok)
        snprintf(why, len, "%s: no exported function '%s' (set 'function:')",
                 s->conf->module, s->conf->function);
    wharf_plugin_free(p);
    return ok;
}

bool wh_host_function_load(wh_host_app *app, wh_host_service *s, char *why, size_t len)
{
    const wh_host_service_conf *c = s->conf;
    wharf_plugin_path paths[c->ndirs + 1];
    wharf_plugin_kv vars[c->nvars + 1];
    wharf_manifest m;
    make_manifest(s, &m, paths, vars);
    wharf_error err = { 0 };
    if (wharf_compiled_plugin_new(app->engine, &m, &s->plugin, &err) != WHARF_OK) {
        if (err.offset != WHARF_NO_OFFSET)
            snprintf(why, len, "%s: %s (at offset 0x%llx)", c->module, err.message,
                     (unsigned long long)err.offset);
        else
            snprintf(why, len, "%s: %s", c->module,
                     err.message[0] ? err.message : wharf_status_name(err.status));
        return false;
    }
    return trial_instance(s, why, len);
}

/* The request as an HTTP/1.1 message in the worker's scratch. */
static uint8_t *envelope(wh_host_worker *w, const wh_host_request *r, size_t *len)
{
    size_t n = r->method_len + r->path_len + r->query_len + strlen(r->protocol) + 8;
    for (size_t i = 0; i < r->nheaders; i++)
        n += r->headers[i].name_len + r->headers[i].value_len + 4;
    n += 2 + r->body_len;
    char *buf = wh_arena_alloc(&w->scratch, n + 1);
    if (!buf)
        return NULL;
    int k = snprintf(buf, n + 1, "%.*s %.*s%s%.*s %s\r\n", (int)r->method_len, r->method,
                     (int)r->path_len, r->path, r->query_len ? "?" : "",
                     (int)r->query_len, r->query, r->protocol);
    size_t o = k > 0 ? (size_t)k : 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        const wh_host_header *h = &r->headers[i];
        memcpy(buf + o, h->name, h->name_len);
        o += h->name_len;
        memcpy(buf + o, ": ", 2);
        memcpy(buf + o + 2, h->value, h->value_len);
        o += 2 + h->value_len;
        memcpy(buf + o, "\r\n", 2);
        o += 2;
    }
    memcpy(buf + o, "\r\n", 2);
    o += 2;
    if (r->body_len)
        memcpy(buf + o, r->body, r->body_len);
    *len = o + r->body_len;
    return (uint8_t *)buf;
}

/* Copies the plugin's output into the worker (it dies with the plugin);
 * false with an error response when it is too large. */
static bool take_output(wh_host_worker *w, const wh_host_service *s,
                        const uint8_t *out, size_t len, wh_host_response *res)
{
    if (len > s->conf->limits.max_response) {
        wh_host_error(w, s, 500, "the service's response is too large", res,
                      "output of %zu bytes over limits.max_response", len);
        return false;
    }
    if (!wh_host_pool_reserve(w, len + 1)) {
        wh_host_error(w, s, 500, "the server is out of memory", res,
                      "cannot hold a %zu-byte response", len);
        return false;
    }
    if (len)
        memcpy(w->out, out, len);
    return true;
}

void wh_host_function_run(wh_host_worker *w, wh_host_service *s,
                          const wh_host_request *req, wh_host_response *res)
{
    size_t inlen, outlen = 0;
    const uint8_t *out = NULL;
    uint8_t *in = envelope(w, req, &inlen);
    wharf_error err = { 0 };
    if (!in) {
        wh_host_error(w, s, 500, "the server is out of memory", res, "request envelope");
        return;
    }
    wharf_plugin *p = wh_host_pool_plugin(w, s, &err);
    if (!p) {
        wh_host_fail_call(w, s, "instantiate", &err, res);
        return;
    }
    wharf_status st = wharf_plugin_call(p, s->conf->function, in, inlen, &out, &outlen, &err);
    bool ok = st == WHARF_OK && take_output(w, s, out, outlen, res);
    wh_host_pool_release(w, s, p, st == WHARF_OK);
    if (st != WHARF_OK)
        wh_host_fail_call(w, s, s->conf->function, &err, res);
    else if (ok)
        wh_host_cgi_respond(w, s, w->out, outlen, res);
}
