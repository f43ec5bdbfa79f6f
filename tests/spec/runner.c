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

/* The lanes of v128 value `v` and their width in bytes: the lane type,
 * or NULL unless there are 16 bytes of lanes, all strings. */
static const char *v128_lanes(const cJSON *v, const cJSON **lanes, unsigned *w)
{
    const char *lt = jstr(v, "lane_type");
    *lanes = cJSON_GetObjectItemCaseSensitive(v, "value");
    if (!lt || !cJSON_IsArray(*lanes))
        return NULL;
    *w = lane_bytes(lt);
    unsigned n = 0;
    const cJSON *lane;
    cJSON_ArrayForEach(lane, *lanes) {
        if (!cJSON_IsString(lane))
            return NULL;
        n++;
    }
    return n * *w == 16 ? lt : NULL;
}

static bool parse_v128(const cJSON *v, uint8_t out[16])
{
    const cJSON *lanes, *lane;
    unsigned w, i = 0;
    if (!v128_lanes(v, &lanes, &w))
        return false;
    cJSON_ArrayForEach(lane, lanes) {
        uint64_t bits = num(lane->valuestring);
        for (unsigned b = 0; b < w; b++)
            out[i * w + b] = (uint8_t)(bits >> (8 * b));
        i++;
    }
    return true;
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
    const cJSON *lanes, *lane;
    unsigned w, i = 0;
    const char *lt = v128_lanes(exp, &lanes, &w);
    if (!lt)
        return false;
    cJSON_ArrayForEach(lane, lanes) {
        uint64_t bits = 0;
        for (unsigned b = 0; b < w; b++)
            bits |= (uint64_t)got[i * w + b] << (8 * b);
        bool ok = lt[0] == 'f' ? float_match(lane->valuestring, bits, w * 8)
                               : bits == num(lane->valuestring);
        if (!ok)
            return false;
        i++;
    }
    return true;
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

/* A result for failure messages: kind and bit pattern. */
static void val_text(const wharf_val *v, char *buf, size_t n)
{
    uint32_t b32;
    uint64_t b64;
    switch (v->kind) {
    case WHARF_I32: snprintf(buf, n, "i32:%u", (uint32_t)v->of.i32); break;
    case WHARF_I64: snprintf(buf, n, "i64:%llu", (unsigned long long)v->of.i64); break;
    case WHARF_F32:
        memcpy(&b32, &v->of.f32, 4);
        snprintf(buf, n, "f32:0x%08x", b32);
        break;
    case WHARF_F64:
        memcpy(&b64, &v->of.f64, 8);
        snprintf(buf, n, "f64:0x%016llx", (unsigned long long)b64);
        break;
    case WHARF_V128: {
        uint64_t lo;
        memcpy(&lo, v->of.v128, 8);
        memcpy(&b64, v->of.v128 + 8, 8);
        snprintf(buf, n, "v128:0x%016llx%016llx", (unsigned long long)b64,
                 (unsigned long long)lo);
        break;
    }
    case WHARF_FUNCREF: snprintf(buf, n, "funcref:%p", (void *)v->of.funcref); break;
    default: snprintf(buf, n, "externref:%p", v->of.externref); break;
    }
}

/* ---- The spectest module ------------------------------------------------ */

static wharf_status print_fn(wharf_caller *c, void *user, wharf_slot *slots)
{
    (void)c, (void)user, (void)slots;
    return WHARF_OK;
}

static void check(wharf_status st, const char *what)
{
    if (st != WHARF_OK)
        die(what);
}

static void spectest_global(script *s, int i, const char *name, wharf_valkind k,
                            uint64_t bits)
{
    wharf_val v = { .kind = k };
    if (k == WHARF_I32 || k == WHARF_F32) {
        uint32_t b = (uint32_t)bits;
        memcpy(&v.of, &b, 4);
    } else {
        memcpy(&v.of, &bits, 8);
    }
    check(wharf_global_new(s->engine, v, false, &s->globals[i]), "spectest global");
    check(wharf_linker_define_global(s->linker, "spectest", name, s->globals[i]),
          "spectest global");
}

/* The host module of the reference interpreter (shared/spec/README.md). */
static void spectest(script *s)
{
    static const struct {
        const char *name;
        uint32_t np;
        wharf_valkind params[2];
    } prints[] = {
        { "print", 0, { 0 } },
        { "print_i32", 1, { WHARF_I32 } },
        { "print_i64", 1, { WHARF_I64 } },
        { "print_f32", 1, { WHARF_F32 } },
        { "print_f64", 1, { WHARF_F64 } },
        { "print_i32_f32", 2, { WHARF_I32, WHARF_F32 } },
        { "print_f64_f64", 2, { WHARF_F64, WHARF_F64 } },
    };
    for (size_t i = 0; i < sizeof prints / sizeof prints[0]; i++)
        check(wharf_linker_define_func(s->linker, "spectest", prints[i].name,
                                       prints[i].params, prints[i].np, NULL, 0,
                                       print_fn, NULL), "spectest print");
    spectest_global(s, 0, "global_i32", WHARF_I32, 666);
    spectest_global(s, 1, "global_i64", WHARF_I64, 666);
    spectest_global(s, 2, "global_f32", WHARF_F32, 0x4426a666u);
    spectest_global(s, 3, "global_f64", WHARF_F64, 0x4084d4cccccccccdu);
    check(wharf_table_new(s->engine, WHARF_FUNCREF, 10, 20, true, &s->table),
          "spectest table");
    check(wharf_linker_define_table(s->linker, "spectest", "table", s->table),
          "spectest table");
    check(wharf_memory_new(s->engine, 1, 2, true, &s->memory), "spectest memory");
    check(wharf_linker_define_memory(s->linker, "spectest", "memory", s->memory),
          "spectest memory");
}

/* ---- Modules and instances ---------------------------------------------- */

static bool is_text(const cJSON *c)
{
    const char *mt = jstr(c, "module_type"), *f = jstr(c, "filename");
    size_t n = f ? strlen(f) : 0;
    return (mt && !strcmp(mt, "text")) || (n > 4 && !strcmp(f + n - 4, ".wat"));
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            buf = realloc(buf, cap + 1);
            if (!buf)
                die("out of memory");
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got);
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Decodes, validates and compiles the command's module file; a module that
 * loads stays until the file ends (failed instantiations may leave its
 * functions in imported tables). ARG when the file cannot be read. */
static wharf_status load_module(script *s, const cJSON *c, wharf_module **out,
                                wharf_error *err)
{
    const char *f = jstr(c, "filename");
    char path[4096];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", s->dir, f ? f : "");
    uint8_t *bytes = f ? read_file(path, &len) : NULL;
    if (!bytes) {
        err->status = WHARF_ERR_ARG;
        snprintf(err->message, sizeof err->message, "cannot read %.200s", path);
        return WHARF_ERR_ARG;
    }
    wharf_status st = wharf_module_new(s->engine, bytes, len, out, err);
    free(bytes);
    if (st == WHARF_OK) {
        s->modules = grow(s->modules, s->nmodules, sizeof *s->modules);
        s->modules[s->nmodules++] = *out;
    }
    return st;
}

static wharf_status instantiate(script *s, wharf_module *m, wharf_instance **out,
                                wharf_error *err)
{
    wharf_limits lim = { .timeout_ns = CALL_TIMEOUT_NS };
    wharf_status st = wharf_instance_new(m, s->linker, &lim, out, err);
    if (st == WHARF_OK) {
        s->instances = grow(s->instances, s->ninstances, sizeof *s->instances);
        s->instances[s->ninstances++] = *out;
    }
    return st;
}

/* The instance a command names ("$M"), or the current one. */
static wharf_instance *find_instance(script *s, const char *name)
{
    if (!name)
        return s->current;
    for (unsigned i = s->nnames; i-- > 0;)
        if (!strcmp(s->names[i].name, name))
            return s->names[i].inst;
    return NULL;
}

/* ---- Actions ------------------------------------------------------------ */

typedef struct outcome {
    wharf_status status;
    wharf_error err;
    wharf_val vals[64];
    uint32_t n;
} outcome;

/* JSON strings cannot carry NUL bytes through cJSON, but export names may
 * hold them (names.wast). Before parsing, each \u0000 escape becomes the
 * byte 0xff, which no valid UTF-8 name contains; lookups turn it back. */
static void mark_nuls(char *json)
{
    char *w = json;
    for (const char *r = json; *r;) {
        if (r[0] == '\\' && !strncmp(r + 1, "u0000", 5)) {
            *w++ = (char)0xff;
            r += 6;
        } else if (r[0] == '\\' && r[1]) {
            *w++ = *r++;
            *w++ = *r++;
        } else {
            *w++ = *r++;
        }
    }
    *w = 0;
}

static wharf_status find_func(wharf_instance *inst, const char *field, wharf_func **f)
{
    char name[1024];
    size_t n = strlen(field);
    if (n >= sizeof name)
        return WHARF_ERR_NOT_FOUND;
    for (size_t i = 0; i < n; i++)
        name[i] = field[i] == (char)0xff ? 0 : field[i];
    return wharf_instance_func_n(inst, name, n, f);
}

static bool invoke(script *s, const cJSON *a, outcome *o, const char **why)
{
    wharf_instance *inst = find_instance(s, jstr(a, "module"));
    wharf_func *f;
    const char *field = jstr(a, "field");
    if (!inst || !field || find_func(inst, field, &f) != WHARF_OK) {
        *why = inst ? "no such function export" : "no such module";
        return false;
    }
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(a, "args"), *arg;
    wharf_val vals[64];
    uint32_t nargs = 0;
    cJSON_ArrayForEach(arg, args) {
        if (nargs == 64 || !parse_val(arg, &vals[nargs++])) {
            *why = "unsupported argument";
            return false;
        }
    }
    const wharf_valkind *p, *r;
    uint32_t np, nr;
    wharf_func_type(f, &p, &np, &r, &nr);
    if (nr > 64) {
        *why = "too many results";
        return false;
    }
    o->n = nr;
    o->status = wharf_call(inst, f, vals, nargs, o->vals, nr, &o->err);
    return true;
}

/* Runs an invoke or get action; false (with *why) when it cannot even be
 * attempted. */
static bool perform(script *s, const cJSON *a, outcome *o, const char **why)
{
    const char *type = jstr(a, "type");
    memset(&o->err, 0, sizeof o->err);
    if (type && !strcmp(type, "invoke"))
        return invoke(s, a, o, why);
    wharf_instance *inst = find_instance(s, jstr(a, "module"));
    const char *field = jstr(a, "field");
    wharf_global *g;
    if (!type || strcmp(type, "get") || !inst || !field ||
        wharf_instance_global(inst, field, &g) != WHARF_OK) {
        *why = "no such module, global or action";
        return false;
    }
    o->status = WHARF_OK;
    o->vals[0] = wharf_global_get(g);
    o->n = 1;
    return true;
}

/* assert_return: the results must equal "expected" (or, in relaxed-simd,
 * the single result must equal one of "either"). */
static bool results_match(const cJSON *c, const outcome *o)
{
    const cJSON *either = cJSON_GetObjectItemCaseSensitive(c, "either"), *e;
    if (either) {
        cJSON_ArrayForEach(e, either)
            if (o->n == 1 && val_match(e, &o->vals[0]))
                return true;
        return false;
    }
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(c, "expected");
    uint32_t i = 0;
    cJSON_ArrayForEach(e, exp) {
        if (i >= o->n || !val_match(e, &o->vals[i]))
            return false;
        i++;
    }
    return i == o->n;
}

static void describe_results(const outcome *o, char *buf, size_t n)
{
    size_t at = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < o->n && at + 1 < n; i++) {
        char v[64];
        val_text(&o->vals[i], v, sizeof v);
        at += (size_t)snprintf(buf + at, n - at, "%s%s", i ? " " : "", v);
    }
}

