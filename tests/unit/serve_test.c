/* serve_test.c: unit tests of the parsers behind `wharf serve` that do no
 * I/O: the CGI response parser (src/host/wagi_cgi.c), the wharf.yaml
 * loader (src/host/config.c) and the value syntax they share. The server
 * itself is tested over HTTP by tests/cli/serve.sh. */
#include <string.h>

#include "../../src/host/serviceInt.h"
#include "../test.h"

static wh_host_cgi_result cgi(const char *text, wh_host_cgi *out)
{
    return wh_host_cgi_parse((const uint8_t *)text, strlen(text), out);
}

static bool header_is(const wh_host_cgi *c, int i, const char *name, const char *value)
{
    const wh_host_header *h = &c->headers[i];
    return i < c->nheaders && h->name_len == strlen(name) && !memcmp(h->name, name, h->name_len) &&
           h->value_len == strlen(value) && !memcmp(h->value, value, h->value_len);
}

static void test_cgi_ok(void)
{
    wh_host_cgi c;
    CHECK(cgi("Content-Type: text/plain\n\nhi", &c) == WH_HOST_CGI_DONE, "plain LF");
    CHECK(c.status == 200 && c.nheaders == 1 && c.body_off == 26, "status %d off %zu",
          c.status, c.body_off);
    CHECK(header_is(&c, 0, "Content-Type", "text/plain"), "header");
    CHECK(cgi("Status: 404 Not Found\r\nContent-Type:  a/b  \r\nX-A: 1\r\n\r\n", &c) ==
          WH_HOST_CGI_DONE, "CRLF with reason");
    CHECK(c.status == 404 && c.nheaders == 2 && header_is(&c, 0, "Content-Type", "a/b"),
          "status %d, trimmed value", c.status);
    CHECK(cgi("Location: /x\n\n", &c) == WH_HOST_CGI_DONE && c.status == 302, "Location: 302");
    CHECK(cgi("Location: /x\nStatus: 301\n\n", &c) == WH_HOST_CGI_DONE && c.status == 301,
          "explicit status wins over Location");
    CHECK(cgi("status: 204\n\n", &c) == WH_HOST_CGI_DONE && c.status == 204,
          "names are case-insensitive");
}

static void test_cgi_errors(void)
{
    wh_host_cgi c;
    CHECK(cgi("", &c) == WH_HOST_CGI_AGAIN, "empty is incomplete");
    CHECK(cgi("Content-Type: text/plain\n", &c) == WH_HOST_CGI_AGAIN, "no blank line");
    CHECK(cgi("X-A: 1\n\n", &c) == WH_HOST_CGI_ERROR, "no Content-Type/Location/Status");
    CHECK(cgi("hello world\n\n", &c) == WH_HOST_CGI_ERROR, "not a header");
    CHECK(cgi("Bad Name: x\n\n", &c) == WH_HOST_CGI_ERROR, "space in name");
    CHECK(cgi(": x\n\n", &c) == WH_HOST_CGI_ERROR, "empty name");
    CHECK(cgi("Content-Type: a\n folded\n\n", &c) == WH_HOST_CGI_ERROR, "folding");
    CHECK(cgi("Content-Type: a\x01" "b\n\n", &c) == WH_HOST_CGI_ERROR, "control byte");
    CHECK(cgi("Status: 99\n\n", &c) == WH_HOST_CGI_ERROR, "status too short");
    CHECK(cgi("Status: 600\n\n", &c) == WH_HOST_CGI_ERROR, "status out of range");
    CHECK(cgi("Status: 150\n\n", &c) == WH_HOST_CGI_ERROR, "1xx is not final");
    CHECK(cgi("Status: 2000\n\n", &c) == WH_HOST_CGI_ERROR, "four digits");
    CHECK(cgi("Status: 200\nStatus: 201\n\n", &c) == WH_HOST_CGI_ERROR, "two statuses");
    char many[WH_HOST_MAX_HEADERS * 8 + 64] = "Content-Type: a\n";
    for (int i = 0; i < WH_HOST_MAX_HEADERS; i++)
        strcat(many, "X-A: 1\n");
    strcat(many, "\n");
    CHECK(cgi(many, &c) == WH_HOST_CGI_ERROR, "too many headers");
}

