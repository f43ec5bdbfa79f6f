/* interp_test.c: unit tests of the interpreter tier (compile.c + interp.c):
 * the shape of the internal code (operand fusion, compare-and-branch,
 * immediates), and semantics that the spec suite covers only loosely
 * (trap offsets, fuel determinism, deep recursion, parallel moves of
 * multi-value results).
 *
 *   interp_test            runs the tests
 *   interp_test FILE.wasm  prints the internal code of every function (a
 *                          debugging aid for the compiler)
 *
 * The modules are tiny; their text form is above each byte array. */
#include "../../src/wasm/interpInt.h"
#include "../test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Reading internal code back ---------------------------------------- */

static const char *const iop_names[WH_IOP_COUNT_] = {
#define IOP(name, units) [WH_IOP_##name] = #name,
#include "../../src/wasm/iops.def"
};

/* Units per instruction, the handler counted as one (as in iops.def). */
static const uint8_t iop_units[WH_IOP_COUNT_] = {
#define IOP(name, units) [WH_IOP_##name] = units,
#include "../../src/wasm/iops.def"
};

/* The internal op at code[pc], or -1. */
static int iop_at(const uint32_t *code, uint32_t pc)
{
    void *const *h = wh_interp_handlers();
    void *p;
    memcpy(&p, code + pc, sizeof p);
    for (int i = 0; i < WH_IOP_COUNT_; i++)
        if (h[i] == p)
            return i;
    return -1;
}

/* The length in units of the instruction at code[pc]. */
static uint32_t iop_len(const uint32_t *code, uint32_t pc, int iop)
{
    if (iop == WH_IOP_BR_TABLE)
        return 4 + code[pc + 3] + 1;
    if (iop == WH_IOP_MOVN)
        return 3 + 2 * code[pc + 2];
    if (iop == WH_IOP_MOVS_BR_L)
        return 5 + 2 * code[pc + 2];
    return iop_units[iop] + 1u;
}

/* Writes the op names of compiled function `c`, space-separated. */
static void ops_of(const wh_compiled *c, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = 0;
    for (uint32_t pc = 0; pc < c->ncode;) {
        int iop = iop_at(c->code, pc);
        if (iop < 0)
            break;
        used += (size_t)snprintf(out + used, used < cap ? cap - used : 0, "%s%s",
                                 used ? " " : "", iop_names[iop]);
        pc += iop_len(c->code, pc, iop);
    }
}

static void dump_func(const wharf_module *m, uint32_t i)
{
    const wh_compiled *c = m->funcs[i].compiled;
    printf("func %u %.*s: frame %u slots, rec %u, cost %d\n", i,
           (int)m->funcs[i].name.len, m->funcs[i].name.ptr, c->frame_slots,
           c->rec, c->cost);
    for (uint32_t pc = 0; pc < c->ncode;) {
        int iop = iop_at(c->code, pc);
        if (iop < 0) {
            printf("  %5u  ??\n", pc);
            return;
        }
        uint32_t n = iop_len(c->code, pc, iop);
        printf("  %5u  %-22s", pc, iop_names[iop]);
        for (uint32_t k = 2; k < n; k++)
            printf(" %d", (int32_t)c->code[pc + k]);
        printf("\n");
        pc += n;
    }
}

static int dump_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return perror(path), 2;
    static uint8_t buf[64 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    wharf_engine *e;
    wharf_module *m;
    wharf_error err;
    if (wharf_engine_new(NULL, &e) || wharf_module_new(e, buf, len, &m, &err))
        return fprintf(stderr, "%s: %s\n", path, err.message), 1;
    for (uint32_t i = 0; i < m->nfuncs; i++)
        if (m->funcs[i].compiled)
            dump_func(m, i);
    wharf_module_free(m);
    wharf_engine_free(e);
    return 0;
}

/* ---- Tests --------------------------------------------------------------- */

