/* pipeline.c: three plugin functions that `wharf serve` chains into one
 * pipeline (examples/wharf.yaml, /report): CSV in, an HTML table out.
 *
 *   parse      CSV (RFC 4180: a header line, quoted fields with "" for a
 *              quote, CRLF or LF) to tab-separated records, the format the
 *              stages pass on: one record per line, fields split by tabs,
 *              and in a field backslash, tab, newline and carriage return
 *              written \\ \t \n \r. Every record must have the header's
 *              number of fields;
 *   transform  adds a column, config `as` (default "total"), holding the
 *              product of the two columns named in config `multiply`
 *              (default "qty,price"), and a last row with their sum;
 *   render     the records as an HTML page holding one table (the first
 *              record is its head), titled by config `title`.
 *
 * A stage that cannot make sense of its input says why with error_set,
 * naming the line; the server answers 422 naming the stage. Built as a
 * WASI reactor with the C SDK (sdk/c/wharf_pdk.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wharf_pdk.h"

/* ---- Text buffers --------------------------------------------------------- */

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static int put(text *t, const char *s, size_t n)
{
    if (n > t->cap - t->len) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap - t->len < n)
            cap *= 2;
        char *p = realloc(t->p, cap);
        if (!p)
            return 0;
        t->p = p;
        t->cap = cap;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
    return 1;
}

static int put_str(text *t, const char *s)
{
    return put(t, s, strlen(s));
}

/* Sets the output to `t` and frees it; a failed put means memory ran out. */
static int32_t finish(text *t, int ok)
{
    if (ok)
        wharf_output(t->p, t->len);
    free(t->p);
    return ok ? 0 : wharf_error_set("out of memory");
}

/* The whole input, NUL-terminated, in a malloc'd buffer (NULL: no memory). */
static char *read_input(size_t *len)
{
    uint64_t n = wharf_input_length();
    char *s = malloc((size_t)n + 1);
    if (s) {
        wharf_input(s, n);
        s[n] = '\0';
        *len = (size_t)n;
    }
    return s;
}

/* error_set with a formatted message; returns 1, as wharf_error_set. */
__attribute__((format(printf, 1, 2)))
static int32_t failf(const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return wharf_error_set(msg);
}

/* ---- parse: CSV to records -------------------------------------------------- */

/* Appends one CSV field's character as record text (escaped). */
static int put_field_char(text *t, char c)
{
    switch (c) {
    case '\\': return put(t, "\\\\", 2);
    case '\t': return put(t, "\\t", 2);
    case '\n': return put(t, "\\n", 2);
    case '\r': return put(t, "\\r", 2);
    default: return put(t, &c, 1);
    }
}

/* Reads the field at *pp up to its ',' or line end into t; returns 1, or
 * 0 for a malformed quoted field (*bad says why). */
static int csv_field(const char **pp, text *t, int *ok, const char **bad)
{
    const char *p = *pp;
    if (*p != '"') {
        for (; *p && *p != ',' && *p != '\n' && !(*p == '\r' && p[1] == '\n'); p++)
            *ok &= put_field_char(t, *p);
        *pp = p;
        return 1;
    }
    for (p++;; p++) {
        if (!*p)
            return *bad = "a quoted field has no closing quote", 0;
        if (*p == '"' && p[1] != '"')
            break;
        p += *p == '"';   /* "" is one quote */
        *ok &= put_field_char(t, *p);
    }
    p++;
    if (*p && *p != ',' && *p != '\n' && *p != '\r')
        return *bad = "text after a closing quote", 0;
    *pp = p;
    return 1;
}

WHARF_PLUGIN_FN(parse)
{
    size_t len;
    char *in = read_input(&len);
    text out = { 0 };
    int ok = in != NULL, line = 1, fields = 0, want = 0;
    const char *bad = NULL;
    for (const char *p = in; ok && *p;) {
        if (!csv_field(&p, &out, &ok, &bad))
            break;
        fields++;
        if (*p == ',') {
            ok &= put(&out, "\t", 1);
            p++;
            continue;
        }
        p += *p == '\r' ? 2 : *p == '\n';
        if (want && fields != want) {
            free(in);
            free(out.p);
            return failf("line %d: expected %d fields, got %d", line, want, fields);
        }
        want = fields;
        fields = 0;
        line++;
        ok &= put(&out, "\n", 1);
    }
    free(in);
    if (bad) {
        free(out.p);
        return failf("line %d: %s", line, bad);
    }
    return finish(&out, ok);
}

/* ---- Records ------------------------------------------------------------------ */

/* Splits a record (one line, without its newline) into its fields, in
 * place; returns how many, at most max. */
static int split(char *rec, char **f, int max)
{
    int n = 0;
    for (char *p = rec; n < max; p++) {
        f[n++] = p;
        p = strchr(p, '\t');
        if (!p)
            break;
        *p = '\0';
    }
    return n;
}

