/* values.c: the CLI's text forms of wasm values, signatures, names,
 * durations and sizes. Parsers take a whole NUL-terminated string and
 * either accept all of it or fail; printers write forms the parsers read
 * back bit for bit (so a float result can be fed to another --invoke). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

const char *wh_cli_kind_name(wharf_valkind k)
{
    switch (k) {
    case WHARF_I32: return "i32";
    case WHARF_I64: return "i64";
    case WHARF_F32: return "f32";
    case WHARF_F64: return "f64";
    case WHARF_V128: return "v128";
    case WHARF_FUNCREF: return "funcref";
    case WHARF_EXTERNREF: return "externref";
    }
    return "?";
}

/* Digits in `base` only: strtoull alone would also take spaces and signs. */
static bool parse_digits(const char *s, int base, uint64_t *out)
{
    if (base == 16 ? !isxdigit((unsigned char)*s) : !isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, base);
    if (*end != '\0' || errno != 0)
        return false;
    *out = v;
    return true;
}

bool wh_cli_parse_u64(const char *s, uint64_t *out)
{
    return parse_digits(s, 10, out);
}

/* A `bits`-wide integer, signed or unsigned, decimal or 0x hex, into its
 * two's-complement bit pattern: -2^(bits-1) .. 2^bits - 1 are accepted. */
static bool parse_int(const char *s, unsigned bits, uint64_t *out)
{
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    int base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    uint64_t v, mask = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    if (!parse_digits(s, base, &v))
        return false;
    if (neg ? v > (UINT64_C(1) << (bits - 1)) : v > mask)
        return false;
    *out = (neg ? 0 - v : v) & mask;
    return true;
}

/* "nan:0x..." (the text format's NaN with an explicit payload): sets the
 * bits of a float whose significand has `mbits` bits. */
static bool parse_nan_payload(const char *s, unsigned mbits, unsigned ebits,
                              uint64_t *bits)
{
    bool neg = *s == '-';
    if (*s == '-' || *s == '+')
        s++;
    uint64_t payload;
    if (strncmp(s, "nan:0x", 6) != 0 || !parse_digits(s + 6, 16, &payload))
        return false;
    if (payload == 0 || payload >> mbits != 0)
        return false;
    uint64_t exp = ((UINT64_C(1) << ebits) - 1) << mbits;
    *bits = (uint64_t)neg << (mbits + ebits) | exp | payload;
    return true;
}

/* strtod/strtof without their leading-space tolerance; an overflow to
 * infinity is refused rather than silently changing the value. */
