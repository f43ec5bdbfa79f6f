/* plugin.c: compiled plugins (a module plus a copy of its manifest, and
 * its imports linked once), plugins (one instance each, with its WASI
 * state, call memory and variables), the call path, cancel handles, and
 * the call memory API for host functions. The imports themselves are in
 * plugin_env.c.
 *
 * Invariant: p->inst is either NULL or a usable instance whose user
 * pointer is p (how the shared imports find their plugin). A call that
 * traps or exits drops the instance, and the next call builds a new one
 * (variables, WASI state and call memory buffers survive). The cancel
 * handle's lock guards only that swap, so the call path takes no lock.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pluginInt.h"

#define DEFAULT_VAR_BYTES ((uint64_t)1 << 20)
#define DEFAULT_HTTP_BYTES ((uint64_t)50 << 20)
#define PAGE_BYTES ((uint64_t)65536)
#define MAX_BYTES (PAGE_BYTES * 65536)

static wharf_status vset_error(wharf_error *err, wharf_status s, const char *fmt,
                               va_list ap)
{
    if (!err)
        return s;
    err->status = s;
    err->trap = WHARF_TRAP_NONE;
    err->offset = WHARF_NO_OFFSET;
    err->func_index = WHARF_NO_FUNC;
    err->exit_code = 0;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    return s;
}

static wharf_status set_error(wharf_error *err, wharf_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static wharf_status set_error(wharf_error *err, wharf_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset_error(err, s, fmt, ap);
    va_end(ap);
    return s;
}

/* ---- Compiled plugins -------------------------------------------------- */

static char *arena_str(wh_arena *a, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = wh_arena_alloc(a, n);
    return d ? memcpy(d, s, n) : NULL;
}

/* Copies `n` items of `size` bytes (NULL for none). */
static void *arena_copy(wh_arena *a, const void *src, size_t n, size_t size,
                        bool *ok)
{
    if (!n)
        return NULL;
    void *d = wh_arena_alloc(a, n * size);
    *ok = *ok && d;
    return d ? memcpy(d, src, n * size) : NULL;
}

/* The manifest's strings and arrays, deep-copied into the arena; the
 * arrays were copied shallowly first, so each loop re-points one field. */
static bool copy_lists(wharf_compiled_plugin *c, const wharf_manifest *m)
{
    wh_arena *a = &c->arena;
    bool ok = true;
    c->hosts = arena_copy(a, m->allowed_hosts, m->nallowed_hosts, sizeof(char *), &ok);
    c->paths = arena_copy(a, m->allowed_paths, m->nallowed_paths, sizeof *c->paths, &ok);
    c->config = arena_copy(a, m->config, m->nconfig, sizeof *c->config, &ok);
    c->funcs = arena_copy(a, m->funcs, m->nfuncs, sizeof *c->funcs, &ok);
    if (!ok)
        return false;
    c->nhosts = m->nallowed_hosts;
    c->npaths = m->nallowed_paths;
    c->nconfig = m->nconfig;
    c->nfuncs = m->nfuncs;
    for (size_t i = 0; ok && i < c->nhosts; i++)
        ok = (c->hosts[i] = arena_str(a, c->hosts[i])) != NULL;
    for (size_t i = 0; ok && i < c->npaths; i++) {
        wh_wasi_preopen *d = &c->paths[i];
        const char *guest = d->guest_path ? d->guest_path : d->host_path;
        ok = (d->host_path = arena_str(a, d->host_path)) &&
             (d->guest_path = arena_str(a, guest));
    }
    for (size_t i = 0; ok && i < c->nconfig; i++)
        ok = (c->config[i].key = arena_str(a, c->config[i].key)) &&
             (c->config[i].value = arena_str(a, c->config[i].value));
    return ok;
}

