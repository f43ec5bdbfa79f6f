/* plugin_test.c: unit tests of the plugin API (wharf_plugin_*) with the
 * C plugins of tests/plugin, built by make into build/plugin: input and
 * output, errors and traps, limits and cancel, config, variables, logging,
 * host functions, the call memory allocator, HTTP against a loopback
 * server, WASI files, and threads sharing one compiled plugin.
 * Run from the repository root (tests/run.sh does). */
#define _GNU_SOURCE   /* strcasestr, memmem */
#include "../../include/wharf.h"
#include "../test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PLUGIN_DIR "build/plugin/"

static wharf_engine *engine;

static bool out_is(const uint8_t *out, size_t len, const char *want)
{
    return len == strlen(want) && (len == 0 || memcmp(out, want, len) == 0);
}

static wharf_compiled_plugin *compile(wharf_manifest *m)
{
    wharf_compiled_plugin *c = NULL;
    wharf_error err = { 0 };
    wharf_status s = wharf_compiled_plugin_new(engine, m, &c, &err);
    CHECK(s == WHARF_OK, "compile %s: %s", m->wasm_path, err.message);
    return c;
}

static wharf_plugin *load(wharf_manifest *m)
{
    wharf_plugin *p = NULL;
    wharf_error err = { 0 };
    wharf_status s = wharf_plugin_new(engine, m, &p, &err);
    CHECK(s == WHARF_OK, "load %s: %s", m->wasm_path, err.message);
    return p;
}

/* Calls `fn` with a string input; the output is left in *out, *len. */
static wharf_status call(wharf_plugin *p, const char *fn, const char *in,
                         const uint8_t **out, size_t *len, wharf_error *err)
{
    return wharf_plugin_call(p, fn, (const uint8_t *)in, strlen(in), out, len, err);
}

/* Calls and checks for success with output `want`. */
static void expect_out(wharf_plugin *p, const char *fn, const char *in,
                       const char *want)
{
    const uint8_t *out;
    size_t len;
    wharf_error err = { 0 };
    wharf_status s = call(p, fn, in, &out, &len, &err);
    CHECK(s == WHARF_OK, "%s(%s): %s", fn, in, err.message);
    CHECK(s != WHARF_OK || out_is(out, len, want), "%s(%s): got '%.*s', want '%s'",
          fn, in, (int)len, out ? (const char *)out : "", want);
}

/* Calls and checks for failure with status `st` and a message holding
 * `msg`. */
static void expect_fail(wharf_plugin *p, const char *fn, wharf_status st,
                        const char *msg, wharf_error *err)
{
    const uint8_t *out;
    size_t len;
    wharf_status s = call(p, fn, "", &out, &len, err);
    CHECK(s == st, "%s: status %s, want %s (%s)", fn, wharf_status_name(s),
          wharf_status_name(st), err->message);
    CHECK(strstr(err->message, msg) != NULL, "%s: message '%s' lacks '%s'", fn,
          err->message, msg);
    CHECK(out == NULL && len == 0, "%s: output after failure", fn);
}

/* ---- Input and output -------------------------------------------------- */

static void test_basic(void)
{
    wharf_manifest m = { .wasm_path = PLUGIN_DIR "basic.wasm" };
    wharf_plugin *p = load(&m);
    if (!p)
        return;
    expect_out(p, "echo", "hello", "hello");
    expect_out(p, "upper", "Hello, World", "HELLO, WORLD");
    expect_out(p, "count_vowels", "Hello, World!", "{\"count\":3}");
    expect_out(p, "count_vowels", "", "{\"count\":0}");
    expect_out(p, "echo_handle", "zero copy", "zero copy");
    expect_out(p, "noop", "ignored", "");
    const char *sizes[] = { "", "1234567", "12345678", "123456789" };
    const char *lens[] = { "0", "7", "8", "9" };
    for (int i = 0; i < 4; i++) {
        expect_out(p, "input_len", sizes[i], lens[i]);
        expect_out(p, "echo", sizes[i], sizes[i]);
    }
    /* A large input through the byte-at-a-time path. */
    size_t big = 200000;
    char *in = malloc(big + 1);
    for (size_t i = 0; i < big; i++)
        in[i] = "abcde"[i % 5];
    in[big] = '\0';
    expect_out(p, "count_vowels", in, "{\"count\":80000}");
    free(in);
    /* Reuse: many calls on one instance, output valid until the next. */
    int bad = 0;
    for (int i = 0; i < 2000; i++) {
        const uint8_t *out;
        size_t len;
        char buf[32];
        snprintf(buf, sizeof buf, "call %d", i);
        if (call(p, "upper", buf, &out, &len, NULL) != WHARF_OK || len != strlen(buf))
            bad++;
    }
    CHECK(bad == 0, "%d of 2000 reused calls failed", bad);
    CHECK(wharf_plugin_has_function(p, "echo"), "has echo");
    CHECK(!wharf_plugin_has_function(p, "nope"), "has no nope");
    CHECK(!wharf_plugin_has_function(p, "memory"), "memory is not a function");
    wharf_plugin_free(p);
}

