/* runtime_test.c: unit tests of the runtime through the public API:
 * externs, the linker and import matching, instantiation failures,
 * calls, host-function traps and exits, trap messages, and the limits
 * (memory, call depth, fuel, timeout, interrupt from another thread).
 * The modules are tiny; their text form is above each byte array. */
#include "../../include/wharf.h"
#include "../test.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* (module
 *   (import "env" "host" (func $host (param i32) (result i32)))
 *   (memory (export "mem") 1 4)
 *   (global (export "g") (mut i32) (i32.const 42))
 *   (func $divider (export "div") (param i32 i32) (result i32)
 *     local.get 0 local.get 1 i32.div_s)
 *   (func (export "grow") (param i32) (result i32)
 *     local.get 0 memory.grow)
 *   (func (export "call_host") (param i32) (result i32)
 *     local.get 0 call $host)
 *   (func (export "spin") (loop br 0))
 *   (func $rec (export "recurse") (param i32) (result i32)
 *     local.get 0 i32.const 1 i32.add call $rec)
 *   (func (export "mix") (param i64 f64) (result f64 i64)
 *     local.get 0 f64.convert_i64_s local.get 1 f64.add
 *     local.get 0 i64.const 1 i64.add)) */
static const uint8_t main_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x16, 0x04, 0x60,
    0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x00,
    0x00, 0x60, 0x02, 0x7e, 0x7c, 0x02, 0x7c, 0x7e, 0x02, 0x0c, 0x01, 0x03,
    0x65, 0x6e, 0x76, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x00, 0x00, 0x03, 0x07,
    0x06, 0x01, 0x00, 0x00, 0x02, 0x00, 0x03, 0x05, 0x04, 0x01, 0x01, 0x01,
    0x04, 0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x2a, 0x0b, 0x07, 0x3b, 0x08,
    0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01, 0x67, 0x03, 0x00, 0x03, 0x64,
    0x69, 0x76, 0x00, 0x01, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x02, 0x09,
    0x63, 0x61, 0x6c, 0x6c, 0x5f, 0x68, 0x6f, 0x73, 0x74, 0x00, 0x03, 0x04,
    0x73, 0x70, 0x69, 0x6e, 0x00, 0x04, 0x07, 0x72, 0x65, 0x63, 0x75, 0x72,
    0x73, 0x65, 0x00, 0x05, 0x03, 0x6d, 0x69, 0x78, 0x00, 0x06, 0x0a, 0x37,
    0x06, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6d, 0x0b, 0x06, 0x00, 0x20,
    0x00, 0x40, 0x00, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x10, 0x00, 0x0b, 0x07,
    0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b, 0x09, 0x00, 0x20, 0x00, 0x41,
    0x01, 0x6a, 0x10, 0x05, 0x0b, 0x0d, 0x00, 0x20, 0x00, 0xb9, 0x20, 0x01,
    0xa0, 0x20, 0x00, 0x42, 0x01, 0x7c, 0x0b, 0x00, 0x2d, 0x04, 0x6e, 0x61,
    0x6d, 0x65, 0x01, 0x15, 0x03, 0x00, 0x04, 0x68, 0x6f, 0x73, 0x74, 0x01,
    0x07, 0x64, 0x69, 0x76, 0x69, 0x64, 0x65, 0x72, 0x05, 0x03, 0x72, 0x65,
    0x63, 0x02, 0x0f, 0x07, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00,
    0x04, 0x00, 0x05, 0x00, 0x06, 0x00,
};

/* (module (memory 1) (data (i32.const 65535) "xy")) */
static const uint8_t baddata_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x03, 0x01, 0x00,
    0x01, 0x0b, 0x0a, 0x01, 0x00, 0x41, 0xff, 0xff, 0x03, 0x0b, 0x02, 0x78,
    0x79, 0x00, 0x08, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x02, 0x01, 0x00,
};

/* (module
 *   (import "env" "tab" (table 2 funcref))
 *   (func $f (result i32) i32.const 7)
 *   (elem (i32.const 0) $f)
 *   (elem (i32.const 2) $f)) */
