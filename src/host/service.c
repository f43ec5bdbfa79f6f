/* service.c: the application behind `wharf serve`: one engine, each
 * service's module compiled once and shared by every thread, and the
 * dispatch of a request to its executor. Owns error responses (status,
 * error id, body) and the one-line log format (logfmt on stderr).
 *
 * Invariant: a service is fully checked before the server starts; at run
 * time a request can fail only in ways that concern that request. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "serviceInt.h"

/* ---- Logging -------------------------------------------------------------- */

void wh_host_log_quote(char *dst, size_t cap, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (cap < 3) {
        if (cap)
            dst[0] = '\0';
        return;
    }
    dst[o++] = '"';
    for (size_t i = 0; i < len && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            dst[o++] = '\\';
            dst[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        } else {
            dst[o++] = (char)c;
        }
    }
    dst[o++] = '"';
    dst[o] = '\0';
}

void wh_host_log(const char *level, const char *fmt, ...)
{
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, level);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        n += vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line - 1)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    /* One write per line keeps lines whole when threads log at once. */
    ssize_t unused = write(STDERR_FILENO, line, (size_t)n);
    (void)unused;
}

/* ---- Error responses --------------------------------------------------------- */

static const char *reason_phrase(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
    }
}

/* A fresh 8-hex-digit id (xorshift64*): unique enough to find a log line. */
void wh_host_random_id(uint64_t *state, char id[12])
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    snprintf(id, 12, "%08" PRIx32, (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32));
}

void wh_host_request_id(wh_host_worker *w, char id[12])
{
    wh_host_random_id(&w->rng, id);
}

void wh_host_worker_set_request(wh_host_worker *w, const char *id)
{
    snprintf(w->request_id, sizeof w->request_id, "%s", id);
}

/* An error response carries the id of the request it answers, so that
 * the access log, the error log and the client all show the same one. */
static void error_id(wh_host_worker *w, char out[12])
{
    if (w->request_id[0])
        memcpy(out, w->request_id, sizeof w->request_id);
    else
        wh_host_request_id(w, out);
}

void wh_host_error(wh_host_worker *w, const wh_host_service *s, int status,
                   const char *reason, wh_host_response *res,
                   const char *detail_fmt, ...)
{
    char detail[512], quoted[1100];
    va_list ap;
    va_start(ap, detail_fmt);
    vsnprintf(detail, sizeof detail, detail_fmt, ap);
    va_end(ap);
    *res = (wh_host_response){ .status = status };
    error_id(w, res->error_id);
    wh_host_log_quote(quoted, sizeof quoted, detail, strlen(detail));
    wh_host_log(status >= 500 ? "error" : "warn", "id=%s service=%s status=%d error=%s",
                res->error_id, s ? s->conf->name : "-", status, quoted);

    int n = snprintf(res->error_text, sizeof res->error_text, "%d %s: %s (error id %s)\n",
                     status, reason_phrase(status), reason, res->error_id);
    res->body = (const uint8_t *)res->error_text;
    res->body_len = n < 0 ? 0 : (size_t)n < sizeof res->error_text ? (size_t)n
                  : sizeof res->error_text - 1;
    res->headers[0] = (wh_host_header){ "content-type", 12, "text/plain; charset=utf-8", 25 };
    res->headers[1] = (wh_host_header){ "x-wharf-error-id", 16, res->error_id,
                                        strlen(res->error_id) };
    res->nheaders = 2;
}

static bool is_limit_trap(wharf_trap t)
{
    return t == WHARF_TRAP_FUEL || t == WHARF_TRAP_DEADLINE || t == WHARF_TRAP_INTERRUPT;
}

void wh_host_fail_call(wh_host_worker *w, const wh_host_service *s,
                       const char *what, const wharf_error *err,
                       wh_host_response *res)
{
    const char *msg = err->message[0] ? err->message : wharf_status_name(err->status);
    if (err->status == WHARF_ERR_TRAP && err->trap == WHARF_TRAP_FUEL)
        WH_HOST_STAT_ADD(s, fuel_exhausted, 1);
    else if (err->status == WHARF_ERR_TRAP && is_limit_trap(err->trap))
        WH_HOST_STAT_ADD(s, timeouts, 1);
    else if (err->status == WHARF_ERR_TRAP)
        WH_HOST_STAT_ADD(s, traps, 1);
    if (err->status == WHARF_ERR_TRAP && is_limit_trap(err->trap)) {
        wh_host_error(w, s, 504, err->trap == WHARF_TRAP_FUEL
                      ? "the service ran out of fuel" : "the service ran out of time",
                      res, "%s: %s", what, msg);
        return;
    }
    /* The engine's trap message already names the function and offset. */
    wh_host_error(w, s, 500, "the service failed", res, "%s: %s: %s", what,
                  err->status == WHARF_ERR_TRAP ? "trap" : wharf_status_name(err->status),
                  msg);
}