static void cmd_action(script *s, const cJSON *c, int line, const char *type)
{
    outcome o;
    const char *why = NULL;
    if (!perform(s, cJSON_GetObjectItemCaseSensitive(c, "action"), &o, &why)) {
        fail(s, line, type, "%s", why);
        return;
    }
    bool ok;
    if (!strcmp(type, "assert_trap"))
        ok = o.status == WHARF_ERR_TRAP;
    else if (!strcmp(type, "assert_exhaustion"))
        ok = o.status == WHARF_ERR_TRAP && o.err.trap == WHARF_TRAP_STACK_EXHAUSTED;
    else
        ok = o.status == WHARF_OK && (strcmp(type, "assert_return") || results_match(c, &o));
    if (ok) {
        pass(s);
        return;
    }
    const char *text = jstr(c, "text");
    if (o.status != WHARF_OK) {
        fail(s, line, type, "%s: %s%s%s", wharf_status_name(o.status), o.err.message,
             text ? ", expected " : "", text ? text : "");
        return;
    }
    char got[512];
    describe_results(&o, got, sizeof got);
    fail(s, line, type, "got [%s]%s%s", got, text ? ", expected trap " : "",
         text ? text : "");
}

/* ---- Module commands ---------------------------------------------------- */

static void cmd_module(script *s, const cJSON *c, int line)
{
    wharf_module *m;
    wharf_instance *inst;
    wharf_error err;
    if (is_text(c)) {
        skip(s);
        return;
    }
    s->current = NULL;   /* a failed module leaves no current module */
    if (load_module(s, c, &m, &err) != WHARF_OK || instantiate(s, m, &inst, &err) != WHARF_OK) {
        fail(s, line, "module", "%s: %s", wharf_status_name(err.status), err.message);
        return;
    }
    s->current = inst;
    const char *name = jstr(c, "name");
    if (name) {
        s->names = grow(s->names, s->nnames, sizeof *s->names);
        s->names[s->nnames++] = (named){ name, inst };
    }
    pass(s);
}