static const uint8_t badelem_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60,
    0x00, 0x01, 0x7f, 0x02, 0x0d, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x03, 0x74,
    0x61, 0x62, 0x01, 0x70, 0x00, 0x02, 0x03, 0x02, 0x01, 0x00, 0x09, 0x0d,
    0x02, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00, 0x00, 0x41, 0x02, 0x0b, 0x01,
    0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x07, 0x0b, 0x00, 0x10, 0x04,
    0x6e, 0x61, 0x6d, 0x65, 0x01, 0x04, 0x01, 0x00, 0x01, 0x66, 0x02, 0x03,
    0x01, 0x00, 0x00,
};

/* (module (func $s unreachable) (start $s)) */
static const uint8_t start_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60,
    0x00, 0x00, 0x03, 0x02, 0x01, 0x00, 0x08, 0x01, 0x00, 0x0a, 0x05, 0x01,
    0x03, 0x00, 0x00, 0x0b, 0x00, 0x10, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x01,
    0x04, 0x01, 0x00, 0x01, 0x73, 0x02, 0x03, 0x01, 0x00, 0x00,
};

/* (module (import "env" "mem" (memory 1 2))) */
static const uint8_t impmem_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x02, 0x0d, 0x01, 0x03,
    0x65, 0x6e, 0x76, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x01, 0x01, 0x02, 0x00,
    0x08, 0x04, 0x6e, 0x61, 0x6d, 0x65, 0x02, 0x01, 0x00,
};

/* An allocator hook that counts live blocks, to prove everything is freed. */
static void *counting_alloc(void *user, void *ptr, size_t size)
{
    long *live = user;
    if (size == 0) {
        *live -= ptr != NULL;
        free(ptr);
        return NULL;
    }
    *live += ptr == NULL;
    return realloc(ptr, size);
}

static wharf_status host_double(wharf_caller *c, void *user, wharf_slot *slots)
{
    int32_t x = (int32_t)slots[0];
    (void)user;
    if (x < 0)
        return wharf_caller_trap(c, "negative: %d", x);
    if (x == 99)
        return wharf_caller_exit(c, 7);
    if (x == 50) {
        /* Reentry: call back into the calling instance. */
        wharf_instance *inst = wharf_caller_instance(c);
        wharf_func *div;
        wharf_val args[2] = { { .kind = WHARF_I32, .of.i32 = 100 },
                              { .kind = WHARF_I32, .of.i32 = 5 } };
        wharf_val r;
        wharf_status s = wharf_instance_func(inst, "div", &div);
        if (s == WHARF_OK)
            s = wharf_call(inst, div, args, 2, &r, 1, NULL);
        slots[0] = (uint32_t)r.of.i32;
        return s;
    }
    size_t len;
    uint8_t *mem = wharf_caller_memory(c, &len);
    if (mem && len)
        mem[0] = 0xab;
    slots[0] = (uint32_t)(x * 2);
    return WHARF_OK;
}

static const wharf_valkind i32_1[] = { WHARF_I32 };

typedef struct fixture {
    wharf_engine *e;
    wharf_linker *l;
    wharf_module *m;
    wharf_instance *inst;
} fixture;

static wharf_status load(wharf_engine *e, const uint8_t *b, size_t n, wharf_module **m)
{
    wharf_error err;
    wharf_status s = wharf_module_new(e, b, n, m, &err);
    CHECK(s == WHARF_OK, "module_new: %s", err.message);
    return s;
}

/* The main module instantiated with env.host and the given limits. */
static bool setup(fixture *f, const wharf_limits *lim)
{
    memset(f, 0, sizeof *f);
    wharf_error err;
    if (wharf_engine_new(NULL, &f->e) != WHARF_OK ||
        wharf_linker_new(f->e, &f->l) != WHARF_OK ||
        wharf_linker_define_func(f->l, "env", "host", i32_1, 1, i32_1, 1,
                                 host_double, NULL) != WHARF_OK)
        return false;
    if (load(f->e, main_wasm, sizeof main_wasm, &f->m) != WHARF_OK)
        return false;
    wharf_status s = wharf_instance_new(f->m, f->l, lim, &f->inst, &err);
    CHECK(s == WHARF_OK, "instance_new: %s", err.message);
    return s == WHARF_OK;
}

