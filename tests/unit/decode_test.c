/* decode_test.c: the binary decoder (src/wasm/decode.c) on hand-written
 * edge cases, then a sweep over the binary modules of the core spec suite
 * (build/spec, from `make build/spec/.converted`): well-formed modules must
 * decode, malformed ones must fail unless their problem lies inside a
 * function body (the validator's to find; listed in body_level[]). */
#include "../../src/wasm/wasmInt.h"
#include "../test.h"
#include "spec_sweep.h"

#include <stdlib.h>
#include <string.h>

static const wh_allocator libc_alloc = { wh_libc_alloc, NULL };

/* Decodes a copy of `bytes` into *m, as the runtime would. */
static wharf_status decode(wharf_module *m, const void *bytes, size_t len,
                           wharf_error *err)
{
    memset(m, 0, sizeof *m);
    wh_arena_init(&m->arena, &libc_alloc);
    m->bytes = malloc(len ? len : 1);
    memcpy(m->bytes, bytes, len);
    m->len = len;
    return wh_dec_module(m, err);
}

static void release(wharf_module *m)
{
    wh_arena_free_all(&m->arena);
    free(m->bytes);
}

#define HDR "\0asm\1\0\0\0"
/* One minimal function: type [] -> [], one function, an empty body. */
#define ONE_FUNC "\x01\x04\x01\x60\x00\x00" "\x03\x02\x01\x00"
#define EMPTY_CODE "\x0a\x04\x01\x02\x00\x0b"
#define LIT(s) s, sizeof(s) - 1

static bool str_is(wh_str s, const char *c)
{
    return s.len == strlen(c) && memcmp(s.ptr, c, s.len) == 0;
}

static void expect_ok(const char *bytes, size_t len, const char *what)
{
    wharf_module m;
    wharf_error err = { 0 };
    wharf_status s = decode(&m, bytes, len, &err);
    CHECK(s == WHARF_OK, "%s: %s", what, err.message);
    release(&m);
}

/* Expects MALFORMED with `msg` in the message, at `off` unless it is -1. */
static void expect_bad(const char *bytes, size_t len, const char *msg,
                       long off)
{
    wharf_module m;
    wharf_error err = { 0 };
    wharf_status s = decode(&m, bytes, len, &err);
    CHECK(s == WHARF_ERR_MALFORMED && strstr(err.message, msg),
          "want \"%s\", got %d \"%s\"", msg, s, err.message);
    CHECK(off < 0 || err.offset == (uint64_t)off, "%s: offset %llu, want %ld",
          msg, (unsigned long long)err.offset, off);
    release(&m);
}

static void test_header(void)
{
    expect_ok(LIT(HDR), "empty module");
    expect_bad(LIT(""), "unexpected end", -1);
    expect_bad(LIT("\0as"), "unexpected end", -1);
    expect_bad(LIT("\0asm\1\0\0"), "unexpected end", -1);
    expect_bad(LIT("asm\0\1\0\0\0"), "magic header not detected", 0);
    expect_bad(LIT("\0asm\2\0\0\0"), "unknown binary version", 4);
}

static void test_leb(void)
{
    wharf_module m;
    CHECK(decode(&m, LIT(HDR "\x05\x07\x01\x00\x82\x80\x80\x80\x00"), NULL)
          == WHARF_OK && m.memories[0].limits.min == 2, "5-byte u32");
    release(&m);
    expect_bad(LIT(HDR "\x05\x08\x01\x00\x82\x80\x80\x80\x80\x00"),
               "integer representation too long", -1);
    expect_bad(LIT(HDR "\x05\x07\x01\x00\x82\x80\x80\x80\x70"),
               "integer too large", -1);
    expect_bad(LIT(HDR "\x05\x02\x01\x02"), "integer too large", 11);
    expect_bad(LIT(HDR "\x05\x05\x01\x81\x00\x00\x00"),
               "integer representation too long", 11);
    expect_bad(LIT(HDR "\x06\x0b\x01\x7f\x00\x41\x80\x80\x80\x80\x80\x00\x0b"),
               "integer representation too long", -1);
    expect_bad(LIT(HDR "\x06\x0a\x01\x7f\x00\x41\xff\xff\xff\xff\x0f\x0b"),
               "integer too large", -1);
}

