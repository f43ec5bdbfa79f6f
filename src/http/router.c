/* router.c: maps a request path to a service route. An exact route wins;
 * otherwise the wildcard route with the longest prefix that matches on a
 * segment boundary ("/a/..." matches "/a" and "/a/b", never "/ab").
 * Built for each registry snapshot; read-only and shared by every loop
 * that holds the snapshot.
 * Exact lookups are a binary search; prefixes are scanned longest first,
 * which is O(routes) but routes number in the tens. */
#include <stdlib.h>
#include <string.h>

#include "httpInt.h"

static int cmp_path(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return alen < blen ? -1 : 1;
    return memcmp(a, b, alen);
}

static int cmp_exact(const void *x, const void *y)
{
    const wh_host_route *a = ((const wh_http_route *)x)->route;
    const wh_host_route *b = ((const wh_http_route *)y)->route;
    return cmp_path(a->prefix, a->prefix_len, b->prefix, b->prefix_len);
}

static int cmp_prefix(const void *x, const void *y)
{
    size_t a = ((const wh_http_route *)x)->route->prefix_len;
    size_t b = ((const wh_http_route *)y)->route->prefix_len;
    return a == b ? 0 : a > b ? -1 : 1;
}

bool wh_http_router_init(wh_http_router *r, const wh_host_snapshot *snap)
{
    int total = 0, n = wh_host_snapshot_count(snap);
    for (int i = 0; i < n; i++)
        total += wh_host_service_conf_of(wh_host_snapshot_service(snap, i))->nroutes;
    *r = (wh_http_router){ 0 };
    r->exact = calloc((size_t)total + 1, sizeof *r->exact);
    r->prefix = calloc((size_t)total + 1, sizeof *r->prefix);
    if (!r->exact || !r->prefix) {
        wh_http_router_free(r);
        return false;
    }
    for (int i = 0; i < n; i++) {
        wh_host_service *s = wh_host_snapshot_service(snap, i);
        const wh_host_service_conf *c = wh_host_service_conf_of(s);
        for (int j = 0; j < c->nroutes; j++) {
            const wh_host_route *rt = &c->routes[j];
            wh_http_route e = { rt, s };
            if (rt->wildcard)
                r->prefix[r->nprefix++] = e;
            else
                r->exact[r->nexact++] = e;
        }
    }
    qsort(r->exact, (size_t)r->nexact, sizeof *r->exact, cmp_exact);
    qsort(r->prefix, (size_t)r->nprefix, sizeof *r->prefix, cmp_prefix);
    return true;
}

void wh_http_router_free(wh_http_router *r)
{
    free(r->exact);
    free(r->prefix);
    *r = (wh_http_router){ 0 };
}

static bool prefix_matches(const wh_host_route *rt, const char *path, size_t len)
{
    size_t n = rt->prefix_len;
    return len >= n && !memcmp(path, rt->prefix, n) &&
           (len == n || path[n] == '/' || n == 0 || rt->prefix[n - 1] == '/');
}

const wh_http_route *wh_http_router_match(const wh_http_router *r,
                                          const char *path, size_t len)
{
    int lo = 0, hi = r->nexact;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        const wh_host_route *rt = r->exact[mid].route;
        int c = cmp_path(rt->prefix, rt->prefix_len, path, len);
        if (c == 0)
            return &r->exact[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (int i = 0; i < r->nprefix; i++)
        if (prefix_matches(r->prefix[i].route, path, len))
            return &r->prefix[i];
    return NULL;
}