static void teardown(fixture *f)
{
    wharf_instance_free(f->inst);
    wharf_module_free(f->m);
    wharf_linker_free(f->l);
    wharf_engine_free(f->e);
}

/* Calls export `name` with i32 args; returns the status, result in *r. */
static wharf_status call_i32(wharf_instance *inst, const char *name, int32_t a,
                             int32_t b, uint32_t nargs, int32_t *r, wharf_error *err)
{
    wharf_func *fn;
    wharf_val args[2] = { { .kind = WHARF_I32, .of.i32 = a },
                          { .kind = WHARF_I32, .of.i32 = b } };
    wharf_val res[1];
    if (wharf_instance_func(inst, name, &fn) != WHARF_OK)
        return WHARF_ERR_NOT_FOUND;
    wharf_status s = wharf_call(inst, fn, args, nargs, res, 1, err);
    if (s == WHARF_OK && r)
        *r = res[0].of.i32;
    return s;
}

static void test_names(void)
{
    CHECK(!strcmp(wharf_status_name(WHARF_ERR_UNLINKABLE), "unlinkable"), "status name");
    CHECK(!strcmp(wharf_trap_name(WHARF_TRAP_DIV_ZERO), "integer divide by zero"),
          "trap name");
    CHECK(!strcmp(wharf_trap_name(WHARF_TRAP_STACK_EXHAUSTED), "call stack exhausted"),
          "trap name");
}

static void test_externs(void)
{
    wharf_engine *e;
    wharf_memory *mem;
    wharf_table *t;
    wharf_global *g;
    size_t len;
    CHECK(wharf_engine_new(NULL, &e) == WHARF_OK, "engine");
    CHECK(wharf_memory_new(e, 1, 2, true, &mem) == WHARF_OK, "memory_new");
    uint8_t *p = wharf_memory_data(mem, &len);
    CHECK(p && len == 65536 && p[0] == 0 && p[65535] == 0, "memory is one zeroed page");
    wharf_memory *bad;
    CHECK(wharf_memory_new(e, 3, 2, true, &bad) == WHARF_ERR_ARG && !bad, "min > max");
    CHECK(wharf_table_new(e, WHARF_I32, 1, 2, true, &t) == WHARF_ERR_ARG, "table kind");
    CHECK(wharf_table_new(e, WHARF_FUNCREF, 10, 20, true, &t) == WHARF_OK, "table_new");
    wharf_val v = { .kind = WHARF_F64, .of.f64 = 666.6 };
    CHECK(wharf_global_new(e, v, false, &g) == WHARF_OK, "global_new");
    wharf_val got = wharf_global_get(g);
    CHECK(got.kind == WHARF_F64 && got.of.f64 == 666.6, "global value");
    wharf_global_free(g);
    wharf_table_free(t);
    wharf_memory_free(mem);
    wharf_engine_free(e);
}