static void test_framing(void)
{
    expect_bad(LIT(HDR "\x0d\x00"), "malformed section id", 8);
    expect_bad(LIT(HDR "\x03\x01\x00\x01\x01\x00"),
               "unexpected content after last section", 11);
    expect_bad(LIT(HDR "\x01\x01\x00\x01\x01\x00"),
               "unexpected content after last section", 11);
    expect_ok(LIT(HDR "\x0c\x01\x00\x0a\x01\x00"), "datacount before code");
    expect_bad(LIT(HDR "\x0a\x01\x00\x0c\x01\x00"),
               "unexpected content after last section", 11);
    expect_bad(LIT(HDR "\x01\x02\x00\x00"), "section size mismatch", 11);
    expect_bad(LIT(HDR "\x01\x05\x00"), "length out of bounds", 9);
    expect_bad(LIT(HDR "\x00\x00"), "unexpected end", -1);
    expect_ok(LIT(HDR "\x00\x02\x01\x61" "\x00\x01\x00"), "custom sections");
    expect_bad(LIT(HDR ONE_FUNC), "function and code section", -1);
    expect_bad(LIT(HDR "\x01\x04\x01\x60\x00\x00" EMPTY_CODE),
               "function and code section", -1);
    expect_bad(LIT(HDR ONE_FUNC "\x0a\x05\x01\x03\x00\x01\x01"),
               "unexpected end of section or function", -1);
    expect_bad(LIT(HDR "\x02\x04\x01\x00\x00\x04"), "malformed import kind", 13);
    expect_bad(LIT(HDR "\x06\x06\x01\x7f\x02\x41\x00\x0b"),
               "malformed mutability", 12);
    expect_bad(LIT(HDR "\x01\x04\x01\x61\x00\x00"), "malformed function type", 11);
    expect_bad(LIT(HDR "\x01\x05\x01\x60\x01\x40\x00"), "malformed value type", 13);
    expect_bad(LIT(HDR "\x04\x04\x01\x7f\x00\x00"), "malformed reference type", 11);
}

/* Types, imports first in the function space, locals, constant
 * expressions, exports, start, datacount, data and the name section. */
static const char full[] = HDR
    "\x01\x0d\x03" "\x60\x02\x7f\x7e\x01\x7b" "\x60\x00\x00" "\x60\x00\x00"
    "\x02\x07\x01" "\x01\x6d\x01\x66\x00\x01"
    "\x03\x03\x02\x00\x01"
    "\x05\x04\x01\x01\x01\x02"
    "\x06\x06\x01\x7f\x01\x41\x2a\x0b"
    "\x07\x07\x01\x03\x72\x75\x6e\x00\x02"
    "\x08\x01\x02"
    "\x0c\x01\x01"
    "\x0a\x0e\x02" "\x06\x02\x02\x7f\x01\x7c\x0b" "\x05\x00\x41\x00\x1a\x0b"
    "\x0b\x06\x01\x01\x03\x61\x62\x63"
    "\x00\x18\x04\x6e\x61\x6d\x65" "\x00\x04\x03\x6d\x6f\x64"
    "\x01\x0b\x02\x00\x03\x69\x6d\x70\x02\x03\x72\x75\x6e";

static void check_full_funcs(const wharf_module *m)
{
    CHECK(m->nimports == 1 && m->nfuncs == 3 && m->nfunc_imports == 1, "funcs");
    CHECK(str_is(m->imports[0].module, "m") && str_is(m->imports[0].name, "f")
          && m->imports[0].kind == WH_EXT_FUNC && m->imports[0].index == 0,
          "import");
    CHECK(m->funcs[0].import == 0 && m->funcs[0].type == &m->types[1], "import 0");
    CHECK(m->funcs[1].import == -1 && m->funcs[1].type == &m->types[0] &&
          m->funcs[2].type == &m->types[1], "defined funcs");
    CHECK(m->funcs[1].nlocals == 3 && m->funcs[1].local_types[1] == WH_I32 &&
          m->funcs[1].local_types[2] == WH_F64, "locals expanded");
    CHECK(m->funcs[1].body_len == 1 && m->bytes[m->funcs[1].body_off] == 0x0b,
          "body 1");
    CHECK(m->funcs[2].nlocals == 0 && m->funcs[2].body_len == 4 &&
          m->bytes[m->funcs[2].body_off] == 0x41, "body 2");
    CHECK(str_is(m->funcs[0].name, "imp") && m->funcs[1].name.len == 0 &&
          str_is(m->funcs[2].name, "run") && str_is(m->name, "mod"), "names");
}

