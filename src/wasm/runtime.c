/* runtime.c: the engine, modules as the embedder sees them, tables and
 * globals, calls into wasm and out to host functions, traps and the
 * fuel/deadline/interrupt limits. The linker and instantiation live in
 * instance.c, linear memories in memory.c.
 *
 * Invariants: a linear memory reserves its whole maximum once and never
 * moves; a call's limits are armed only at the outermost wharf_call of an
 * instance, so host functions that call back in share the caller's budget. */
#include "runtimeInt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_CALL_DEPTH 10000u
#define DEFAULT_MEMORY_BYTES ((uint64_t)WH_MAX_PAGES * WH_PAGE_SIZE)
#define DEFAULT_STACK_BYTES ((size_t)8 << 20)

/* ---- Names ----------------------------------------------------------- */

const char *wharf_status_name(wharf_status s)
{
    static const char *const names[] = {
        [WHARF_OK] = "ok",
        [WHARF_ERR_MALFORMED] = "malformed",
        [WHARF_ERR_INVALID] = "invalid",
        [WHARF_ERR_UNLINKABLE] = "unlinkable",
        [WHARF_ERR_TRAP] = "trap",
        [WHARF_ERR_EXIT] = "exit",
        [WHARF_ERR_NOMEM] = "out of memory",
        [WHARF_ERR_ARG] = "bad argument",
        [WHARF_ERR_NOT_FOUND] = "not found",
        [WHARF_ERR_PLUGIN] = "plugin error",
    };
    return (unsigned)s < WH_ARRAY_LEN(names) ? names[s] : "unknown status";
}

/* The texts of the spec's reference interpreter where it has one. */
const char *wharf_trap_name(wharf_trap t)
{
    static const char *const names[] = {
        [WHARF_TRAP_NONE] = "no trap",
        [WHARF_TRAP_UNREACHABLE] = "unreachable",
        [WHARF_TRAP_MEMORY_OOB] = "out of bounds memory access",
        [WHARF_TRAP_TABLE_OOB] = "out of bounds table access",
        [WHARF_TRAP_DIV_ZERO] = "integer divide by zero",
        [WHARF_TRAP_INT_OVERFLOW] = "integer overflow",
        [WHARF_TRAP_BAD_CONVERSION] = "invalid conversion to integer",
        [WHARF_TRAP_INDIRECT_MISMATCH] = "indirect call type mismatch",
        [WHARF_TRAP_UNINIT_ELEMENT] = "uninitialized element",
        [WHARF_TRAP_NULL_REF] = "null reference",
        [WHARF_TRAP_STACK_EXHAUSTED] = "call stack exhausted",
        [WHARF_TRAP_FUEL] = "fuel exhausted",
        [WHARF_TRAP_INTERRUPT] = "interrupted",
        [WHARF_TRAP_DEADLINE] = "deadline exceeded",
        [WHARF_TRAP_HOST] = "host function error",
    };
    return (unsigned)t < WH_ARRAY_LEN(names) ? names[t] : "unknown trap";
}

/* ---- Engine ------------------------------------------------------------ */

wharf_status wharf_engine_new(const wharf_config *cfg, WHARF_OWN wharf_engine **out)
{
    wh_allocator a = { wh_libc_alloc, NULL };
    if (cfg && cfg->alloc) {
        a.fn = cfg->alloc;
        a.user = cfg->alloc_user;
    }
    *out = NULL;
    wharf_engine *e = wh_alloc(&a, sizeof *e);
    if (!e)
        return WHARF_ERR_NOMEM;
    if (cfg)
        e->cfg = *cfg;
    e->alloc = a;
    if (!e->cfg.max_call_depth)
        e->cfg.max_call_depth = DEFAULT_CALL_DEPTH;
    if (!e->cfg.max_memory_bytes || e->cfg.max_memory_bytes > DEFAULT_MEMORY_BYTES)
        e->cfg.max_memory_bytes = DEFAULT_MEMORY_BYTES;
    if (!e->cfg.stack_bytes)
        e->cfg.stack_bytes = DEFAULT_STACK_BYTES;
    if (!wh_rt_pool_init(e)) {
        wh_rt_pool_free(e);
        wh_free(&a, e);
        return WHARF_ERR_NOMEM;
    }
    pthread_mutex_init(&e->lock, NULL);
    *out = e;
    return WHARF_OK;
}