/*
 * (module
 *   (memory 1)
 *   (func (export "add_set") (param i32 i32) (result i32) (local i32)
 *     local.get 0 local.get 1 i32.add local.set 2 local.get 2)
 *   (func (export "count") (param i32 i32) (result i32)
 *     (loop (br_if 0 (i32.lt_s (local.tee 0 (i32.add (local.get 0) (i32.const 1))) (local.get 1))))
 *     local.get 0)
 *   (func (export "load_sum") (param i32 i32) (result i32)
 *     (i32.load offset=4 (i32.add (local.get 0) (local.get 1))))
 *   (func (export "swap") (param i32 i32) (result i32 i32)
 *     local.get 1 local.get 0)
 *   (func (export "div") (param i32 i32) (result i32)
 *     local.get 0 local.get 1 i32.div_s)
 *   (func $rec (export "rec") (param i32) (result i32)
 *     local.get 0 i32.const 1 i32.add call $rec)
 *   (func (export "if_params") (param i32 i32) (result i32)
 *     (i32.const 10) (local.get 0)
 *     (if (param i32) (result i32) (then (local.get 1) (i32.add)) (else (local.get 1) (i32.sub))))
 *   (func (export "old_local") (param i32) (result i32)
 *     local.get 0
 *     local.get 0 i32.const 1 i32.add
 *     (local.set 0 (i32.const 100))
 *     i32.sub)
 *   (func (export "table") (param i32) (result i32)
 *     (block (result i32)
 *       (block (result i32)
 *         (block (result i32)
 *           (i32.const 7) (local.get 0) (br_table 0 1 2 0))
 *         (i32.const 100) (i32.add) (return))
 *       (i32.const 200) (i32.add)))
 *   (func (export "loop_params") (param i32) (result i32)
 *     (i32.const 0) (local.get 0)
 *     (loop (param i32 i32) (result i32)
 *       (local.set 0)
 *       (i32.add (local.get 0))
 *       (local.get 0) (i32.const 1) (i32.sub)
 *       (local.tee 0)
 *       (br_if 0 (local.get 0))
 *       (drop)))
 *   (func (export "spin") (param i32)
 *     (loop (br_if 0 (local.tee 0 (i32.sub (local.get 0) (i32.const 1))))))
 *   (func (export "zero_init") (result i32) (local i32)
 *     (local.set 0 (i32.const 0)) local.get 0)
 *   (func (export "store_k") (param i32) (result i32)
 *     (i32.store8 offset=1 (local.get 0) (i32.const 300))
 *     (i32.load (local.get 0)))
 *   (func (export "muladd") (param f64 f64 f64) (result f64)
 *     (f64.add (local.get 2) (f64.mul (local.get 0) (local.get 1))))
 *   (func (export "add_xor") (param i32 i32 i32) (result i32)
 *     (i32.xor (i32.add (local.get 0) (local.get 1)) (local.get 2)))
 *   (func (export "shl_or") (param i32 i32) (result i32)
 *     (i32.or (i32.shl (local.get 0) (i32.const 3)) (local.get 1)))
 *   (func (export "load_sx") (param i32 i32) (result i32)
 *     (i32.load (i32.add (local.get 1) (i32.shl (local.get 0) (i32.const 2)))))
 *   (func (export "ret_add") (param i32 i32) (result i32)
 *     (i32.add (local.get 0) (local.get 1)))
 *   (func (export "f64_st") (param i32 f64 f64) (result f64)
 *     (f64.store (local.get 0) (f64.sub (local.get 1) (local.get 2)))
 *     (f64.load (local.get 0)))
 *   (func (export "two_incs") (param i32 i32) (result i32) (local i32)
 *     (loop
 *       (local.set 2 (i32.add (local.get 2) (i32.const 3)))
 *       (local.set 1 (i32.add (local.get 1) (i32.const 1)))
 *       (br_if 0 (local.tee 0 (i32.add (local.get 0) (i32.const -1)))))
 *     (i32.add (local.get 1) (local.get 2)))
 *   (func (export "copy8") (param i32 i32)
 *     (i32.store8 offset=2 (i32.add (local.get 0) (i32.const 1))
 *       (i32.load8_u offset=3 (i32.add (local.get 1) (i32.const 4)))))
 *   (func (export "peek8") (param i32) (result i32)
 *     (i32.load8_u (local.get 0)))
 *   (func (export "sh2") (param i32 i32) (result i32)
 *     (i32.or (i32.shr_u (local.get 0) (i32.const 24)) (i32.shl (local.get 1) (i32.const 8))))
 * )
 */
