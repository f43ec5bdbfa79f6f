/* config.c: loads wharf.yaml (libyaml's document API) into a
 * wh_host_config and checks it. Owns the key tables, which are the single
 * list of accepted keys, their types and defaults (docs/config.md mirrors
 * them). Does no I/O beyond reading the file and stat()ing directories;
 * modules are read later, by the services.
 *
 * Invariant: the first problem found is the one reported, as one line
 * "FILE:LINE: problem", and parsing stops there. */
#define _GNU_SOURCE   /* memmem */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

static const wh_allocator libc_alloc = { wh_libc_alloc, NULL };

/* The state of one load: where we are and the first error. */
typedef struct cfgctx {
    yaml_document_t *doc;
    wh_host_config *cfg;
    const char *dir;            /* directory of the YAML file, for paths */
    char *err;
    size_t errlen;
    bool failed;
} cfgctx;

static int line_of(const yaml_node_t *n)
{
    return n ? (int)n->start_mark.line + 1 : 0;
}

/* Records the first error, at 1-based `line`; always returns false. */
static bool vfail_line(cfgctx *cx, int line, const char *fmt, va_list ap)
{
    if (cx->failed)
        return false;
    cx->failed = true;
    int k = snprintf(cx->err, cx->errlen, "%s:%d: ", cx->cfg->path, line);
    if (k >= 0 && (size_t)k < cx->errlen)
        vsnprintf(cx->err + k, cx->errlen - (size_t)k, fmt, ap);
    return false;
}

__attribute__((format(printf, 3, 4)))
static bool fail_line(cfgctx *cx, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_line(cx, line, fmt, ap);
    va_end(ap);
    return false;
}

/* Records the first error, at node `n`; always returns false. */
__attribute__((format(printf, 3, 4)))
static bool fail(cfgctx *cx, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail_line(cx, line_of(n), fmt, ap);
    va_end(ap);
    return false;
}

static yaml_node_t *node(cfgctx *cx, int index)
{
    return yaml_document_get_node(cx->doc, index);
}

static char *arena_strndup(cfgctx *cx, const char *s, size_t n)
{
    char *p = wh_arena_alloc(&cx->cfg->arena, n + 1);
    if (p)
        memcpy(p, s, n);
    return p;
}

/* The node as a NUL-terminated string in the arena, or NULL (reported). */
static const char *scalar(cfgctx *cx, const yaml_node_t *n, const char *what)
{
    if (n->type != YAML_SCALAR_NODE)
        return fail(cx, n, "%s: expected a single value, not a %s", what,
                    n->type == YAML_MAPPING_NODE ? "mapping" : "list"), NULL;
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    bool plain = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (plain && (len == 0 || (len == 1 && v[0] == '~') || !strcmp(v, "null")))
        return fail(cx, n, "%s: missing value", what), NULL;
    if (memchr(v, '\0', len))
        return fail(cx, n, "%s: value contains a NUL byte", what), NULL;
    char *s = arena_strndup(cx, v, len);
    if (!s)
        fail(cx, n, "out of memory");
    return s;
}

/* ---- Value syntax -------------------------------------------------------- */

struct unit { const char *suffix; uint64_t scale; };

/* Digits then one of `units`; the product must fit in 64 bits. */
static bool parse_scaled(const char *s, const struct unit *units, size_t n,
                         uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (p == s)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(p, units[i].suffix) != 0)
            continue;
        if (v > UINT64_MAX / units[i].scale)
            return false;
        *out = v * units[i].scale;
        return true;
    }
    return false;
}

bool wh_host_parse_u64(const char *s, uint64_t *out)
{
    static const struct unit none[] = { { "", 1 } };
    return parse_scaled(s, none, 1, out);
}

bool wh_host_parse_size(const char *s, uint64_t *bytes)
{
    static const struct unit units[] = {
        { "", 1 }, { "B", 1 }, { "KiB", 1ull << 10 }, { "MiB", 1ull << 20 },
        { "GiB", 1ull << 30 }, { "KB", 1000 }, { "MB", 1000000 },
        { "GB", 1000000000 },
    };
    return parse_scaled(s, units, WH_ARRAY_LEN(units), bytes);
}