static void test_values(void)
{
    uint64_t v;
    char host[64];
    uint16_t port;
    CHECK(wh_host_parse_size("64MiB", &v) && v == 64u << 20, "64MiB");
    CHECK(wh_host_parse_size("1KB", &v) && v == 1000, "1KB");
    CHECK(!wh_host_parse_size("1.5MiB", &v) && !wh_host_parse_size("MiB", &v) &&
          !wh_host_parse_size("99999999999999999999", &v), "bad sizes");
    CHECK(wh_host_parse_duration("500ms", &v) && v == 500000000, "500ms");
    CHECK(wh_host_parse_duration("2", &v) && v == 2000000000, "bare seconds");
    CHECK(!wh_host_parse_duration("2 s", &v) && !wh_host_parse_duration("-1s", &v),
          "bad durations");
    CHECK(wh_host_parse_listen("127.0.0.1:80", host, sizeof host, &port) &&
          !strcmp(host, "127.0.0.1") && port == 80, "v4");
    CHECK(wh_host_parse_listen("[::1]:0", host, sizeof host, &port) && !strcmp(host, "::1") &&
          port == 0, "v6, port 0");
    CHECK(!wh_host_parse_listen("127.0.0.1", host, sizeof host, &port) &&
          !wh_host_parse_listen(":80", host, sizeof host, &port) &&
          !wh_host_parse_listen("h:65536", host, sizeof host, &port), "bad listen");
}

static wh_host_config *load(const char *text, char *err)
{
    return wh_host_config_parse("dir/t.yaml", text, strlen(text), err, 300);
}

static void test_config_ok(void)
{
    char err[300] = "";
    wh_host_config *c = load("services:\n"
                             "  a:\n"
                             "    module: a.wasm\n"
                             "    routes: /a/...\n"
                             "  b:\n"
                             "    module: /abs/b.wasm\n"
                             "    executor: function\n"
                             "    routes: [/b, /...]\n"
                             "    config: {k: v}\n"
                             "    instances: {reuse: 5}\n"
                             "    limits: {timeout: 0, max_body: 2KiB}\n", err);
    CHECK(c != NULL, "loads: %s", err);
    if (!c)
        return;
    const wh_host_service_conf *a = &c->services[0], *b = &c->services[1];
    CHECK(c->nservices == 2 && !strcmp(a->name, "a") && !strcmp(a->module, "dir/a.wasm"),
          "relative module path: %s", a->module);
    CHECK(a->nroutes == 1 && a->routes[0].wildcard && !strcmp(a->routes[0].prefix, "/a") &&
          a->routes[0].line == 4, "wildcard route");
    CHECK(a->executor == WH_HOST_EXEC_WAGI && a->limits.timeout_ns == WH_HOST_DEFAULT_TIMEOUT_NS &&
          a->limits.max_memory == WH_HOST_DEFAULT_MAX_MEMORY && a->reuse == 0, "defaults");
    CHECK(!strcmp(b->module, "/abs/b.wasm") && !strcmp(b->function, "handle"), "function default");
    CHECK(b->nroutes == 2 && !b->routes[0].wildcard && b->routes[1].prefix_len == 0,
          "exact and catch-all routes");
    CHECK(b->nvars == 1 && b->reuse == 5 && b->limits.timeout_ns == 0 &&
          b->limits.max_body == 2048, "values");
    CHECK(c->server.request_timeout_ns == WH_HOST_DEFAULT_REQUEST_TIMEOUT_NS &&
          !c->server.listen && c->server.workers == 0, "server defaults");
    wh_host_config_free(c);
}