static const uint8_t test_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x35, 0x09, 0x60,
    0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7f, 0x02, 0x7f, 0x7f,
    0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x00, 0x60, 0x00, 0x01,
    0x7f, 0x60, 0x03, 0x7c, 0x7c, 0x7c, 0x01, 0x7c, 0x60, 0x03, 0x7f, 0x7f,
    0x7f, 0x01, 0x7f, 0x60, 0x03, 0x7f, 0x7c, 0x7c, 0x01, 0x7c, 0x60, 0x02,
    0x7f, 0x7f, 0x00, 0x03, 0x18, 0x17, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02,
    0x00, 0x02, 0x02, 0x02, 0x03, 0x04, 0x02, 0x05, 0x06, 0x00, 0x00, 0x00,
    0x07, 0x00, 0x08, 0x02, 0x00, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0xd6,
    0x01, 0x17, 0x07, 0x61, 0x64, 0x64, 0x5f, 0x73, 0x65, 0x74, 0x00, 0x00,
    0x05, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x00, 0x01, 0x08, 0x6c, 0x6f, 0x61,
    0x64, 0x5f, 0x73, 0x75, 0x6d, 0x00, 0x02, 0x04, 0x73, 0x77, 0x61, 0x70,
    0x00, 0x03, 0x03, 0x64, 0x69, 0x76, 0x00, 0x04, 0x03, 0x72, 0x65, 0x63,
    0x00, 0x05, 0x09, 0x69, 0x66, 0x5f, 0x70, 0x61, 0x72, 0x61, 0x6d, 0x73,
    0x00, 0x06, 0x09, 0x6f, 0x6c, 0x64, 0x5f, 0x6c, 0x6f, 0x63, 0x61, 0x6c,
    0x00, 0x07, 0x05, 0x74, 0x61, 0x62, 0x6c, 0x65, 0x00, 0x08, 0x0b, 0x6c,
    0x6f, 0x6f, 0x70, 0x5f, 0x70, 0x61, 0x72, 0x61, 0x6d, 0x73, 0x00, 0x09,
    0x04, 0x73, 0x70, 0x69, 0x6e, 0x00, 0x0a, 0x09, 0x7a, 0x65, 0x72, 0x6f,
    0x5f, 0x69, 0x6e, 0x69, 0x74, 0x00, 0x0b, 0x07, 0x73, 0x74, 0x6f, 0x72,
    0x65, 0x5f, 0x6b, 0x00, 0x0c, 0x06, 0x6d, 0x75, 0x6c, 0x61, 0x64, 0x64,
    0x00, 0x0d, 0x07, 0x61, 0x64, 0x64, 0x5f, 0x78, 0x6f, 0x72, 0x00, 0x0e,
    0x06, 0x73, 0x68, 0x6c, 0x5f, 0x6f, 0x72, 0x00, 0x0f, 0x07, 0x6c, 0x6f,
    0x61, 0x64, 0x5f, 0x73, 0x78, 0x00, 0x10, 0x07, 0x72, 0x65, 0x74, 0x5f,
    0x61, 0x64, 0x64, 0x00, 0x11, 0x06, 0x66, 0x36, 0x34, 0x5f, 0x73, 0x74,
    0x00, 0x12, 0x08, 0x74, 0x77, 0x6f, 0x5f, 0x69, 0x6e, 0x63, 0x73, 0x00,
    0x13, 0x05, 0x63, 0x6f, 0x70, 0x79, 0x38, 0x00, 0x14, 0x05, 0x70, 0x65,
    0x65, 0x6b, 0x38, 0x00, 0x15, 0x03, 0x73, 0x68, 0x32, 0x00, 0x16, 0x0a,
    0xe2, 0x02, 0x17, 0x0d, 0x01, 0x01, 0x7f, 0x20, 0x00, 0x20, 0x01, 0x6a,
    0x21, 0x02, 0x20, 0x02, 0x0b, 0x13, 0x00, 0x03, 0x40, 0x20, 0x00, 0x41,
    0x01, 0x6a, 0x22, 0x00, 0x20, 0x01, 0x48, 0x0d, 0x00, 0x0b, 0x20, 0x00,
    0x0b, 0x0a, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x28, 0x02, 0x04, 0x0b,
    0x06, 0x00, 0x20, 0x01, 0x20, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x20,
    0x01, 0x6d, 0x0b, 0x09, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x10, 0x05,
    0x0b, 0x10, 0x00, 0x41, 0x0a, 0x20, 0x00, 0x04, 0x02, 0x20, 0x01, 0x6a,
    0x05, 0x20, 0x01, 0x6b, 0x0b, 0x0b, 0x0f, 0x00, 0x20, 0x00, 0x20, 0x00,
    0x41, 0x01, 0x6a, 0x41, 0xe4, 0x00, 0x21, 0x00, 0x6b, 0x0b, 0x1e, 0x00,
    0x02, 0x7f, 0x02, 0x7f, 0x02, 0x7f, 0x41, 0x07, 0x20, 0x00, 0x0e, 0x03,
    0x00, 0x01, 0x02, 0x00, 0x0b, 0x41, 0xe4, 0x00, 0x6a, 0x0f, 0x0b, 0x41,
    0xc8, 0x01, 0x6a, 0x0b, 0x0b, 0x1a, 0x00, 0x41, 0x00, 0x20, 0x00, 0x03,
    0x00, 0x21, 0x00, 0x20, 0x00, 0x6a, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x22,
    0x00, 0x20, 0x00, 0x0d, 0x00, 0x1a, 0x0b, 0x0b, 0x0e, 0x00, 0x03, 0x40,
    0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b, 0x0b, 0x0a,
    0x01, 0x01, 0x7f, 0x41, 0x00, 0x21, 0x00, 0x20, 0x00, 0x0b, 0x0f, 0x00,
    0x20, 0x00, 0x41, 0xac, 0x02, 0x3a, 0x00, 0x01, 0x20, 0x00, 0x28, 0x02,
    0x00, 0x0b, 0x0a, 0x00, 0x20, 0x02, 0x20, 0x00, 0x20, 0x01, 0xa2, 0xa0,
    0x0b, 0x0a, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x20, 0x02, 0x73, 0x0b,
    0x0a, 0x00, 0x20, 0x00, 0x41, 0x03, 0x74, 0x20, 0x01, 0x72, 0x0b, 0x0d,
    0x00, 0x20, 0x01, 0x20, 0x00, 0x41, 0x02, 0x74, 0x6a, 0x28, 0x02, 0x00,
    0x0b, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b, 0x11, 0x00, 0x20,
    0x00, 0x20, 0x01, 0x20, 0x02, 0xa1, 0x39, 0x03, 0x00, 0x20, 0x00, 0x2b,
    0x03, 0x00, 0x0b, 0x23, 0x01, 0x01, 0x7f, 0x03, 0x40, 0x20, 0x02, 0x41,
    0x03, 0x6a, 0x21, 0x02, 0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01, 0x20,
    0x00, 0x41, 0x7f, 0x6a, 0x22, 0x00, 0x0d, 0x00, 0x0b, 0x20, 0x01, 0x20,
    0x02, 0x6a, 0x0b, 0x12, 0x00, 0x20, 0x00, 0x41, 0x01, 0x6a, 0x20, 0x01,
    0x41, 0x04, 0x6a, 0x2d, 0x00, 0x03, 0x3a, 0x00, 0x02, 0x0b, 0x07, 0x00,
    0x20, 0x00, 0x2d, 0x00, 0x00, 0x0b, 0x0d, 0x00, 0x20, 0x00, 0x41, 0x18,
    0x76, 0x20, 0x01, 0x41, 0x08, 0x74, 0x72, 0x0b,
};