bool wh_host_parse_duration(const char *s, uint64_t *ns)
{
    static const struct unit units[] = {
        { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
        { "", 1000000000 }, { "m", 60000000000ull }, { "h", 3600000000000ull },
    };
    return parse_scaled(s, units, WH_ARRAY_LEN(units), ns);
}

bool wh_host_parse_listen(const char *s, char *host, size_t hostlen,
                          uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return false;
    const char *h = s, *hend = colon;
    if (*h == '[') {            /* [v6addr]:port */
        if (hend[-1] != ']')
            return false;
        h++, hend--;
    }
    uint64_t p;
    if (hend <= h || (size_t)(hend - h) >= hostlen ||
        !wh_host_parse_u64(colon + 1, &p) || p > 65535)
        return false;
    memcpy(host, h, (size_t)(hend - h));
    host[hend - h] = '\0';
    *port = (uint16_t)p;
    return true;
}

/* ---- Key tables ------------------------------------------------------------ */

typedef bool (*key_fn)(cfgctx *cx, const yaml_node_t *v, void *obj);

enum kind { K_STR, K_PATH, K_SIZE, K_DURATION, K_U32, K_U64, K_FN };

typedef struct key_spec {
    const char *name;
    enum kind kind;
    size_t off;                 /* where the value goes in the object */
    key_fn fn;                  /* K_FN only */
} key_spec;

/* `p` as written when absolute, else joined to the YAML file's directory. */
static const char *resolve_path(cfgctx *cx, const char *p)
{
    if (p[0] == '/' || !strcmp(cx->dir, "."))
        return p;
    size_t n = strlen(cx->dir) + strlen(p) + 2;
    char *out = wh_arena_alloc(&cx->cfg->arena, n);
    if (out)
        snprintf(out, n, "%s/%s", cx->dir, p);
    return out;
}

static bool set_number(cfgctx *cx, const yaml_node_t *v, const key_spec *k,
                       const char *s, void *dst)
{
    uint64_t x;
    bool ok = k->kind == K_SIZE ? wh_host_parse_size(s, &x)
            : k->kind == K_DURATION ? wh_host_parse_duration(s, &x)
            : wh_host_parse_u64(s, &x);
    if (!ok)
        return fail(cx, v, "%s: expected %s, got '%s'", k->name,
                    k->kind == K_SIZE ? "a size like 64MiB"
                    : k->kind == K_DURATION ? "a duration like 500ms or 2s"
                    : "a whole number", s);
    if (k->kind == K_U32) {
        if (x > UINT32_MAX)
            return fail(cx, v, "%s: %s is too large", k->name, s);
        *(uint32_t *)dst = (uint32_t)x;
    } else {
        *(uint64_t *)dst = x;
    }
    return true;
}

static bool apply_key(cfgctx *cx, const key_spec *k, const yaml_node_t *v,
                      void *obj)
{
    void *dst = (char *)obj + k->off;
    if (k->kind == K_FN)
        return k->fn(cx, v, obj);
    const char *s = scalar(cx, v, k->name);
    if (!s)
        return false;
    if (k->kind == K_STR || k->kind == K_PATH) {
        const char *val = k->kind == K_PATH ? resolve_path(cx, s) : s;
        if (!val)
            return fail(cx, v, "out of memory");
        *(const char **)dst = val;
        return true;
    }
    return set_number(cx, v, k, s, dst);
}

static void list_keys(const key_spec *keys, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        int k = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", keys[i].name);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

/* True when key `i` of mapping `m` repeats an earlier key. */
static bool repeated_key(cfgctx *cx, const yaml_node_t *m, const yaml_node_pair_t *p)
{
    const yaml_node_t *k = node(cx, p->key);
    for (const yaml_node_pair_t *q = m->data.mapping.pairs.start; q < p; q++) {
        const yaml_node_t *o = node(cx, q->key);
        if (o->type == YAML_SCALAR_NODE && o->data.scalar.length == k->data.scalar.length &&
            !memcmp(o->data.scalar.value, k->data.scalar.value, k->data.scalar.length))
            return true;
    }
    return false;
}

static bool expect_mapping(cfgctx *cx, const yaml_node_t *n, const char *what)
{
    if (n->type == YAML_MAPPING_NODE)
        return true;
    return fail(cx, n, "%s: expected a mapping of keys to values", what);
}

/* Applies every key of mapping `m` through `keys`; `what` names the
 * mapping in messages. Unknown and repeated keys are errors. */
static bool apply_mapping(cfgctx *cx, const yaml_node_t *m, const char *what,
                          const key_spec *keys, size_t nkeys, void *obj)
{
    if (!expect_mapping(cx, m, what))
        return false;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
         p < m->data.mapping.pairs.top; p++) {
        const yaml_node_t *k = node(cx, p->key), *v = node(cx, p->value);
        if (k->type != YAML_SCALAR_NODE)
            return fail(cx, k, "%s: keys must be plain names", what);
        const char *name = (const char *)k->data.scalar.value;
        if (repeated_key(cx, m, p))
            return fail(cx, k, "%s: key '%s' given twice", what, name);
        size_t i = 0;
        while (i < nkeys && strcmp(keys[i].name, name) != 0)
            i++;
        if (i == nkeys) {
            char known[256];
            list_keys(keys, nkeys, known, sizeof known);
            return fail(cx, k, "%s: unknown key '%s' (expected one of: %s)",
                        what, name, known);
        }
        if (!apply_key(cx, &keys[i], v, obj))
            return false;
    }
    return true;
}

/* ---- Maps of names to values (environment, config, dirs) ----------------- */

/* Reads a mapping of scalar keys to scalar values into (*out, *n). */
static bool read_kvs(cfgctx *cx, const yaml_node_t *m, const char *what,
                     wh_host_kv **out, int *n)
{
    if (!expect_mapping(cx, m, what))
        return false;
    size_t count = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
    wh_host_kv *kv = wh_arena_alloc(&cx->cfg->arena, (count ? count : 1) * sizeof *kv);
    if (!kv)
        return fail(cx, m, "out of memory");
    for (size_t i = 0; i < count; i++) {
        const yaml_node_pair_t *p = &m->data.mapping.pairs.start[i];
        const yaml_node_t *k = node(cx, p->key);
        if (!(kv[i].key = scalar(cx, k, what)) ||
            !(kv[i].value = scalar(cx, node(cx, p->value), kv[i].key)))
            return false;
        if (repeated_key(cx, m, p))
            return fail(cx, k, "%s: '%s' given twice", what, kv[i].key);
    }
    *out = kv;
    *n = (int)count;
    return true;
}

static bool key_environment(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_service_conf *s = obj;
    if (!read_kvs(cx, v, "environment", &s->env, &s->nenv))
        return false;
    for (int i = 0; i < s->nenv; i++)
        if (!s->env[i].key[0] || strchr(s->env[i].key, '='))
            return fail(cx, v, "environment: '%s' is not a variable name", s->env[i].key);
    return true;
}

static bool key_config(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_service_conf *s = obj;
    return read_kvs(cx, v, "config", &s->vars, &s->nvars);
}

static bool key_dirs(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_service_conf *s = obj;
    if (!read_kvs(cx, v, "dirs", &s->dirs, &s->ndirs))
        return false;
    for (int i = 0; i < s->ndirs; i++) {
        struct stat st;
        const char *host = resolve_path(cx, s->dirs[i].value);
        if (!host)
            return fail(cx, v, "out of memory");
        if (stat(host, &st) != 0)
            return fail(cx, v, "dirs: '%s': %s", host, strerror(errno));
        if (!S_ISDIR(st.st_mode))
            return fail(cx, v, "dirs: '%s' is not a directory", host);
        s->dirs[i].value = host;
    }
    return true;
}

/* ---- Services ---------------------------------------------------------------- */

static bool key_executor(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_service_conf *s = obj;
    const char *e = scalar(cx, v, "executor");
    if (!e)
        return false;
    if (!strcmp(e, "wagi"))
        s->executor = WH_HOST_EXEC_WAGI;
    else if (!strcmp(e, "function"))
        s->executor = WH_HOST_EXEC_FUNCTION;
    else
        return fail(cx, v, "executor: expected 'wagi' or 'function', got '%s'", e);
    return true;
}

static bool key_module(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_service_conf *s = obj;
    const char *m = scalar(cx, v, "module");
    if (!m)
        return false;
    if (!(s->module = resolve_path(cx, m)))
        return fail(cx, v, "out of memory");
    s->module_line = line_of(v);
    return true;
}

/* Checks one route's syntax and fills `r` from its text. */
static bool parse_route(cfgctx *cx, const yaml_node_t *v, wh_host_route *r)
{
    const char *t = scalar(cx, v, "routes");
    if (!t)
        return false;
    size_t n = strlen(t);
    if (t[0] != '/')
        return fail(cx, v, "route '%s' must start with '/'", t);
    if (strpbrk(t, "?# \t"))
        return fail(cx, v, "route '%s' may not contain '?', '#' or spaces", t);
    r->text = t;
    r->line = line_of(v);
    r->wildcard = n >= 4 && !strcmp(t + n - 4, "/...");
    r->prefix_len = r->wildcard ? n - 4 : n;
    if (memmem(t, r->prefix_len, "...", 3))
        return fail(cx, v, "route '%s': '...' may only end a route, as '/...'", t);
    r->prefix = arena_strndup(cx, t, r->prefix_len);
    return r->prefix ? true : fail(cx, v, "out of memory");
}

static bool key_routes(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_service_conf *s = obj;
    const yaml_node_item_t *items = NULL;
    size_t n = 1;
    if (v->type == YAML_SEQUENCE_NODE) {
        items = v->data.sequence.items.start;
        n = (size_t)(v->data.sequence.items.top - items);
    }
    if (n == 0)
        return fail(cx, v, "routes: expected at least one route");
    if (!(s->routes = wh_arena_alloc(&cx->cfg->arena, n * sizeof *s->routes)))
        return fail(cx, v, "out of memory");
    s->nroutes = (int)n;
    for (size_t i = 0; i < n; i++)
        if (!parse_route(cx, items ? node(cx, items[i]) : v, &s->routes[i]))
            return false;
    return true;
}

static const key_spec limit_keys[] = {
    { "max_memory", K_SIZE, offsetof(wh_host_limits, max_memory), NULL },
    { "fuel", K_U64, offsetof(wh_host_limits, fuel), NULL },
    { "timeout", K_DURATION, offsetof(wh_host_limits, timeout_ns), NULL },
    { "max_concurrent", K_U32, offsetof(wh_host_limits, max_concurrent), NULL },
    { "queue", K_U32, offsetof(wh_host_limits, queue), NULL },
    { "queue_timeout", K_DURATION, offsetof(wh_host_limits, queue_timeout_ns), NULL },
    { "max_body", K_SIZE, offsetof(wh_host_limits, max_body), NULL },
    { "max_response", K_SIZE, offsetof(wh_host_limits, max_response), NULL },
};

static bool key_limits(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_service_conf *s = obj;
    if (!apply_mapping(cx, v, "limits", limit_keys, WH_ARRAY_LEN(limit_keys), &s->limits))
        return false;
    if (s->limits.max_memory < 65536)
        return fail(cx, v, "limits: max_memory must be at least one page (64KiB)");
    if (s->limits.max_response == 0)
        return fail(cx, v, "limits: max_response must be positive");
    return true;
}

static const key_spec reuse_keys[] = {
    { "reuse", K_U32, offsetof(wh_host_service_conf, reuse), NULL },
};

static bool key_instances(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_service_conf *s = obj;
    if (v->type == YAML_SCALAR_NODE) {
        const char *p = scalar(cx, v, "instances");
        if (p && strcmp(p, "fresh") != 0)
            return fail(cx, v, "instances: expected 'fresh' or a mapping "
                        "'reuse: N', got '%s'", p);
        s->reuse = 0;
        return p != NULL;
    }
    if (!apply_mapping(cx, v, "instances", reuse_keys, WH_ARRAY_LEN(reuse_keys), s))
        return false;
    if (s->reuse == 0)
        return fail(cx, v, "instances: reuse must be at least 1 request");
    return true;
}

/* ---- Pipelines (docs/config.md; run by pipeline.c) ------------------------ */

static bool valid_name(const char *s);

static bool key_stream(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_stage_conf *st = obj;
    const char *m = scalar(cx, v, "stream");
    if (!m)
        return false;
    if (!strcmp(m, "lines"))
        st->stream = WH_HOST_STREAM_LINES;
    else if (!strcmp(m, "bytes"))
        st->stream = WH_HOST_STREAM_BYTES;
    else
        return fail(cx, v, "stream: expected 'lines' or 'bytes', got '%s'", m);
    return true;
}

/* A stage's limits hold per call; max_output caps all of its output. */
static const key_spec stage_limit_keys[] = {
    { "max_memory", K_SIZE, offsetof(wh_host_limits, max_memory), NULL },
    { "fuel", K_U64, offsetof(wh_host_limits, fuel), NULL },
    { "timeout", K_DURATION, offsetof(wh_host_limits, timeout_ns), NULL },
    { "max_output", K_SIZE, offsetof(wh_host_limits, max_response), NULL },
};

static bool key_stage_limits(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_stage_conf *st = obj;
    if (!apply_mapping(cx, v, "limits", stage_limit_keys,
                       WH_ARRAY_LEN(stage_limit_keys), &st->fn.limits))
        return false;
    if (st->fn.limits.max_memory < 65536)
        return fail(cx, v, "limits: max_memory must be at least one page (64KiB)");
    return true;
}

/* `fn` comes first in a stage, so the service's key functions (which take
 * a wh_host_service_conf) fill in a stage's module, config and dirs. */
static const key_spec stage_keys[] = {
    { "name", K_STR, offsetof(wh_host_stage_conf, stage), NULL },
    { "module", K_FN, 0, key_module },
    { "function", K_STR, offsetof(wh_host_stage_conf, fn.function), NULL },
    { "config", K_FN, 0, key_config },
    { "dirs", K_FN, 0, key_dirs },
    { "limits", K_FN, 0, key_stage_limits },
    { "stream", K_FN, 0, key_stream },
    { "chunk", K_SIZE, offsetof(wh_host_stage_conf, chunk), NULL },
    { "error_status", K_U32, offsetof(wh_host_stage_conf, error_status), NULL },
};

static void stage_defaults(wh_host_stage_conf *st, int line)
{
    /* max_response stays 0 here: check_pipeline gives it the service's. */
    st->fn.executor = WH_HOST_EXEC_FUNCTION;
    st->fn.limits.max_memory = WH_HOST_DEFAULT_MAX_MEMORY;
    st->fn.limits.timeout_ns = WH_HOST_DEFAULT_TIMEOUT_NS;
    st->fn.line = st->line = line;
    st->error_status = WH_HOST_DEFAULT_ERROR_STATUS;
}

/* Defaults and rules of stage k of service s, once its keys are read. */
static bool check_stage(cfgctx *cx, const yaml_node_t *v, wh_host_service_conf *s, int k)
{
    wh_host_stage_conf *st = &s->stages[k];
    if (!st->fn.module)
        return fail(cx, v, "pipeline stage %d: missing 'module'", k + 1);
    if (!st->fn.function)
        st->fn.function = WH_HOST_DEFAULT_FUNCTION;
    if (!st->stage)
        st->stage = st->fn.function;
    if (!valid_name(st->stage))
        return fail(cx, v, "stage name '%s': use letters, digits, '-', '_' and '.'",
                    st->stage);
    for (int j = 0; j < k; j++)
        if (!strcmp(s->stages[j].stage, st->stage))
            return fail(cx, v, "pipeline: two stages named '%s' (set 'name:')", st->stage);
    if (st->chunk && !st->stream)
        return fail(cx, v, "stage '%s': 'chunk' needs 'stream'", st->stage);
    if (st->stream && !st->chunk)
        st->chunk = WH_HOST_DEFAULT_CHUNK;
    if (st->chunk >= st->fn.limits.max_memory)
        return fail(cx, v, "stage '%s': chunk must be smaller than limits.max_memory",
                    st->stage);
    if (st->error_status < 400 || st->error_status > 599)
        return fail(cx, v, "stage '%s': error_status must be 400 to 599", st->stage);
    size_t n = strlen(s->name) + strlen(st->stage) + 2;
    char *name = wh_arena_alloc(&cx->cfg->arena, n);
    if (!name)
        return fail(cx, v, "out of memory");
    snprintf(name, n, "%s/%s", s->name, st->stage);
    st->fn.name = name;
    return true;
}

static bool key_pipeline(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_service_conf *s = obj;
    if (v->type != YAML_SEQUENCE_NODE ||
        v->data.sequence.items.top == v->data.sequence.items.start)
        return fail(cx, v, "pipeline: expected a list of stages");
    const yaml_node_item_t *items = v->data.sequence.items.start;
    size_t n = (size_t)(v->data.sequence.items.top - items);
    if (!(s->stages = wh_arena_alloc(&cx->cfg->arena, n * sizeof *s->stages)))
        return fail(cx, v, "out of memory");
    s->nstages = (int)n;
    s->module_line = line_of(v);
    for (size_t i = 0; i < n; i++) {
        const yaml_node_t *item = node(cx, items[i]);
        char what[48];
        snprintf(what, sizeof what, "pipeline stage %zu", i + 1);
        stage_defaults(&s->stages[i], line_of(item));
        if (!apply_mapping(cx, item, what, stage_keys, WH_ARRAY_LEN(stage_keys),
                           &s->stages[i]) ||
            !check_stage(cx, item, s, (int)i))
            return false;
    }
    return true;
}

/* The key of `s` that a pipeline service may not have, or NULL. */
static const char *misplaced_key(const wh_host_service_conf *s)
{
    return s->module ? "module" : s->function ? "function" : s->nvars ? "config"
         : s->ndirs ? "dirs" : s->nenv ? "environment" : s->reuse ? "instances"
         : s->executor != WH_HOST_EXEC_WAGI ? "executor" : NULL;
}

/* Cross-key rules of a pipeline service, after the common ones. */
static bool check_pipeline(cfgctx *cx, const yaml_node_t *v, wh_host_service_conf *s)
{
    const char *bad = misplaced_key(s);
    if (!s->nstages)
        return fail(cx, v, "service '%s': 'content_type' needs 'pipeline'", s->name);
    if (bad)
        return fail(cx, v, "service '%s': '%s' does not go with 'pipeline' (each "
                    "stage has its own module, function, config, dirs and limits)",
                    s->name, bad);
    if (s->limits.max_memory != WH_HOST_DEFAULT_MAX_MEMORY || s->limits.fuel)
        return fail(cx, v, "service '%s': a pipeline's max_memory and fuel are set "
                    "per stage", s->name);
    s->executor = WH_HOST_EXEC_PIPELINE;
    if (!s->content_type)
        s->content_type = WH_HOST_DEFAULT_CONTENT_TYPE;
    for (int i = 0; i < s->nstages; i++)
        if (!s->stages[i].fn.limits.max_response)
            s->stages[i].fn.limits.max_response = s->limits.max_response;
    return true;
}

static const key_spec service_keys[] = {
    { "module", K_FN, 0, key_module },
    { "executor", K_FN, 0, key_executor },
    { "function", K_STR, offsetof(wh_host_service_conf, function), NULL },
    { "routes", K_FN, 0, key_routes },
    { "environment", K_FN, 0, key_environment },
    { "config", K_FN, 0, key_config },
    { "dirs", K_FN, 0, key_dirs },
    { "limits", K_FN, 0, key_limits },
    { "instances", K_FN, 0, key_instances },
    { "pipeline", K_FN, 0, key_pipeline },
    { "content_type", K_STR, offsetof(wh_host_service_conf, content_type), NULL },
};

static void service_defaults(wh_host_service_conf *s)
{
    s->executor = WH_HOST_EXEC_WAGI;
    s->limits = (wh_host_limits){
        .max_memory = WH_HOST_DEFAULT_MAX_MEMORY,
        .timeout_ns = WH_HOST_DEFAULT_TIMEOUT_NS,
        .queue = WH_HOST_DEFAULT_QUEUE,
        .queue_timeout_ns = WH_HOST_DEFAULT_QUEUE_TIMEOUT_NS,
        .max_body = WH_HOST_DEFAULT_MAX_BODY,
        .max_response = WH_HOST_DEFAULT_MAX_RESPONSE,
    };
}

/* Cross-key rules of one service, checked once all its keys are read. */
static bool check_service(cfgctx *cx, const yaml_node_t *v, wh_host_service_conf *s)
{
    if (!s->module && !s->nstages)
        return fail(cx, v, "service '%s': missing 'module'", s->name);
    if (!s->nroutes)
        return fail(cx, v, "service '%s': missing 'routes'", s->name);
    if (s->nstages || s->content_type)
        return check_pipeline(cx, v, s);
    if (s->executor == WH_HOST_EXEC_FUNCTION) {
        if (!s->function)
            s->function = WH_HOST_DEFAULT_FUNCTION;
        if (s->nenv)
            return fail(cx, v, "service '%s': 'environment' needs 'executor: wagi' "
                        "(function guests read 'config')", s->name);
        return true;
    }
    if (s->function)
        return fail(cx, v, "service '%s': 'function' needs 'executor: function' "
                    "(a WAGI guest runs _start)", s->name);
    if (s->nvars)
        return fail(cx, v, "service '%s': 'config' needs 'executor: function' "
                    "(WAGI guests read 'environment')", s->name);
    if (s->reuse)
        return fail(cx, v, "service '%s': 'instances: reuse' needs 'executor: "
                    "function' (a WAGI guest is a command that runs once)", s->name);
    return true;
}

static bool valid_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
            return false;
    return true;
}

