/* instance.c: the linker (names -> externs) and instantiation (spec 4.5.4):
 * import resolution and matching, pre-linked modules (imports resolved
 * once, for many instances), allocation of the module's own functions,
 * tables, memories and globals, constant expressions, element and data
 * segments, the start function; and export lookup.
 *
 * An instance owns everything in its arena plus the table element arrays,
 * memory mappings and value stack of its own (non-imported) objects. */
#include "runtimeInt.h"

#include <string.h>

/* ---- Linker ------------------------------------------------------------- */

typedef struct link_entry {
    wh_str module, name;          /* NUL-terminated copies in the arena */
    uint8_t kind;                 /* WH_EXT_* */
    union {
        wharf_func *func;
        wharf_table *table;
        wharf_memory *memory;
        wharf_global *global;
        void *any;
    } of;
} link_entry;

struct wharf_linker {
    wharf_engine *engine;
    wh_arena arena;               /* names and host functions */
    link_entry *entries;
    uint32_t n, cap;
};

wharf_status wharf_linker_new(wharf_engine *e, WHARF_OWN wharf_linker **out)
{
    *out = wh_alloc(&e->alloc, sizeof **out);
    if (!*out)
        return WHARF_ERR_NOMEM;
    (*out)->engine = e;
    wh_arena_init(&(*out)->arena, &e->alloc);
    return WHARF_OK;
}

void wharf_linker_free(WHARF_OWN wharf_linker *l)
{
    if (!l)
        return;
    const wh_allocator *a = &l->engine->alloc;
    wh_arena_free_all(&l->arena);
    wh_free(a, l->entries);
    wh_free(a, l);
}

static bool str_eq(wh_str a, wh_str b)
{
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

/* Linear: linkers hold tens of names (WASI, spectest), not thousands. */
static link_entry *linker_find(const wharf_linker *l, wh_str module, wh_str name)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (str_eq(l->entries[i].name, name) && str_eq(l->entries[i].module, module))
            return &l->entries[i];
    return NULL;
}

static bool str_copy(wharf_linker *l, wh_str s, wh_str *out)
{
    char *p = wh_arena_alloc(&l->arena, (size_t)s.len + 1);
    if (!p)
        return false;
    memcpy(p, s.ptr, s.len);
    p[s.len] = 0;
    *out = (wh_str){ p, s.len };
    return true;
}

static wh_str cstr(const char *s)
{
    size_t n = strlen(s);
    return (wh_str){ s, n < UINT32_MAX ? (uint32_t)n : UINT32_MAX };
}

/* Adds or replaces the definition of (module, name). Names are byte
 * strings: export names may even hold NUL bytes. */
static wharf_status define(wharf_linker *l, wh_str module, wh_str name,
                           uint8_t kind, void *obj)
{
    if (!obj)
        return WHARF_ERR_ARG;
    link_entry *e = linker_find(l, module, name);
    if (!e) {
        if (l->n == l->cap) {
            uint32_t cap = l->cap ? l->cap * 2 : 32;
            link_entry *p = wh_realloc(&l->engine->alloc, l->entries, cap * sizeof *p);
            if (!p)
                return WHARF_ERR_NOMEM;
            l->entries = p;
            l->cap = cap;
        }
        e = &l->entries[l->n];
        if (!str_copy(l, module, &e->module) || !str_copy(l, name, &e->name))
            return WHARF_ERR_NOMEM;
        l->n++;
    }
    e->kind = kind;
    e->of.any = obj;
    return WHARF_OK;
}

/* The public defines take C strings. */
static wharf_status define_c(wharf_linker *l, const char *module, const char *name,
                             uint8_t kind, void *obj)
{
    if (!module || !name)
        return WHARF_ERR_ARG;
    return define(l, cstr(module), cstr(name), kind, obj);
}

