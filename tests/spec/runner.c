/* runner.c: the spec-suite runner (build/spec-runner).
 *
 *   spec-runner SPECDIR SUITE [FILE...]
 *
 * Runs the JSON command scripts that wast2json made (shared/spec/convert.sh
 * output in SPECDIR) for every .wast of $SHARED/spec/SUITE, or only the
 * FILEs named. Prints per file "name: P passed, F failed, S skipped", each
 * failure as "file:line: command: reason", and closes with the total line
 * "N passed, M failed, K skipped". Exit status 1 if anything failed.
 *
 * Uses only the public API (wharf.h), so it exercises that too. Each file
 * runs in a child process: a crash or a leak report fails that file only.
 * Every command counts: modules and registrations as well as assertions;
 * text-format modules are skipped (wharf reads binaries only). */
#include "../../include/wharf.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_REPORTED 12             /* failure lines printed per file */
#define CALL_TIMEOUT_NS 10000000000ull  /* a hung call fails, not the suite */
#define FILE_TIMEOUT_S 300

typedef struct counts { unsigned passed, failed, skipped; } counts;

typedef struct named { const char *name; wharf_instance *inst; } named;

/* The state of one script: everything lives until the file ends, since
 * later commands may name any earlier module. */
typedef struct script {
    const char *file;               /* "i32.wast", for messages */
    const char *dir;                /* folder of the JSON and .wasm files */
    wharf_engine *engine;
    wharf_linker *linker;
    wharf_memory *memory;           /* spectest externs */
    wharf_table *table;
    wharf_global *globals[4];
    wharf_module **modules; unsigned nmodules;
    wharf_instance **instances; unsigned ninstances;
    named *names; unsigned nnames;
    wharf_instance *current;
    counts n;
    bool notes;                     /* WHARF_SPEC_NOTES: explain lenient passes */
} script;

static void die(const char *what)
{
    fprintf(stderr, "spec-runner: %s\n", what);
    exit(2);
}

static void *grow(void *p, unsigned n, size_t size)
{
    /* Arrays grow by doubling whenever n reaches a power of two. */
    if (n && (n & (n - 1)))
        return p;
    p = realloc(p, (n ? 2 * n : 1) * size);
    if (!p)
        die("out of memory");
    return p;
}

/* ---- Results ------------------------------------------------------------ */

static void pass(script *s) { s->n.passed++; }
static void skip(script *s) { s->n.skipped++; }