/* The earlier route with the same text as `r`, or NULL. */
static const wh_host_route *find_clash(const wh_host_config *c, int upto,
                                       const wh_host_route *r,
                                       const char **owner)
{
    for (int i = 0; i <= upto && i < c->nservices; i++) {
        const wh_host_service_conf *s = &c->services[i];
        for (int j = 0; j < s->nroutes && &s->routes[j] != r; j++) {
            if (!strcmp(s->routes[j].text, r->text)) {
                *owner = s->name;
                return &s->routes[j];
            }
        }
    }
    return NULL;
}

static bool check_routes(cfgctx *cx, int upto)
{
    const wh_host_service_conf *s = &cx->cfg->services[upto];
    for (int j = 0; j < s->nroutes; j++) {
        const char *owner;
        const wh_host_route *o = find_clash(cx->cfg, upto, &s->routes[j], &owner);
        if (o)
            return fail_line(cx, s->routes[j].line, "route '%s' of service '%s' is "
                             "already served by service '%s' (line %d)",
                             s->routes[j].text, s->name, owner, o->line);
    }
    return true;
}

static bool read_service(cfgctx *cx, const yaml_node_pair_t *p, int i)
{
    wh_host_service_conf *s = &cx->cfg->services[i];
    const yaml_node_t *k = node(cx, p->key), *v = node(cx, p->value);
    if (!(s->name = scalar(cx, k, "services")))
        return false;
    if (!valid_name(s->name))
        return fail(cx, k, "service name '%s': use letters, digits, '-', '_' "
                    "and '.'", s->name);
    s->line = line_of(k);
    service_defaults(s);
    char what[96];
    snprintf(what, sizeof what, "service '%s'", s->name);
    return apply_mapping(cx, v, what, service_keys, WH_ARRAY_LEN(service_keys), s) &&
           check_service(cx, k, s) && check_routes(cx, i);
}