/* ---- Errors, traps and limits ------------------------------------------ */

static void test_errors(void)
{
    wharf_manifest m = { .wasm_path = PLUGIN_DIR "errors.wasm" };
    wharf_plugin *p = load(&m);
    if (!p)
        return;
    wharf_error err = { 0 };
    expect_fail(p, "fail", WHARF_ERR_PLUGIN, "something went wrong", &err);
    CHECK(err.exit_code == 1, "fail returned %d", err.exit_code);
    expect_fail(p, "fail_code", WHARF_ERR_PLUGIN, "returned 7", &err);
    CHECK(err.exit_code == 7, "fail_code returned %d", err.exit_code);
    expect_out(p, "fail_cleared", "", "fine");
    expect_fail(p, "nope", WHARF_ERR_NOT_FOUND, "nope", &err);
    expect_fail(p, "not_a_plugin_fn", WHARF_ERR_ARG, "() -> i32", &err);

    /* wasm state lives in the instance until a trap rebuilds it. */
    expect_out(p, "instance_calls", "", "1");
    expect_out(p, "instance_calls", "", "2");
    expect_fail(p, "trap", WHARF_ERR_TRAP, "unreachable", &err);
    CHECK(err.trap == WHARF_TRAP_UNREACHABLE, "trap kind %d", err.trap);
    expect_out(p, "instance_calls", "", "1");

    expect_fail(p, "bad_load", WHARF_ERR_TRAP, "load_u64", &err);
    CHECK(err.trap == WHARF_TRAP_HOST, "bad_load trap kind %d", err.trap);
    expect_fail(p, "bad_handle", WHARF_ERR_TRAP, "invalid handle", &err);
    expect_out(p, "fail_cleared", "", "fine");
    wharf_plugin_free(p);

    m.fuel = 100000;
    p = load(&m);
    if (!p)
        return;
    expect_fail(p, "spin", WHARF_ERR_TRAP, "fuel", &err);
    CHECK(err.trap == WHARF_TRAP_FUEL, "spin trap kind %d", err.trap);
    /* Fuel is per call: the next call gets a full tank again. */
    expect_out(p, "fail_cleared", "", "fine");
    expect_fail(p, "spin", WHARF_ERR_TRAP, "fuel", &err);
    wharf_plugin_free(p);

    m.fuel = 0;
    m.timeout_ns = 50 * 1000 * 1000;
    p = load(&m);
    if (!p)
        return;
    expect_fail(p, "spin", WHARF_ERR_TRAP, "deadline", &err);
    CHECK(err.trap == WHARF_TRAP_DEADLINE, "timeout trap kind %d", err.trap);
    expect_out(p, "fail_cleared", "", "fine");
    wharf_plugin_free(p);
}

static void *cancel_later(void *arg)
{
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    wharf_plugin_cancel_call(arg);
    return NULL;
}

static void test_cancel(void)
{
    wharf_manifest m = { .wasm_path = PLUGIN_DIR "errors.wasm" };
    wharf_plugin *p = load(&m);
    if (!p)
        return;
    pthread_t t;
    pthread_create(&t, NULL, cancel_later, wharf_plugin_cancel_handle(p));
    wharf_error err = { 0 };
    expect_fail(p, "spin", WHARF_ERR_TRAP, "interrupt", &err);
    CHECK(err.trap == WHARF_TRAP_INTERRUPT, "cancel trap kind %d", err.trap);
    pthread_join(t, NULL);
    expect_out(p, "fail_cleared", "", "fine");
    /* A cancel while idle stops the next call at once. */
    wharf_plugin_cancel_call(wharf_plugin_cancel_handle(p));
    expect_fail(p, "spin", WHARF_ERR_TRAP, "interrupt", &err);
    expect_out(p, "fail_cleared", "", "fine");
    wharf_plugin_free(p);
}