/* ---- Dispatch ------------------------------------------------------------------ */

void wh_host_handle(wh_host_worker *w, wh_host_service *s,
                    const wh_host_request *req, wh_host_response *res)
{
    /* The previous response's buffers are dead once a new request runs. */
    wh_arena_free_all(&w->scratch);
    *res = (wh_host_response){ .status = 500 };
    WH_HOST_STAT_ADD(s, active, 1);
    if (s->conf->executor == WH_HOST_EXEC_WAGI)
        wh_host_wagi_run(w, s, req, res);
    else if (s->conf->executor == WH_HOST_EXEC_PIPELINE)
        wh_host_pipeline_run(w, s, req, res);
    else
        wh_host_function_run(w, s, req, res);
    WH_HOST_STAT_ADD(s, active, -1);
}

void wh_host_note_usage(const wh_host_service *s, wharf_instance *inst)
{
    if (!inst)
        return;
    size_t bytes = 0;
    wharf_instance_memory(inst, &bytes);
    uint64_t max = __atomic_load_n(&s->stats->memory_max, __ATOMIC_RELAXED);
    while (bytes > max && !__atomic_compare_exchange_n(&s->stats->memory_max, &max, bytes,
                                                       true, __ATOMIC_RELAXED,
                                                       __ATOMIC_RELAXED))
        ;
    uint64_t left = wharf_instance_fuel(inst);
    if (s->limits.fuel && left <= s->limits.fuel)
        WH_HOST_STAT_ADD(s, fuel_used, s->limits.fuel - left);
}

/* ---- The application -------------------------------------------------------------- */

/* The whole file in a malloc'd buffer; NULL with errno set on failure. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            uint8_t *bigger = realloc(buf, cap = cap ? cap * 2 : 1 << 16);
            if (!bigger) {
                errno = ENOMEM;
                break;
            }
            buf = bigger;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (!ferror(f)) {
                fclose(f);
                *len = n;
                return buf;
            }
            break;
        }
    }
    int saved = errno;
    free(buf);
    fclose(f);
    errno = saved;
    return NULL;
}

uint8_t *wh_host_read_module(const char *path, size_t *len, char *why, size_t whylen)
{
    uint8_t *bytes = read_file(path, len);
    if (!bytes)
        snprintf(why, whylen, "cannot read '%s': %s", path, strerror(errno));
    return bytes;
}

bool wh_host_compile_module(wh_host_app *app, const char *path, const uint8_t *bytes,
                            size_t n, wharf_module **out, char *why, size_t len)
{
    wharf_error err = { 0 };
    wharf_status st = wharf_module_new(app->engine, bytes, n, out, &err);
    if (st == WHARF_OK)
        return true;
    if (err.offset != WHARF_NO_OFFSET)
        snprintf(why, len, "%s: %s module: %s (at offset 0x%" PRIx64 ")", path,
                 wharf_status_name(st), err.message, err.offset);
    else
        snprintf(why, len, "%s: %s module: %s", path, wharf_status_name(st), err.message);
    return false;
}

bool wh_host_load_module(wh_host_app *app, const char *path, wharf_module **out,
                         char *why, size_t len)
{
    size_t n;
    uint8_t *bytes = wh_host_read_module(path, &n, why, len);
    if (!bytes)
        return false;
    bool ok = wh_host_compile_module(app, path, bytes, n, out, why, len);
    free(bytes);
    return ok;
}

const wh_host_service_conf *wh_host_service_conf_of(const wh_host_service *s) { return s->conf; }
wh_host_stats *wh_host_service_stats(const wh_host_service *s) { return s->stats; }

static bool init_service(wh_host_service *s, const wh_host_service_conf *c,
                         const wh_host_service_src *src)
{
    s->conf = c;
    s->index = src->index;
    s->limits = (wharf_limits){
        .max_memory_bytes = c->limits.max_memory,
        .fuel = c->limits.fuel,
        .timeout_ns = c->limits.timeout_ns,
    };
    s->module = src->module;
    s->module_borrowed = src->module != NULL;
    s->stats = src->stats ? src->stats : &s->own_stats;
    s->refs = 1;
    s->root = s;
    pthread_mutex_init(&s->lock, NULL);
    s->preopens = calloc((size_t)c->ndirs + 1, sizeof *s->preopens);
    if (!s->preopens)
        return false;
    for (int d = 0; d < c->ndirs; d++)
        s->preopens[d] = (wh_wasi_preopen){ c->dirs[d].value, c->dirs[d].key };
    return true;
}

/* A pipeline's stages count in the service's counters, and their pooled
 * instances keep (and retire with) the service they belong to. */
