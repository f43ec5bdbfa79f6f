/* plugin_env.c: the "extism:host/env" imports, Extism's plugin ABI as its
 * kernel (kernel/src/lib.rs) and runtime (runtime/src/pdk.rs) define it:
 * call memory, input, output, error, config, variables, logging and the
 * HTTP status and headers; http_request itself is in plugin_http.c.
 *
 * Every handle a plugin passes is checked here: an access outside the
 * allocated call memory traps with a message naming the import, where
 * Extism's kernel would read or write stray bytes of its own memory. Input
 * reads past the input's end return 0, as in Extism, since PDKs rely on
 * nothing else there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pluginInt.h"

/* Slot access: i64 in a whole slot, i32 in its low half. */
#define ARG(i) (slots[i])
#define RET_I64(v) (slots[0] = (uint64_t)(v))
#define RET_I32(v) (slots[0] = (uint32_t)(v))

static wharf_status bad_handle(wharf_caller *c, const char *what, uint64_t h)
{
    return wharf_caller_trap(c, "invalid handle %llu for %s",
                             (unsigned long long)h, what);
}

static wharf_status out_of_bounds(wharf_caller *c, const char *fn, uint64_t off)
{
    return wharf_caller_trap(c, "%s: offset %llu is outside the call memory",
                             fn, (unsigned long long)off);
}

/* ---- Memory ------------------------------------------------------------ */

static wharf_status env_alloc(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    RET_I64(wh_host_mem_alloc(&p->mem, ARG(0)));
    return WHARF_OK;
}

static wharf_status env_free(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    wh_host_mem_free(&p->mem, ARG(0));
    if (ARG(0) == p->input)
        p->input_len = 0;   /* Extism: the input is gone with its block */
    return WHARF_OK;
}

/* length and length_unsafe: both exact here, since the block table makes
 * the safe lookup cheap; 0 for anything but the start of a live block. */
static wharf_status env_length(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    uint64_t len;
    wharf_plugin_memory(p, ARG(0), &len);
    RET_I64(len);
    return WHARF_OK;
}

static wharf_status env_load_u8(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    if (!wh_host_mem_in(&p->mem, ARG(0), 1))
        return out_of_bounds(c, "load_u8", ARG(0));
    RET_I32(p->mem.data[ARG(0)]);
    return WHARF_OK;
}

static wharf_status env_load_u64(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    uint64_t v;
    if (!wh_host_mem_in(&p->mem, ARG(0), 8))
        return out_of_bounds(c, "load_u64", ARG(0));
    memcpy(&v, p->mem.data + ARG(0), 8);
    RET_I64(v);
    return WHARF_OK;
}

static wharf_status env_store_u8(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    if (!wh_host_mem_in(&p->mem, ARG(0), 1))
        return out_of_bounds(c, "store_u8", ARG(0));
    p->mem.data[ARG(0)] = (uint8_t)ARG(1);
    return WHARF_OK;
}

static wharf_status env_store_u64(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    if (!wh_host_mem_in(&p->mem, ARG(0), 8))
        return out_of_bounds(c, "store_u64", ARG(0));
    memcpy(p->mem.data + ARG(0), &slots[1], 8);
    return WHARF_OK;
}

/* ---- Input, output, error ---------------------------------------------- */

static wharf_status env_input_offset(wharf_caller *c, void *user, wharf_slot *slots)
{
    RET_I64(((wharf_plugin *)user)->input);
    return WHARF_OK;
}

static wharf_status env_input_length(wharf_caller *c, void *user, wharf_slot *slots)
{
    RET_I64(((wharf_plugin *)user)->input_len);
    return WHARF_OK;
}

static wharf_status env_input_load_u8(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    RET_I32(ARG(0) < p->input_len ? p->mem.data[p->input + ARG(0)] : 0);
    return WHARF_OK;
}

static wharf_status env_input_load_u64(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    uint64_t v = 0;
    if (ARG(0) < p->input_len && p->input_len - ARG(0) >= 8)
        memcpy(&v, p->mem.data + p->input + ARG(0), 8);
    RET_I64(v);
    return WHARF_OK;
}

/* The output stays where the plugin put it (no copy); its blocks are
 * pinned so that freeing them, as the Go PDK does right after output_set,
 * cannot let a later allocation overwrite it. */
static wharf_status env_output_set(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    uint64_t off = ARG(0), len = ARG(1);
    if (len && !wh_host_mem_in(&p->mem, off, len))
        return out_of_bounds(c, "output_set", off);
    p->out_off = len ? off : 0;
    p->out_len = len;
    wh_host_mem_pin(&p->mem, off, len);
    return WHARF_OK;
}