static void cmd_register(script *s, const cJSON *c, int line)
{
    wharf_instance *inst = find_instance(s, jstr(c, "name"));
    const char *as = jstr(c, "as");
    if (!inst || !as) {
        fail(s, line, "register", "no such module");
        return;
    }
    if (wharf_linker_define_instance(s->linker, as, inst) != WHARF_OK)
        fail(s, line, "register", "wharf_linker_define_instance failed");
    else
        pass(s);
}

/* assert_malformed / assert_invalid: any failure of wharf_module_new will do
 * (the status is only noted: wording and classification vary). */
static void cmd_bad_module(script *s, const cJSON *c, int line, const char *type)
{
    wharf_module *m;
    wharf_error err;
    const char *text = jstr(c, "text");
    wharf_status st = load_module(s, c, &m, &err);
    wharf_status want = !strcmp(type, "assert_invalid") ? WHARF_ERR_INVALID
                                                        : WHARF_ERR_MALFORMED;
    if (st == WHARF_OK)
        fail(s, line, type, "module was accepted, expected %s", text ? text : "an error");
    else if (st == WHARF_ERR_ARG)
        fail(s, line, type, "%s", err.message);
    else
        pass(s);
    if (s->notes && st != WHARF_OK && st != WHARF_ERR_ARG && st != want)
        printf("%s:%d: note: %s got %s: %s (expected %s)\n", s->file, line, type,
               wharf_status_name(st), err.message, text ? text : "");
}

