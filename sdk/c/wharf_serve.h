/* wharf_serve.h: HTTP for C plugins that `wharf serve` runs with
 * `executor: function` (docs/config.md). One include on top of
 * wharf_pdk.h; like it, needs no libc.
 *
 * The plugin function's input is the request as an HTTP/1.1 message and
 * its output is a CGI-style response:
 *
 *     input:  GET /api/users?limit=2 HTTP/1.1\r\n      (method, target,
 *             host: example.com\r\n                     protocol; then one
 *             content-type: application/json\r\n       line per header,
 *             \r\n                                      an empty line
 *             <body bytes>                              and the body)
 *
 *     output: Status: 201\r\n                          (Status, Content-Type,
 *             Content-Type: application/json\r\n       Location, any other
 *             \r\n                                      header; an empty
 *             <body bytes>                              line; the body)
 *
 * Example:
 *
 *     #include "wharf_serve.h"
 *
 *     WHARF_PLUGIN_FN(handle)
 *     {
 *         static char buf[65536];
 *         wharf_serve_request req;
 *         if (wharf_serve_read(&req, buf, sizeof buf) != 0)
 *             return wharf_serve_respond_str(400, "text/plain", "bad request\n");
 *         if (wharf_serve_path_is(&req, "/health"))
 *             return wharf_serve_respond_str(200, "application/json", "{\"ok\":true}");
 *         return wharf_serve_respond_str(404, "text/plain", "not found\n");
 *     }
 *
 * Strings in a wharf_serve_request point into the caller's buffer and are
 * not NUL-terminated. */
#ifndef WHARF_SERVE_H
#define WHARF_SERVE_H

#include "wharf_pdk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wharf_serve_request {
    const char *method; size_t method_len;
    const char *path; size_t path_len;      /* without the query */
    const char *query; size_t query_len;    /* after '?'; may be empty */
    const char *headers; size_t headers_len;  /* the header lines, CRLF each */
    const uint8_t *body; size_t body_len;
} wharf_serve_request;

static inline bool wharf_serve_eq(const char *a, size_t alen, const char *b)
{
    size_t n = wharf_strlen(b);
    if (alen != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static inline char wharf_serve_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* The index of byte c in s[0..n), or n. */
static inline size_t wharf_serve_find(const char *s, size_t n, char c)
{
    size_t i = 0;
    while (i < n && s[i] != c)
        i++;
    return i;
}

/* Reads the input into buf (cap bytes) and splits it. Returns 0, or -1
 * when the input is larger than buf or not a request message. */
static inline int wharf_serve_read(wharf_serve_request *r, void *buf, size_t cap)
{
    char *s = (char *)buf;
    uint64_t n = wharf_input(buf, cap);
    if (n > cap)
        return -1;
    size_t eol = wharf_serve_find(s, (size_t)n, '\n');
    size_t sp1 = wharf_serve_find(s, eol, ' ');
    if (eol == n || sp1 == eol)
        return -1;
    size_t tlen = wharf_serve_find(s + sp1 + 1, eol - sp1 - 1, ' ');
    const char *target = s + sp1 + 1;
    size_t q = wharf_serve_find(target, tlen, '?');
    r->method = s;
    r->method_len = sp1;
    r->path = target;
    r->path_len = q;
    r->query = q < tlen ? target + q + 1 : target + tlen;
    r->query_len = q < tlen ? tlen - q - 1 : 0;
    /* Headers run to the first empty line. */
    size_t at = eol + 1, start = at;
    while (at < n) {
        size_t len = wharf_serve_find(s + at, (size_t)n - at, '\n');
        if (len == 0 || (len == 1 && s[at] == '\r')) {
            r->headers = s + start;
            r->headers_len = at - start;
            r->body = (const uint8_t *)s + at + len + 1;
            r->body_len = (size_t)n - (at + len + 1);
            return 0;
        }
        at += len + 1;
    }
    return -1;
}

static inline bool wharf_serve_path_is(const wharf_serve_request *r, const char *path)
{
    return wharf_serve_eq(r->path, r->path_len, path);
}

static inline bool wharf_serve_method_is(const wharf_serve_request *r, const char *m)
{
    return wharf_serve_eq(r->method, r->method_len, m);
}

/* The value of header `name` (any case), or NULL; *len gets its length. */
static inline const char *wharf_serve_header(const wharf_serve_request *r,
                                             const char *name, size_t *len)
{
    size_t nlen = wharf_strlen(name);
    const char *p = r->headers, *end = p + r->headers_len;
    while (p < end) {
        size_t line = wharf_serve_find(p, (size_t)(end - p), '\n');
        size_t colon = wharf_serve_find(p, line, ':');
        bool same = colon == nlen;
        for (size_t i = 0; same && i < nlen; i++)
            same = wharf_serve_lower(p[i]) == wharf_serve_lower(name[i]);
        if (same) {
            const char *v = p + colon + 1, *vend = p + line;
            while (v < vend && *v == ' ')
                v++;
            while (vend > v && (vend[-1] == '\r' || vend[-1] == ' '))
                vend--;
            *len = (size_t)(vend - v);
            return v;
        }
        p += line + 1;
    }
    return 0;
}

/* Sets the output to a response: status, content type, `extra` header
 * lines (each ending in "\r\n"; may be NULL) and n bytes of body. The
 * head is written straight into call memory, so the body is copied once.
 * Returns 0, so a handler can end with `return wharf_serve_respond(...)`. */
static inline int32_t wharf_serve_respond_ex(int status, const char *content_type,
                                             const char *extra, const void *body,
                                             size_t n)
{
    char head[64] = "Status: 000\r\nContent-Type: ";
    head[8] = (char)('0' + status / 100 % 10);
    head[9] = (char)('0' + status / 10 % 10);
    head[10] = (char)('0' + status % 10);
    size_t hl = wharf_strlen(head), cl = wharf_strlen(content_type);
    size_t xl = extra ? wharf_strlen(extra) : 0;
    uint64_t total = hl + cl + 2 + xl + 2 + n;
    wharf_handle h = wharf_env_alloc(total);
    if (!h)
        return wharf_error_set("out of call memory for the response");
    wharf_store(h, head, hl);
    wharf_store(h + hl, content_type, cl);
    wharf_store(h + hl + cl, "\r\n", 2);
    wharf_store(h + hl + cl + 2, extra ? extra : "", xl);
    wharf_store(h + hl + cl + 2 + xl, "\r\n", 2);
    wharf_store(h + hl + cl + 4 + xl, body, n);
    wharf_env_output_set(h, total);
    return 0;
}

static inline int32_t wharf_serve_respond(int status, const char *content_type,
                                          const void *body, size_t n)
{
    return wharf_serve_respond_ex(status, content_type, 0, body, n);
}

static inline int32_t wharf_serve_respond_str(int status, const char *content_type,
                                              const char *body)
{
    return wharf_serve_respond_ex(status, content_type, 0, body, wharf_strlen(body));
}

#ifdef __cplusplus
}
#endif
#endif /* WHARF_SERVE_H */