static bool copy_funcs(wharf_compiled_plugin *c)
{
    wh_arena *a = &c->arena;
    bool ok = true;
    for (size_t i = 0; ok && i < c->nfuncs; i++) {
        wharf_plugin_func *f = &c->funcs[i];
        f->module = arena_str(a, f->module ? f->module : WH_HOST_USER_MODULE);
        f->name = arena_str(a, f->name);
        f->params = arena_copy(a, f->params, f->nparams, sizeof *f->params, &ok);
        f->results = arena_copy(a, f->results, f->nresults, sizeof *f->results, &ok);
        ok = ok && f->module && f->name;
    }
    return ok;
}

/* What the copies cannot check: required fields present. */
static const char *manifest_problem(const wharf_manifest *m)
{
    if (!m->wasm && !m->wasm_path)
        return "the manifest names no wasm (bytes or path)";
    if ((m->nallowed_hosts && !m->allowed_hosts) ||
        (m->nallowed_paths && !m->allowed_paths) || (m->nconfig && !m->config) ||
        (m->nfuncs && !m->funcs))
        return "a manifest list has a count but no array";
    for (size_t i = 0; i < m->nallowed_hosts; i++)
        if (!m->allowed_hosts[i])
            return "an allowed host is NULL";
    for (size_t i = 0; i < m->nallowed_paths; i++)
        if (!m->allowed_paths[i].host_path)
            return "an allowed path has no host_path";
    for (size_t i = 0; i < m->nconfig; i++)
        if (!m->config[i].key || !m->config[i].value)
            return "a config entry has a NULL key or value";
    for (size_t i = 0; i < m->nfuncs; i++)
        if (!m->funcs[i].name || !m->funcs[i].fn)
            return "a host function has no name or no fn";
    if (m->nallowed_paths && !m->wasi)
        return "allowed paths need wasi";
    return NULL;
}

static void copy_settings(wharf_compiled_plugin *c, const wharf_manifest *m)
{
    uint64_t max = m->max_pages ? (uint64_t)m->max_pages * PAGE_BYTES : MAX_BYTES;
    c->limits.max_memory_bytes = max;
    c->limits.timeout_ns = m->timeout_ns;
    c->mem_limit = max;
    c->fuel = m->fuel;
    c->wasi = m->wasi;
    c->max_var_bytes = m->max_var_bytes ? m->max_var_bytes : DEFAULT_VAR_BYTES;
    c->max_http_bytes = m->max_http_response_bytes ? m->max_http_response_bytes
                                                   : DEFAULT_HTTP_BYTES;
    c->log = m->log;
    c->log_user = m->log_user;
    c->log_level = m->log_level;
}

/* The whole file in a malloc'd buffer, or NULL. */
static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    uint8_t *buf = NULL;
    if (f && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
        (buf = malloc(st.st_size ? (size_t)st.st_size : 1)) &&
        fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(buf);
        buf = NULL;
    }
    if (f)
        fclose(f);
    *len = buf ? (size_t)st.st_size : 0;
    return buf;
}

static wharf_status compile(wharf_compiled_plugin *c, const wharf_manifest *m,
                            wharf_error *err)
{
    const uint8_t *wasm = m->wasm;
    size_t len = m->wasm_len;
    uint8_t *file = NULL;
    if (!wasm && !(wasm = file = read_file(m->wasm_path, &len)))
        return set_error(err, WHARF_ERR_ARG, "cannot read '%s': %s", m->wasm_path,
                         strerror(errno));
    wharf_status s = wharf_module_new(c->engine, wasm, len, &c->module, err);
    free(file);
    if (s == WHARF_OK && !(copy_lists(c, m) && copy_funcs(c)))
        s = set_error(err, WHARF_ERR_NOMEM, "out of memory");
    return s;
}

static void link_once(wharf_compiled_plugin *c);

