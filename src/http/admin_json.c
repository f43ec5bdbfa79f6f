/* admin_json.c: the admin API's wire format (docs/admin-api.md): a
 * service as JSON, the body of a deploy, and the base64 its module
 * travels in. No I/O and no h2o: admin.c moves the bytes. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpInt.h"
#include "admin.h"

/* ---- Base64 (RFC 4648 section 4, padded) ------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *wh_http_base64_encode(const uint8_t *p, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < len ? p[i + 2] : 0);
        *o++ = b64[v >> 18];
        *o++ = b64[(v >> 12) & 63];
        *o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
        *o++ = i + 2 < len ? b64[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

static int b64_value(char c)
{
    const char *at = c ? strchr(b64, c) : NULL;
    return at ? (int)(at - b64) : -1;
}

uint8_t *wh_http_base64_decode(const char *s, size_t len, size_t *outlen)
{
    size_t pad = len >= 1 && s[len - 1] == '=' ? (len >= 2 && s[len - 2] == '=' ? 2 : 1) : 0;
    if (len % 4 != 0)
        return NULL;
    uint8_t *out = malloc(len / 4 * 3 + 1);
    size_t n = 0;
    for (size_t i = 0; out && i < len; i += 4) {
        uint32_t v = 0;
        for (int k = 0; k < 4; k++) {
            int d = i + (size_t)k >= len - pad ? 0 : b64_value(s[i + (size_t)k]);
            if (d < 0) {
                free(out);
                return NULL;
            }
            v = v << 6 | (uint32_t)d;
        }
        out[n++] = (uint8_t)(v >> 16);
        out[n++] = (uint8_t)(v >> 8);
        out[n++] = (uint8_t)v;
    }
    *outlen = n - pad;
    return out;
}

/* ---- A service as JSON ------------------------------------------------------- */

static void add_time(cJSON *o, const char *key, int64_t t)
{
    char buf[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    cJSON_AddStringToObject(o, key, buf);
}

static cJSON *version_json(const wh_host_version_info *v)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "version", (double)v->version);
    cJSON_AddStringToObject(o, "origin", v->origin);
    add_time(o, "deployed_at", v->deployed_at);
    cJSON *m = cJSON_AddObjectToObject(o, "module");
    if (v->sha256[0]) {
        cJSON_AddStringToObject(m, "name", v->module_name);
        cJSON_AddStringToObject(m, "sha256", v->sha256);
        cJSON_AddNumberToObject(m, "bytes", (double)v->module_bytes);
    }
    return o;
}

static cJSON *limits_json(const wh_host_limits *l)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "max_memory", (double)l->max_memory);
    cJSON_AddNumberToObject(o, "fuel", (double)l->fuel);
    cJSON_AddNumberToObject(o, "timeout_ms", (double)l->timeout_ns / 1e6);
    cJSON_AddNumberToObject(o, "max_concurrent", l->max_concurrent);
    cJSON_AddNumberToObject(o, "queue", l->queue);
    cJSON_AddNumberToObject(o, "queue_timeout_ms", (double)l->queue_timeout_ns / 1e6);
    cJSON_AddNumberToObject(o, "max_body", (double)l->max_body);
    cJSON_AddNumberToObject(o, "max_response", (double)l->max_response);
    return o;
}

static double counter(const uint64_t *p)
{
    return (double)__atomic_load_n(p, __ATOMIC_RELAXED);
}

static double gauge(const int64_t *p)
{
    return (double)__atomic_load_n(p, __ATOMIC_RELAXED);
}