void wharf_engine_free(WHARF_OWN wharf_engine *e)
{
    if (!e)
        return;
    while (e->zombies) {
        wh_rt_instance *z = e->zombies;
        e->zombies = z->next_zombie;
        wh_rt_instance_destroy(z);
    }
    wh_rt_pool_free(e);
    pthread_mutex_destroy(&e->lock);
    wh_allocator a = e->alloc;
    wh_free(&a, e);
}

/* ---- Module ------------------------------------------------------------ */

/* Fills the public valkind copies of every type's params and results. */
static wharf_status module_kinds(wharf_module *m, wharf_error *err)
{
    size_t total = 0;
    for (uint32_t i = 0; i < m->ntypes; i++)
        total += (size_t)m->types[i].nparams + m->types[i].nresults;
    m->kinds = wh_arena_alloc(&m->arena, total * sizeof *m->kinds);
    m->kinds_at = wh_arena_alloc(&m->arena, (size_t)m->ntypes * sizeof *m->kinds_at);
    if (!m->kinds || !m->kinds_at)
        return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET, "out of memory");
    size_t at = 0;
    for (uint32_t i = 0; i < m->ntypes; i++) {
        const wh_functype *t = &m->types[i];
        m->kinds_at[i] = (uint32_t)at;
        for (uint32_t j = 0; j < t->nparams; j++)
            m->kinds[at++] = (wharf_valkind)t->params[j];
        for (uint32_t j = 0; j < t->nresults; j++)
            m->kinds[at++] = (wharf_valkind)t->results[j];
    }
    return WHARF_OK;
}

wharf_status wharf_module_new(wharf_engine *e, const uint8_t *bytes, size_t len,
                              WHARF_OWN wharf_module **out, wharf_error *err)
{
    *out = NULL;
    if (!e || (!bytes && len))
        return wh_error_set(err, WHARF_ERR_ARG, WHARF_NO_OFFSET, "no engine or bytes");
    wharf_module *m = wh_alloc(&e->alloc, sizeof *m);
    if (!m)
        return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET, "out of memory");
    m->engine = e;
    wh_arena_init(&m->arena, &e->alloc);
    m->bytes = wh_alloc(&e->alloc, len);
    m->len = len;
    wharf_status s = WHARF_ERR_NOMEM;
    if (!m->bytes)
        wh_error_set(err, s, WHARF_NO_OFFSET, "out of memory");
    else {
        if (len)
            memcpy(m->bytes, bytes, len);
        s = wh_dec_module(m, err);
    }
    if (s == WHARF_OK)
        s = wh_val_module(m, err);
    if (s == WHARF_OK)
        s = wh_interp_compile(m, err);
    if (s == WHARF_OK)
        s = module_kinds(m, err);
    if (s != WHARF_OK) {
        wharf_module_free(m);
        return s;
    }
    *out = m;
    return WHARF_OK;
}

void wharf_module_free(WHARF_OWN wharf_module *m)
{
    if (!m)
        return;
    const wh_allocator *a = &m->engine->alloc;
    wh_rt_image_free(m);
    wh_interp_compiled_free(m);
    wh_arena_free_all(&m->arena);
    wh_free(a, m->bytes);
    wh_free(a, m);
}

uint32_t wharf_module_import_count(const wharf_module *m) { return m->nimports; }
uint32_t wharf_module_export_count(const wharf_module *m) { return m->nexports; }