static wharf_engine *engine;
static wharf_module *module;
static wharf_instance *inst;

/* The op names of exported function `name`, space-separated. */
static const char *ops(const char *name)
{
    static char buf[512];
    wharf_func *f = NULL;
    buf[0] = 0;
    if (wharf_instance_func(inst, name, &f) == WHARF_OK)
        ops_of(f->code, buf, sizeof buf);
    return buf;
}

/* Calls `name` with i32 arguments; returns the status, results in r. */
static wharf_status call_i32(const char *name, const int32_t *args, uint32_t n,
                             int32_t *r, uint32_t nr, wharf_error *err)
{
    wharf_val a[4], out[4];
    wharf_func *f;
    if (wharf_instance_func(inst, name, &f) != WHARF_OK)
        return WHARF_ERR_NOT_FOUND;
    for (uint32_t i = 0; i < n; i++)
        a[i] = (wharf_val){ .kind = WHARF_I32, .of.i32 = args[i] };
    wharf_status st = wharf_call(inst, f, a, n, out, nr, err);
    for (uint32_t i = 0; st == WHARF_OK && i < nr; i++)
        r[i] = out[i].of.i32;
    return st;
}

/* Calls `name` with as many of x, y, 0 as it takes; returns its one
 * result. */
static int32_t call1(const char *name, int32_t x, int32_t y)
{
    int32_t args[3] = { x, y, 0 }, r = -12345;
    wharf_func *f = NULL;
    const wharf_valkind *p, *res;
    uint32_t np = 0, nr;
    wharf_error err;
    if (wharf_instance_func(inst, name, &f) == WHARF_OK)
        wharf_func_type(f, &p, &np, &res, &nr);
    wharf_status st = call_i32(name, args, np, &r, 1, &err);
    CHECK(st == WHARF_OK, "%s(%d, %d): %s", name, x, y, err.message);
    return r;
}