static bool parse_float(const char *s, bool is_f32, double *d, float *f)
{
    if (*s == '\0' || isspace((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    if (is_f32)
        *f = strtof(s, &end);
    else
        *d = strtod(s, &end);
    if (*end != '\0')
        return false;
    bool inf = is_f32 ? isinf(*f) : isinf(*d);
    return !(errno == ERANGE && inf);
}

static bool parse_f32(const char *s, float *out)
{
    uint64_t bits;
    if (parse_nan_payload(s, 23, 8, &bits)) {
        uint32_t b = (uint32_t)bits;
        memcpy(out, &b, sizeof b);
        return true;
    }
    double unused;
    return parse_float(s, true, &unused, out);
}

static bool parse_f64(const char *s, double *out)
{
    uint64_t bits;
    if (parse_nan_payload(s, 52, 11, &bits)) {
        memcpy(out, &bits, sizeof bits);
        return true;
    }
    float unused;
    return parse_float(s, false, out, &unused);
}

bool wh_cli_parse_val(wharf_valkind k, const char *s, wharf_val *out)
{
    uint64_t bits;
    out->kind = k;
    switch (k) {
    case WHARF_I32:
        if (!parse_int(s, 32, &bits))
            return false;
        out->of.i32 = (int32_t)(uint32_t)bits;
        return true;
    case WHARF_I64:
        if (!parse_int(s, 64, &bits))
            return false;
        out->of.i64 = (int64_t)bits;
        return true;
    case WHARF_F32:
        return parse_f32(s, &out->of.f32);
    case WHARF_F64:
        return parse_f64(s, &out->of.f64);
    case WHARF_FUNCREF:
    case WHARF_EXTERNREF:
        /* The command line can only name the null reference. */
        memset(&out->of, 0, sizeof out->of);
        return strcmp(s, "null") == 0;
    case WHARF_V128:
        break;
    }
    return false;
}

/* NaNs print as "nan" when canonical (only the quiet bit set), else with
 * their payload as "nan:0x...", which parse_nan_payload reads back. */
static void print_nan(FILE *f, uint64_t bits, unsigned mbits, unsigned ebits)
{
    uint64_t payload = bits & ((UINT64_C(1) << mbits) - 1);
    const char *sign = bits >> (mbits + ebits) ? "-" : "";
    if (payload == UINT64_C(1) << (mbits - 1))
        fprintf(f, "%snan\n", sign);
    else
        fprintf(f, "%snan:0x%" PRIx64 "\n", sign, payload);
}

/* The shortest %g form that reads back to the same bits. */
static void print_f64(FILE *f, double d, bool is_f32)
{
    char buf[40];
    int max = is_f32 ? 9 : 17;
    for (int prec = 1; prec <= max; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (is_f32 ? strtof(buf, NULL) == (float)d : strtod(buf, NULL) == d)
            break;
    }
    fprintf(f, "%s\n", buf);
}

static void print_v128(FILE *f, const uint8_t *b)
{
    /* As one 128-bit hex number: the lanes are little-endian in memory. */
    fputs("0x", f);
    for (int i = 15; i >= 0; i--)
        fprintf(f, "%02x", b[i]);
    fputc('\n', f);
}

void wh_cli_print_val(FILE *f, const wharf_val *v)
{
    uint32_t b32;
    uint64_t b64;
    switch (v->kind) {
    case WHARF_I32: fprintf(f, "%" PRId32 "\n", v->of.i32); return;
    case WHARF_I64: fprintf(f, "%" PRId64 "\n", v->of.i64); return;
    case WHARF_F32:
        memcpy(&b32, &v->of.f32, sizeof b32);
        if (isnan(v->of.f32))
            print_nan(f, b32, 23, 8);
        else
            print_f64(f, v->of.f32, true);
        return;
    case WHARF_F64:
        memcpy(&b64, &v->of.f64, sizeof b64);
        if (isnan(v->of.f64))
            print_nan(f, b64, 52, 11);
        else
            print_f64(f, v->of.f64, false);
        return;
    case WHARF_V128: print_v128(f, v->of.v128); return;
    case WHARF_FUNCREF:
        fputs(v->of.funcref ? "funcref\n" : "null\n", f);
        return;
    case WHARF_EXTERNREF:
        if (v->of.externref)
            fprintf(f, "externref:%p\n", v->of.externref);
        else
            fputs("null\n", f);
        return;
    }
}

static void print_kinds(FILE *f, const wharf_valkind *k, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        fprintf(f, "%s%s", i ? ", " : "", wh_cli_kind_name(k[i]));
}

void wh_cli_print_functype(FILE *f, const wharf_valkind *params, uint32_t np,
                           const wharf_valkind *results, uint32_t nr)
{
    fputs("func(", f);
    print_kinds(f, params, np);
    fputc(')', f);
    if (nr == 0)
        return;
    fputs(nr == 1 ? " -> " : " -> (", f);
    print_kinds(f, results, nr);
    if (nr > 1)
        fputc(')', f);
}

void wh_cli_print_name(FILE *f, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f || c == '\\' || c == '"')
            fprintf(f, "\\%02x", c);
        else
            fputc(c, f);
    }
}

/* A decimal count followed by a unit from `units` (matched without regard
 * to case); the empty unit must be listed to allow a bare number. */
struct unit { const char *name; uint64_t scale; };

static bool parse_scaled(const char *s, const struct unit *units, size_t n,
                         uint64_t *out)
{
    size_t digits = strspn(s, "0123456789");
    if (digits == 0 || digits > 19)
        return false;
    char num[20];
    memcpy(num, s, digits);
    num[digits] = '\0';
    uint64_t v = strtoull(num, NULL, 10);
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(s + digits, units[i].name) != 0)
            continue;
        if (v > UINT64_MAX / units[i].scale)
            return false;
        *out = v * units[i].scale;
        return true;
    }
    return false;
}

bool wh_cli_parse_duration(const char *s, uint64_t *ns)
{
    static const struct unit units[] = {
        { "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
        { "s", 1000000000 }, { "", 1000000000 },
        { "m", UINT64_C(60000000000) }, { "h", UINT64_C(3600000000000) },
    };
    return parse_scaled(s, units, sizeof units / sizeof units[0], ns);
}

bool wh_cli_parse_size(const char *s, uint64_t *bytes)
{
    static const struct unit units[] = {
        { "", 1 }, { "B", 1 },
        { "KiB", UINT64_C(1) << 10 }, { "MiB", UINT64_C(1) << 20 },
        { "GiB", UINT64_C(1) << 30 }, { "TiB", UINT64_C(1) << 40 },
        { "KB", 1000 }, { "MB", 1000000 }, { "GB", 1000000000 },
        { "TB", UINT64_C(1000000000000) },
    };
    return parse_scaled(s, units, sizeof units / sizeof units[0], bytes);
}