static void test_linking(void)
{
    fixture f;
    wharf_error err;
    wharf_instance *inst;
    memset(&f, 0, sizeof f);
    CHECK(wharf_engine_new(NULL, &f.e) == WHARF_OK, "engine");
    CHECK(wharf_linker_new(f.e, &f.l) == WHARF_OK, "linker");
    if (load(f.e, main_wasm, sizeof main_wasm, &f.m) != WHARF_OK)
        goto out;
    CHECK(wharf_instance_new(f.m, f.l, NULL, &inst, &err) == WHARF_ERR_UNLINKABLE &&
          !inst && strstr(err.message, "unknown import: env.host"), "missing: %s",
          err.message);
    CHECK(wharf_linker_define_func(f.l, "env", "host", i32_1, 1, NULL, 0, host_double,
                                   NULL) == WHARF_OK, "define");
    CHECK(wharf_instance_new(f.m, f.l, NULL, &inst, &err) == WHARF_ERR_UNLINKABLE &&
          strstr(err.message, "incompatible import type for env.host"), "type: %s",
          err.message);
    /* Memory limits: imported max must not exceed the declared max 2. */
    wharf_module *im;
    wharf_memory *big, *ok;
    if (load(f.e, impmem_wasm, sizeof impmem_wasm, &im) != WHARF_OK)
        goto out;
    CHECK(wharf_memory_new(f.e, 1, 4, true, &big) == WHARF_OK, "memory");
    CHECK(wharf_memory_new(f.e, 2, 2, true, &ok) == WHARF_OK, "memory");
    wharf_linker_define_memory(f.l, "env", "mem", big);
    CHECK(wharf_instance_new(im, f.l, NULL, &inst, &err) == WHARF_ERR_UNLINKABLE,
          "max 4 > 2 links: %s", err.message);
    wharf_linker_define_memory(f.l, "env", "mem", ok);
    CHECK(wharf_instance_new(im, f.l, NULL, &inst, &err) == WHARF_OK, "links: %s",
          err.message);
    wharf_instance_free(inst);
    wharf_module_free(im);
    wharf_memory_free(big);
    wharf_memory_free(ok);
out:
    teardown(&f);
}

static void test_bad_instances(void)
{
    wharf_engine *e;
    wharf_linker *l;
    wharf_table *tab;
    wharf_module *m;
    wharf_instance *inst;
    wharf_error err;
    CHECK(wharf_engine_new(NULL, &e) == WHARF_OK, "engine");
    CHECK(wharf_linker_new(e, &l) == WHARF_OK, "linker");
    if (load(e, baddata_wasm, sizeof baddata_wasm, &m) == WHARF_OK) {
        CHECK(wharf_instance_new(m, NULL, NULL, &inst, &err) == WHARF_ERR_TRAP &&
              err.trap == WHARF_TRAP_MEMORY_OOB, "data out of bounds: %s", err.message);
        wharf_module_free(m);
    }
    if (load(e, start_wasm, sizeof start_wasm, &m) == WHARF_OK) {
        CHECK(wharf_instance_new(m, NULL, NULL, &inst, &err) == WHARF_ERR_TRAP &&
              err.trap == WHARF_TRAP_UNREACHABLE, "start traps: %s", err.message);
        wharf_module_free(m);
    }
    /* The first segment's write to the imported table stays. */
    CHECK(wharf_table_new(e, WHARF_FUNCREF, 2, 2, true, &tab) == WHARF_OK, "table");
    wharf_linker_define_table(l, "env", "tab", tab);
    if (load(e, badelem_wasm, sizeof badelem_wasm, &m) == WHARF_OK) {
        CHECK(wharf_instance_new(m, l, NULL, &inst, &err) == WHARF_ERR_TRAP &&
              err.trap == WHARF_TRAP_TABLE_OOB, "elem out of bounds: %s", err.message);
        wharf_table_free(tab);
        wharf_module_free(m);
    }
    wharf_linker_free(l);
    wharf_engine_free(e);
}