wharf_status wharf_compiled_plugin_new(wharf_engine *e, const wharf_manifest *m,
                                       WHARF_OWN wharf_compiled_plugin **out,
                                       wharf_error *err)
{
    *out = NULL;
    const char *problem = !e || !m ? "no engine or no manifest" : manifest_problem(m);
    if (problem)
        return set_error(err, WHARF_ERR_ARG, "%s", problem);
    wharf_compiled_plugin *c = calloc(1, sizeof *c);
    if (!c)
        return set_error(err, WHARF_ERR_NOMEM, "out of memory");
    c->engine = e;
    c->alloc = (wh_allocator){ wh_libc_alloc, NULL };
    wh_arena_init(&c->arena, &c->alloc);
    copy_settings(c, m);
    wharf_status s = compile(c, m, err);
    if (s != WHARF_OK) {
        wharf_compiled_plugin_free(c);
        return s;
    }
    link_once(c);
    *out = c;
    return WHARF_OK;
}

void wharf_compiled_plugin_free(WHARF_OWN wharf_compiled_plugin *c)
{
    if (!c)
        return;
    wharf_instance_pre_free(c->pre);
    wharf_linker_free(c->linker);
    if (c->module)
        wharf_module_free(c->module);
    wh_arena_free_all(&c->arena);
    free(c);
}

/* ---- Linking, once per compiled plugin ---------------------------------- */

/* Runs manifest function `user` for the calling plugin with its caller
 * set, so that it can use wharf_plugin_host_error; nested calls restore
 * the outer caller. */
static wharf_status trampoline(wharf_caller *c, void *user, wharf_slot *slots)
{
    const wharf_plugin_func *f = user;
    wharf_plugin *p = wharf_caller_user(c);
    wharf_caller *outer = p->caller;
    p->caller = c;
    wharf_status s = f->fn(p, f->user, slots);
    p->caller = outer;
    return s;
}

/* WASI for a plugin: no arguments or environment, no stdin, and stdout
 * and stderr both on the host's stderr: the host's stdout carries plugin
 * output (as in `wharf call`), which a stray printf must not corrupt. */
static wharf_status open_wasi(wharf_plugin *p, wharf_error *err)
{
    const wharf_compiled_plugin *c = p->code;
    static const char *const argv[] = { "plugin" };
    wh_wasi_config cfg = {
        .argv = argv, .argc = 1,
        .preopens = c->paths, .npreopens = (int)c->npaths,
        .stdin_fd = -1, .stdout_fd = 2, .stderr_fd = 2,
        .borrow_stdio = true,     /* the process's stderr outlives plugins */
    };
    return wh_wasi_new(&cfg, &p->wasi, err);
}

/* The calling plugin's WASI state, made at its first WASI call when it
 * has no preopens (plugin_setup makes it otherwise): most plugin calls
 * make none, and then cost no WASI setup. NULL when out of memory. */
static wh_wasi *plugin_wasi(void *inst_user)
{
    wharf_plugin *p = inst_user;
    if (!p->wasi)
        open_wasi(p, NULL);
    return p->wasi;
}

static wharf_status define_imports(wharf_compiled_plugin *c, wharf_linker *l)
{
    wharf_status s = wh_host_env_define(l);
    for (size_t i = 0; s == WHARF_OK && i < c->nfuncs; i++) {
        const wharf_plugin_func *f = &c->funcs[i];
        s = wharf_linker_define_func(l, f->module, f->name, f->params, f->nparams,
                                     f->results, f->nresults, trampoline, (void *)f);
    }
    if (s != WHARF_OK)
        return set_error(&c->link_err, s, "cannot link host function: %s",
                         wharf_status_name(s));
    if (c->wasi && (s = wh_wasi_define_shared(l, plugin_wasi)) != WHARF_OK)
        return set_error(&c->link_err, s, "cannot link WASI: %s", wharf_status_name(s));
    return WHARF_OK;
}

/* Resolves the module's imports for all its plugins. A failure is kept
 * in link_err: wharf_plugin_instantiate reports it. */
static void link_once(wharf_compiled_plugin *c)
{
    wharf_status s = wharf_linker_new(c->engine, &c->linker);
    if (s != WHARF_OK)
        set_error(&c->link_err, s, "out of memory");
    else if (define_imports(c, c->linker) == WHARF_OK)
        wharf_instance_pre_new(c->module, c->linker, &c->pre, &c->link_err);
}