/* ---- Config, variables, logging, host functions ------------------------ */

typedef struct log_sink {
    int lines;
    char last[64];
} log_sink;

static void on_log(void *user, wharf_log_level level, const char *msg, size_t len)
{
    log_sink *s = user;
    s->lines++;
    snprintf(s->last, sizeof s->last, "%d:%.*s", (int)level, (int)len, msg);
}

/* shout(handle) -> handle: "<INPUT IN CAPITALS>!" or an error for "boom". */
static wharf_status shout(wharf_plugin *p, void *user, wharf_slot *slots)
{
    uint64_t len;
    uint8_t *in = wharf_plugin_memory(p, slots[0], &len);
    if (!in)
        return wharf_plugin_host_error(p, "shout: bad handle");
    if (len == 4 && !memcmp(in, "boom", 4))
        return wharf_plugin_host_error(p, "shout refuses '%s'", "boom");
    char buf[300];
    size_t n = len < 256 ? (size_t)len : 256;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)(in[i] >= 'a' && in[i] <= 'z' ? in[i] - 32 : in[i]);
    buf[n++] = '!';
    ++*(int *)user;
    slots[0] = wharf_plugin_memory_new(p, buf, n);
    return WHARF_OK;
}

static const wharf_valkind I64[] = { WHARF_I64 };

/* host.wasm with the shout host function. */
static void test_host(void)
{
    int shouts = 0;
    wharf_plugin_func f = { .name = "shout", .params = I64, .nparams = 1,
                            .results = I64, .nresults = 1, .fn = shout,
                            .user = &shouts };
    wharf_manifest m = { .wasm_path = PLUGIN_DIR "host.wasm", .funcs = &f, .nfuncs = 1 };
    wharf_plugin *p = load(&m);
    if (!p)
        return;
    expect_out(p, "call_host", "hi there", "HI THERE!");
    CHECK(shouts == 1, "shout ran %d times", shouts);
    const uint8_t *out;
    size_t len;
    wharf_error err = { 0 };
    CHECK(call(p, "call_host", "boom", &out, &len, &err) == WHARF_ERR_TRAP &&
          err.trap == WHARF_TRAP_HOST && strstr(err.message, "shout refuses 'boom'"),
          "host error: %s", err.message);
    expect_out(p, "call_host", "again", "AGAIN!");
    CHECK(wharf_plugin_host_error(p, "outside") == WHARF_ERR_ARG,
          "host error outside a host function");
    wharf_plugin_free(p);
}

static void test_state(void)
{
    static const wharf_plugin_kv config[] = {
        { "greeting", "hello from the host" }, { "empty", "" },
    };
    wharf_manifest m = { .wasm_path = PLUGIN_DIR "state.wasm", .config = config,
                         .nconfig = 2 };
    wharf_compiled_plugin *c = compile(&m);
    if (!c)
        return;
    wharf_plugin *p, *q;
    wharf_error err = { 0 };
    CHECK(wharf_plugin_instantiate(c, &p, &err) == WHARF_OK, "%s", err.message);
    CHECK(wharf_plugin_instantiate(c, &q, &err) == WHARF_OK, "%s", err.message);

    expect_out(p, "config", "greeting", "hello from the host");
    const uint8_t *out;
    size_t len;
    /* An empty value has no block (alloc(0) is 0): absent, as in Extism. */
    CHECK(call(p, "config", "empty", &out, &len, &err) == WHARF_ERR_PLUGIN,
          "empty value: %s", err.message);
    CHECK(call(p, "config", "missing", &out, &len, &err) == WHARF_ERR_PLUGIN &&
          strstr(err.message, "no such config key"), "missing key: %s", err.message);

    /* Variables persist across calls, per instance, and survive a trap. */
    expect_out(p, "count", "", "1");
    expect_out(p, "count", "", "2");
    expect_out(q, "count", "", "1");
    expect_fail(p, "big_var", WHARF_ERR_TRAP, "variable store is full", &err);
    expect_out(p, "count", "", "3");
    expect_out(p, "reset", "", "");
    expect_out(p, "count", "", "1");

    expect_out(p, "logs", "", "5");   /* no log function: level off */
    expect_out(p, "alloc", "", "ok");
    expect_out(p, "output_then_free", "", "kept");
    wharf_plugin_free(q);
    wharf_plugin_free(p);
    wharf_compiled_plugin_free(c);

    log_sink sink = { 0 };
    m.log = on_log;
    m.log_user = &sink;
    m.log_level = WHARF_LOG_WARN;
    p = load(&m);
    if (!p)
        return;
    expect_out(p, "logs", "", "3");
    CHECK(sink.lines == 2 && !strcmp(sink.last, "4:error line"),
          "%d lines, last '%s'", sink.lines, sink.last);
    wharf_plugin_free(p);
}