/* Builds the wh_functype and public kinds of a host function. */
static wharf_func *host_func(wharf_linker *l, const wharf_valkind *params, uint32_t np,
                             const wharf_valkind *results, uint32_t nr)
{
    wharf_func *f = wh_arena_alloc(&l->arena, sizeof *f);
    wh_functype *t = wh_arena_alloc(&l->arena, sizeof *t);
    uint8_t *types = wh_arena_alloc(&l->arena, (size_t)np + nr);
    wharf_valkind *kinds = wh_arena_alloc(&l->arena, ((size_t)np + nr) * sizeof *kinds);
    if (!f || !t || !types || !kinds)
        return NULL;
    for (uint32_t i = 0; i < np + nr; i++) {
        kinds[i] = i < np ? params[i] : results[i - np];
        types[i] = (uint8_t)kinds[i];
        if (i < np)
            t->param_slots += wh_valtype_slots(types[i]);
        else
            t->result_slots += wh_valtype_slots(types[i]);
    }
    t->nparams = np;
    t->nresults = nr;
    t->params = types;
    t->results = types + np;
    t->hash = wh_functype_hash(t);
    f->type = t;
    f->kinds = kinds;
    f->funcidx = WHARF_NO_FUNC;
    return f;
}

static bool kinds_ok(const wharf_valkind *k, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (k[i] != WHARF_I32 && k[i] != WHARF_I64 && k[i] != WHARF_F32 &&
            k[i] != WHARF_F64 && k[i] != WHARF_V128 && k[i] != WHARF_FUNCREF &&
            k[i] != WHARF_EXTERNREF)
            return false;
    return true;
}

wharf_status wharf_linker_define_func(wharf_linker *l, const char *module,
                                      const char *name,
                                      const wharf_valkind *params, uint32_t np,
                                      const wharf_valkind *results, uint32_t nr,
                                      wharf_host_fn fn, void *user)
{
    if (!fn || (np && !params) || (nr && !results) || !kinds_ok(params, np) ||
        !kinds_ok(results, nr))
        return WHARF_ERR_ARG;
    wharf_func *f = host_func(l, params, np, results, nr);
    if (!f)
        return WHARF_ERR_NOMEM;
    f->host = fn;
    f->user = user;
    return define_c(l, module, name, WH_EXT_FUNC, f);
}

wharf_status wharf_linker_define_memory(wharf_linker *l, const char *module,
                                        const char *name, wharf_memory *m)
{
    return define_c(l, module, name, WH_EXT_MEMORY, m);
}

wharf_status wharf_linker_define_table(wharf_linker *l, const char *module,
                                       const char *name, wharf_table *t)
{
    return define_c(l, module, name, WH_EXT_TABLE, t);
}

wharf_status wharf_linker_define_global(wharf_linker *l, const char *module,
                                        const char *name, wharf_global *g)
{
    return define_c(l, module, name, WH_EXT_GLOBAL, g);
}

void *wharf_linker_alloc(wharf_linker *l, size_t size)
{
    return wh_arena_alloc(&l->arena, size);
}

/* The extern that export `ex` of `inst` names. */
static void *export_obj(const wharf_instance *inst, const wh_export *ex)
{
    switch (ex->kind) {
    case WH_EXT_FUNC: return inst->funcs[ex->index];
    case WH_EXT_TABLE: return inst->tables[ex->index];
    case WH_EXT_MEMORY: return inst->memories[ex->index];
    default: return inst->globals[ex->index];
    }
}

wharf_status wharf_linker_define_instance(wharf_linker *l, const char *module,
                                          wharf_instance *inst)
{
    if (!module)
        return WHARF_ERR_ARG;
    const wharf_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wh_export *ex = &m->exports[i];
        wharf_status s = define(l, cstr(module), ex->name, ex->kind, export_obj(inst, ex));
        if (s != WHARF_OK)
            return s;
    }
    return WHARF_OK;
}

/* ---- Constant expressions ---------------------------------------------- */

/* Operand stack bound for constant expressions: far beyond what producers
 * emit; a deeper (extended-const) expression fails instantiation. */
#define CONST_STACK 64

/* The value pushed by a constant instruction; false for the others.
 * `inst` is NULL only for the instructions that do not need it. */