static void check_full_rest(const wharf_module *m)
{
    const wh_functype *t = m->types;
    CHECK(m->ntypes == 3 && t[0].nparams == 2 && t[0].param_slots == 2 &&
          t[0].nresults == 1 && t[0].result_slots == 2, "type 0");
    CHECK(t[1].hash == t[2].hash && wh_functype_equal(&t[1], &t[2]) &&
          !wh_functype_equal(&t[0], &t[1]), "type equality");
    CHECK(m->nmemories == 1 && m->memories[0].limits.has_max &&
          m->memories[0].limits.max == 2 && m->memories[0].import == -1, "memory");
    CHECK(m->nglobals == 1 && m->globals[0].type.mut &&
          m->globals[0].init.len == 3 && m->bytes[m->globals[0].init.off] == 0x41,
          "global");
    CHECK(m->nexports == 1 && str_is(m->exports[0].name, "run") &&
          m->exports[0].index == 2, "export");
    CHECK(m->has_start && m->start == 2 && m->has_datacount && m->datacount == 1,
          "start, datacount");
    CHECK(m->ndatas == 1 && m->datas[0].mode == WH_SEG_PASSIVE &&
          m->datas[0].len == 3 && m->bytes[m->datas[0].off] == 'a', "data");
    CHECK(m->nsections == 11 && m->sections[0].id == WH_SEC_TYPE &&
          m->sections[0].off == 10 && m->sections[0].size == 13 &&
          str_is(m->sections[10].custom_name, "name"), "sections");
}

static void test_full(void)
{
    wharf_module m;
    wharf_error err = { 0 };
    CHECK(decode(&m, full, sizeof full - 1, &err) == WHARF_OK, "%s at %llu", err.message, (unsigned long long)err.offset);
    if (!err.status) {
        check_full_funcs(&m);
        check_full_rest(&m);
    }
    release(&m);
}

static void test_bad_names(void)
{
    static const char garbage[] = HDR ONE_FUNC EMPTY_CODE
        "\x00\x09\x04\x6e\x61\x6d\x65\x01\x05\x02\xff";
    static const char bad_utf8[] = HDR ONE_FUNC EMPTY_CODE
        "\x00\x0b\x04\x6e\x61\x6d\x65\x01\x04\x01\x00\x01\xff";
    wharf_module m;
    CHECK(decode(&m, garbage, sizeof garbage - 1, NULL) == WHARF_OK &&
          m.funcs[0].name.len == 0, "truncated name section ignored");
    release(&m);
    CHECK(decode(&m, bad_utf8, sizeof bad_utf8 - 1, NULL) == WHARF_OK &&
          m.funcs[0].name.len == 0, "bad UTF-8 in name section ignored");
    release(&m);
}

static void test_locals(void)
{
    expect_ok(LIT(HDR ONE_FUNC "\x0a\x08\x01\x06\x01\xd0\x86\x03\x7f\x0b"),
              "50000 locals");
    expect_bad(LIT(HDR ONE_FUNC "\x0a\x08\x01\x06\x01\xd1\x86\x03\x7f\x0b"),
               "too many locals", 23);
    expect_bad(LIT(HDR ONE_FUNC
                   "\x0a\x0c\x01\x0a\x02\xff\xff\xff\xff\x0f\x7f\x02\x7e\x0b"),
               "too many locals", -1);
    expect_bad(LIT(HDR ONE_FUNC
                   "\x0a\x0c\x01\x0a\x02\x80\x80\x80\x80\x10\x7f\x02\x7e\x0b"),
               "integer too large", -1);
}

/* All eight element segment kinds in one section. */
static const char elems[] = HDR ONE_FUNC "\x04\x04\x01\x70\x00\x00"
    "\x09\x35\x08"
    "\x00\x41\x00\x0b\x01\x00" "\x01\x00\x01\x00" "\x02\x00\x41\x00\x0b\x00\x01\x00"
    "\x03\x00\x01\x00" "\x04\x41\x00\x0b\x01\xd2\x00\x0b" "\x05\x70\x01\xd0\x70\x0b"
    "\x06\x00\x41\x00\x0b\x70\x01\xd2\x00\x0b" "\x07\x6f\x01\xd0\x6f\x0b"
    EMPTY_CODE;