/* The next record of the text at *pp, NUL-terminated in place, or NULL. */
static char *next_record(char **pp)
{
    char *rec = *pp;
    if (!*rec)
        return NULL;
    char *nl = strchr(rec, '\n');
    *pp = nl ? nl + 1 : rec + strlen(rec);
    if (nl)
        *nl = '\0';
    return rec;
}

static int put_fields(text *t, char **f, int n)
{
    int ok = 1;
    for (int i = 0; ok && i < n; i++)
        ok = (i == 0 || put(t, "\t", 1)) && put_str(t, f[i]);
    return ok;
}

/* ---- transform: one computed column and a sum ----------------------------------- */

#define MAX_FIELDS 64

static int column(char **f, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(f[i], name))
            return i;
    return -1;
}

static int number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == '\0';
}

/* Reads config key into buf (cap bytes) or uses `def`. */
static void config(const char *key, const char *def, char *buf, size_t cap)
{
    int64_t n = wharf_config_get(key, buf, cap - 1);
    if (n <= 0 || n >= (int64_t)cap)
        snprintf(buf, cap, "%s", def);
    else
        buf[n] = '\0';
}

WHARF_PLUGIN_FN(transform)
{
    char mul[128], as[64], *f[MAX_FIELDS + 1], num[64];
    config("multiply", "qty,price", mul, sizeof mul);
    config("as", "total", as, sizeof as);
    char *b = strchr(mul, ',');
    if (!b)
        return wharf_error_set("config 'multiply' must name two columns: A,B");
    *b++ = '\0';
    size_t len;
    char *in = read_input(&len), *p = in, *rec;
    if (!in || !(rec = next_record(&p)))
        return free(in), wharf_error_set("no header record");
    int n = split(rec, f, MAX_FIELDS), ca = column(f, n, mul), cb = column(f, n, b);
    if (ca < 0 || cb < 0)
        return free(in), failf("line 1: no column '%s'", ca < 0 ? mul : b);
    text out = { 0 };
    int ok = put_fields(&out, f, n) && put(&out, "\t", 1) && put_str(&out, as) &&
             put(&out, "\n", 1);
    double sum = 0;
    for (int line = 2; ok && (rec = next_record(&p)); line++) {
        double x, y;
        const char *bad = split(rec, f, MAX_FIELDS) != n ? "a field is missing"
                        : !number(f[ca], &x) ? f[ca] : !number(f[cb], &y) ? f[cb] : NULL;
        if (bad) {
            free(in);
            free(out.p);
            return failf("line %d: not a number: '%s'", line, bad);
        }
        sum += x * y;
        snprintf(num, sizeof num, "\t%.2f\n", x * y);
        ok = put_fields(&out, f, n) && put_str(&out, num);
    }
    ok = ok && put_str(&out, "Total");
    for (int i = 1; ok && i < n; i++)
        ok = put(&out, "\t", 1);
    snprintf(num, sizeof num, "\t%.2f\n", sum);
    ok = ok && put_str(&out, num);
    free(in);
    return finish(&out, ok);
}

/* ---- render: records to an HTML table ------------------------------------------- */

/* Appends a record field as HTML text: unescaped, then HTML-escaped. */
static int put_html(text *t, const char *s)
{
    int ok = 1;
    for (; *s; s++) {
        char c = *s;
        if (c == '\\' && s[1]) {
            c = *++s;
            c = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
        }
        ok = ok && (c == '&' ? put_str(t, "&amp;") : c == '<' ? put_str(t, "&lt;")
                    : c == '>' ? put_str(t, "&gt;") : c == '"' ? put_str(t, "&quot;")
                    : put(t, &c, 1));
    }
    return ok;
}

static int put_row(text *t, char **f, int n, const char *cell)
{
    char open[8], close[8];
    snprintf(open, sizeof open, "<%s>", cell);
    snprintf(close, sizeof close, "</%s>", cell);
    int ok = put_str(t, "<tr>");
    for (int i = 0; ok && i < n; i++)
        ok = put_str(t, open) && put_html(t, f[i]) && put_str(t, close);
    return ok && put_str(t, "</tr>\n");
}

WHARF_PLUGIN_FN(render)
{
    char title[128], *f[MAX_FIELDS];
    config("title", "Table", title, sizeof title);
    size_t len;
    char *in = read_input(&len), *p = in, *rec;
    text out = { 0 };
    int ok = in && put_str(&out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                           "<title>") && put_html(&out, title) &&
             put_str(&out, "</title></head>\n<body>\n<table>\n");
    /* The first record is the head; an empty input makes an empty table. */
    if (ok && (rec = next_record(&p)))
        ok = put_str(&out, "<thead>") && put_row(&out, f, split(rec, f, MAX_FIELDS), "th") &&
             put_str(&out, "</thead>\n");
    ok = ok && put_str(&out, "<tbody>\n");
    while (ok && (rec = next_record(&p)))
        ok = put_row(&out, f, split(rec, f, MAX_FIELDS), "td");
    ok = ok && put_str(&out, "</tbody>\n</table>\n</body></html>\n");
    free(in);
    return finish(&out, ok);
}