/* Operands become slots: loads, adds and compares fuse. */
static void test_code_shape(void)
{
    CHECK(!strcmp(ops("add_set"), "I32_ADD RET1"), "add_set: %s", ops("add_set"));
    CHECK(!strcmp(ops("count"), "INC_IR_I32_LT_S RET1"), "count: %s", ops("count"));
    CHECK(!strcmp(ops("store_k"), "I32_STORE8_K I32_LOAD RET1"), "store_k: %s", ops("store_k"));
    CHECK(!strcmp(ops("muladd"), "F64_MULADD RET1"), "muladd: %s", ops("muladd"));
    CHECK(!strcmp(ops("add_xor"), "I32_ADD_I32_XOR RET1"), "add_xor: %s", ops("add_xor"));
    CHECK(!strcmp(ops("shl_or"), "I32_SHL_I_I32_OR RET1"), "shl_or: %s", ops("shl_or"));
    CHECK(!strcmp(ops("load_sx"), "I32_LOAD_SX RET1"), "load_sx: %s", ops("load_sx"));
    CHECK(!strcmp(ops("ret_add"), "RET_ADD"), "ret_add: %s", ops("ret_add"));
    CHECK(!strcmp(ops("f64_st"), "F64_SUB_ST F64_LOAD RET1"), "f64_st: %s", ops("f64_st"));
    CHECK(!strcmp(ops("two_incs"), "ADDI_ADDI INC_I_NZ32 RET_ADD"), "two_incs: %s",
          ops("two_incs"));
    CHECK(!strcmp(ops("copy8"), "COPY8 RET"), "copy8: %s", ops("copy8"));
    CHECK(!strcmp(ops("sh2"), "SH2_SHR_U_SHL_OR RET1"), "sh2: %s", ops("sh2"));
    CHECK(!strcmp(ops("load_sum"), "I32_LOAD_AA RET1"), "load_sum: %s", ops("load_sum"));
    CHECK(!strcmp(ops("zero_init"), "RET1"), "zero_init: %s", ops("zero_init"));
}