void wharf_module_import(const wharf_module *m, uint32_t i, wharf_extern_info *out)
{
    memset(out, 0, sizeof *out);
    if (i >= m->nimports)
        return;
    const wh_import *im = &m->imports[i];
    out->module = im->module.ptr;
    out->module_len = im->module.len;
    out->name = im->name.ptr;
    out->name_len = im->name.len;
    out->kind = (wharf_externkind)im->kind;
    out->index = im->index;
}

void wharf_module_export(const wharf_module *m, uint32_t i, wharf_extern_info *out)
{
    memset(out, 0, sizeof *out);
    if (i >= m->nexports)
        return;
    const wh_export *ex = &m->exports[i];
    out->name = ex->name.ptr;
    out->name_len = ex->name.len;
    out->kind = (wharf_externkind)ex->kind;
    out->index = ex->index;
}

bool wharf_module_func_type(const wharf_module *m, uint32_t funcidx,
                            const wharf_valkind **params, uint32_t *np,
                            const wharf_valkind **results, uint32_t *nr)
{
    if (funcidx >= m->nfuncs)
        return false;
    const wh_funcdecl *f = &m->funcs[funcidx];
    const wharf_valkind *k = m->kinds + m->kinds_at[f->typeidx];
    *params = k;
    *np = f->type->nparams;
    *results = k + f->type->nparams;
    *nr = f->type->nresults;
    return true;
}

void wharf_func_type(const wharf_func *f, const wharf_valkind **params,
                     uint32_t *np, const wharf_valkind **results, uint32_t *nr)
{
    *params = f->kinds;
    *np = f->type->nparams;
    *results = f->kinds + f->type->nparams;
    *nr = f->type->nresults;
}

/* ---- Values ------------------------------------------------------------ */

wharf_val wh_rt_val_get(uint8_t type, const wharf_slot *s)
{
    wharf_val v;
    memset(&v, 0, sizeof v);
    v.kind = (wharf_valkind)type;
    switch (type) {
    case WH_I32: v.of.i32 = (int32_t)(uint32_t)s[0]; break;
    case WH_I64: v.of.i64 = (int64_t)s[0]; break;
    case WH_F32: { uint32_t b = (uint32_t)s[0]; memcpy(&v.of.f32, &b, 4); break; }
    case WH_F64: memcpy(&v.of.f64, &s[0], 8); break;
    case WH_V128: memcpy(v.of.v128, s, 16); break;
    case WH_FUNCREF: v.of.funcref = (wharf_func *)(uintptr_t)s[0]; break;
    default: v.of.externref = (void *)(uintptr_t)s[0]; break;
    }
    return v;
}

void wh_rt_val_set(const wharf_val *v, wharf_slot *s)
{
    switch (v->kind) {
    case WHARF_I32: s[0] = (uint32_t)v->of.i32; break;
    case WHARF_I64: s[0] = (uint64_t)v->of.i64; break;
    case WHARF_F32: { uint32_t b; memcpy(&b, &v->of.f32, 4); s[0] = b; break; }
    case WHARF_F64: memcpy(&s[0], &v->of.f64, 8); break;
    case WHARF_V128: memcpy(s, v->of.v128, 16); break;
    case WHARF_FUNCREF: s[0] = (uintptr_t)v->of.funcref; break;
    case WHARF_EXTERNREF: s[0] = (uintptr_t)v->of.externref; break;
    }
}

static bool valkind_ok(wharf_valkind k)
{
    return k == WHARF_I32 || k == WHARF_I64 || k == WHARF_F32 || k == WHARF_F64 ||
           k == WHARF_V128 || k == WHARF_FUNCREF || k == WHARF_EXTERNREF;
}

/* ---- Tables ------------------------------------------------------------ */