static bool key_services(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_config *c = obj;
    if (!expect_mapping(cx, v, "services"))
        return false;
    const yaml_node_pair_t *start = v->data.mapping.pairs.start;
    size_t n = (size_t)(v->data.mapping.pairs.top - start);
    if (n == 0)
        return fail(cx, v, "services: expected at least one service");
    if (!(c->services = wh_arena_alloc(&c->arena, n * sizeof *c->services)))
        return fail(cx, v, "out of memory");
    c->nservices = (int)n;
    for (size_t i = 0; i < n; i++) {
        if (repeated_key(cx, v, &start[i]))
            return fail(cx, node(cx, start[i].key), "service '%s' defined twice",
                        node(cx, start[i].key)->data.scalar.value);
        if (!read_service(cx, &start[i], (int)i))
            return false;
    }
    return true;
}

/* ---- Server section --------------------------------------------------------- */

static bool key_workers(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_server_conf *s = obj;
    const char *t = scalar(cx, v, "workers");
    uint64_t n;
    if (!t)
        return false;
    if (!wh_host_parse_u64(t, &n) || n > 1024)
        return fail(cx, v, "workers: expected 0 (one per core) to 1024, got '%s'", t);
    s->workers = (int)n;
    return true;
}

static bool key_listen(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_server_conf *s = obj;
    char host[256];
    uint16_t port;
    if (!(s->listen = scalar(cx, v, "listen")))
        return false;
    if (!wh_host_parse_listen(s->listen, host, sizeof host, &port))
        return fail(cx, v, "listen: expected ADDR:PORT like 127.0.0.1:8080, got '%s'",
                    s->listen);
    return true;
}