/* The message is copied at once: PDKs free its block right after. */
static wharf_status env_error_set(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    uint64_t len;
    const uint8_t *msg = wharf_plugin_memory(p, ARG(0), &len);
    free(p->error);
    p->error = NULL;
    p->error_len = 0;
    if (ARG(0) == 0)
        return WHARF_OK;   /* error_set(0) clears the error */
    if (!msg)
        return bad_handle(c, "error_set", ARG(0));
    if (!(p->error = malloc((size_t)len + 1)))
        return wharf_caller_trap(c, "error_set: out of memory");
    memcpy(p->error, msg, (size_t)len);
    p->error[len] = '\0';
    p->error_len = (size_t)len;
    return WHARF_OK;
}

/* ---- Config and variables ---------------------------------------------- */

static wharf_status env_config_get(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    uint64_t klen;
    const uint8_t *key = wharf_plugin_memory(p, ARG(0), &klen);
    if (!key)
        return bad_handle(c, "config key", ARG(0));
    RET_I64(0);
    for (size_t i = 0; i < p->code->nconfig; i++) {
        const wharf_plugin_kv *kv = &p->code->config[i];
        if (strlen(kv->key) == klen && !memcmp(kv->key, key, (size_t)klen)) {
            RET_I64(wharf_plugin_memory_new(p, kv->value, strlen(kv->value)));
            break;
        }
    }
    return WHARF_OK;
}

static wh_host_var *var_find(wharf_plugin *p, const uint8_t *key, uint64_t len)
{
    for (size_t i = 0; i < p->nvars; i++)
        if (p->vars[i].key_len == len && !memcmp(p->vars[i].key, key, (size_t)len))
            return &p->vars[i];
    return NULL;
}

static wharf_status env_var_get(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    uint64_t klen;
    const uint8_t *key = wharf_plugin_memory(p, ARG(0), &klen);
    if (!key)
        return bad_handle(c, "var key", ARG(0));
    wh_host_var *v = var_find(p, key, klen);
    RET_I64(v ? wharf_plugin_memory_new(p, v->val, v->val_len) : 0);
    return WHARF_OK;
}

static void var_remove(wharf_plugin *p, wh_host_var *v)
{
    p->var_bytes -= v->key_len + v->val_len;
    free(v->key);
    *v = p->vars[--p->nvars];
}

/* Stores key and value in one allocation, replacing an older value. */
static bool var_put(wharf_plugin *p, const uint8_t *key, uint64_t klen,
                    const uint8_t *val, uint64_t vlen)
{
    if (p->nvars == p->capvars) {
        size_t cap = p->capvars ? p->capvars * 2 : 8;
        wh_host_var *vars = realloc(p->vars, cap * sizeof *vars);
        if (!vars)
            return false;
        p->vars = vars;
        p->capvars = cap;
    }
    char *mem = malloc((size_t)(klen + vlen) + 1);
    if (!mem)
        return false;
    memcpy(mem, key, (size_t)klen);
    memcpy(mem + klen, val, (size_t)vlen);
    p->vars[p->nvars++] = (wh_host_var){ mem, (size_t)klen,
                                         (uint8_t *)mem + klen, (size_t)vlen };
    p->var_bytes += klen + vlen;
    return true;
}

/* var_set(key, 0) removes the variable. The store is capped as in Extism
 * (max_var_bytes, 1 MiB by default) and a write past it traps. */
static wharf_status env_var_set(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    uint64_t klen, vlen = 0;
    const uint8_t *key = wharf_plugin_memory(p, ARG(0), &klen), *val = NULL;
    if (!key)
        return bad_handle(c, "var key", ARG(0));
    if (ARG(1) && !(val = wharf_plugin_memory(p, ARG(1), &vlen)))
        return bad_handle(c, "var value", ARG(1));
    wh_host_var *old = var_find(p, key, klen);
    uint64_t old_bytes = old ? old->key_len + old->val_len : 0;
    if (val && p->var_bytes - old_bytes + klen + vlen > p->code->max_var_bytes)
        return wharf_caller_trap(c, "variable store is full (%llu bytes)",
                                 (unsigned long long)p->code->max_var_bytes);
    if (old)
        var_remove(p, old);
    if (val && !var_put(p, key, klen, val, vlen))
        return wharf_caller_trap(c, "var_set: out of memory");
    return WHARF_OK;
}

void wh_host_vars_free(wharf_plugin *p)
{
    for (size_t i = 0; i < p->nvars; i++)
        free(p->vars[i].key);
    free(p->vars);
    p->vars = NULL;
    p->nvars = p->capvars = 0;
    p->var_bytes = 0;
}

/* ---- Logging ----------------------------------------------------------- */

static wharf_status log_at(wharf_caller *c, wharf_plugin *p, wharf_slot *slots,
                           wharf_log_level level)
{
    const wharf_compiled_plugin *code = p->code;
    if (!code->log || level < code->log_level)
        return WHARF_OK;
    uint64_t len;
    const uint8_t *msg = wharf_plugin_memory(p, ARG(0), &len);
    if (!msg)
        return bad_handle(c, "log message", ARG(0));
    code->log(code->log_user, level, (const char *)msg, (size_t)len);
    return WHARF_OK;
}

