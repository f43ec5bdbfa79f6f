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
#define UNOP(name) IOP(name, 3)
#define BINOP(name) IOP(name, 4)
#define BINOPI(name) IOP(name, 4) IOP(name##_I, 4)
#define CMP(name, inv) IOP(name, 4) IOP(name##_I, 4) IOP(BR_##name, 4) \
    IOP(BR_##name##_L, 4) IOP(BR_##name##_I, 4) IOP(BR_##name##_I_L, 4)
#define BRC(name) IOP(BR_##name, 3) IOP(BR_##name##_L, 3)
#define LOAD(name, t, n) IOP(name, 4) IOP(name##_AA, 6) IOP(name##_AI, 6)
#define STORE(name, t, n) IOP(name, 4)
#include "../../src/wasm/iops.def"
};

/* Units per instruction, the handler counted as one (as in iops.def). */
static const uint8_t iop_units[WH_IOP_COUNT_] = {
#define IOP(name, units) [WH_IOP_##name] = units,
#define UNOP(name) IOP(name, 3)
#define BINOP(name) IOP(name, 4)
#define BINOPI(name) IOP(name, 4) IOP(name##_I, 4)
#define CMP(name, inv) IOP(name, 4) IOP(name##_I, 4) IOP(BR_##name, 4) \
    IOP(BR_##name##_L, 4) IOP(BR_##name##_I, 4) IOP(BR_##name##_I_L, 4)
#define BRC(name) IOP(BR_##name, 3) IOP(BR_##name##_L, 3)
#define LOAD(name, t, n) IOP(name, 4) IOP(name##_AA, 6) IOP(name##_AI, 6)
#define STORE(name, t, n) IOP(name, 4)
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

int main(int argc, char **argv)
{
    if (argc > 1)
        return dump_file(argv[1]);
    return test_done();
}
