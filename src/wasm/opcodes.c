/* opcodes.c: the opcode table (expanded from opcodes.def) and the lookup
 * from encoded (prefix, code) to the dense wh_op enum. */
#include "wasmInt.h"

enum { T__ = 0, T_I32 = WH_I32, T_I64 = WH_I64, T_F32 = WH_F32, T_F64 = WH_F64,
       T_SPECIAL = 0xff };

const wh_opinfo wh_opinfo_table[WH_OP_COUNT_] = {
#define WH_OP(name, prefix, code, text, imm, p1, p2, r) \
    { text, prefix, code, WH_IMM_##imm, T_##p1, T_##p2, T_##r },
#include "opcodes.def"
#undef WH_OP
};

int wh_op_lookup(uint8_t prefix, uint32_t code)
{
    if (code > 0xff)
        return -1;
    /* (prefix, code) pairs are unique, so this compiles to a jump table. */
    switch ((uint32_t)prefix << 8 | code) {
#define WH_OP(name, prefix, code, text, imm, p1, p2, r) \
    case (uint32_t)(prefix) << 8 | (code): return WH_OP_##name;
#include "opcodes.def"
#undef WH_OP
    default: return -1;
    }
}
