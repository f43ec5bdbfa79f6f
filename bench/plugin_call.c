/* plugin_call.c: the per-call overhead of a plugin call (`make
 * bench-plugin`). Times, on one reused instance:
 *
 *   native        a direct call of an empty C function through a pointer
 *   wharf_call    the raw engine call of an empty wasm `() -> i32`
 *   plugin noop   wharf_plugin_call of an empty plugin function with an
 *                 11-byte input (copied in) and no output
 *   plugin echo   the same input read by the plugin and set as output
 *
 * and, for hosts that take a fresh instance per request, the cost of
 * wharf_plugin_instantiate plus wharf_plugin_free of the same plugin.
 * Each figure is the best of several rounds, in nanoseconds.
 * Usage: plugin_call [build/plugin/basic.wasm] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wharf.h"

#define ROUNDS 5
#define CALLS 1000000

static const uint8_t input[] = "hello world";

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The native baseline: same shape as a plugin call, bytes in and out. */
__attribute__((noinline)) static int native_noop(const uint8_t *in, size_t len,
                                                 const uint8_t **out, size_t *outlen)
{
    __asm__ volatile("" : : "r"(in), "r"(len) : "memory");
    *out = NULL;
    *outlen = 0;
    return 0;
}

static int (*volatile native)(const uint8_t *, size_t, const uint8_t **, size_t *) =
    native_noop;

typedef struct ctx {
    wharf_compiled_plugin *code;
    wharf_plugin *plugin;
    wharf_instance *inst;
    wharf_func *func;
    const char *name;
    int bad;
} ctx;

static void run_native(ctx *c)
{
    const uint8_t *out;
    size_t len;
    for (int i = 0; i < CALLS; i++)
        c->bad += native(input, sizeof input - 1, &out, &len);
}

static void run_raw(ctx *c)
{
    wharf_val rc;
    for (int i = 0; i < CALLS; i++)
        c->bad += wharf_call(c->inst, c->func, NULL, 0, &rc, 1, NULL) != WHARF_OK;
}

static void run_plugin(ctx *c)
{
    const uint8_t *out;
    size_t len;
    for (int i = 0; i < CALLS; i++)
        c->bad += wharf_plugin_call(c->plugin, c->name, input, sizeof input - 1,
                                    &out, &len, NULL) != WHARF_OK;
}

#define INSTANCES 2000

static void run_instantiate(ctx *c)
{
    for (int i = 0; i < INSTANCES; i++) {
        wharf_plugin *p;
        c->bad += wharf_plugin_instantiate(c->code, &p, NULL) != WHARF_OK;
        wharf_plugin_free(p);
    }
}

/* Best of ROUNDS, in ns per iteration of `fn`'s n. */
static double best(void (*fn)(ctx *), ctx *c, int n)
{
    double min = 1e30;
    for (int r = 0; r < ROUNDS; r++) {
        double t = now_ns();
        fn(c);
        double per = (now_ns() - t) / n;
        if (per < min)
            min = per;
    }
    return min;
}

/* (module (func (export "noop") (result i32) i32.const 0)) */
static const uint8_t noop_wasm[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60,
    0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x07, 0x08, 0x01, 0x04, 0x6e,
    0x6f, 0x6f, 0x70, 0x00, 0x00, 0x0a, 0x06, 0x01, 0x04, 0x00, 0x41, 0x00,
    0x0b,
};

static bool raw_setup(wharf_engine *e, ctx *c, wharf_module **m)
{
    return wharf_module_new(e, noop_wasm, sizeof noop_wasm, m, NULL) == WHARF_OK &&
           wharf_instance_new(*m, NULL, NULL, &c->inst, NULL) == WHARF_OK &&
           wharf_instance_func(c->inst, "noop", &c->func) == WHARF_OK;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "build/plugin/basic.wasm";
    wharf_engine *e;
    wharf_module *m = NULL;
    ctx c = { 0 };
    wharf_error err;
    wharf_manifest man = { .wasm_path = path };
    if (wharf_engine_new(NULL, &e) != WHARF_OK || !raw_setup(e, &c, &m) ||
        wharf_compiled_plugin_new(e, &man, &c.code, &err) != WHARF_OK ||
        wharf_plugin_instantiate(c.code, &c.plugin, &err) != WHARF_OK) {
        fprintf(stderr, "plugin_call: cannot load %s: %s\n", path, err.message);
        return 1;
    }
    printf("per-call overhead, best of %d x %d calls, 11-byte input\n", ROUNDS, CALLS);
    printf("  native call       %7.1f ns\n", best(run_native, &c, CALLS));
    printf("  wharf_call        %7.1f ns\n", best(run_raw, &c, CALLS));
    c.name = "noop";
    printf("  plugin noop       %7.1f ns\n", best(run_plugin, &c, CALLS));
    c.name = "echo";
    printf("  plugin echo       %7.1f ns\n", best(run_plugin, &c, CALLS));
    printf("instantiate + free  %7.1f ns\n", best(run_instantiate, &c, INSTANCES));
    wharf_plugin_free(c.plugin);
    wharf_compiled_plugin_free(c.code);
    wharf_instance_free(c.inst);
    wharf_module_free(m);
    wharf_engine_free(e);
    if (c.bad)
        fprintf(stderr, "plugin_call: %d calls failed\n", c.bad);
    return c.bad != 0;
}