static cJSON *counters_json(const wh_host_stats *st)
{
    cJSON *o = cJSON_CreateObject(), *req = cJSON_AddObjectToObject(o, "requests");
    static const char *const classes[] = { "other", "1xx", "2xx", "3xx", "4xx", "5xx" };
    for (int c = 0; c < 6; c++)
        cJSON_AddNumberToObject(req, classes[c], counter(&st->requests[c]));
    cJSON_AddNumberToObject(o, "traps", counter(&st->traps));
    cJSON_AddNumberToObject(o, "timeouts", counter(&st->timeouts));
    cJSON_AddNumberToObject(o, "fuel_exhausted", counter(&st->fuel_exhausted));
    cJSON_AddNumberToObject(o, "fuel_used", counter(&st->fuel_used));
    cJSON_AddNumberToObject(o, "instances_active", gauge(&st->active));
    cJSON_AddNumberToObject(o, "instances_pooled", gauge(&st->pooled));
    cJSON_AddNumberToObject(o, "linear_memory_bytes", gauge(&st->memory));
    cJSON_AddNumberToObject(o, "linear_memory_max_bytes", counter(&st->memory_max));
    return o;
}

static const char *executor_name(wh_host_executor e)
{
    return e == WH_HOST_EXEC_WAGI ? "wagi" : e == WH_HOST_EXEC_FUNCTION ? "function"
         : "pipeline";
}

cJSON *wh_http_admin_service_json(wh_host_registry *r, const wh_host_service *s, bool detail)
{
    const wh_host_service_conf *c = wh_host_service_conf_of(s);
    wh_host_version_info v;
    wh_host_service_info(s, &v);
    cJSON *o = version_json(&v);
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddStringToObject(o, "executor", executor_name(c->executor));
    if (c->function)
        cJSON_AddStringToObject(o, "function", c->function);
    cJSON *routes = cJSON_AddArrayToObject(o, "routes");
    for (int i = 0; i < c->nroutes; i++)
        cJSON_AddItemToArray(routes, cJSON_CreateString(c->routes[i].text));
    cJSON_AddItemToObject(o, "limits", limits_json(&c->limits));
    cJSON_AddNumberToObject(o, "reuse", c->reuse);
    cJSON_AddItemToObject(o, "counters", counters_json(wh_host_service_stats(s)));
    wh_host_version_info hist[WH_HOST_HISTORY];
    int n = detail ? wh_host_registry_history(r, c->name, hist, WH_HOST_HISTORY) : 0;
    cJSON *h = detail ? cJSON_AddArrayToObject(o, "history") : NULL;
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(h, version_json(&hist[i]));
    return o;
}

/* ---- The body of PUT /v1/services/NAME --------------------------------------- */

void wh_http_admin_body_free(wh_http_admin_body *b)
{
    free(b->wasm);
    free(b->config);
    free(b->module_name);
    *b = (wh_http_admin_body){ 0 };
}

/* A string member of `o`, or NULL; false when present but not a string. */
static bool opt_string(const cJSON *o, const char *key, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = cJSON_IsString(v) ? v->valuestring : NULL;
    return !v || *out;
}

bool wh_http_admin_body_parse(const char *text, size_t len, wh_http_admin_body *b,
                              char *why, size_t whylen)
{
    *b = (wh_http_admin_body){ 0 };
    cJSON *root = cJSON_ParseWithLength(text, len);
    const char *module = NULL, *name = NULL;
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config");
    bool ok = false;
    if (!cJSON_IsObject(root))
        snprintf(why, whylen, "the body must be a JSON object: {\"module\": BASE64, "
                 "\"config\": {...}}");
    else if (!cJSON_IsObject(config))
        snprintf(why, whylen, "\"config\" must be an object of the service's keys "
                 "(as in wharf.yaml)");
    else if (!opt_string(root, "module", &module) || !opt_string(root, "module_name", &name))
        snprintf(why, whylen, "\"module\" (base64) and \"module_name\" must be strings");
    else if (module && !(b->wasm = wh_http_base64_decode(module, strlen(module), &b->wasm_len)))
        snprintf(why, whylen, "\"module\" is not valid base64");
    else if (!(b->config = cJSON_PrintUnformatted(config)) ||
             (name && !(b->module_name = strdup(name))))
        snprintf(why, whylen, "out of memory");
    else
        ok = true;
    b->has_module = module != NULL;
    cJSON_Delete(root);
    if (!ok)
        wh_http_admin_body_free(b);
    return ok;
}
