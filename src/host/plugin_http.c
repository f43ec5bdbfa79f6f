/* plugin_http.c: the http_request import, outbound HTTP for plugins over
 * libcurl. The request is Extism's JSON object {"url", "method",
 * "headers"} in a call memory block, the body another block; the response
 * body comes back as a new block, its status through http_status_code and
 * its headers (a JSON object) through http_headers.
 *
 * Policy: only http and https; the URL's host must match one of the
 * manifest's allowed hosts (exactly or as an fnmatch glob, ignoring case);
 * redirects are not followed, since their target was never checked; the
 * transfer ends at the call's deadline, on cancel, or past the response
 * size limit. Any failure traps the call, as Extism's runtime does.
 *
 * libcurl is reached through lazycurl.h: it is loaded on the first request.
 */
#define _GNU_SOURCE   /* FNM_CASEFOLD */
#include <cjson/cJSON.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lazycurl.h"
#include "pluginInt.h"

/* A growable byte buffer with a cap. */
typedef struct http_buf {
    char *data;
    size_t len, cap, max;
    bool overflow;
} http_buf;

/* What one transfer collects. */
typedef struct http_xfer {
    wharf_plugin *p;
    http_buf body;
    cJSON *headers;               /* name -> value, repeated names joined */
} http_xfer;

static bool host_allowed(const wharf_compiled_plugin *code, const char *host)
{
    for (size_t i = 0; i < code->nhosts; i++)
        if (!strcasecmp(code->hosts[i], host) ||
            fnmatch(code->hosts[i], host, FNM_CASEFOLD) == 0)
            return true;
    return false;
}

/* Checks scheme and host of `url` against the policy; NULL when allowed,
 * else why not (a static string). */
static const char *url_refused(const wharf_compiled_plugin *code, const char *url)
{
    const wh_curl *curl = wh_host_curl();
    CURLU *u = curl->url();
    char *scheme = NULL, *host = NULL;
    const char *why = "malformed URL";
    if (u && curl->url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl->url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl->url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https"))
            why = "only http and https are supported";
        else
            why = host_allowed(code, host) ? NULL : "host not allowed";
    }
    curl->free(scheme);
    curl->free(host);
    curl->url_cleanup(u);
    return why;
}

static bool buf_add(http_buf *b, const void *data, size_t n)
{
    if (n > b->max - b->len) {
        b->overflow = true;
        return false;
    }
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            return false;
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, n);
    b->len += n;
    return true;
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    http_xfer *x = user;
    return buf_add(&x->body, data, size * n) ? size * n : 0;
}

/* Adds "name: value", joining a repeated name's values with ", ". */
static void header_put(cJSON *obj, const char *name, const char *value)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!old || !cJSON_IsString(old)) {
        cJSON_AddStringToObject(obj, name, value);
        return;
    }
    size_t n = strlen(old->valuestring) + strlen(value) + 3;
    char *joined = malloc(n);
    if (!joined)
        return;
    snprintf(joined, n, "%s, %s", old->valuestring, value);
    cJSON_ReplaceItemInObjectCaseSensitive(obj, name, cJSON_CreateString(joined));
    free(joined);
}

/* One header line; a status line starts a new response (100 Continue). */
static size_t on_header(char *line, size_t size, size_t n, void *user)
{
    http_xfer *x = user;
    size_t len = size * n, end = len;
    while (end && (line[end - 1] == '\r' || line[end - 1] == '\n'))
        end--;
    char *colon = memchr(line, ':', end);
    if (end >= 5 && !memcmp(line, "HTTP/", 5)) {
        cJSON_Delete(x->headers);
        x->headers = cJSON_CreateObject();
    } else if (colon && x->headers) {
        char *name = strndup(line, (size_t)(colon - line));
        const char *v = colon + 1;
        while (v < line + end && (*v == ' ' || *v == '\t'))
            v++;
        char *value = strndup(v, (size_t)(line + end - v));
        if (name && value)
            header_put(x->headers, name, value);
        free(name);
        free(value);
    }
    return len;
}

static int on_progress(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut,
                       curl_off_t un)
{
    http_xfer *x = user;
    return __atomic_load_n(&x->p->cancel.requested, __ATOMIC_ACQUIRE) != 0;
}

/* Adds the request's "headers" object to a curl header list. */
static struct curl_slist *request_headers(const cJSON *req, bool *ok)
{
    const wh_curl *curl = wh_host_curl();
    struct curl_slist *list = NULL;
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(req, "headers"), *item;
    *ok = true;
    if (!cJSON_IsObject(h))
        return NULL;
    cJSON_ArrayForEach(item, h) {
        if (!cJSON_IsString(item))
            continue;
        size_t n = strlen(item->string) + strlen(item->valuestring) + 3;
        char *line = malloc(n);
        struct curl_slist *next = NULL;
        if (line) {
            snprintf(line, n, "%s: %s", item->string, item->valuestring);
            next = curl->slist_append(list, line);
        }
        if (next)
            list = next;
        else
            *ok = false;
        free(line);
    }
    return list;
}