static void test_elems(void)
{
    static const uint8_t modes[8] = {
        WH_SEG_ACTIVE, WH_SEG_PASSIVE, WH_SEG_ACTIVE, WH_SEG_DECLARATIVE,
        WH_SEG_ACTIVE, WH_SEG_PASSIVE, WH_SEG_ACTIVE, WH_SEG_DECLARATIVE };
    wharf_module m;
    wharf_error err = { 0 };
    CHECK(decode(&m, elems, sizeof elems - 1, &err) == WHARF_OK, "%s", err.message);
    for (uint32_t i = 0; i < m.nelems; i++) {
        const wh_elem *e = &m.elems[i];
        CHECK(e->mode == modes[i] && e->count == 1, "elem %u", i);
        CHECK(i < 4 ? e->funcidx && !e->exprs : e->exprs && !e->funcidx,
              "elem %u items", i);
        CHECK(e->mode != WH_SEG_ACTIVE || e->offset.len == 3, "elem %u offset", i);
    }
    CHECK(m.nelems == 8 && m.elems[7].reftype == WH_EXTERNREF &&
          m.elems[4].exprs[0].len == 3, "elems");
    release(&m);
    expect_bad(LIT(HDR "\x09\x03\x01\x08\x00"), "malformed elements segment kind",
               11);
    expect_bad(LIT(HDR "\x09\x04\x01\x01\x01\x00"), "malformed element kind", 12);
    expect_bad(LIT(HDR "\x09\x07\x01\x05\x70\x01\xf3\x00\x0b"), "illegal opcode", 14);
}

static void test_data(void)
{
    static const char data[] = HDR "\x05\x03\x01\x00\x01" "\x0c\x01\x03"
        "\x0b\x11\x03" "\x00\x41\x00\x0b\x01\x61" "\x01\x01\x62"
        "\x02\x00\x41\x00\x0b\x01\x63";
    wharf_module m;
    CHECK(decode(&m, data, sizeof data - 1, NULL) == WHARF_OK && m.ndatas == 3 &&
          m.datas[0].mode == WH_SEG_ACTIVE && m.datas[0].offset.len == 3 &&
          m.datas[1].mode == WH_SEG_PASSIVE && m.bytes[m.datas[1].off] == 'b' &&
          m.datas[2].mode == WH_SEG_ACTIVE && m.bytes[m.datas[2].off] == 'c',
          "data kinds");
    release(&m);
    expect_bad(LIT(HDR "\x0c\x01\x02" "\x0b\x04\x01\x01\x01\x61"),
               "data count and data section have inconsistent lengths", -1);
    expect_bad(LIT(HDR "\x0c\x01\x01"),
               "data count and data section have inconsistent lengths", -1);
    expect_bad(LIT(HDR "\x0b\x03\x01\x03\x00"), "malformed data segment kind", 11);
}

/* A memory import whose field name is the `n` bytes of `name`. */
static wharf_status import_named(const char *name, size_t n)
{
    uint8_t b[64];
    size_t len = 8;
    memcpy(b, HDR, 8);
    uint8_t head[] = { 2, (uint8_t)(n + 7), 1, 1, 'm', (uint8_t)n };
    memcpy(b + len, head, sizeof head);
    len += sizeof head;
    memcpy(b + len, name, n);
    len += n;
    memcpy(b + len, "\x02\x00\x00", 3);
    wharf_module m;
    wharf_status s = decode(&m, b, len + 3, NULL);
    release(&m);
    return s;
}

static void test_utf8(void)
{
    CHECK(import_named("", 0) == WHARF_OK, "empty name");
    CHECK(import_named("\xf0\x9f\x98\x80", 4) == WHARF_OK, "U+1F600");
    CHECK(import_named("\xef\xbf\xbf", 3) == WHARF_OK, "U+FFFF");
    CHECK(import_named("\xc0\x80", 2) == WHARF_ERR_MALFORMED, "overlong");
    CHECK(import_named("\xe0\x9f\xbf", 3) == WHARF_ERR_MALFORMED, "overlong 3");
    CHECK(import_named("\xed\xa0\x80", 3) == WHARF_ERR_MALFORMED, "surrogate");
    CHECK(import_named("\xf4\x90\x80\x80", 4) == WHARF_ERR_MALFORMED, "> U+10FFFF");
    CHECK(import_named("\x80", 1) == WHARF_ERR_MALFORMED, "lone continuation");
    CHECK(import_named("\xe2\x82", 2) == WHARF_ERR_MALFORMED, "truncated");
}

static void test_const_expr(void)
{
    wharf_module m;
    CHECK(decode(&m, LIT(HDR "\x06\x09\x01\x7f\x00\x02\x7f\x41\x00\x0b\x0b"), NULL)
          == WHARF_OK && m.globals[0].init.len == 6, "nested block framed");
    release(&m);
    expect_bad(LIT(HDR "\x06\x04\x01\x7f\x00\x41"), "unexpected end", -1);
    expect_bad(LIT(HDR "\x06\x05\x01\x7f\x00\xf3\x0b"), "illegal opcode", 13);
}

/* Every prefix and every single-byte change of a module must decode or be
 * rejected cleanly (the sanitizer build catches overruns). */