static const key_spec tls_keys[] = {
    { "cert", K_PATH, offsetof(wh_host_server_conf, tls_cert), NULL },
    { "key", K_PATH, offsetof(wh_host_server_conf, tls_key), NULL },
};

static bool key_tls(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_server_conf *s = obj;
    if (!apply_mapping(cx, v, "tls", tls_keys, WH_ARRAY_LEN(tls_keys), s))
        return false;
    if (!s->tls_cert != !s->tls_key)
        return fail(cx, v, "tls: give both 'cert' and 'key'");
    return true;
}

static const key_spec server_keys[] = {
    { "listen", K_FN, 0, key_listen },
    { "workers", K_FN, 0, key_workers },
    { "tls", K_FN, 0, key_tls },
    { "request_timeout", K_DURATION, offsetof(wh_host_server_conf, request_timeout_ns), NULL },
    { "idle_timeout", K_DURATION, offsetof(wh_host_server_conf, idle_timeout_ns), NULL },
    { "max_header_bytes", K_SIZE, offsetof(wh_host_server_conf, max_header_bytes), NULL },
    { "health", K_STR, offsetof(wh_host_server_conf, health), NULL },
};

static bool key_server(cfgctx *cx, const yaml_node_t *v, void *obj)
{
    wh_host_config *c = obj;
    if (!apply_mapping(cx, v, "server", server_keys, WH_ARRAY_LEN(server_keys), &c->server))
        return false;
    if (!c->server.request_timeout_ns || !c->server.idle_timeout_ns)
        return fail(cx, v, "server: timeouts must be positive");
    if (c->server.health && c->server.health[0] != '/')
        return fail(cx, v, "server: health must be a path starting with '/'");
    return true;
}