#define LOG_FN(name, level)                                                 \
    static wharf_status env_log_##name(wharf_caller *c, void *user,         \
                                       wharf_slot *slots)                   \
    {                                                                       \
        return log_at(c, user, slots, level);                               \
    }
LOG_FN(trace, WHARF_LOG_TRACE)
LOG_FN(debug, WHARF_LOG_DEBUG)
LOG_FN(info, WHARF_LOG_INFO)
LOG_FN(warn, WHARF_LOG_WARN)
LOG_FN(error, WHARF_LOG_ERROR)

/* PDKs skip formatting lines below this level. */
static wharf_status env_get_log_level(wharf_caller *c, void *user, wharf_slot *slots)
{
    const wharf_compiled_plugin *code = ((wharf_plugin *)user)->code;
    RET_I32(code->log ? code->log_level : WHARF_LOG_OFF);
    return WHARF_OK;
}

/* ---- HTTP -------------------------------------------------------------- */

static wharf_status env_http_request(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    uint64_t out = 0;
    p->caller = c;   /* plugin_http.c reports its traps through it */
    wharf_status s = wh_host_http_request(p, ARG(0), ARG(1), &out);
    RET_I64(out);
    return s;
}

static wharf_status env_http_status_code(wharf_caller *c, void *user, wharf_slot *slots)
{
    RET_I32(((wharf_plugin *)user)->http_status);
    return WHARF_OK;
}

static wharf_status env_http_headers(wharf_caller *c, void *user, wharf_slot *slots)
{
    wharf_plugin *p = user;
    uint64_t h = 0;
    if (p->http_headers)
        h = wharf_plugin_memory_new(p, p->http_headers, p->http_headers_len);
    RET_I64(h);
    return WHARF_OK;
}

/* ---- The table --------------------------------------------------------- */

/* Signatures as letters: 'I' is i64, 'i' is i32. */
static const struct env_fn {
    const char *name, *params, *results;
    wharf_host_fn fn;
} env_fns[] = {
    { "alloc", "I", "I", env_alloc },
    { "free", "I", "", env_free },
    { "length", "I", "I", env_length },
    { "length_unsafe", "I", "I", env_length },
    { "load_u8", "I", "i", env_load_u8 },
    { "load_u64", "I", "I", env_load_u64 },
    { "store_u8", "Ii", "", env_store_u8 },
    { "store_u64", "II", "", env_store_u64 },
    { "input_offset", "", "I", env_input_offset },
    { "input_length", "", "I", env_input_length },
    { "input_load_u8", "I", "i", env_input_load_u8 },
    { "input_load_u64", "I", "I", env_input_load_u64 },
    { "output_set", "II", "", env_output_set },
    { "error_set", "I", "", env_error_set },
    { "config_get", "I", "I", env_config_get },
    { "var_get", "I", "I", env_var_get },
    { "var_set", "II", "", env_var_set },
    { "http_request", "II", "I", env_http_request },
    { "http_status_code", "", "i", env_http_status_code },
    { "http_headers", "", "I", env_http_headers },
    { "log_trace", "I", "", env_log_trace },
    { "log_debug", "I", "", env_log_debug },
    { "log_info", "I", "", env_log_info },
    { "log_warn", "I", "", env_log_warn },
    { "log_error", "I", "", env_log_error },
    { "get_log_level", "", "i", env_get_log_level },
};

static uint32_t kinds(const char *sig, wharf_valkind *out)
{
    uint32_t n = 0;
    for (; sig[n]; n++)
        out[n] = sig[n] == 'I' ? WHARF_I64 : WHARF_I32;
    return n;
}

/* Runs row `user` of env_fns for the plugin whose instance is calling:
 * the linker is shared by all plugins of a compiled plugin. */
static wharf_status env_dispatch(wharf_caller *c, void *user, wharf_slot *slots)
{
    const struct env_fn *e = user;
    return e->fn(c, wharf_caller_user(c), slots);
}

wharf_status wh_host_env_define(wharf_linker *l)
{
    for (size_t i = 0; i < WH_ARRAY_LEN(env_fns); i++) {
        const struct env_fn *e = &env_fns[i];
        wharf_valkind params[2], results[1];
        uint32_t np = kinds(e->params, params), nr = kinds(e->results, results);
        wharf_status s = wharf_linker_define_func(l, WH_HOST_ENV_MODULE, e->name,
                                                  params, np, results, nr,
                                                  env_dispatch, (void *)e);
        if (s != WHARF_OK)
            return s;
    }
    return WHARF_OK;
}