static bool const_push(const wharf_instance *inst, int op, wh_reader *r, wharf_slot *v)
{
    switch (op) {
    case WH_OP_I32_CONST: *v = (uint32_t)wh_rd_s32(r); return true;
    case WH_OP_I64_CONST: *v = (uint64_t)wh_rd_s64(r); return true;
    case WH_OP_F32_CONST: *v = wh_rd_f32(r); return true;
    case WH_OP_F64_CONST: *v = wh_rd_f64(r); return true;
    case WH_OP_REF_NULL: wh_rd_u8(r); *v = 0; return true;
    case WH_OP_REF_FUNC: *v = (uintptr_t)inst->funcs[wh_rd_u32(r)]; return true;
    case WH_OP_GLOBAL_GET: *v = inst->globals[wh_rd_u32(r)]->val[0]; return true;
    default: return false;
    }
}

/* The extended-const arithmetic: i32/i64 add, sub and mul, wrapping. */
static wharf_slot const_arith(int op, wharf_slot a, wharf_slot b)
{
    switch (op) {
    case WH_OP_I32_ADD: return (uint32_t)(a + b);
    case WH_OP_I32_SUB: return (uint32_t)(a - b);
    case WH_OP_I32_MUL: return (uint32_t)a * (uint32_t)b;
    case WH_OP_I64_ADD: return a + b;
    case WH_OP_I64_SUB: return a - b;
    default: return a * b;
    }
}

/* Evaluates a validated constant expression (spec 3.3.10) of `m` in
 * `inst`, whose functions and the globals it may read are already in
 * place. False past CONST_STACK, or when `inst` is NULL and the
 * expression needs an instance. */
static bool eval_in(const wharf_module *m, const wharf_instance *inst, wh_expr e,
                    wharf_slot *out)
{
    wh_reader r = { m->bytes, m->bytes + e.off, m->bytes + e.off + e.len, NULL, 0 };
    wharf_slot st[CONST_STACK];
    uint32_t n = 0;
    while (!r.err) {
        int op = wh_op_lookup(0, wh_rd_u8(&r));
        wharf_slot v;
        if (op == WH_OP_END)
            break;
        if (!inst && (op == WH_OP_GLOBAL_GET || op == WH_OP_REF_FUNC))
            return false;
        if (const_push(inst, op, &r, &v)) {
            if (n == CONST_STACK)
                return false;
            st[n++] = v;
        } else if (WH_ALWAYS(n >= 2)) {
            n--;
            st[n - 1] = const_arith(op, st[n - 1], st[n]);
        }
    }
    *out = n ? st[n - 1] : 0;
    return n == 1 && !r.err;
}

static bool eval_const(const wharf_instance *inst, wh_expr e, wharf_slot *out)
{
    return eval_in(inst->module, inst, e, out);
}

bool wh_rt_const_fixed(const wharf_module *m, wh_expr e, wharf_slot *out)
{
    return eval_in(m, NULL, e, out);
}

void *wh_rt_elem_item(const wharf_instance *inst, const wh_elem *e, uint32_t i)
{
    if (e->funcidx)
        return inst->funcs[e->funcidx[i]];
    wharf_slot v = 0;
    eval_const(inst, e->exprs[i], &v);
    return (void *)(uintptr_t)v;
}

static wharf_status too_complex(wharf_error *err)
{
    return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET,
                        "constant expression too deep");
}

/* ---- Instantiation ----------------------------------------------------- */

/* A module with its imports resolved (the public API's pre). */
struct wharf_instance_pre {
    wharf_module *module;
    void *externs[];              /* per import of the module, in order */
};