static void test_mutations(const char *bytes, size_t len)
{
    int bad = 0;
    char *copy = malloc(len);
    for (size_t n = 0; n < len; n++) {
        wharf_module m;
        bad += decode(&m, bytes, n, NULL) > WHARF_ERR_MALFORMED;
        release(&m);
    }
    for (size_t i = 0; i < len; i++) {
        for (int v = 0; v < 256; v++) {
            memcpy(copy, bytes, len);
            copy[i] = (char)v;
            wharf_module m;
            bad += decode(&m, copy, len, NULL) > WHARF_ERR_MALFORMED;
            release(&m);
        }
    }
    free(copy);
    CHECK(bad == 0, "%d mutations gave neither OK nor MALFORMED", bad);
}

/* ---- The spec sweep ------------------------------------------------------ */

/* Malformed modules whose problem is inside a function body (the validator
 * decodes bodies) or is "data count section required": file and line.
 * binary-leb128: memargs and a prefixed opcode in bodies. binary: memargs,
 * memory.size/grow zero bytes, memory.init/data.drop without datacount,
 * a br_table overrunning its body. */
static const char *const body_level[] = {
    "binary-leb128:405", "binary-leb128:424", "binary-leb128:443",
    "binary-leb128:462", "binary-leb128:731", "binary-leb128:750",
    "binary-leb128:769", "binary-leb128:787", "binary-leb128:806",
    "binary-leb128:825", "binary-leb128:844", "binary-leb128:863",
    "binary-leb128:988",
    "binary:483", "binary:502", "binary:521", "binary:540", "binary:620",
    "binary:639", "binary:658", "binary:676", "binary:695", "binary:714",
    "binary:733", "binary:752", "binary:857", "binary:877", "binary:897",
    "binary:916", "binary:935", "binary:955", "binary:974", "binary:993",
    "binary:1011", "binary:1029", "binary:1205", "binary:1227", "binary:1817",
    NULL,
};

static bool is_body_level(const char *file, int line)
{
    char key[128];
    snprintf(key, sizeof key, "%s:%d", file, line);
    for (size_t i = 0; body_level[i]; i++)
        if (!strcmp(body_level[i], key))
            return true;
    return false;
}

static wharf_status decode_file(const char *dir, const char *file, wharf_error *err)
{
    char path[512];
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *bytes = spec_read(path, &len);
    if (!bytes)
        return WHARF_ERR_ARG;
    wharf_module m;
    wharf_status s = decode(&m, bytes, len, err);
    release(&m);
    free(bytes);
    return s;
}

/* One command: modules that must be well-formed decode; binary
 * assert_malformed ones fail unless listed in body_level[]. */
static void sweep_command(const char *dir, const char *name, const cJSON *c, void *ctx)
{
    int *counts = ctx;
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(c, "type"));
    const char *file = cJSON_GetStringValue(cJSON_GetObjectItem(c, "filename"));
    const char *mt = cJSON_GetStringValue(cJSON_GetObjectItem(c, "module_type"));
    int line = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(c, "line"));
    if (!file || (mt && strcmp(mt, "binary")))
        return;
    wharf_error err = { 0 };
    wharf_status s = decode_file(dir, file, &err);
    if (strcmp(type, "assert_malformed")) {
        counts[0]++;
        CHECK(s == WHARF_OK, "%s:%d %s: %s", name, line, type, err.message);
    } else if (s == WHARF_OK) {
        counts[1]++;
        printf("accepted %s.wast:%d (\"%s\")\n", name, line,
               cJSON_GetStringValue(cJSON_GetObjectItem(c, "text")));
        CHECK(is_body_level(name, line), "%s.wast:%d malformed but accepted",
              name, line);
    } else {
        counts[2]++;
    }
}

/* Every core .wast in $SHARED/spec/core (the Wasm 2.0 suite minus SIMD). */
static void test_spec_sweep(void)
{
    int counts[3] = { 0 };
    int files = spec_sweep(sweep_command, counts);
    CHECK(files >= 90, "only %d core spec files", files);
    printf("spec sweep: %d files, %d well-formed modules, %d malformed "
           "rejected, %d accepted (body-level)\n", files, counts[0], counts[2],
           counts[1]);
}

int main(void)
{
    test_header();
    test_leb();
    test_framing();
    test_full();
    test_bad_names();
    test_locals();
    test_elems();
    test_data();
    test_utf8();
    test_const_expr();
    test_mutations(full, sizeof full - 1);
    test_mutations(elems, sizeof elems - 1);
    test_spec_sweep();
    return test_done();
}