wharf_status wh_rt_table_init(wharf_table *t, const wh_allocator *a,
                              uint8_t reftype, uint32_t min, uint32_t max)
{
    if (min > WH_MAX_TABLE)
        return WHARF_ERR_NOMEM;
    t->elems = wh_alloc(a, (size_t)min * sizeof *t->elems);
    if (!t->elems)
        return WHARF_ERR_NOMEM;
    t->reftype = reftype;
    t->size = min;
    t->max = max;
    t->alloc = a;
    return WHARF_OK;
}

int32_t wh_rt_table_grow(wharf_table *t, uint32_t delta, void *init)
{
    uint32_t old = t->size;
    uint64_t n = (uint64_t)old + delta;
    if (n > t->max || n > WH_MAX_TABLE)
        return -1;
    if (delta == 0)
        return (int32_t)old;
    void **elems = wh_realloc(t->alloc, t->elems, (size_t)n * sizeof *elems);
    if (!elems)
        return -1;
    for (uint64_t i = old; i < n; i++)
        elems[i] = init;
    t->elems = elems;
    t->size = (uint32_t)n;
    return (int32_t)old;
}

wharf_status wharf_table_new(wharf_engine *e, wharf_valkind reftype,
                             uint32_t min, uint32_t max, bool has_max,
                             WHARF_OWN wharf_table **out)
{
    *out = NULL;
    if ((reftype != WHARF_FUNCREF && reftype != WHARF_EXTERNREF) ||
        (has_max && max < min))
        return WHARF_ERR_ARG;
    wharf_table *t = wh_alloc(&e->alloc, sizeof *t);
    if (!t)
        return WHARF_ERR_NOMEM;
    wharf_status s = wh_rt_table_init(t, &e->alloc, (uint8_t)reftype, min,
                                      has_max ? max : UINT32_MAX);
    if (s != WHARF_OK) {
        wh_free(&e->alloc, t);
        return s;
    }
    *out = t;
    return WHARF_OK;
}

void wharf_table_free(WHARF_OWN wharf_table *t)
{
    if (!t)
        return;
    wh_free(t->alloc, t->elems);
    wh_free(t->alloc, t);
}

/* ---- Globals ----------------------------------------------------------- */

/* A host-created global remembers the allocator that frees it. */
typedef struct host_global {
    struct wharf_global g;
    const wh_allocator *alloc;
} host_global;

wharf_status wharf_global_new(wharf_engine *e, wharf_val value, bool mutable_,
                              WHARF_OWN wharf_global **out)
{
    *out = NULL;
    if (!valkind_ok(value.kind))
        return WHARF_ERR_ARG;
    host_global *hg = wh_alloc(&e->alloc, sizeof *hg);
    if (!hg)
        return WHARF_ERR_NOMEM;
    hg->alloc = &e->alloc;
    hg->g.valtype = (uint8_t)value.kind;
    hg->g.mut = mutable_;
    wh_rt_val_set(&value, hg->g.val);
    *out = &hg->g;
    return WHARF_OK;
}

void wharf_global_free(WHARF_OWN wharf_global *g)
{
    if (!g)
        return;
    host_global *hg = WH_CONTAINER(g, host_global, g);
    wh_free(hg->alloc, hg);
}

wharf_val wharf_global_get(const wharf_global *g)
{
    return wh_rt_val_get(g->valtype, g->val);
}

/* ---- Traps ------------------------------------------------------------- */

/* The name a trap message gives a function: its name-section name, else
 * the first export naming it. */
static wh_str func_name(const wharf_func *f)
{
    const wharf_module *m = f->inst->module;
    if (f->funcidx < m->nfuncs && m->funcs[f->funcidx].name.len)
        return m->funcs[f->funcidx].name;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wh_export *ex = &m->exports[i];
        if (ex->kind == WH_EXT_FUNC && ex->index == f->funcidx)
            return ex->name;
    }
    return (wh_str){ NULL, 0 };
}