static void fail(script *s, int line, const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(script *s, int line, const char *cmd, const char *fmt, ...)
{
    if (s->n.failed++ >= MAX_REPORTED)
        return;
    printf("%s:%d: %s: ", s->file, line, cmd);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* ---- JSON helpers ------------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static uint64_t num(const char *s)
{
    return strtoull(s, NULL, 10);
}

/* ---- Values ------------------------------------------------------------- */

static unsigned lane_bytes(const char *lane_type)
{
    if (!strcmp(lane_type, "i8")) return 1;
    if (!strcmp(lane_type, "i16")) return 2;
    if (!strcmp(lane_type, "i32") || !strcmp(lane_type, "f32")) return 4;
    return 8;
}

static bool parse_v128(const cJSON *v, uint8_t out[16])
{
    const char *lt = jstr(v, "lane_type");
    const cJSON *lanes = cJSON_GetObjectItemCaseSensitive(v, "value");
    if (!lt || !cJSON_IsArray(lanes))
        return false;
    unsigned w = lane_bytes(lt), i = 0;
    const cJSON *lane;
    cJSON_ArrayForEach(lane, lanes) {
        if (!cJSON_IsString(lane) || (i + 1) * w > 16)
            return false;
        uint64_t bits = num(lane->valuestring);
        for (unsigned b = 0; b < w; b++)
            out[i * w + b] = (uint8_t)(bits >> (8 * b));
        i++;
    }
    return i * w == 16;
}

/* An argument: {"type", "value"} with values as unsigned bit patterns;
 * externref N is host reference N, mapped to the pointer N + 1. */
static bool parse_val(const cJSON *v, wharf_val *out)
{
    const char *t = jstr(v, "type"), *val = jstr(v, "value");
    memset(out, 0, sizeof *out);
    if (!t)
        return false;
    if (!strcmp(t, "v128")) {
        out->kind = WHARF_V128;
        return parse_v128(v, out->of.v128);
    }
    if (!val)
        return false;
    uint64_t bits = num(val);
    if (!strcmp(t, "i32")) {
        out->kind = WHARF_I32;
        out->of.i32 = (int32_t)(uint32_t)bits;
    } else if (!strcmp(t, "i64")) {
        out->kind = WHARF_I64;
        out->of.i64 = (int64_t)bits;
    } else if (!strcmp(t, "f32")) {
        uint32_t b = (uint32_t)bits;
        out->kind = WHARF_F32;
        memcpy(&out->of.f32, &b, 4);
    } else if (!strcmp(t, "f64")) {
        out->kind = WHARF_F64;
        memcpy(&out->of.f64, &bits, 8);
    } else if (!strcmp(t, "externref")) {
        out->kind = WHARF_EXTERNREF;
        out->of.externref = strcmp(val, "null") ? (void *)(uintptr_t)(bits + 1) : NULL;
    } else if (!strcmp(t, "funcref") && !strcmp(val, "null")) {
        out->kind = WHARF_FUNCREF;
    } else {
        return false;
    }
    return true;
}

/* A float result against a bit pattern or nan:canonical / nan:arithmetic. */
static bool float_match(const char *want, uint64_t bits, unsigned width)
{
    uint64_t sign = (uint64_t)1 << (width - 1);
    uint64_t quiet = width == 32 ? 0x7fc00000u : 0x7ff8000000000000u;
    if (!strcmp(want, "nan:canonical"))
        return (bits & ~sign) == quiet;
    if (!strcmp(want, "nan:arithmetic"))
        return (bits & quiet) == quiet;
    return bits == num(want);
}

static bool v128_match(const cJSON *exp, const uint8_t got[16])
{
    const char *lt = jstr(exp, "lane_type");
    const cJSON *lanes = cJSON_GetObjectItemCaseSensitive(exp, "value");
    if (!lt || !cJSON_IsArray(lanes))
        return false;
    unsigned w = lane_bytes(lt), i = 0;
    const cJSON *lane;
    cJSON_ArrayForEach(lane, lanes) {
        if (!cJSON_IsString(lane) || (i + 1) * w > 16)
            return false;
        uint64_t bits = 0;
        for (unsigned b = 0; b < w; b++)
            bits |= (uint64_t)got[i * w + b] << (8 * b);
        bool ok = lt[0] == 'f' ? float_match(lane->valuestring, bits, w * 8)
                               : bits == num(lane->valuestring);
        if (!ok)
            return false;
        i++;
    }
    return i * w == 16;
}

static bool val_match(const cJSON *exp, const wharf_val *got)
{
    const char *t = jstr(exp, "type"), *want = jstr(exp, "value");
    if (!t)
        return false;
    if (!strcmp(t, "v128"))
        return got->kind == WHARF_V128 && v128_match(exp, got->of.v128);
    if (!want)
        return false;
    uint32_t b32;
    uint64_t b64;
    switch (got->kind) {
    case WHARF_I32: return !strcmp(t, "i32") && (uint32_t)got->of.i32 == (uint32_t)num(want);
    case WHARF_I64: return !strcmp(t, "i64") && (uint64_t)got->of.i64 == num(want);
    case WHARF_F32:
        memcpy(&b32, &got->of.f32, 4);
        return !strcmp(t, "f32") && float_match(want, b32, 32);
    case WHARF_F64:
        memcpy(&b64, &got->of.f64, 8);
        return !strcmp(t, "f64") && float_match(want, b64, 64);
    case WHARF_FUNCREF:
        return !strcmp(t, "funcref") && (!strcmp(want, "null") == !got->of.funcref);
    case WHARF_EXTERNREF:
        return !strcmp(t, "externref") &&
               (uintptr_t)got->of.externref ==
                   (strcmp(want, "null") ? (uintptr_t)num(want) + 1 : 0);
    default: return false;
    }
}