static void test_values(void)
{
    CHECK(call1("add_set", 40, 2) == 42, "add_set");
    CHECK(call1("count", 0, 1000) == 1000, "count");
    CHECK(call1("if_params", 1, 5) == 15 && call1("if_params", 0, 5) == 5, "if_params");
    CHECK(call1("old_local", 9, 0) == -1, "a deferred local.get sees the old value");
    CHECK(call1("table", 0, 0) == 107 && call1("table", 1, 0) == 207 &&
          call1("table", 2, 0) == 7 && call1("table", 9, 0) == 107, "br_table");
    CHECK(call1("loop_params", 100, 0) == 5050, "loop_params");
    CHECK(call1("zero_init", 0, 0) == 0, "zero_init");

    CHECK(call1("store_k", 64, 0) == 44 << 8, "store of an immediate");
    CHECK(call1("add_xor", 5, 6) == 11, "add_xor");
    CHECK(call1("shl_or", 5, 3) == (40 | 3), "shl_or");
    CHECK(call1("load_sx", 16, 1) == 44, "load_sx: address 65, written by store_k");
    CHECK(call1("ret_add", -7, 10) == 3, "ret_add");
    CHECK(call1("two_incs", 10, 1) == 11 + 30, "two_incs");
    CHECK(call1("sh2", (int32_t)0xab000000u, 0x12345) == 0x012345ab, "sh2");
    int32_t cargs[2] = { 200, 58 };
    wharf_error cerr;
    CHECK(call_i32("copy8", cargs, 2, NULL, 0, &cerr) == WHARF_OK &&
          call1("peek8", 203, 0) == 44, "copy8: the byte at 65 to 203");

    int32_t args[2] = { 3, 4 }, r[2] = { 0, 0 };
    wharf_error err;
    CHECK(call_i32("swap", args, 2, r, 2, &err) == WHARF_OK && r[0] == 4 && r[1] == 3,
          "swap: %d %d", r[0], r[1]);

    /* (1 + 2^-30)^2 rounds to 1 + 2^-29 before the add; a fused
     * multiply-add would keep the 2^-60. */
    wharf_func *f;
    double x = 1 + 0x1p-30;
    wharf_val fa[3] = { { .kind = WHARF_F64, .of.f64 = x }, { .kind = WHARF_F64, .of.f64 = x },
                        { .kind = WHARF_F64, .of.f64 = -(1 + 0x1p-29) } }, fr;
    CHECK(wharf_instance_func(inst, "muladd", &f) == WHARF_OK &&
          wharf_call(inst, f, fa, 3, &fr, 1, &err) == WHARF_OK && fr.of.f64 == 0.0,
          "muladd rounds twice: %a", fr.of.f64);
    wharf_val sa[3] = { { .kind = WHARF_I32, .of.i32 = 128 }, { .kind = WHARF_F64, .of.f64 = 2.5 },
                        { .kind = WHARF_F64, .of.f64 = 0.25 } };
    CHECK(wharf_instance_func(inst, "f64_st", &f) == WHARF_OK &&
          wharf_call(inst, f, sa, 3, &fr, 1, &err) == WHARF_OK && fr.of.f64 == 2.25,
          "f64_st: %a", fr.of.f64);
}