wharf_status wh_rt_trap_error(wharf_error *err, wharf_trap code)
{
    wh_error_set(err, WHARF_ERR_TRAP, WHARF_NO_OFFSET, "%s", wharf_trap_name(code));
    if (err)
        err->trap = code;
    return WHARF_ERR_TRAP;
}

wharf_status wh_rt_trap(wh_exec *ex, wharf_trap code, const wharf_func *f,
                        uint64_t offset)
{
    wharf_error *e = ex->err;
    wh_rt_trap_error(e, code);
    e->offset = offset;
    if (!f || !f->inst)
        return WHARF_ERR_TRAP;
    e->func_index = f->funcidx;
    char where[160];
    wh_str name = func_name(f);
    if (name.len)
        snprintf(where, sizeof where, " in function '%.*s' (#%u)",
                 (int)(name.len > 100 ? 100 : name.len), name.ptr, f->funcidx);
    else
        snprintf(where, sizeof where, " in function #%u", f->funcidx);
    size_t n = strlen(e->message);
    snprintf(e->message + n, sizeof e->message - n, "%s", where);
    n = strlen(e->message);
    if (offset != WHARF_NO_OFFSET)
        snprintf(e->message + n, sizeof e->message - n, " at offset 0x%llx",
                 (unsigned long long)offset);
    return WHARF_ERR_TRAP;
}

/* ---- Limits ------------------------------------------------------------ */

/* Hands out the next batch of ticks: all of it comes out of the fuel
 * reserve when fuel is on, so fuel left is always fuel + ticks. */
static void ticks_refill(wh_exec *ex)
{
    if (!ex->fuel_on) {
        ex->ticks = WH_TICKS_PER_CHECK;
        return;
    }
    uint64_t n = ex->fuel < WH_TICKS_PER_CHECK ? ex->fuel : WH_TICKS_PER_CHECK;
    ex->fuel -= n;
    ex->ticks = (int64_t)n;
}

/* The interrupt flag and the deadline: the limits that do not depend on
 * how much code ran, shared with blocking host functions. */
static wharf_status check_interrupt_and_deadline(wh_exec *ex)
{
    if (__atomic_exchange_n(ex->interrupt, 0, __ATOMIC_ACQ_REL))
        return wh_rt_trap(ex, WHARF_TRAP_INTERRUPT, NULL, WHARF_NO_OFFSET);
    if (ex->deadline_ns && wh_now_ns() >= ex->deadline_ns)
        return wh_rt_trap(ex, WHARF_TRAP_DEADLINE, NULL, WHARF_NO_OFFSET);
    return WHARF_OK;
}

wharf_status wh_rt_check_limits(wh_exec *ex)
{
    wharf_status st = check_interrupt_and_deadline(ex);
    if (st != WHARF_OK)
        return st;
    if (ex->fuel_on && ex->ticks < 0) {
        /* The code charged more than was handed out: pay it from the
         * reserve, or stop with nothing left. */
        uint64_t owed = (uint64_t)-ex->ticks;
        if (owed > ex->fuel) {
            ex->fuel = 0;
            ex->ticks = 0;
            return wh_rt_trap(ex, WHARF_TRAP_FUEL, NULL, WHARF_NO_OFFSET);
        }
        ex->fuel -= owed;
    }
    ticks_refill(ex);
    return WHARF_OK;
}

/* Arms the limits of an outermost call into `inst`. */
static void limits_begin(wharf_instance *inst)
{
    wh_exec *ex = &inst->exec;
    ex->entry = inst;
    ex->current = inst;
    ex->host_top = NULL;
    ex->depth = 0;
    ex->max_depth = inst->limits.max_call_depth;
    ex->interrupt = &inst->interrupt;
    ex->fuel_on = inst->limits.fuel != 0;
    ex->fuel = inst->fuel;
    ex->deadline_ns = inst->limits.timeout_ns ? wh_now_ns() + inst->limits.timeout_ns : 0;
    ticks_refill(ex);
    /* An interrupt requested before the call stops it at its first check. */
    if (__atomic_load_n(&inst->interrupt, __ATOMIC_ACQUIRE)) {
        ex->fuel += (uint64_t)(ex->fuel_on ? ex->ticks : 0);
        ex->ticks = 0;
    }
}