static wharf_status instance_alloc(wharf_module *m, const wharf_limits *lim,
                                   wh_rt_instance **out, wharf_error *err)
{
    wharf_engine *e = m->engine;
    wh_rt_instance *ri = wh_alloc(&e->alloc, sizeof *ri);
    *out = ri;
    if (!ri)
        return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET, "out of memory");
    wharf_instance *inst = &ri->inst;
    inst->module = m;
    inst->engine = e;
    wh_arena_init(&inst->arena, &e->alloc);
    if (lim)
        inst->limits = *lim;
    uint64_t max_bytes = (uint64_t)WH_MAX_PAGES * WH_PAGE_SIZE;
    if (!inst->limits.max_memory_bytes)
        inst->limits.max_memory_bytes = e->cfg.max_memory_bytes;
    if (inst->limits.max_memory_bytes > max_bytes)
        inst->limits.max_memory_bytes = max_bytes;
    if (!inst->limits.max_call_depth)
        inst->limits.max_call_depth = e->cfg.max_call_depth;
    inst->fuel = inst->limits.fuel;
    ri->table_from = m->ntable_imports;
    ri->ntables = m->ntables;
    ri->memory_from = m->nmemory_imports;
    ri->nmemories = m->nmemories;
    wh_arena *a = &inst->arena;
    inst->funcs = wh_arena_alloc(a, (size_t)m->nfuncs * sizeof *inst->funcs);
    inst->tables = wh_arena_alloc(a, (size_t)m->ntables * sizeof *inst->tables);
    inst->memories = wh_arena_alloc(a, (size_t)m->nmemories * sizeof *inst->memories);
    inst->globals = wh_arena_alloc(a, (size_t)m->nglobals * sizeof *inst->globals);
    inst->elem_dropped = wh_arena_alloc(a, m->nelems);
    inst->data_dropped = wh_arena_alloc(a, m->ndatas);
    if (!inst->funcs || !inst->tables || !inst->memories || !inst->globals ||
        !inst->elem_dropped || !inst->data_dropped)
        return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET, "out of memory");
    return WHARF_OK;
}

/* Import subtyping of limits (spec 4.5.2): at least the declared minimum,
 * and a maximum no larger than the declared one when one is declared. */
static bool limits_match(uint64_t min, bool has_max, uint64_t max, const wh_limits *want)
{
    if (min < want->min)
        return false;
    return !want->has_max || (has_max && max <= want->max);
}

static bool import_matches(const wharf_module *m, const wh_import *im, const link_entry *e)
{
    if (e->kind != im->kind)
        return false;
    switch (im->kind) {
    case WH_EXT_FUNC:
        return wh_functype_equal(m->funcs[im->index].type, e->of.func->type);
    case WH_EXT_TABLE: {
        const wharf_table *t = e->of.table;
        const wh_tabletype *want = &m->tables[im->index].type;
        return t->reftype == want->reftype &&
               limits_match(t->size, t->max != UINT32_MAX, t->max, &want->limits);
    }
    case WH_EXT_MEMORY: {
        const wh_rt_memory *rm = wh_rt_memory_of(e->of.memory);
        return limits_match(rm->mem.pages, rm->has_max, rm->max,
                            &m->memories[im->index].limits);
    }
    default: {
        const wh_globaltype *want = &m->globals[im->index].type;
        return e->of.global->valtype == want->valtype && e->of.global->mut == want->mut;
    }
    }
}

/* The extern `l` defines for import `im`, checked against its type; NULL
 * with UNLINKABLE in `err` when there is none or it does not match. */
static void *resolve(const wharf_module *m, const wharf_linker *l,
                     const wh_import *im, wharf_error *err)
{
    const link_entry *e = l ? linker_find(l, im->module, im->name) : NULL;
    if (e && import_matches(m, im, e))
        return e->of.any;
    wh_error_set(err, WHARF_ERR_UNLINKABLE, WHARF_NO_OFFSET, "%s %.*s.%.*s",
                 e ? "incompatible import type for" : "unknown import:",
                 (int)im->module.len, im->module.ptr, (int)im->name.len, im->name.ptr);
    return NULL;
}

static void bind_import(wharf_instance *inst, const wh_import *im, void *obj)
{
    switch (im->kind) {
    case WH_EXT_FUNC: inst->funcs[im->index] = obj; break;
    case WH_EXT_TABLE: inst->tables[im->index] = obj; break;
    case WH_EXT_MEMORY: inst->memories[im->index] = obj; break;
    default: inst->globals[im->index] = obj; break;
    }
}

/* Imports come from the linker, or already resolved from a pre. */
static wharf_status resolve_imports(wharf_instance *inst, const wharf_linker *l,
                                    const wharf_instance_pre *pre, wharf_error *err)
{
    const wharf_module *m = inst->module;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wh_import *im = &m->imports[i];
        void *obj = pre ? pre->externs[i] : resolve(m, l, im, err);
        if (!obj)
            return WHARF_ERR_UNLINKABLE;
        bind_import(inst, im, obj);
    }
    return WHARF_OK;
}

