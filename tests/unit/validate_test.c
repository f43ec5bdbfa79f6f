/* validate_test.c: the validator (src/wasm/validate.c) against the core
 * spec suite's module verdicts, plus hand-made bodies that pin down error
 * kinds, offsets and function indices.
 *
 * The sweep (spec_sweep.h) goes over every command of the core suite:
 * each `module` must decode and validate, each binary `assert_invalid`
 * must fail validation and each binary `assert_malformed` must fail to
 * load. Run from the repository root. */
#include "../../src/wasm/wasmInt.h"
#include "../test.h"
#include "spec_sweep.h"

static const wh_allocator libc_alloc = { wh_libc_alloc, NULL };

/* Decodes and validates `bytes` the way wharf_module_new does, on a module
 * that lives only for the call. */
static wharf_status load(const uint8_t *bytes, size_t len, wharf_error *err)
{
    wharf_module m = { .bytes = (uint8_t *)bytes, .len = len };
    wh_arena_init(&m.arena, &libc_alloc);
    wharf_status s = wh_dec_module(&m, err);
    if (s == WHARF_OK)
        s = wh_val_module(&m, err);
    wh_arena_free_all(&m.arena);
    return s;
}

/* A string field of a command; "" when absent. */
static const char *field(const cJSON *cmd, const char *key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(cmd, key));
    return v ? v : "";
}

static int n_invalid_as_malformed, n_malformed_as_invalid;

/* Checks one command of <dir>/<name>.json. */
static void check_command(const char *dir, const char *name, const cJSON *cmd, void *ctx)
{
    const char *type = field(cmd, "type"), *text = field(cmd, "text");
    char path[600];
    bool is_mod = strcmp(type, "module") == 0;
    bool is_inv = strcmp(type, "assert_invalid") == 0;
    bool is_mal = strcmp(type, "assert_malformed") == 0;
    bool binary = strcmp(field(cmd, "module_type"), "binary") == 0;
    if (!(is_mod || ((is_inv || is_mal) && binary)))
        return;
    snprintf(path, sizeof path, "%s/%s", dir, field(cmd, "filename"));
    size_t len;
    uint8_t *bytes = (uint8_t *)spec_read(path, &len);
    CHECK(bytes != NULL, "cannot read %s", path);
    if (!bytes)
        return;
    wharf_error err = { 0 };
    wharf_status s = load(bytes, len, &err);
    free(bytes);
    int line_no = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(cmd, "line"));
    if (is_mod)
        CHECK(s == WHARF_OK, "%s.wast:%d: module rejected: %s @%llu: %s", name,
              line_no, wharf_status_name(s), (unsigned long long)err.offset,
              err.message);
    else if (is_inv)
        CHECK(s == WHARF_ERR_INVALID || s == WHARF_ERR_MALFORMED,
              "%s.wast:%d: want invalid (%s), got %s", name, line_no, text,
              wharf_status_name(s));
    else
        CHECK(s == WHARF_ERR_MALFORMED || s == WHARF_ERR_INVALID,
              "%s.wast:%d: want malformed (%s), got %s", name, line_no, text,
              wharf_status_name(s));
    /* Accepted, but worth a look: the other failure kind than expected. */
    if ((is_inv && s == WHARF_ERR_MALFORMED) || (is_mal && s == WHARF_ERR_INVALID))
        printf("# %s.wast:%d: %s (%s) reported as %s: %s\n", name, line_no,
               type, text, wharf_status_name(s), err.message);
    n_invalid_as_malformed += is_inv && s == WHARF_ERR_MALFORMED;
    n_malformed_as_invalid += is_mal && s == WHARF_ERR_INVALID;
}

static void sweep_core(void)
{
    spec_sweep(check_command, NULL);
    printf("# core sweep: %d assert_invalid reported as malformed, "
           "%d assert_malformed reported as invalid\n",
           n_invalid_as_malformed, n_malformed_as_invalid);
}

/* ---- Hand-made modules ----------------------------------------------------- */

/* A module with one type [] -> [i32], one function of that type and the
 * body `code` (locals declaration included, final end excluded). */
static wharf_status one_func(const uint8_t *code, uint8_t n, wharf_error *err)
{
    uint8_t buf[128] = {
        0, 'a', 's', 'm', 1, 0, 0, 0,
        1, 5, 1, 0x60, 0, 1, 0x7f,          /* type section: [] -> [i32] */
        3, 2, 1, 0,                         /* function section */
        10, (uint8_t)(n + 3), 1, (uint8_t)(n + 1),  /* code section, one body */
    };
    size_t len = 23;
    assert(n + len + 1 <= sizeof buf);
    memcpy(buf + len, code, n);
    len += n;
    buf[len++] = 0x0b;
    return load(buf, len, err);
}

#define BODY_OFF 23   /* offset of a one_func body's locals declaration */

