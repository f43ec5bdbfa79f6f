/* instance.c: what a fresh instance per request costs `wharf serve`,
 * without HTTP (bench/http runs it; see bench/README.md). For each
 * service of examples/wharf.yaml it times, in microseconds, the best of
 * several rounds of:
 *
 *   request   wh_host_handle: one whole request as the server runs it
 *             (fresh instance, WASI or plugin setup, the guest, the
 *             response parsed), minus the HTTP parsing and sending;
 *   instance  making and freeing the instance alone: for WAGI the WASI
 *             state and the instance, from the service's pre-linked
 *             module (no _start); for the function executor
 *             wharf_plugin_instantiate plus wharf_plugin_free.
 *
 * Usage: instance [CONFIG.yaml] (default examples/wharf.yaml). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/host/serviceInt.h"

#ifndef N
#define N 2000      /* requests per round */
#endif
#define ROUNDS 5

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void make_request(const wh_host_service_conf *c, wh_host_request *r)
{
    static const wh_host_header headers[] = {
        { "host", 4, "127.0.0.1:8080", 14 }, { "user-agent", 10, "bench", 5 },
    };
    const wh_host_route *rt = &c->routes[0];
    *r = (wh_host_request){
        .method = "GET", .method_len = 3,
        .path = rt->prefix, .path_len = rt->prefix_len,
        .query = "", .path_info = "", .route = rt,
        .authority = "127.0.0.1:8080", .authority_len = 14,
        .scheme = "http", .protocol = "HTTP/1.1", .remote_addr = "127.0.0.1",
        .server_port = 8080, .headers = headers, .nheaders = 2,
    };
}

/* One WAGI instance, made and freed, without running _start. */
static void wagi_instance(wh_host_service *s)
{
    wh_wasi_config cfg = { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1 };
    wh_wasi *w;
    wharf_instance *inst;
    if (wh_wasi_new(&cfg, &w, NULL) != WHARF_OK ||
        wharf_instance_pre_instantiate(s->pre, &s->limits, w, &inst, NULL) != WHARF_OK)
        abort();
    wharf_instance_free(inst);
    wh_wasi_free(w);
}

static void plugin_instance(wh_host_service *s)
{
    wharf_plugin *p;
    if (wharf_plugin_instantiate(s->plugin, &p, NULL) != WHARF_OK)
        abort();
    wharf_plugin_free(p);
}

static double best(wh_host_worker *w, wh_host_service *s, bool whole)
{
    wh_host_request req;
    wh_host_response res;
    make_request(s->conf, &req);
    double min = 1e30;
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now_us();
        for (int i = 0; i < N; i++) {
            if (whole)
                wh_host_handle(w, s, &req, &res);
            else if (s->conf->executor == WH_HOST_EXEC_WAGI)
                wagi_instance(s);
            else
                plugin_instance(s);
        }
        double per = (now_us() - t0) / N;
        if (per < min)
            min = per;
        if (whole && res.status != 200 && res.status != 404)
            fprintf(stderr, "%s: status %d\n", s->conf->name, res.status);
    }
    return min;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "examples/wharf.yaml";
    char err[512];
    wh_host_config *cfg = wh_host_config_load(path, err, sizeof err);
    wh_host_app *app = cfg ? wh_host_app_new(cfg, err, sizeof err) : NULL;
    wh_host_worker *w = app ? wh_host_worker_new(app, err, sizeof err) : NULL;
    if (!w) {
        fprintf(stderr, "instance: %s\n", err);
        return 1;
    }
    printf("service\texecutor\trequest_us\tinstance_us\n");
    for (int i = 0; i < app->nservices; i++) {
        wh_host_service *s = app->services[i];
        /* A pipeline is several function instances over a streamed body:
         * not one fresh instance. */
        if (s->conf->executor == WH_HOST_EXEC_PIPELINE)
            continue;
        printf("%s\t%s\t%.1f\t%.1f\n", s->conf->name,
               s->conf->executor == WH_HOST_EXEC_WAGI ? "wagi" : "function",
               best(w, s, true), best(w, s, false));
    }
    wh_host_worker_free(w);
    wh_host_app_free(app);
    wh_host_config_free(cfg);
    return 0;
}