static void test_calls(void)
{
    fixture f;
    wharf_error err;
    int32_t r = 0;
    if (!setup(&f, NULL))
        goto out;
    CHECK(call_i32(f.inst, "div", 7, 2, 2, &r, &err) == WHARF_OK && r == 3, "div");
    CHECK(call_i32(f.inst, "div", 7, 0, 2, &r, &err) == WHARF_ERR_TRAP &&
          err.trap == WHARF_TRAP_DIV_ZERO && strstr(err.message, "'divider'"),
          "trap names the function: %s", err.message);
    CHECK(call_i32(f.inst, "div", 7, 0, 1, &r, &err) == WHARF_ERR_ARG, "arity");
    CHECK(call_i32(f.inst, "call_host", 21, 0, 1, &r, &err) == WHARF_OK && r == 42,
          "host call");
    size_t len;
    uint8_t *mem = wharf_instance_memory(f.inst, &len);
    CHECK(mem && len == 65536 && mem[0] == 0xab, "host saw the caller's memory");
    CHECK(call_i32(f.inst, "call_host", -1, 0, 1, &r, &err) == WHARF_ERR_TRAP &&
          err.trap == WHARF_TRAP_HOST && !strcmp(err.message, "negative: -1"),
          "host trap: %s", err.message);
    CHECK(call_i32(f.inst, "call_host", 99, 0, 1, &r, &err) == WHARF_ERR_EXIT &&
          err.exit_code == 7, "host exit");
    CHECK(call_i32(f.inst, "call_host", 50, 0, 1, &r, &err) == WHARF_OK && r == 20,
          "host function calls back in: %s", err.message);
    CHECK(call_i32(f.inst, "recurse", 0, 0, 1, &r, &err) == WHARF_ERR_TRAP &&
          err.trap == WHARF_TRAP_STACK_EXHAUSTED, "recursion: %s", err.message);
    wharf_func *mix;
    wharf_val args[2] = { { .kind = WHARF_I64, .of.i64 = 1 }, { .kind = WHARF_F64, .of.f64 = 0.5 } };
    wharf_val res[2];
    CHECK(wharf_instance_func(f.inst, "mix", &mix) == WHARF_OK &&
          wharf_call(f.inst, mix, args, 2, res, 2, &err) == WHARF_OK &&
          res[0].kind == WHARF_F64 && res[0].of.f64 == 1.5 && res[1].of.i64 == 2,
          "multi-value: %s", err.message);
    wharf_global *g;
    CHECK(wharf_instance_global(f.inst, "g", &g) == WHARF_OK &&
          wharf_global_get(g).of.i32 == 42, "global export");
    CHECK(wharf_instance_global(f.inst, "div", &g) == WHARF_ERR_NOT_FOUND, "kind");
out:
    teardown(&f);
}

static void test_introspection(void)
{
    wharf_engine *e;
    wharf_module *m;
    wharf_extern_info info;
    const wharf_valkind *p, *r;
    uint32_t np, nr;
    CHECK(wharf_engine_new(NULL, &e) == WHARF_OK, "engine");
    if (load(e, main_wasm, sizeof main_wasm, &m) == WHARF_OK) {
        CHECK(wharf_module_import_count(m) == 1 && wharf_module_export_count(m) == 8,
              "counts");
        wharf_module_import(m, 0, &info);
        CHECK(info.kind == WHARF_EXTERN_FUNC && info.module_len == 3 &&
              !memcmp(info.module, "env", 3) && info.name_len == 4, "import");
        wharf_module_export(m, 0, &info);
        CHECK(info.kind == WHARF_EXTERN_MEMORY && info.name_len == 3 &&
              !memcmp(info.name, "mem", 3), "export");
        CHECK(wharf_module_func_type(m, 6, &p, &np, &r, &nr) && np == 2 && nr == 2 &&
              p[0] == WHARF_I64 && p[1] == WHARF_F64 && r[0] == WHARF_F64 &&
              r[1] == WHARF_I64, "func type");
        CHECK(!wharf_module_func_type(m, 7, &p, &np, &r, &nr), "out of range");
        wharf_module_free(m);
    }
    wharf_engine_free(e);
}

static void test_memory_limit(void)
{
    fixture f;
    wharf_error err;
    int32_t r = 0;
    wharf_limits lim = { .max_memory_bytes = 2 * 65536 };
    if (!setup(&f, &lim))
        goto out;
    CHECK(call_i32(f.inst, "grow", 1, 0, 1, &r, &err) == WHARF_OK && r == 1, "grow 1");
    CHECK(call_i32(f.inst, "grow", 1, 0, 1, &r, &err) == WHARF_OK && r == -1,
          "grow past the limit: %d", r);
    size_t len;
    wharf_instance_memory(f.inst, &len);
    CHECK(len == 2 * 65536, "two pages");
out:
    teardown(&f);
}