static const key_spec top_keys[] = {
    { "server", K_FN, 0, key_server },
    { "services", K_FN, 0, key_services },
};

/* ---- Loading ----------------------------------------------------------------- */

static bool load_document(cfgctx *cx, const yaml_node_t *root)
{
    if (!root)
        return fail_line(cx, 1, "the file is empty (expected 'services:')");
    if (!apply_mapping(cx, root, "the top level", top_keys, WH_ARRAY_LEN(top_keys), cx->cfg))
        return false;
    if (!cx->cfg->nservices)
        return fail(cx, root, "missing 'services:' (at least one service)");
    return true;
}

static void yaml_error(cfgctx *cx, const yaml_parser_t *p)
{
    fail_line(cx, (int)p->problem_mark.line + 1, "YAML syntax error: %s%s%s",
              p->problem ? p->problem : "unreadable",
              p->context ? " " : "", p->context ? p->context : "");
}

/* The directory part of `path`: "." when it has none. */
static char *dir_of(wh_arena *a, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *d = !slash ? "." : slash == path ? "/" : path;
    size_t n = !slash || slash == path ? 1 : (size_t)(slash - path);
    char *out = wh_arena_alloc(a, n + 1);
    if (out)
        memcpy(out, d, n);
    return out;
}

static void config_defaults(wh_host_config *c)
{
    c->server.request_timeout_ns = WH_HOST_DEFAULT_REQUEST_TIMEOUT_NS;
    c->server.idle_timeout_ns = WH_HOST_DEFAULT_IDLE_TIMEOUT_NS;
    c->server.max_header_bytes = WH_HOST_DEFAULT_MAX_HEADER_BYTES;
}