/* assert_unlinkable / assert_uninstantiable: the module loads, then
 * instantiation fails while linking (UNLINKABLE) or by trapping. */
static void cmd_bad_instance(script *s, const cJSON *c, int line, const char *type)
{
    wharf_module *m;
    wharf_instance *inst;
    wharf_error err;
    const char *text = jstr(c, "text");
    wharf_status want = !strcmp(type, "assert_unlinkable") ? WHARF_ERR_UNLINKABLE
                                                           : WHARF_ERR_TRAP;
    if (load_module(s, c, &m, &err) != WHARF_OK) {
        fail(s, line, type, "module failed to load: %s: %s",
             wharf_status_name(err.status), err.message);
        return;
    }
    wharf_status st = instantiate(s, m, &inst, &err);
    if (st == want)
        pass(s);
    else if (st == WHARF_OK)
        fail(s, line, type, "instantiated, expected %s", text ? text : "a failure");
    else
        fail(s, line, type, "%s: %s, expected %s", wharf_status_name(st), err.message,
             text ? text : "");
}

static void command(script *s, const cJSON *c)
{
    const char *type = jstr(c, "type");
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(c, "line");
    int line = cJSON_IsNumber(l) ? l->valueint : 0;
    if (!type)
        fail(s, line, "?", "command without a type");
    else if (!strcmp(type, "module"))
        cmd_module(s, c, line);
    else if (!strcmp(type, "register"))
        cmd_register(s, c, line);
    else if (!strcmp(type, "action") || !strcmp(type, "assert_return") ||
             !strcmp(type, "assert_trap") || !strcmp(type, "assert_exhaustion"))
        cmd_action(s, c, line, type);
    else if (is_text(c))
        skip(s);
    else if (!strcmp(type, "assert_malformed") || !strcmp(type, "assert_invalid"))
        cmd_bad_module(s, c, line, type);
    else if (!strcmp(type, "assert_unlinkable") || !strcmp(type, "assert_uninstantiable"))
        cmd_bad_instance(s, c, line, type);
    else
        fail(s, line, type, "unsupported command");
}

/* ---- Files -------------------------------------------------------------- */

static void script_free(script *s)
{
    for (unsigned i = 0; i < s->ninstances; i++)
        wharf_instance_free(s->instances[i]);
    for (unsigned i = 0; i < s->nmodules; i++)
        wharf_module_free(s->modules[i]);
    for (int i = 0; i < 4; i++)
        wharf_global_free(s->globals[i]);
    wharf_table_free(s->table);
    wharf_memory_free(s->memory);
    wharf_linker_free(s->linker);
    wharf_engine_free(s->engine);
    free(s->instances);
    free(s->modules);
    free(s->names);
}

