/* metrics.c: what the server counts and logs about each request, and the
 * Prometheus text exposition (version 0.0.4) of GET /metrics on the admin
 * listener (docs/operations.md lists every series).
 *
 * Counters live in the service's wh_host_stats, one per service name, so
 * they run on across versions; executors add traps, timeouts, fuel and
 * memory there, this file requests and latency. Everything is a relaxed
 * atomic: a scrape may see one request counted in `requests` and not yet
 * in the histogram, never a torn number. */
#define _GNU_SOURCE   /* open_memstream */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "httpInt.h"

/* Upper bounds of the latency buckets, in seconds (the last is +Inf). */
static const double bucket_s[WH_HOST_LATENCY_BUCKETS] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};

static uint64_t load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static int bucket_of(uint64_t ns)
{
    int i = 0;
    while (i < WH_HOST_LATENCY_BUCKETS && (double)ns > bucket_s[i] * 1e9)
        i++;
    return i;
}

void wh_http_observe(h2o_req_t *req, const wh_http_ticket *t, const wh_host_service *s,
                     int status, size_t bytes)
{
    uint64_t ns = wh_now_ns() - t->start_ns;
    wh_host_version_info v = { .name = "-" };
    if (s) {
        wh_host_stats *st = wh_host_service_stats(s);
        int cls = status >= 100 && status < 600 ? status / 100 : 0;
        __atomic_add_fetch(&st->requests[cls], 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&st->latency[bucket_of(ns)], 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&st->latency_ns, ns, __ATOMIC_RELAXED);
        wh_host_service_info(s, &v);
    }
    char path[700], addr[64];
    size_t plen = req->query_at == SIZE_MAX ? req->path.len : req->query_at;
    wh_host_log_quote(path, sizeof path, req->path.base, plen);
    wh_http_peer_address(req, addr, sizeof addr);
    wh_host_log("info", "msg=request id=%s method=%.*s path=%s status=%d service=%s "
                "version=%" PRIu64 " ms=%.3f bytes=%zu remote=%s proto=%s", t->id,
                (int)req->method.len, req->method.base, path, status, v.name, v.version,
                (double)ns / 1e6, bytes, addr, req->version >= 0x200 ? "HTTP/2" : "HTTP/1.1");
}

/* ---- GET /metrics ------------------------------------------------------------ */

typedef uint64_t (*stat_fn)(const wh_host_stats *st);

static uint64_t st_traps(const wh_host_stats *st) { return load(&st->traps); }
static uint64_t st_timeouts(const wh_host_stats *st) { return load(&st->timeouts); }
static uint64_t st_fuel_out(const wh_host_stats *st) { return load(&st->fuel_exhausted); }
static uint64_t st_fuel(const wh_host_stats *st) { return load(&st->fuel_used); }
static uint64_t st_mem_max(const wh_host_stats *st) { return load(&st->memory_max); }

static uint64_t gauge(const int64_t *p)
{
    int64_t v = __atomic_load_n(p, __ATOMIC_RELAXED);
    return v > 0 ? (uint64_t)v : 0;
}

static uint64_t st_active(const wh_host_stats *st) { return gauge(&st->active); }
static uint64_t st_pooled(const wh_host_stats *st) { return gauge(&st->pooled); }
static uint64_t st_memory(const wh_host_stats *st) { return gauge(&st->memory); }

/* The per-service series that are one number each. */
static const struct {
    const char *name, *type, *help;
    stat_fn fn;
} simple[] = {
    { "wharf_traps_total", "counter", "Guests that trapped (limits aside).", st_traps },
    { "wharf_timeouts_total", "counter", "Guests stopped at limits.timeout.", st_timeouts },
    { "wharf_fuel_exhausted_total", "counter", "Guests stopped at limits.fuel.", st_fuel_out },
    { "wharf_fuel_used_total", "counter",
      "Fuel used by guests of services with a fuel limit.", st_fuel },
    { "wharf_instances_active", "gauge", "Guests running now.", st_active },
    { "wharf_instances_pooled", "gauge", "Instances kept for reuse by workers.", st_pooled },
    { "wharf_linear_memory_bytes", "gauge",
      "Linear memory of the pooled instances.", st_memory },
    { "wharf_linear_memory_max_bytes", "gauge",
      "The most linear memory an instance ended a request with.", st_mem_max },
};

static void family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void requests(FILE *f, const wh_host_snapshot *snap)
{
    family(f, "wharf_requests_total", "counter", "Requests answered, by status class.");
    for (int i = 0; i < wh_host_snapshot_count(snap); i++) {
        const wh_host_service *s = wh_host_snapshot_service(snap, i);
        const wh_host_stats *st = wh_host_service_stats(s);
        for (int c = 1; c <= 5; c++)
            fprintf(f, "wharf_requests_total{service=\"%s\",class=\"%dxx\"} %" PRIu64 "\n",
                    wh_host_service_conf_of(s)->name, c, load(&st->requests[c]));
    }
}