/* ---- Plugins: instances ------------------------------------------------ */

/* The plugin's own state for the shared imports; the link error of its
 * compiled plugin, if linking failed. WASI state with preopens is made
 * here, so that a directory that cannot be opened fails instantiation. */
static wharf_status plugin_setup(wharf_plugin *p, wharf_error *err)
{
    const wharf_compiled_plugin *c = p->code;
    if (!c->pre) {
        if (err)
            *err = c->link_err;
        return c->link_err.status;
    }
    return c->wasi && c->npaths ? open_wasi(p, err) : WHARF_OK;
}

/* Publishes the instance to the cancel handle; a cancel that came while
 * there was none stops the first call into the new one. */
static void publish(wharf_plugin *p, wharf_instance *inst)
{
    pthread_mutex_lock(&p->cancel.lock);
    p->cancel.inst = inst;
    if (inst && __atomic_load_n(&p->cancel.requested, __ATOMIC_ACQUIRE))
        wharf_instance_interrupt(inst);
    pthread_mutex_unlock(&p->cancel.lock);
}

static void drop_instance(wharf_plugin *p)
{
    if (!p->inst)
        return;
    publish(p, NULL);
    wharf_instance_free(p->inst);
    p->inst = NULL;
    p->func = NULL;   /* it belonged to the instance */
}

/* A WASI exit with code 0 is a normal end, as in Extism. */
static bool clean_exit(wharf_status s, const wharf_error *err)
{
    return s == WHARF_ERR_EXIT && err->exit_code == 0;
}

/* The reactor initializer, or else the C constructors, run once. */
static wharf_status initialize(wharf_plugin *p, wharf_error *err)
{
    static const char *const inits[] = { "_initialize", "__wasm_call_ctors" };
    for (size_t i = 0; i < WH_ARRAY_LEN(inits); i++) {
        wharf_func *f;
        if (wharf_instance_func(p->inst, inits[i], &f) != WHARF_OK)
            continue;
        if (p->code->fuel)
            wharf_instance_set_fuel(p->inst, p->code->fuel);
        wharf_status s = wharf_call(p->inst, f, NULL, 0, NULL, 0, err);
        return clean_exit(s, err) ? WHARF_OK : s;
    }
    return WHARF_OK;
}

static wharf_status build_instance(wharf_plugin *p, wharf_error *err)
{
    const wharf_compiled_plugin *c = p->code;
    wharf_status s = wharf_instance_pre_instantiate(c->pre, &c->limits, p, &p->inst, err);
    if (s != WHARF_OK)
        return s;
    publish(p, p->inst);
    s = initialize(p, err);
    if (s != WHARF_OK)
        drop_instance(p);
    return s;
}

wharf_status wharf_plugin_instantiate(wharf_compiled_plugin *c,
                                      WHARF_OWN wharf_plugin **out,
                                      wharf_error *err)
{
    *out = NULL;
    wharf_plugin *p = calloc(1, sizeof *p);
    if (!p)
        return set_error(err, WHARF_ERR_NOMEM, "out of memory");
    p->code = c;
    pthread_mutex_init(&p->cancel.lock, NULL);
    wh_host_mem_init(&p->mem, c->mem_limit);
    wharf_status s = plugin_setup(p, err);
    if (s == WHARF_OK)
        s = build_instance(p, err);
    if (s != WHARF_OK) {
        wharf_plugin_free(p);
        return s;
    }
    *out = p;
    return WHARF_OK;
}

void wharf_plugin_free(WHARF_OWN wharf_plugin *p)
{
    if (!p)
        return;
    drop_instance(p);
    if (p->wasi)
        wh_wasi_free(p->wasi);
    wh_host_mem_release(&p->mem);
    wh_host_vars_free(p);
    pthread_mutex_destroy(&p->cancel.lock);
    free(p->fname);
    free(p->error);
    free(p->http_headers);
    wharf_compiled_plugin *code = p->own_code ? p->code : NULL;
    wharf_engine *engine = code && p->own_engine ? code->engine : NULL;
    free(p);
    wharf_compiled_plugin_free(code);
    if (engine)
        wharf_engine_free(engine);
}

