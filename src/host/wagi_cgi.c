/* wagi_cgi.c: the CGI response parser (RFC 3875 section 6, as WAGI and
 * Spin read it) and the mapping of its result onto a response. Does no
 * I/O: it takes the bytes a guest wrote and points into them.
 *
 * Accepted: header lines "Name: value" ending in LF or CRLF, then an
 * empty line, then the body. At least one of Content-Type, Location or
 * Status must appear. Status is "NNN" or "NNN reason" (200..599; the
 * reason is ignored); a Location without a Status means 302. */
#include <string.h>
#include <strings.h>

#include "serviceInt.h"

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool name_is(const wh_host_header *h, const char *name)
{
    return h->name_len == strlen(name) && !strncasecmp(h->name, name, h->name_len);
}

/* "NNN" or "NNN reason" -> NNN; -1 when malformed or out of range. */
static int parse_status(const char *v, size_t len)
{
    if (len < 3 || (len > 3 && v[3] != ' '))
        return -1;
    int code = 0;
    for (int i = 0; i < 3; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        code = code * 10 + (v[i] - '0');
    }
    return code >= 200 && code <= 599 ? code : -1;
}

/* Splits line [p, end) into a header; false when it is not one. */
static bool parse_line(const char *p, const char *end, wh_host_header *h)
{
    const char *colon = memchr(p, ':', (size_t)(end - p));
    if (!colon || colon == p)
        return false;
    for (const char *q = p; q < colon; q++)
        if (!is_tchar((unsigned char)*q))
            return false;
    const char *v = colon + 1, *vend = end;
    while (v < vend && (*v == ' ' || *v == '\t'))
        v++;
    while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
        vend--;
    for (const char *q = v; q < vend; q++)
        if ((unsigned char)*q < 0x20 && *q != '\t')
            return false;
    *h = (wh_host_header){ p, (size_t)(colon - p), v, (size_t)(vend - v) };
    return true;
}

/* Applies the special headers once all are read. */
static wh_host_cgi_result finish(wh_host_cgi *out, bool has_type, bool has_loc,
                                 bool has_status)
{
    if (!has_type && !has_loc && !has_status) {
        out->error = "no Content-Type, Location or Status header";
        return WH_HOST_CGI_ERROR;
    }
    if (has_loc && !has_status)
        out->status = 302;
    return WH_HOST_CGI_DONE;
}

/* Records header `h`, handling Status; false (with out->error) on error. */
static bool add_header(wh_host_cgi *out, const wh_host_header *h, bool *has_status)
{
    if (name_is(h, "Status")) {
        if (*has_status || (out->status = parse_status(h->value, h->value_len)) < 0) {
            out->error = *has_status ? "Status given twice" : "malformed Status header";
            return false;
        }
        *has_status = true;
        return true;
    }
    if (out->nheaders == WH_HOST_MAX_HEADERS) {
        out->error = "too many response headers";
        return false;
    }
    out->headers[out->nheaders++] = *h;
    return true;
}

wh_host_cgi_result wh_host_cgi_parse(const uint8_t *buf, size_t len,
                                     wh_host_cgi *out)
{
    const char *p = (const char *)buf, *end = p + len;
    bool has_type = false, has_loc = false, has_status = false;
    *out = (wh_host_cgi){ .status = 200 };
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return WH_HOST_CGI_AGAIN;
        const char *eol = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
        if (eol == p) {
            out->body_off = (size_t)(nl + 1 - (const char *)buf);
            return finish(out, has_type, has_loc, has_status);
        }
        wh_host_header h;
        if (!parse_line(p, eol, &h)) {
            out->error = "malformed header line";
            return WH_HOST_CGI_ERROR;
        }
        if (!add_header(out, &h, &has_status))
            return WH_HOST_CGI_ERROR;
        has_type |= name_is(&h, "Content-Type");
        has_loc |= name_is(&h, "Location");
        p = nl + 1;
    }
}

void wh_host_cgi_respond(wh_host_worker *w, const wh_host_service *s,
                         const uint8_t *out, size_t len, wh_host_response *res)
{
    wh_host_cgi cgi;
    wh_host_cgi_result r = wh_host_cgi_parse(out, len, &cgi);
    if (r != WH_HOST_CGI_DONE) {
        const char *why = r == WH_HOST_CGI_AGAIN
            ? (len ? "no blank line after the CGI headers" : "the guest wrote nothing")
            : cgi.error;
        wh_host_error(w, s, 500, "invalid response from the service", res,
                      "bad CGI response: %s", why);
        return;
    }
    res->status = cgi.status;
    memcpy(res->headers, cgi.headers, (size_t)cgi.nheaders * sizeof cgi.headers[0]);
    res->nheaders = cgi.nheaders;
    res->body = out + cgi.body_off;
    res->body_len = len - cgi.body_off;
}