static void latency(FILE *f, const wh_host_snapshot *snap)
{
    family(f, "wharf_request_duration_seconds", "histogram",
           "Time from routing a request to its answer.");
    for (int i = 0; i < wh_host_snapshot_count(snap); i++) {
        const wh_host_service *s = wh_host_snapshot_service(snap, i);
        const wh_host_stats *st = wh_host_service_stats(s);
        const char *name = wh_host_service_conf_of(s)->name;
        uint64_t total = 0;
        for (int b = 0; b <= WH_HOST_LATENCY_BUCKETS; b++) {
            total += load(&st->latency[b]);
            if (b < WH_HOST_LATENCY_BUCKETS)
                fprintf(f, "wharf_request_duration_seconds_bucket{service=\"%s\",le=\"%g\"} "
                        "%" PRIu64 "\n", name, bucket_s[b], total);
        }
        fprintf(f, "wharf_request_duration_seconds_bucket{service=\"%s\",le=\"+Inf\"} %" PRIu64
                "\nwharf_request_duration_seconds_sum{service=\"%s\"} %.6f\n"
                "wharf_request_duration_seconds_count{service=\"%s\"} %" PRIu64 "\n",
                name, total, name, (double)load(&st->latency_ns) / 1e9, name, total);
    }
}

static void per_service(FILE *f, const wh_host_snapshot *snap)
{
    requests(f, snap);
    latency(f, snap);
    for (size_t k = 0; k < sizeof simple / sizeof simple[0]; k++) {
        family(f, simple[k].name, simple[k].type, simple[k].help);
        for (int i = 0; i < wh_host_snapshot_count(snap); i++) {
            const wh_host_service *s = wh_host_snapshot_service(snap, i);
            fprintf(f, "%s{service=\"%s\"} %" PRIu64 "\n", simple[k].name,
                    wh_host_service_conf_of(s)->name, simple[k].fn(wh_host_service_stats(s)));
        }
    }
    family(f, "wharf_service_version", "gauge", "The version serving each service.");
    for (int i = 0; i < wh_host_snapshot_count(snap); i++) {
        wh_host_version_info v;
        wh_host_service_info(wh_host_snapshot_service(snap, i), &v);
        fprintf(f, "wharf_service_version{service=\"%s\"} %" PRIu64 "\n", v.name, v.version);
    }
}

/* Resident set size from /proc/self/statm (pages), or 0. */
static uint64_t rss_bytes(void)
{
    unsigned long long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%llu %llu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void per_process(FILE *f, wh_http_server *srv, int nservices)
{
    wh_host_registry_stats rs;
    wh_host_registry_stats_get(srv->reg, &rs);
    family(f, "wharf_uptime_seconds", "gauge", "Seconds since the server started.");
    fprintf(f, "wharf_uptime_seconds %.3f\n", (double)(wh_now_ns() - srv->started_ns) / 1e9);
    family(f, "process_resident_memory_bytes", "gauge", "Resident memory of the process.");
    fprintf(f, "process_resident_memory_bytes %" PRIu64 "\n", rss_bytes());
    family(f, "wharf_compile_cache_hits_total", "counter",
           "Module compiles saved: a live version had the same module.");
    fprintf(f, "wharf_compile_cache_hits_total %" PRIu64 "\n", rs.cache_hits);
    family(f, "wharf_compile_cache_misses_total", "counter", "Modules compiled.");
    fprintf(f, "wharf_compile_cache_misses_total %" PRIu64 "\n", rs.cache_misses);
    family(f, "wharf_changes_total", "counter",
           "Deploys, undeploys, rollbacks and reloads, by result.");
    fprintf(f, "wharf_changes_total{result=\"ok\"} %" PRIu64 "\n"
            "wharf_changes_total{result=\"refused\"} %" PRIu64 "\n", rs.changes, rs.refused);
    family(f, "wharf_services", "gauge", "Services deployed.");
    fprintf(f, "wharf_services %d\n", nservices);
    family(f, "wharf_versions_live", "gauge",
           "Service versions in memory: current ones and replaced ones still finishing "
           "requests.");
    fprintf(f, "wharf_versions_live %" PRId64 "\n", rs.versions);
}

char *wh_http_metrics_text(wh_http_server *srv, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f)
        return NULL;
    wh_host_snapshot *snap = wh_host_registry_acquire(srv->reg);
    per_service(f, snap);
    per_process(f, srv, wh_host_snapshot_count(snap));
    wh_host_snapshot_release(snap);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