wharf_status wharf_plugin_new(wharf_engine *e, const wharf_manifest *m,
                              WHARF_OWN wharf_plugin **out, wharf_error *err)
{
    *out = NULL;
    wharf_engine *own = NULL;
    if (!e && wharf_engine_new(NULL, &own) != WHARF_OK)
        return set_error(err, WHARF_ERR_NOMEM, "out of memory");
    wharf_compiled_plugin *c;
    wharf_status s = wharf_compiled_plugin_new(e ? e : own, m, &c, err);
    if (s == WHARF_OK && (s = wharf_plugin_instantiate(c, out, err)) != WHARF_OK)
        wharf_compiled_plugin_free(c);
    if (s != WHARF_OK) {
        if (own)
            wharf_engine_free(own);
        return s;
    }
    (*out)->own_code = true;
    (*out)->own_engine = own != NULL;
    return WHARF_OK;
}

wharf_status wharf_plugin_new_bytes(wharf_engine *e, const uint8_t *wasm,
                                    size_t len, bool wasi,
                                    WHARF_OWN wharf_plugin **out,
                                    wharf_error *err)
{
    if (!wasm) {
        *out = NULL;
        return set_error(err, WHARF_ERR_ARG, "no wasm bytes");
    }
    wharf_manifest m = { .wasm = wasm, .wasm_len = len, .wasi = wasi };
    return wharf_plugin_new(e, &m, out, err);
}

/* ---- Calls ------------------------------------------------------------- */

bool wharf_plugin_has_function(wharf_plugin *p, const char *name)
{
    const wharf_module *m = p->code->module;
    size_t n = strlen(name);
    for (uint32_t i = 0; i < wharf_module_export_count(m); i++) {
        wharf_extern_info e;
        wharf_module_export(m, i, &e);
        if (e.kind == WHARF_EXTERN_FUNC && e.name_len == n && !memcmp(e.name, name, n))
            return true;
    }
    return false;
}

/* Finds `name`, remembering the last one: a plugin is usually called
 * through the same function many times. Plugin functions are () -> i32,
 * or () -> () which Extism also accepts (always success). */
static wharf_status lookup(wharf_plugin *p, const char *name, wharf_error *err)
{
    if (p->func && !strcmp(p->fname, name))
        return WHARF_OK;
    wharf_func *f;
    if (wharf_instance_func(p->inst, name, &f) != WHARF_OK)
        return set_error(err, WHARF_ERR_NOT_FOUND, "no plugin function '%s'", name);
    const wharf_valkind *params, *results;
    uint32_t np, nr;
    wharf_func_type(f, &params, &np, &results, &nr);
    if (np != 0 || nr > 1 || (nr == 1 && results[0] != WHARF_I32))
        return set_error(err, WHARF_ERR_ARG,
                         "'%s' is not a plugin function: expected () -> i32", name);
    char *copy = strdup(name);
    if (!copy)
        return set_error(err, WHARF_ERR_NOMEM, "out of memory");
    free(p->fname);
    p->fname = copy;
    p->func = f;
    p->func_returns = nr == 1;
    return WHARF_OK;
}

/* Resets the per-call state and copies the input into the call memory. */
static wharf_status begin_call(wharf_plugin *p, const uint8_t *input, size_t len,
                               wharf_error *err)
{
    wh_host_mem_reset(&p->mem);
    p->out_off = p->out_len = 0;
    free(p->error);
    p->error = NULL;
    p->input_len = len;
    p->input = wh_host_mem_alloc(&p->mem, len);
    if (len && !p->input)
        return set_error(err, WHARF_ERR_NOMEM, "input of %zu bytes exceeds the "
                         "call memory limit", len);
    if (len)
        memcpy(p->mem.data + p->input, input, len);
    if (p->code->fuel)
        wharf_instance_set_fuel(p->inst, p->code->fuel);
    uint64_t timeout = p->code->limits.timeout_ns;
    p->deadline_ns = timeout ? wh_now_ns() + timeout : 0;
    return WHARF_OK;
}