/* ---- Loading ----------------------------------------------------------- */

static void test_load_errors(void)
{
    wharf_plugin *p;
    wharf_error err = { 0 };
    wharf_manifest m = { 0 };
    CHECK(wharf_plugin_new(engine, &m, &p, &err) == WHARF_ERR_ARG && !p,
          "no wasm: %s", err.message);
    m.wasm_path = PLUGIN_DIR "does-not-exist.wasm";
    CHECK(wharf_plugin_new(engine, &m, &p, &err) == WHARF_ERR_ARG &&
          strstr(err.message, "does-not-exist"), "bad path: %s", err.message);
    static const uint8_t junk[] = { 0, 'a', 's', 'x', 1, 0, 0, 0 };
    CHECK(wharf_plugin_new_bytes(NULL, junk, sizeof junk, false, &p, &err) ==
          WHARF_ERR_MALFORMED, "junk: %s", err.message);
    /* host.wasm imports a host function this manifest lacks. */
    m.wasm_path = PLUGIN_DIR "host.wasm";
    CHECK(wharf_plugin_new(engine, &m, &p, &err) == WHARF_ERR_UNLINKABLE &&
          strstr(err.message, "shout"), "missing host function: %s", err.message);
    /* WASI plugins need wasi. */
    m.wasm_path = PLUGIN_DIR "wasi_files.wasm";
    CHECK(wharf_plugin_new(engine, &m, &p, &err) == WHARF_ERR_UNLINKABLE,
          "wasi off: %s", err.message);
}

/* From bytes, with an engine of its own. */
static void test_bytes(void)
{
    FILE *f = fopen(PLUGIN_DIR "basic.wasm", "rb");
    CHECK(f != NULL, "open basic.wasm");
    if (!f)
        return;
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    wharf_plugin *p;
    wharf_error err = { 0 };
    CHECK(wharf_plugin_new_bytes(NULL, buf, n, false, &p, &err) == WHARF_OK,
          "from bytes: %s", err.message);
    if (p) {
        expect_out(p, "upper", "bytes", "BYTES");
        wharf_plugin_free(p);
    }
}

/* ---- WASI -------------------------------------------------------------- */

static void test_wasi(void)
{
    char dir[] = "/tmp/wharf-plugin-XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/note.txt", dir);
    FILE *f = fopen(path, "w");
    fputs("a note for the plugin", f);
    fclose(f);
    wharf_plugin_path paths[] = { { dir, "/data" } };
    wharf_manifest m = { .wasm_path = PLUGIN_DIR "wasi_files.wasm", .wasi = true,
                         .allowed_paths = paths, .nallowed_paths = 1 };
    wharf_plugin *p = load(&m);
    if (p) {
        expect_out(p, "read_file", "/data/note.txt", "a note for the plugin");
        expect_out(p, "greet", "wharf", "Hello, wharf!");
        wharf_error err = { 0 };
        const uint8_t *out;
        size_t len;
        CHECK(call(p, "read_file", "/etc/passwd", &out, &len, &err) == WHARF_ERR_PLUGIN,
              "outside the preopen: %s", err.message);
        wharf_plugin_free(p);
    }
    unlink(path);
    rmdir(dir);
}

/* ---- HTTP against a loopback server ------------------------------------ */

typedef struct server {
    int fd;
    int port;
    int requests;
} server;

/* Answers one request: GET gets "hello" (plus "+h" when the X-Plugin
 * header came along), POST gets its body back; X-Test: yes on both. */
static void serve_one(int c)
{
    char req[4096];
    size_t n = 0;
    ssize_t k;
    char *end = NULL;
    while (n < sizeof req - 1 && (k = read(c, req + n, sizeof req - 1 - n)) > 0) {
        n += (size_t)k;
        req[n] = '\0';
        if ((end = strstr(req, "\r\n\r\n"))) {
            const char *cl = strcasestr(req, "content-length:");
            size_t want = cl ? (size_t)atoi(cl + 15) : 0;
            if ((size_t)(req + n - (end + 4)) >= want)
                break;
        }
    }
    if (!end)
        return;
    bool post = !strncmp(req, "POST", 4);
    const char *body = post ? end + 4
                       : strcasestr(req, "x-plugin: state") ? "hello+h" : "hello";
    char res[4608];
    int len = snprintf(res, sizeof res, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                       "X-Test: yes\r\nConnection: close\r\n\r\n%s", strlen(body), body);
    (void)!write(c, res, (size_t)len);
}