static wharf_status make_funcs(wharf_instance *inst, wharf_error *err)
{
    const wharf_module *m = inst->module;
    uint32_t n = m->nfuncs - m->nfunc_imports;
    wharf_func *fs = wh_arena_alloc(&inst->arena, (size_t)n * sizeof *fs);
    if (!fs)
        return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t idx = m->nfunc_imports + i;
        const wh_funcdecl *d = &m->funcs[idx];
        fs[i].type = d->type;
        fs[i].inst = inst;
        fs[i].funcidx = idx;
        fs[i].code = d->compiled;
        fs[i].kinds = m->kinds + m->kinds_at[d->typeidx];
        inst->funcs[idx] = &fs[i];
    }
    return WHARF_OK;
}

static wharf_status make_tables(wharf_instance *inst, wharf_error *err)
{
    const wharf_module *m = inst->module;
    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        const wh_tabletype *tt = &m->tables[i].type;
        wharf_table *t = wh_arena_alloc(&inst->arena, sizeof *t);
        if (!t || wh_rt_table_init(t, &inst->engine->alloc, tt->reftype, tt->limits.min,
                                   tt->limits.has_max ? tt->limits.max : UINT32_MAX))
            return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET,
                                "out of memory for table %u (%u elements)", i,
                                tt->limits.min);
        inst->tables[i] = t;
    }
    return WHARF_OK;
}

/* The instance's memory limit is folded into max_pages here, which is what
 * makes memory.grow return -1 past it. */
static wharf_status make_memories(wharf_instance *inst, wharf_error *err)
{
    const wharf_module *m = inst->module;
    uint64_t limit = inst->limits.max_memory_bytes / WH_PAGE_SIZE;
    for (uint32_t i = m->nmemory_imports; i < m->nmemories; i++) {
        const wh_limits *lim = &m->memories[i].limits;
        uint32_t cap = (uint32_t)(lim->has_max && lim->max < limit ? lim->max : limit);
        if (lim->min > cap)
            return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET,
                                "memory %u needs %u pages, more than the limit of %u",
                                i, lim->min, cap);
        wh_rt_memory *rm = wh_arena_alloc(&inst->arena, sizeof *rm);
        if (!rm || wh_rt_memory_init(rm, inst->engine, lim->min, cap, lim->has_max,
                                     lim->max))
            return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET,
                                "out of memory for memory %u", i);
        inst->memories[i] = &rm->mem;
    }
    inst->mem0 = m->nmemories ? inst->memories[0] : NULL;
    return WHARF_OK;
}

static wharf_status make_globals(wharf_instance *inst, wharf_error *err)
{
    const wharf_module *m = inst->module;
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        const wh_globaldecl *d = &m->globals[i];
        wharf_global *g = wh_arena_alloc(&inst->arena, sizeof *g);
        if (!g)
            return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET, "out of memory");
        g->valtype = d->type.valtype;
        g->mut = d->type.mut;
        inst->globals[i] = g;
        if (!eval_const(inst, d->init, &g->val[0]))
            return too_complex(err);
    }
    return WHARF_OK;
}

/* Active element segments run table.init then elem.drop, declarative ones
 * elem.drop (spec 4.5.4 steps 15-16). A segment out of bounds traps before
 * writing, but earlier segments' writes stay. *escaped records that this
 * instance's functions may now sit in an imported table. */
static wharf_status init_elems(wharf_instance *inst, bool *escaped, wharf_error *err)
{
    const wharf_module *m = inst->module;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wh_elem *el = &m->elems[i];
        if (el->mode == WH_SEG_PASSIVE)
            continue;
        inst->elem_dropped[i] = 1;
        if (el->mode == WH_SEG_DECLARATIVE)
            continue;
        wharf_table *t = inst->tables[el->table];
        wharf_slot off;
        if (!eval_const(inst, el->offset, &off))
            return too_complex(err);
        uint32_t d = (uint32_t)off;
        if ((uint64_t)d + el->count > t->size)
            return wh_rt_trap_error(err, WHARF_TRAP_TABLE_OOB);
        for (uint32_t j = 0; j < el->count; j++)
            t->elems[d + j] = wh_rt_elem_item(inst, el, j);
        if (el->table < m->ntable_imports && el->count)
            *escaped = true;
    }
    return WHARF_OK;
}

/* All active segments at once from the module's image: the same bytes in
 * the same place as the loop below, as every one of them is in bounds. */