static void test_bodies(void)
{
    wharf_error err;
    static const uint8_t ok[] = { 0, 0x41, 7 };                   /* i32.const 7 */
    CHECK(one_func(ok, sizeof ok, &err) == WHARF_OK, "%s", err.message);

    /* i64.const 0; i32.eqz: the mismatch is at i32.eqz. */
    static const uint8_t bad[] = { 0, 0x42, 0, 0x45 };
    CHECK(one_func(bad, sizeof bad, &err) == WHARF_ERR_INVALID, "%s", err.message);
    CHECK(err.offset == BODY_OFF + 3, "offset %llu", (unsigned long long)err.offset);
    CHECK(err.func_index == 0, "func %u", err.func_index);
    CHECK(strcmp(err.message, "type mismatch") == 0, "%s", err.message);

    /* Dead code is polymorphic: unreachable; i32.add leaves an i32. */
    static const uint8_t dead[] = { 0, 0x00, 0x6a };
    CHECK(one_func(dead, sizeof dead, &err) == WHARF_OK, "%s", err.message);

    /* An unknown opcode is malformed, not invalid. */
    static const uint8_t illegal[] = { 0, 0x41, 0, 0xff };
    CHECK(one_func(illegal, sizeof illegal, &err) == WHARF_ERR_MALFORMED,
          "%s", err.message);

    /* local.get 0 without locals: "unknown local". */
    static const uint8_t local[] = { 0, 0x20, 0 };
    CHECK(one_func(local, sizeof local, &err) == WHARF_ERR_INVALID &&
          strncmp(err.message, "unknown local", 13) == 0, "%s", err.message);

    /* A too-long LEB inside an index is malformed even though the index
     * would also be unknown: the reader's error comes first. */
    static const uint8_t leb[] = { 0, 0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
    CHECK(one_func(leb, sizeof leb, &err) == WHARF_ERR_MALFORMED, "%s", err.message);

    /* block (result i32) i32.const 1 br 0 end: a branch with a value. */
    static const uint8_t br[] = { 0, 0x02, 0x7f, 0x41, 1, 0x0c, 0, 0x0b };
    CHECK(one_func(br, sizeof br, &err) == WHARF_OK, "%s", err.message);

    /* br_table whose targets disagree in arity: the block has none, the
     * function's label one. */
    static const uint8_t brt[] = { 0, 0x02, 0x40, 0x41, 0, 0x0e, 1, 0, 1,
                                   0x0b, 0x41, 7 };
    CHECK(one_func(brt, sizeof brt, &err) == WHARF_ERR_INVALID, "%s", err.message);
}

/* Which failure kind wins, and rules that need the whole module. */
static void test_kinds(void)
{
    wharf_error err;
    /* A type error (i32.eqz of an i64) before an illegal opcode: the spec
     * decodes everything first, so the module is malformed. */
    static const uint8_t late[] = { 0, 0x42, 0, 0x45, 0xff };
    CHECK(one_func(late, sizeof late, &err) == WHARF_ERR_MALFORMED, "%s", err.message);
    CHECK(err.offset == BODY_OFF + 4, "offset %llu", (unsigned long long)err.offset);

    /* `else` outside an `if` does not parse. */
    static const uint8_t els[] = { 0, 0x02, 0x40, 0x05, 0x0b, 0x41, 0 };
    CHECK(one_func(els, sizeof els, &err) == WHARF_ERR_MALFORMED, "%s", err.message);

    /* data.drop 0 without a data count section. */
    static const uint8_t drop[] = { 0, 0xfc, 0x09, 0, 0x41, 0 };
    CHECK(one_func(drop, sizeof drop, &err) == WHARF_ERR_MALFORMED &&
          strcmp(err.message, "data count section required") == 0, "%s", err.message);

    /* ref.func 0 where no element, export or global declares function 0. */
    static const uint8_t ref[] = { 0, 0xd2, 0, 0x1a, 0x41, 0 };
    CHECK(one_func(ref, sizeof ref, &err) == WHARF_ERR_INVALID &&
          strcmp(err.message, "undeclared function reference") == 0, "%s", err.message);

    /* i32.load without a memory. */
    static const uint8_t load[] = { 0, 0x41, 0, 0x28, 2, 0 };
    CHECK(one_func(load, sizeof load, &err) == WHARF_ERR_INVALID &&
          strncmp(err.message, "unknown memory", 14) == 0, "%s", err.message);

    /* Bytes after the end that closes the function. */
    static const uint8_t after[] = { 0, 0x41, 0, 0x0b, 0x01 };
    CHECK(one_func(after, sizeof after, &err) == WHARF_ERR_MALFORMED, "%s", err.message);

    /* if (result i32) without else cannot produce its result. */
    static const uint8_t ifr[] = { 0, 0x41, 1, 0x04, 0x7f, 0x41, 2, 0x0b };
    CHECK(one_func(ifr, sizeof ifr, &err) == WHARF_ERR_INVALID, "%s", err.message);
}

int main(void)
{
    test_bodies();
    test_kinds();
    sweep_core();
    return test_done();
}