static void test_fuel_and_timeout(void)
{
    fixture f;
    wharf_error err;
    wharf_limits lim = { .fuel = 100000 };
    if (!setup(&f, &lim))
        goto out;
    CHECK(call_i32(f.inst, "spin", 0, 0, 0, NULL, &err) == WHARF_ERR_TRAP &&
          err.trap == WHARF_TRAP_FUEL, "fuel: %s", err.message);
    CHECK(wharf_instance_fuel(f.inst) == 0, "no fuel left");
    wharf_instance_set_fuel(f.inst, 1000);
    int32_t r;
    CHECK(call_i32(f.inst, "div", 6, 3, 2, &r, &err) == WHARF_OK, "short call");
    uint64_t left = wharf_instance_fuel(f.inst);
    CHECK(left > 0 && left < 1000, "fuel charged: %llu", (unsigned long long)left);
    wharf_instance_set_fuel(f.inst, 0);
    wharf_instance_set_timeout(f.inst, 20000000);
    CHECK(call_i32(f.inst, "spin", 0, 0, 0, NULL, &err) == WHARF_ERR_TRAP &&
          err.trap == WHARF_TRAP_DEADLINE, "timeout: %s", err.message);
out:
    teardown(&f);
}

static void *interrupter(void *arg)
{
    struct timespec ts = { 0, 20000000 };
    nanosleep(&ts, NULL);
    wharf_instance_interrupt(arg);
    return NULL;
}

static void test_interrupt(void)
{
    fixture f;
    wharf_error err;
    pthread_t th;
    if (!setup(&f, NULL))
        goto out;
    pthread_create(&th, NULL, interrupter, f.inst);
    CHECK(call_i32(f.inst, "spin", 0, 0, 0, NULL, &err) == WHARF_ERR_TRAP &&
          err.trap == WHARF_TRAP_INTERRUPT, "interrupt: %s", err.message);
    pthread_join(th, NULL);
    /* Requested before the call: the next call stops too, then it is clear. */
    wharf_instance_interrupt(f.inst);
    CHECK(call_i32(f.inst, "spin", 0, 0, 0, NULL, &err) == WHARF_ERR_TRAP &&
          err.trap == WHARF_TRAP_INTERRUPT, "pending interrupt: %s", err.message);
    int32_t r;
    CHECK(call_i32(f.inst, "div", 6, 3, 2, &r, &err) == WHARF_OK && r == 2, "cleared");
out:
    teardown(&f);
}

static void test_allocator(void)
{
    long live = 0;
    wharf_config cfg = { .alloc = counting_alloc, .alloc_user = &live };
    wharf_engine *e;
    wharf_linker *l;
    wharf_module *m;
    wharf_instance *inst;
    wharf_error err;
    CHECK(wharf_engine_new(&cfg, &e) == WHARF_OK && live > 0, "engine uses the hook");
    CHECK(wharf_linker_new(e, &l) == WHARF_OK, "linker");
    wharf_linker_define_func(l, "env", "host", i32_1, 1, i32_1, 1, host_double, NULL);
    if (load(e, main_wasm, sizeof main_wasm, &m) == WHARF_OK) {
        if (wharf_instance_new(m, l, NULL, &inst, &err) == WHARF_OK) {
            int32_t r;
            call_i32(inst, "call_host", 1, 0, 1, &r, &err);
            wharf_instance_free(inst);
        }
        wharf_module_free(m);
    }
    wharf_linker_free(l);
    wharf_engine_free(e);
    CHECK(live == 0, "%ld blocks left", live);
}

int main(void)
{
    test_names();
    test_externs();
    test_linking();
    test_bad_instances();
    test_calls();
    test_introspection();
    test_memory_limit();
    test_fuel_and_timeout();
    test_interrupt();
    test_allocator();
    return test_done();
}