static wharf_status init_image(wharf_instance *inst, const struct wh_rt_image *img,
                               wharf_error *err)
{
    const wharf_module *m = inst->module;
    for (uint32_t i = 0; i < m->ndatas; i++)
        inst->data_dropped[i] = m->datas[i].mode == WH_SEG_ACTIVE;
    if (!wh_rt_image_apply(img, wh_rt_memory_of(inst->memories[0])))
        return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET,
                            "cannot map the initial memory image");
    return WHARF_OK;
}

/* Active data segments run memory.init then data.drop (spec 4.5.4). */
static wharf_status init_datas(wharf_instance *inst, const struct wh_rt_image *img,
                               wharf_error *err)
{
    const wharf_module *m = inst->module;
    if (img && img->usable)
        return init_image(inst, img, err);
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wh_data *d = &m->datas[i];
        if (d->mode != WH_SEG_ACTIVE)
            continue;
        inst->data_dropped[i] = 1;
        wharf_memory *mem = inst->memories[d->memory];
        wharf_slot off;
        if (!eval_const(inst, d->offset, &off))
            return too_complex(err);
        uint32_t at = (uint32_t)off;
        if ((uint64_t)at + d->len > mem->size)
            return wh_rt_trap_error(err, WHARF_TRAP_MEMORY_OOB);
        memcpy(mem->base + at, m->bytes + d->off, d->len);
    }
    return WHARF_OK;
}

/* Instantiation proper, from the linker `l` or the pre-linked `pre`. */
static wharf_status build(wharf_instance *inst, const wharf_linker *l,
                          const wharf_instance_pre *pre, bool *escaped,
                          wharf_error *err)
{
    wharf_module *m = inst->module;
    wharf_status s = resolve_imports(inst, l, pre, err);
    if (s == WHARF_OK)
        s = make_funcs(inst, err);
    if (s == WHARF_OK)
        s = make_tables(inst, err);
    if (s == WHARF_OK)
        s = make_memories(inst, err);
    if (s == WHARF_OK)
        s = make_globals(inst, err);
    if (s == WHARF_OK)
        s = init_elems(inst, escaped, err);
    if (s == WHARF_OK)
        s = init_datas(inst, pre ? wh_rt_image_get(m) : NULL, err);
    if (s == WHARF_OK && m->has_start) {
        /* A trapping start function may have stored anything anywhere. */
        *escaped = true;
        s = wharf_call(inst, inst->funcs[m->start], NULL, 0, NULL, 0, err);
    }
    return s;
}

static wharf_status instantiate(wharf_module *m, const wharf_linker *l,
                                const wharf_instance_pre *pre,
                                const wharf_limits *limits, void *user,
                                WHARF_OWN wharf_instance **out, wharf_error *err)
{
    *out = NULL;
    wh_rt_instance *ri;
    bool escaped = false;
    wharf_status s = instance_alloc(m, limits, &ri, err);
    if (s == WHARF_OK) {
        ri->user = user;
        s = build(&ri->inst, l, pre, &escaped, err);
    }
    if (s == WHARF_OK) {
        *out = &ri->inst;
        return WHARF_OK;
    }
    if (ri && escaped) {
        /* Its functions may be reachable through imported tables: keep it
         * until the engine goes. */
        pthread_mutex_lock(&m->engine->lock);
        ri->next_zombie = m->engine->zombies;
        m->engine->zombies = ri;
        pthread_mutex_unlock(&m->engine->lock);
    } else if (ri) {
        wh_rt_instance_destroy(ri);
    }
    return s;
}

wharf_status wharf_instance_new(wharf_module *m, const wharf_linker *l,
                                const wharf_limits *limits,
                                WHARF_OWN wharf_instance **out, wharf_error *err)
{
    return instantiate(m, l, NULL, limits, NULL, out, err);
}

void wharf_instance_set_user(wharf_instance *inst, void *user)
{
    WH_CONTAINER(inst, wh_rt_instance, inst)->user = user;
}

void *wharf_instance_user(const wharf_instance *inst)
{
    return WH_CONTAINER(inst, const wh_rt_instance, inst)->user;
}

/* ---- Pre-linked modules -------------------------------------------------- */