/* Runs one JSON script in this process. */
static counts run_file(const char *dir, const char *json_path, const char *file)
{
    script s = { .file = file, .dir = dir, .notes = getenv("WHARF_SPEC_NOTES") != NULL };
    size_t len;
    char *text = (char *)read_file(json_path, &len);
    if (text)
        mark_nuls(text);
    cJSON *doc = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *cmds = cJSON_GetObjectItemCaseSensitive(doc, "commands"), *c;
    if (!cJSON_IsArray(cmds)) {
        fail(&s, 0, "load", "cannot read %s", json_path);
        cJSON_Delete(doc);
        return s.n;
    }
    check(wharf_engine_new(NULL, &s.engine), "engine");
    check(wharf_linker_new(s.engine, &s.linker), "linker");
    spectest(&s);
    cJSON_ArrayForEach(c, cmds)
        command(&s, c);
    if (s.n.failed > MAX_REPORTED)
        printf("%s: ... %u more failures\n", file, s.n.failed - MAX_REPORTED);
    script_free(&s);
    cJSON_Delete(doc);
    return s.n;
}

/* Runs one file in a child process so that a crash, a hang or a leak
 * report fails that file alone. The child sends its counts over a pipe. */
static counts run_isolated(const char *dir, const char *json_path, const char *file)
{
    counts n = { 0, 0, 0 };
    int fd[2];
    fflush(stdout);
    if (pipe(fd) != 0)
        die("pipe");
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        close(fd[0]);
        setvbuf(stdout, NULL, _IOLBF, 0);
        alarm(FILE_TIMEOUT_S);
        n = run_file(dir, json_path, file);
        if (write(fd[1], &n, sizeof n) != (ssize_t)sizeof n)
            exit(3);
        exit(0);
    }
    close(fd[1]);
    ssize_t got = read(fd[0], &n, sizeof n);
    close(fd[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    if (got != (ssize_t)sizeof n || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        if (got != (ssize_t)sizeof n)
            memset(&n, 0, sizeof n);
        n.failed++;
        if (WIFSIGNALED(st))
            printf("%s: crashed with signal %d\n", file, WTERMSIG(st));
        else
            printf("%s: exited with status %d\n", file, WEXITSTATUS(st));
    }
    return n;
}

static int wast_filter(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 5 && !strcmp(d->d_name + n - 5, ".wast");
}

static bool selected(const char *name, char **files, int nfiles)
{
    if (nfiles == 0)
        return true;
    size_t n = strlen(name);
    for (int i = 0; i < nfiles; i++)
        if (!strcmp(files[i], name) ||
            (!strncmp(files[i], name, n) && !strcmp(files[i] + n, ".wast")))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: spec-runner SPECDIR SUITE [FILE...]\n");
        return 2;
    }
    const char *specdir = argv[1], *suite = argv[2];
    const char *shared = getenv("SHARED") ? getenv("SHARED") : "../shared";
    /* core and simd convert to SPECDIR/NAME, proposals to SPECDIR/SUITE/NAME. */
    bool flat = !strcmp(suite, "core") || !strcmp(suite, "simd");
    char path[4096];
    snprintf(path, sizeof path, "%s/spec/%s", shared, suite);
    struct dirent **list;
    int nlist = scandir(path, &list, wast_filter, alphasort);
    if (nlist < 0) {
        fprintf(stderr, "spec-runner: cannot list %s\n", path);
        return 2;
    }
    counts total = { 0, 0, 0 };
    for (int i = 0; i < nlist; i++) {
        char name[256], dir[4096], json[8192], file[300];
        snprintf(name, sizeof name, "%.*s", (int)strlen(list[i]->d_name) - 5, list[i]->d_name);
        free(list[i]);
        if (!selected(name, argv + 3, argc - 3))
            continue;
        snprintf(dir, sizeof dir, flat ? "%s/%s" : "%s/%s/%s", specdir,
                 flat ? name : suite, name);
        snprintf(json, sizeof json, "%s/%s.json", dir, name);
        snprintf(file, sizeof file, "%s.wast", name);
        counts n = run_isolated(dir, json, file);
        printf("%s: %u passed, %u failed, %u skipped\n", name, n.passed, n.failed,
               n.skipped);
        total.passed += n.passed;
        total.failed += n.failed;
        total.skipped += n.skipped;
    }
    free(list);
    printf("%u passed, %u failed, %u skipped\n", total.passed, total.failed,
           total.skipped);
    return total.failed ? 1 : 0;
}
