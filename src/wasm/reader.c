/* reader.c: the byte cursor shared by the decoder and the validator
 * (LEB128 per spec 5.2.2, fixed-width floats), error filling, and small
 * helpers on types.
 *
 * Errors are sticky: the first failure records a message and an offset,
 * moves the cursor to the end, and every later read returns 0. */
#include "wasmInt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void wh_rd_fail(wh_reader *r, const char *msg)
{
    if (r->err)
        return;
    r->err = msg;
    r->err_off = wh_rd_offset(r);
    r->p = r->end;
}

uint8_t wh_rd_u8(wh_reader *r)
{
    if (r->p >= r->end) {
        wh_rd_fail(r, "unexpected end");
        return 0;
    }
    return *r->p++;
}

/* Reads an LEB128 of at most `bits` significant bits. The last byte may
 * only carry bits that fit: unsigned ones must be zero, signed ones must
 * repeat the sign bit (spec 5.2.2 "integer too large"). */
static uint64_t read_leb(wh_reader *r, unsigned bits, bool is_signed)
{
    uint64_t result = 0;
    unsigned shift = 0, max_bytes = (bits + 6) / 7;
    for (unsigned i = 0; i < max_bytes; i++) {
        if (r->p >= r->end) {
            wh_rd_fail(r, "unexpected end");
            return 0;
        }
        uint8_t b = *r->p++;
        result |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (i == max_bytes - 1) {
            if (b & 0x80) {
                r->p--;
                wh_rd_fail(r, "integer representation too long");
                return 0;
            }
            unsigned used = bits - 7 * i;          /* value bits in this byte */
            uint8_t extra = (uint8_t)(b & 0x7f) >> used;
            uint8_t ones = (uint8_t)(0x7f >> used);
            bool neg = is_signed && ((b >> (used - 1)) & 1);
            if (extra != (neg ? ones : 0)) {
                r->p--;
                wh_rd_fail(r, "integer too large");
                return 0;
            }
        }
        if (!(b & 0x80)) {
            if (is_signed && shift < 64 && (b & 0x40))
                result |= ~(uint64_t)0 << shift;
            return result;
        }
    }
    return result;   /* not reached: the last byte ends the loop */
}

uint32_t wh_rd_u32(wh_reader *r) { return (uint32_t)read_leb(r, 32, false); }
int32_t wh_rd_s32(wh_reader *r) { return (int32_t)read_leb(r, 32, true); }
int64_t wh_rd_s33(wh_reader *r) { return (int64_t)read_leb(r, 33, true); }
int64_t wh_rd_s64(wh_reader *r) { return (int64_t)read_leb(r, 64, true); }

static uint64_t read_fixed(wh_reader *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        wh_rd_fail(r, "unexpected end");
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    return v;
}

uint32_t wh_rd_f32(wh_reader *r) { return (uint32_t)read_fixed(r, 4); }
uint64_t wh_rd_f64(wh_reader *r) { return read_fixed(r, 8); }

wharf_status wh_error_set(wharf_error *err, wharf_status s, uint64_t offset,
                          const char *fmt, ...)
{
    if (!err)
        return s;
    memset(err, 0, sizeof *err);
    err->status = s;
    err->offset = offset;
    err->func_index = WHARF_NO_FUNC;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return s;
}

uint32_t wh_valtype_slots(uint8_t t)
{
    return t == WH_V128 ? 2 : 1;
}

bool wh_functype_equal(const wh_functype *a, const wh_functype *b)
{
    if (a == b)
        return true;
    /* Empty vectors may be NULL, which memcmp must not see even for 0. */
    return a->hash == b->hash && a->nparams == b->nparams &&
           a->nresults == b->nresults &&
           (!a->nparams || memcmp(a->params, b->params, a->nparams) == 0) &&
           (!a->nresults || memcmp(a->results, b->results, a->nresults) == 0);
}

/* FNV-1a over the signature bytes; every producer of a wh_functype (the
 * decoder, host functions) must use this so equal types hash equally. */
uint64_t wh_functype_hash(const wh_functype *t)
{
    uint64_t h = 0xcbf29ce484222325u;
    uint8_t sep = 0x40;   /* not a valtype: keeps [i32][] apart from [][i32] */
    for (uint32_t i = 0; i < t->nparams; i++)
        h = (h ^ t->params[i]) * 0x100000001b3u;
    h = (h ^ sep) * 0x100000001b3u;
    for (uint32_t i = 0; i < t->nresults; i++)
        h = (h ^ t->results[i]) * 0x100000001b3u;
    return h;
}