/* A trap names the function and the offset of the trapping instruction. */
static void test_trap_offset(void)
{
    static const uint8_t div_body[] = { 0x20, 0x00, 0x20, 0x01, 0x6d };
    uint64_t want = WHARF_NO_OFFSET;
    for (size_t i = 0; i + sizeof div_body <= sizeof test_wasm; i++)
        if (!memcmp(test_wasm + i, div_body, sizeof div_body))
            want = i + 4;
    int32_t args[2] = { 1, 0 }, r;
    wharf_error err;
    wharf_status st = call_i32("div", args, 2, &r, 1, &err);
    CHECK(st == WHARF_ERR_TRAP && err.trap == WHARF_TRAP_DIV_ZERO, "div by zero: %d", st);
    CHECK(err.offset == want, "trap offset %llu, want %llu",
          (unsigned long long)err.offset, (unsigned long long)want);
    CHECK(err.func_index == 4, "trap function %u", err.func_index);
    args[0] = INT32_MIN;
    args[1] = -1;
    st = call_i32("div", args, 2, &r, 1, &err);
    CHECK(st == WHARF_ERR_TRAP && err.trap == WHARF_TRAP_INT_OVERFLOW, "overflow: %d", st);

    /* A fused load + store reports whichever of the two trapped. */
    static const uint8_t store8[] = { 0x3a, 0x00, 0x02, 0x0b };
    want = WHARF_NO_OFFSET;
    for (size_t i = 0; i + sizeof store8 <= sizeof test_wasm; i++)
        if (!memcmp(test_wasm + i, store8, sizeof store8))
            want = i;
    args[0] = 65535;
    args[1] = 0;
    st = call_i32("copy8", args, 2, &r, 0, &err);
    CHECK(st == WHARF_ERR_TRAP && err.trap == WHARF_TRAP_MEMORY_OOB && err.offset == want,
          "copy8 store out of bounds: offset %llu, want %llu",
          (unsigned long long)err.offset, (unsigned long long)want);
}

static void test_exhaustion(void)
{
    int32_t args[1] = { 0 }, r;
    wharf_error err;
    wharf_status st = call_i32("rec", args, 1, &r, 1, &err);
    CHECK(st == WHARF_ERR_TRAP && err.trap == WHARF_TRAP_STACK_EXHAUSTED,
          "unbounded recursion: %d %s", st, err.message);
    CHECK(call1("add_set", 1, 2) == 3, "the instance works after exhaustion");
}

/* Fuel is charged per loop iteration and per call, deterministically. */
static void test_fuel(void)
{
    int32_t args[1] = { 1000 }, r;
    wharf_error err;
    wharf_instance_set_fuel(inst, 1000000);
    CHECK(call_i32("spin", args, 1, &r, 0, &err) == WHARF_OK, "spin: %s", err.message);
    uint64_t used = 1000000 - wharf_instance_fuel(inst);
    wharf_instance_set_fuel(inst, 1000000);
    CHECK(call_i32("spin", args, 1, &r, 0, &err) == WHARF_OK, "spin again");
    CHECK(1000000 - wharf_instance_fuel(inst) == used, "fuel used %llu, then %llu",
          (unsigned long long)used,
          (unsigned long long)(1000000 - wharf_instance_fuel(inst)));
    CHECK(used >= 1000, "fuel used %llu for 1000 iterations", (unsigned long long)used);
    wharf_instance_set_fuel(inst, 100);
    wharf_status st = call_i32("spin", args, 1, &r, 0, &err);
    CHECK(st == WHARF_ERR_TRAP && err.trap == WHARF_TRAP_FUEL, "out of fuel: %d", st);
    wharf_instance_set_fuel(inst, 0);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return dump_file(argv[1]);
    wharf_error err;
    if (wharf_engine_new(NULL, &engine) ||
        wharf_module_new(engine, test_wasm, sizeof test_wasm, &module, &err) ||
        wharf_instance_new(module, NULL, NULL, &inst, &err)) {
        fprintf(stderr, "setup: %s\n", err.message);
        return 1;
    }
    test_code_shape();
    test_values();
    test_trap_offset();
    test_exhaustion();
    test_fuel();
    wharf_instance_free(inst);
    wharf_module_free(module);
    wharf_engine_free(engine);
    return test_done();
}