wh_host_config *wh_host_config_parse(const char *path, const char *text,
                                     size_t len, char *err, size_t errlen)
{
    wh_host_config *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    wh_arena_init(&c->arena, &libc_alloc);
    config_defaults(c);
    yaml_parser_t parser;
    yaml_document_t doc;
    cfgctx cx = { .doc = &doc, .cfg = c, .err = err, .errlen = errlen };
    c->path = arena_strndup(&cx, path, strlen(path));
    cx.dir = dir_of(&c->arena, path);
    bool ok = c->path && cx.dir && yaml_parser_initialize(&parser);
    if (!ok) {
        snprintf(err, errlen, "%s: out of memory", path);
        wh_host_config_free(c);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        yaml_error(&cx, &parser);
    } else {
        ok = load_document(&cx, yaml_document_get_root_node(&doc));
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    if (cx.failed || !ok) {
        wh_host_config_free(c);
        return NULL;
    }
    return c;
}

wh_host_config *wh_host_config_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    char buf[8192];
    size_t n;
    while (mem && (n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, mem);
    bool bad = ferror(f) || !mem;
    fclose(f);
    if (mem)
        fclose(mem);
    wh_host_config *c = NULL;
    if (bad)
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    else
        c = wh_host_config_parse(path, text, len, err, errlen);
    free(text);
    return c;
}

void wh_host_config_free(wh_host_config *c)
{
    if (!c)
        return;
    wh_arena_free_all(&c->arena);
    free(c);
}