static void adopt_stages(wh_host_service *s)
{
    for (int i = 0; s->stages && i < s->conf->nstages; i++) {
        s->stages[i].root = s;
        s->stages[i].stats = s->stats;
    }
}

wh_host_service *wh_host_service_new(wh_host_app *app, const wh_host_service_conf *c,
                                     const wh_host_service_src *src,
                                     char *why, size_t len)
{
    wh_host_service *s = calloc(1, sizeof *s);
    if (!s || !init_service(s, c, src)) {
        snprintf(why, len, "out of memory");
        wh_host_service_free(s);
        return NULL;
    }
    s->wasm = src->wasm;
    s->wasm_len = src->wasm_len;
    bool ok = c->executor == WH_HOST_EXEC_WAGI
        ? wh_host_wagi_check(app, s, why, len)
        : c->executor == WH_HOST_EXEC_PIPELINE
        ? wh_host_pipeline_load(app, s, why, len)
        : wh_host_function_load(app, s, why, len);
    s->wasm = NULL;     /* borrowed for the call only */
    s->wasm_len = 0;
    if (!ok) {
        wh_host_service_free(s);
        return NULL;
    }
    adopt_stages(s);
    return s;
}

void wh_host_service_free(wh_host_service *s)
{
    if (!s)
        return;
    wh_host_wagi_free(s);
    if (s->module && !s->module_borrowed)
        wharf_module_free(s->module);
    if (s->plugin)
        wharf_compiled_plugin_free(s->plugin);
    wh_host_pipeline_free(s);
    free(s->preopens);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void wh_host_service_ref(wh_host_service *s)
{
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

void wh_host_service_unref(wh_host_service *s)
{
    if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    if (s->release)
        s->release(s);
    else
        wh_host_service_free(s);
}

void wh_host_service_retire(wh_host_service *s)
{
    __atomic_store_n(&s->retired, true, __ATOMIC_RELEASE);
}

/* Linear memories the engine keeps for reuse: a fresh instance per request
 * then costs no mmap/munmap (bench/README.md). Enough for every worker's
 * instances in flight; each kept memory holds at most 1 MiB resident. */
#define MEMORY_POOL 64

wh_host_app *wh_host_app_new(const wh_host_config *cfg, char *err, size_t errlen)
{
    int n = cfg ? cfg->nservices : 0;
    wh_host_app *app = calloc(1, sizeof *app);
    const wharf_config ecfg = { .memory_pool = MEMORY_POOL };
    if (!app || wharf_engine_new(&ecfg, &app->engine) != WHARF_OK ||
        !(app->services = calloc((size_t)n + 1, sizeof *app->services))) {
        snprintf(err, errlen, "out of memory");
        wh_host_app_free(app);
        return NULL;
    }
    app->cfg = cfg;
    for (int i = 0; i < n; i++) {
        const wh_host_service_conf *c = &cfg->services[i];
        char why[400] = "";
        wh_host_service_src src = { .index = i };
        if (!(app->services[i] = wh_host_service_new(app, c, &src, why, sizeof why))) {
            snprintf(err, errlen, "%s:%d: service '%s': %s", cfg->path, c->module_line,
                     c->name, why);
            wh_host_app_free(app);
            return NULL;
        }
        app->nservices = i + 1;
        if (c->executor == WH_HOST_EXEC_WAGI && app->stdout_bytes < c->limits.max_response)
            app->stdout_bytes = c->limits.max_response;
    }
    return app;
}

void wh_host_app_free(wh_host_app *app)
{
    if (!app)
        return;
    for (int i = 0; i < app->nservices; i++)
        wh_host_service_free(app->services[i]);
    free(app->services);
    wharf_engine_free(app->engine);
    free(app);
}