static void limits_end(wharf_instance *inst)
{
    wh_exec *ex = &inst->exec;
    if (ex->fuel_on)
        inst->fuel = ex->fuel + (uint64_t)(ex->ticks > 0 ? ex->ticks : 0);
    ex->entry = NULL;
    ex->current = NULL;
}

void wharf_instance_set_fuel(wharf_instance *inst, uint64_t fuel)
{
    inst->limits.fuel = fuel;
    inst->fuel = fuel;
}

uint64_t wharf_instance_fuel(const wharf_instance *inst)
{
    return inst->fuel;
}

void wharf_instance_set_timeout(wharf_instance *inst, uint64_t ns)
{
    inst->limits.timeout_ns = ns;
}

void wharf_instance_interrupt(wharf_instance *inst)
{
    __atomic_store_n(&inst->interrupt, 1, __ATOMIC_RELEASE);
}

/* ---- Calls ------------------------------------------------------------- */

struct wharf_caller {
    wh_exec *ex;
    wharf_instance *inst;
};

static uint32_t frame_slots(const wh_functype *t)
{
    return t->param_slots > t->result_slots ? t->param_slots : t->result_slots;
}

/* A host function runs with its arguments at sp; a wharf_call it makes back
 * into this instance continues above them (ex->host_top). */
static wharf_status call_host(wh_exec *ex, wharf_func *f, wharf_slot *sp)
{
    if (ex->depth >= ex->max_depth)
        return wh_rt_trap(ex, WHARF_TRAP_STACK_EXHAUSTED, f, WHARF_NO_OFFSET);
    wharf_caller c = { ex, ex->current };
    wharf_slot *saved_top = ex->host_top;
    ex->host_top = sp + frame_slots(f->type);
    ex->depth++;
    wharf_status s = f->host(&c, f->user, sp);
    ex->depth--;
    ex->host_top = saved_top;
    if (s != WHARF_OK && ex->err->status == WHARF_OK) {
        wh_error_set(ex->err, s, WHARF_NO_OFFSET, "host function failed: %s",
                     wharf_status_name(s));
        if (s == WHARF_ERR_TRAP)
            ex->err->trap = WHARF_TRAP_HOST;
    }
    return s;
}

wharf_status wh_rt_invoke(wh_exec *ex, wharf_func *f, wharf_slot *sp)
{
    if (!f->code)
        return call_host(ex, f, sp);
    wharf_instance *prev = ex->current;
    ex->current = f->inst;
    wharf_status s = wh_interp_call(ex, f, sp);
    ex->current = prev;
    return s;
}

wharf_instance *wharf_caller_instance(wharf_caller *c)
{
    return c->inst;
}

void *wharf_caller_user(wharf_caller *c)
{
    return c->inst ? wharf_instance_user(c->inst) : NULL;
}

uint8_t *wharf_caller_memory(wharf_caller *c, size_t *len)
{
    wharf_memory *m = c->inst ? c->inst->mem0 : NULL;
    *len = m ? (size_t)m->size : 0;
    return m ? m->base : NULL;
}

wharf_status wharf_caller_trap(wharf_caller *c, const char *fmt, ...)
{
    wharf_error *e = c->ex->err;
    wh_rt_trap_error(e, WHARF_TRAP_HOST);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return WHARF_ERR_TRAP;
}

wharf_status wharf_caller_exit(wharf_caller *c, int code)
{
    wharf_error *e = c->ex->err;
    wh_error_set(e, WHARF_ERR_EXIT, WHARF_NO_OFFSET, "exit with code %d", code);
    e->exit_code = code;
    return WHARF_ERR_EXIT;
}