static void *serve(void *arg)
{
    server *s = arg;
    for (;;) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        serve_one(c);
        close(c);
        s->requests++;
    }
}

static bool server_start(server *s, pthread_t *t)
{
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->fd, 8) != 0 || getsockname(s->fd, (struct sockaddr *)&a, &alen) != 0)
        return false;
    s->port = ntohs(a.sin_port);
    return pthread_create(t, NULL, serve, s) == 0;
}

static void test_http(void)
{
    server srv = { 0 };
    pthread_t t;
    if (!server_start(&srv, &t)) {
        CHECK(0, "cannot start the loopback server");
        return;
    }
    char url[64], cfg_url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", srv.port);
    snprintf(cfg_url, sizeof cfg_url, "http://127.0.0.1:%d/post", srv.port);
    const char *hosts[] = { "127.0.0.*" };
    wharf_plugin_kv config[] = { { "url", cfg_url } };
    wharf_manifest m = { .wasm_path = PLUGIN_DIR "state.wasm", .config = config,
                         .nconfig = 1, .allowed_hosts = hosts, .nallowed_hosts = 1 };
    wharf_plugin *p = load(&m);
    if (p) {
        expect_out(p, "http_get", url, "200 hello+h");
        const uint8_t *out;
        size_t len;
        wharf_error err = { 0 };
        CHECK(call(p, "http_headers", "", &out, &len, &err) == WHARF_OK &&
              memmem(out, len, "\"X-Test\":\"yes\"", 14), "headers: %.*s",
              (int)len, out ? (const char *)out : "");
        expect_out(p, "http_post", "posted body", "posted body");
        snprintf(url, sizeof url, "http://localhost:%d/x", srv.port);
        CHECK(call(p, "http_get", url, &out, &len, &err) == WHARF_ERR_TRAP &&
              strstr(err.message, "not allowed"), "localhost: %s", err.message);
        CHECK(call(p, "http_get", "file:///etc/passwd", &out, &len, &err) ==
              WHARF_ERR_TRAP && strstr(err.message, "not allowed"), "file: %s",
              err.message);
        wharf_plugin_free(p);
    }
    shutdown(srv.fd, SHUT_RDWR);
    close(srv.fd);
    pthread_join(t, NULL);
    CHECK(srv.requests == 2, "server saw %d requests", srv.requests);
}

/* ---- Threads ----------------------------------------------------------- */

typedef struct worker {
    wharf_compiled_plugin *code;
    int id, bad;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    wharf_plugin *p;
    if (wharf_plugin_instantiate(w->code, &p, NULL) != WHARF_OK) {
        w->bad = -1;
        return NULL;
    }
    for (int i = 0; i < 300; i++) {
        char in[32], want[32];
        snprintf(in, sizeof in, "thread %d call %d", w->id, i);
        snprintf(want, sizeof want, "THREAD %d CALL %d", w->id, i);
        const uint8_t *out;
        size_t len;
        if (call(p, "upper", in, &out, &len, NULL) != WHARF_OK || !out_is(out, len, want))
            w->bad++;
    }
    wharf_plugin_free(p);
    return NULL;
}

static void test_threads(void)
{
    wharf_manifest m = { .wasm_path = PLUGIN_DIR "basic.wasm" };
    wharf_compiled_plugin *c = compile(&m);
    if (!c)
        return;
    enum { N = 4 };
    pthread_t t[N];
    worker w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker){ c, i, 0 };
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CHECK(w[i].bad == 0, "thread %d: %d bad calls", i, w[i].bad);
    }
    wharf_compiled_plugin_free(c);
}

int main(void)
{
    if (wharf_engine_new(NULL, &engine) != WHARF_OK)
        return 1;
    test_basic();
    test_errors();
    test_cancel();
    test_state();
    test_host();
    test_load_errors();
    test_bytes();
    test_wasi();
    test_http();
    test_threads();
    wharf_engine_free(engine);
    return test_done();
}