wharf_status wharf_instance_pre_new(wharf_module *m, const wharf_linker *l,
                                    WHARF_OWN wharf_instance_pre **out,
                                    wharf_error *err)
{
    *out = NULL;
    wharf_instance_pre *pre = wh_alloc(&m->engine->alloc, sizeof *pre +
                                       (size_t)m->nimports * sizeof *pre->externs);
    if (!pre)
        return wh_error_set(err, WHARF_ERR_NOMEM, WHARF_NO_OFFSET, "out of memory");
    pre->module = m;
    for (uint32_t i = 0; i < m->nimports; i++) {
        if (!(pre->externs[i] = resolve(m, l, &m->imports[i], err))) {
            wharf_instance_pre_free(pre);
            return WHARF_ERR_UNLINKABLE;
        }
    }
    *out = pre;
    return WHARF_OK;
}

void wharf_instance_pre_free(WHARF_OWN wharf_instance_pre *pre)
{
    if (pre)
        wh_free(&pre->module->engine->alloc, pre);
}

wharf_status wharf_instance_pre_instantiate(wharf_instance_pre *pre,
                                            const wharf_limits *limits,
                                            void *user,
                                            WHARF_OWN wharf_instance **out,
                                            wharf_error *err)
{
    return instantiate(pre->module, NULL, pre, limits, user, out, err);
}

void wh_rt_instance_destroy(wh_rt_instance *ri)
{
    wharf_instance *inst = &ri->inst;
    const wh_allocator *a = &inst->engine->alloc;
    for (uint32_t i = ri->table_from; inst->tables && i < ri->ntables; i++)
        if (inst->tables[i])
            wh_free(a, inst->tables[i]->elems);
    for (uint32_t i = ri->memory_from; inst->memories && i < ri->nmemories; i++)
        if (inst->memories[i])
            wh_rt_memory_release(wh_rt_memory_of(inst->memories[i]));
    wh_free(a, inst->exec.stack);
    wh_arena_free_all(&inst->arena);
    wh_free(a, ri);
}

void wharf_instance_free(WHARF_OWN wharf_instance *inst)
{
    if (inst)
        wh_rt_instance_destroy(WH_CONTAINER(inst, wh_rt_instance, inst));
}

/* ---- Exports ----------------------------------------------------------- */

static void *find_export(wharf_instance *inst, wh_str n, uint8_t kind)
{
    const wharf_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wh_export *ex = &m->exports[i];
        if (ex->kind == kind && str_eq(ex->name, n))
            return export_obj(inst, ex);
    }
    return NULL;
}

wharf_status wharf_instance_func(wharf_instance *inst, const char *name,
                                 wharf_func **out)
{
    return wharf_instance_func_n(inst, name, strlen(name), out);
}

wharf_status wharf_instance_func_n(wharf_instance *inst, const char *name,
                                   size_t len, wharf_func **out)
{
    *out = len < UINT32_MAX ? find_export(inst, (wh_str){ name, (uint32_t)len },
                                          WH_EXT_FUNC) : NULL;
    return *out ? WHARF_OK : WHARF_ERR_NOT_FOUND;
}

wharf_status wharf_instance_global(wharf_instance *inst, const char *name,
                                   wharf_global **out)
{
    *out = find_export(inst, cstr(name), WH_EXT_GLOBAL);
    return *out ? WHARF_OK : WHARF_ERR_NOT_FOUND;
}

wharf_status wharf_instance_memory_export(wharf_instance *inst, const char *name,
                                          wharf_memory **out)
{
    *out = find_export(inst, cstr(name), WH_EXT_MEMORY);
    return *out ? WHARF_OK : WHARF_ERR_NOT_FOUND;
}

wharf_status wharf_instance_table_export(wharf_instance *inst, const char *name,
                                         wharf_table **out)
{
    *out = find_export(inst, cstr(name), WH_EXT_TABLE);
    return *out ? WHARF_OK : WHARF_ERR_NOT_FOUND;
}

uint8_t *wharf_instance_memory(wharf_instance *inst, size_t *len)
{
    *len = inst->mem0 ? (size_t)inst->mem0->size : 0;
    return inst->mem0 ? inst->mem0->base : NULL;
}