/* Turns the outcome of the wasm call into the plugin call's. */
static wharf_status end_call(wharf_plugin *p, wharf_status s, int32_t rc,
                             wharf_error *err)
{
    __atomic_store_n(&p->cancel.requested, 0, __ATOMIC_RELEASE);
    if (s != WHARF_OK && !clean_exit(s, err)) {
        if (s == WHARF_ERR_TRAP || s == WHARF_ERR_EXIT)
            drop_instance(p);
        return s;
    }
    if (s != WHARF_OK) {
        drop_instance(p);   /* proc_exit(0): finished, but not reusable */
        set_error(err, WHARF_OK, "%s", "");
    }
    if (p->error || rc != 0) {
        if (p->error)
            set_error(err, WHARF_ERR_PLUGIN, "%s", p->error);
        else
            set_error(err, WHARF_ERR_PLUGIN, "plugin function '%s' returned %d",
                      p->fname, rc);
        err->exit_code = rc;
        return WHARF_ERR_PLUGIN;
    }
    return WHARF_OK;
}

wharf_status wharf_plugin_call(wharf_plugin *p, const char *func,
                               const uint8_t *input, size_t len,
                               const uint8_t **output, size_t *outlen,
                               wharf_error *err)
{
    wharf_error local;
    if (!err)
        err = &local;
    *output = NULL;
    *outlen = 0;
    if (!func || (len && !input))
        return set_error(err, WHARF_ERR_ARG, "no function name or no input");
    wharf_status s = p->inst ? WHARF_OK : build_instance(p, err);
    if (s == WHARF_OK)
        s = lookup(p, func, err);
    if (s == WHARF_OK)
        s = begin_call(p, input, len, err);
    if (s != WHARF_OK)
        return s;
    wharf_val rc = { .kind = WHARF_I32 };
    s = wharf_call(p->inst, p->func, NULL, 0, &rc, p->func_returns, err);
    s = end_call(p, s, rc.of.i32, err);
    if (s == WHARF_OK && p->out_len) {
        *output = p->mem.data + p->out_off;
        *outlen = (size_t)p->out_len;
    }
    return s;
}

/* ---- Cancel ------------------------------------------------------------ */

wharf_plugin_cancel *wharf_plugin_cancel_handle(wharf_plugin *p)
{
    return &p->cancel;
}

void wharf_plugin_cancel_call(wharf_plugin_cancel *c)
{
    pthread_mutex_lock(&c->lock);
    __atomic_store_n(&c->requested, 1, __ATOMIC_RELEASE);
    if (c->inst)
        wharf_instance_interrupt(c->inst);
    pthread_mutex_unlock(&c->lock);
}

/* ---- Call memory for host functions ------------------------------------ */

uint8_t *wharf_plugin_memory(wharf_plugin *p, uint64_t handle, uint64_t *len)
{
    wh_host_block *b = wh_host_mem_block(&p->mem, handle);
    *len = b ? b->len : 0;
    return b ? p->mem.data + handle : NULL;
}

uint64_t wharf_plugin_memory_new(wharf_plugin *p, const void *data, uint64_t len)
{
    uint64_t h = wh_host_mem_alloc(&p->mem, len);
    if (h && data)
        memcpy(p->mem.data + h, data, (size_t)len);
    return h;
}

void wharf_plugin_memory_free(wharf_plugin *p, uint64_t handle)
{
    wh_host_mem_free(&p->mem, handle);
}

wharf_status wharf_plugin_host_error(wharf_plugin *p, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!p->caller)
        return WHARF_ERR_ARG;   /* not inside a host function */
    return wharf_caller_trap(p->caller, "%s", msg);
}