uint64_t wharf_caller_deadline(wharf_caller *c)
{
    return c->ex->deadline_ns;
}

wharf_status wharf_caller_check(wharf_caller *c)
{
    return check_interrupt_and_deadline(c->ex);
}

/* Cheaper than wh_error_set: calls are hot, formatting an empty message
 * is not needed. */
static void error_clear(wharf_error *err)
{
    err->status = WHARF_OK;
    err->trap = WHARF_TRAP_NONE;
    err->offset = WHARF_NO_OFFSET;
    err->func_index = WHARF_NO_FUNC;
    err->exit_code = 0;
    err->message[0] = 0;
}

static wharf_status check_args(const wharf_func *f, const wharf_val *args,
                               uint32_t nargs, uint32_t nresults, wharf_error *err)
{
    const wh_functype *t = f->type;
    if (nargs != t->nparams || nresults < t->nresults)
        return wh_error_set(err, WHARF_ERR_ARG, WHARF_NO_OFFSET,
                            "expected %u arguments and room for %u results",
                            t->nparams, t->nresults);
    for (uint32_t i = 0; i < nargs; i++)
        if ((uint8_t)args[i].kind != t->params[i])
            return wh_error_set(err, WHARF_ERR_ARG, WHARF_NO_OFFSET,
                                "argument %u has the wrong type", i);
    return WHARF_OK;
}

/* The value stack is allocated at the first call, not at instantiation,
 * so instances that are never called stay cheap. */
static wharf_status stack_alloc(wharf_instance *inst, wharf_error *err)
{
    wh_exec *ex = &inst->exec;
    size_t n = inst->engine->cfg.stack_bytes / sizeof(wharf_slot);
    ex->stack = wh_realloc(&inst->engine->alloc, NULL, n * sizeof(wharf_slot));
    if (!ex->stack)
        return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET, "out of memory");
    ex->stack_end = ex->stack + n;
    return WHARF_OK;
}

static wharf_status run(wharf_instance *inst, wharf_func *f, wharf_slot *sp,
                        wharf_error *err)
{
    wh_exec *ex = &inst->exec;
    bool outer = ex->entry == NULL;
    wharf_error *saved_err = ex->err;
    ex->err = err;
    if (outer)
        limits_begin(inst);
    wharf_status s = wh_rt_invoke(ex, f, sp);
    if (outer)
        limits_end(inst);
    ex->err = saved_err;
    return s;
}

wharf_status wharf_call(wharf_instance *inst, wharf_func *f,
                        const wharf_val *args, uint32_t nargs,
                        wharf_val *results, uint32_t nresults,
                        wharf_error *err)
{
    wh_exec *ex = &inst->exec;
    if (!err)
        err = &ex->scratch_err;
    error_clear(err);
    wharf_status s = check_args(f, args, nargs, nresults, err);
    if (s == WHARF_OK && !ex->stack)
        s = stack_alloc(inst, err);
    if (s != WHARF_OK)
        return s;
    wharf_slot *sp = ex->entry ? ex->host_top : ex->stack;
    const wh_functype *t = f->type;
    if (!sp || (size_t)(ex->stack_end - sp) < frame_slots(t))
        return wh_rt_trap_error(err, WHARF_TRAP_STACK_EXHAUSTED);
    for (uint32_t i = 0, at = 0; i < nargs; i++) {
        wh_rt_val_set(&args[i], sp + at);
        at += wh_valtype_slots(t->params[i]);
    }
    s = run(inst, f, sp, err);
    if (s != WHARF_OK) {
        if (err->status == WHARF_OK)
            wh_error_set(err, s, WHARF_NO_OFFSET, "%s", wharf_status_name(s));
        return s;
    }
    for (uint32_t i = 0, at = 0; i < t->nresults; i++) {
        results[i] = wh_rt_val_get(t->results[i], sp + at);
        at += wh_valtype_slots(t->results[i]);
    }
    return WHARF_OK;
}