/* Each bad config fails with exactly this message. */
static void test_config_errors(void)
{
    static const struct { const char *yaml, *err; } cases[] = {
        { "", "dir/t.yaml:1: the file is empty (expected 'services:')" },
        { "server: {workers: 2}\n", "dir/t.yaml:1: missing 'services:' (at least one service)" },
        { "services:\n  a: {routes: [/a]}\n", "dir/t.yaml:2: service 'a': missing 'module'" },
        { "services:\n  a: {module: m}\n", "dir/t.yaml:2: service 'a': missing 'routes'" },
        { "services:\n  a: {module: m, routes: [a]}\n", "dir/t.yaml:2: route 'a' must start with '/'" },
        { "services:\n  a: {module: m, routes: [/a/.../b]}\n",
          "dir/t.yaml:2: route '/a/.../b': '...' may only end a route, as '/...'" },
        { "services:\n  a: {module: m, routes: [/a, /a]}\n",
          "dir/t.yaml:2: route '/a' of service 'a' is already served by service 'a' (line 2)" },
        { "services:\n  a b: {module: m, routes: [/a]}\n",
          "dir/t.yaml:2: service name 'a b': use letters, digits, '-', '_' and '.'" },
        { "services:\n  a: {module: m, routes: [/a], function: f}\n",
          "dir/t.yaml:2: service 'a': 'function' needs 'executor: function' (a WAGI guest runs _start)" },
        { "services:\n  a: {module: m, routes: [/a], executor: function, environment: {A: b}}\n",
          "dir/t.yaml:2: service 'a': 'environment' needs 'executor: wagi' (function guests read 'config')" },
        { "services:\n  a: {module: m, routes: [/a], limits: {max_memory: 1KiB}}\n",
          "dir/t.yaml:2: limits: max_memory must be at least one page (64KiB)" },
        { "services:\n  a: {module: m, routes: [/a], limits: {queue: 5000000000}}\n",
          "dir/t.yaml:2: queue: 5000000000 is too large" },
        { "services:\n  a: {module: m, routes: [/a], instances: always}\n",
          "dir/t.yaml:2: instances: expected 'fresh' or a mapping 'reuse: N', got 'always'" },
        { "services:\n  a: {module: m, module: n, routes: [/a]}\n",
          "dir/t.yaml:2: service 'a': key 'module' given twice" },
        { "services:\n  a: {module: [m], routes: [/a]}\n",
          "dir/t.yaml:2: module: expected a single value, not a list" },
        { "services:\n  a: {module: ~, routes: [/a]}\n", "dir/t.yaml:2: module: missing value" },
        { "server:\n  listen: nowhere\nservices:\n  a: {module: m, routes: [/a]}\n",
          "dir/t.yaml:2: listen: expected ADDR:PORT like 127.0.0.1:8080, got 'nowhere'" },
        { "server:\n  tls: {cert: c}\nservices:\n  a: {module: m, routes: [/a]}\n",
          "dir/t.yaml:2: tls: give both 'cert' and 'key'" },
        { "server:\n  health: healthz\nservices:\n  a: {module: m, routes: [/a]}\n",
          "dir/t.yaml:2: server: health must be a path starting with '/'" },
        { "services:\n  a: {module: m, routes: [/a], dirs: {/d: /nonexistent-dir}}\n",
          "dir/t.yaml:2: dirs: '/nonexistent-dir': No such file or directory" },
        { "services:\n  a: {module: m, routes: [/a]\n",
          "dir/t.yaml:3: YAML syntax error: did not find expected ',' or '}' while parsing a flow mapping" },
        { "service:\n  a: {}\n",
          "dir/t.yaml:1: the top level: unknown key 'service' (expected one of: server, services)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[300] = "";
        wh_host_config *c = load(cases[i].yaml, err);
        CHECK(!c && !strcmp(err, cases[i].err), "case %zu:\n  got  %s\n  want %s", i, err,
              cases[i].err);
        wh_host_config_free(c);
    }
}

int main(void)
{
    test_cgi_ok();
    test_cgi_errors();
    test_values();
    test_config_ok();
    test_config_errors();
    return test_done();
}