/* Sets every option of one transfer; false if curl refused one. */
static bool configure(CURL *h, http_xfer *x, const char *url, const char *method,
                      struct curl_slist *hdrs, const uint8_t *body, uint64_t blen)
{
    const wh_curl *curl = wh_host_curl();
    wharf_plugin *p = x->p;
    bool ok = curl->easy_setopt(h, CURLOPT_URL, url) == CURLE_OK &&
              curl->easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              curl->easy_setopt(h, CURLOPT_CUSTOMREQUEST, method) == CURLE_OK &&
              curl->easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) == CURLE_OK &&
              curl->easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
              curl->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
              curl->easy_setopt(h, CURLOPT_WRITEDATA, x) == CURLE_OK &&
              curl->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
              curl->easy_setopt(h, CURLOPT_HEADERDATA, x) == CURLE_OK &&
              curl->easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress) == CURLE_OK &&
              curl->easy_setopt(h, CURLOPT_XFERINFODATA, x) == CURLE_OK &&
              curl->easy_setopt(h, CURLOPT_NOPROGRESS, 0L) == CURLE_OK;
    if (ok && !strcasecmp(method, "HEAD"))
        ok = curl->easy_setopt(h, CURLOPT_NOBODY, 1L) == CURLE_OK;
    if (ok && body) {
        ok = curl->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen) == CURLE_OK &&
             curl->easy_setopt(h, CURLOPT_POSTFIELDS, (const char *)body) == CURLE_OK;
    }
    if (ok && p->deadline_ns) {
        uint64_t now = wh_now_ns();
        long ms = now >= p->deadline_ns ? 1 : (long)((p->deadline_ns - now) / 1000000) + 1;
        ok = curl->easy_setopt(h, CURLOPT_TIMEOUT_MS, ms) == CURLE_OK;
    }
    return ok;
}

/* Runs the transfer; WHARF_OK or a trap describing the failure. */
static wharf_status perform(http_xfer *x, const char *url, const char *method,
                            const cJSON *req, const uint8_t *body, uint64_t blen)
{
    const wh_curl *curl = wh_host_curl();
    wharf_plugin *p = x->p;
    bool hdrs_ok;
    struct curl_slist *hdrs = request_headers(req, &hdrs_ok);
    CURL *h = curl->easy_init();
    wharf_status s = WHARF_OK;
    if (!h || !hdrs_ok || !configure(h, x, url, method, hdrs, body, blen)) {
        s = wharf_caller_trap(p->caller, "http_request: out of memory");
    } else {
        CURLcode rc = curl->easy_perform(h);
        long status = 0;
        curl->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        p->http_status = (int32_t)status;
        if (x->body.overflow)
            s = wharf_caller_trap(p->caller, "HTTP response exceeds %llu bytes",
                                  (unsigned long long)x->body.max);
        else if (rc == CURLE_ABORTED_BY_CALLBACK)
            s = wharf_caller_trap(p->caller, "HTTP request to %s cancelled", url);
        else if (rc != CURLE_OK)
            s = wharf_caller_trap(p->caller, "HTTP request to %s failed: %s", url,
                                  curl->easy_strerror(rc));
    }
    curl->easy_cleanup(h);
    curl->slist_free_all(hdrs);
    return s;
}

/* Keeps the response headers for http_headers, as compact JSON. */
static void keep_headers(wharf_plugin *p, cJSON *headers)
{
    free(p->http_headers);
    p->http_headers = headers ? cJSON_PrintUnformatted(headers) : NULL;
    p->http_headers_len = p->http_headers ? strlen(p->http_headers) : 0;
}

/* Copies the response body into the call memory. */
static wharf_status body_out(wharf_plugin *p, const http_buf *b, uint64_t *out)
{
    if (b->len == 0)
        return WHARF_OK;
    *out = wh_host_mem_alloc(&p->mem, b->len);
    if (!*out)
        return wharf_caller_trap(p->caller, "http_request: call memory exhausted "
                                 "(%zu byte response)", b->len);
    memcpy(p->mem.data + *out, b->data, b->len);
    return WHARF_OK;
}

static wharf_status request(wharf_plugin *p, const cJSON *req, uint64_t body,
                            uint64_t *out)
{
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(req, "url");
    const cJSON *method = cJSON_GetObjectItemCaseSensitive(req, "method");
    if (!cJSON_IsString(url))
        return wharf_caller_trap(p->caller, "http_request: the request has no \"url\"");
    const char *m = cJSON_IsString(method) ? method->valuestring : "GET";
    const char *why = url_refused(p->code, url->valuestring);
    if (why)
        return wharf_caller_trap(p->caller, "HTTP request to %s is not allowed: %s",
                                 url->valuestring, why);
    wh_host_block *bb = body ? wh_host_mem_block(&p->mem, body) : NULL;
    if (body && !bb)
        return wharf_caller_trap(p->caller, "invalid handle %llu for http_request body",
                                 (unsigned long long)body);
    http_xfer x = { .p = p, .body = { .max = (size_t)p->code->max_http_bytes } };
    wharf_status s = perform(&x, url->valuestring, m, req,
                             bb ? p->mem.data + body : NULL, bb ? bb->len : 0);
    if (s == WHARF_OK)
        s = body_out(p, &x.body, out);
    keep_headers(p, s == WHARF_OK ? x.headers : NULL);
    cJSON_Delete(x.headers);
    free(x.body.data);
    return s;
}

wharf_status wh_host_http_request(wharf_plugin *p, uint64_t req, uint64_t body,
                                  uint64_t *out)
{
    *out = 0;
    wh_host_block *b = wh_host_mem_block(&p->mem, req);
    if (!b)
        return wharf_caller_trap(p->caller, "invalid handle %llu for http_request",
                                 (unsigned long long)req);
    cJSON *json = cJSON_ParseWithLength((const char *)p->mem.data + req, (size_t)b->len);
    if (!cJSON_IsObject(json)) {
        cJSON_Delete(json);
        return wharf_caller_trap(p->caller,
                                 "http_request: the request is not a JSON object");
    }
    p->http_status = 0;
    wharf_status s = wh_host_curl() ? request(p, json, body, out)
                   : wharf_caller_trap(p->caller, "http_request: cannot load libcurl.so.4");
    cJSON_Delete(json);
    return s;
}
