/* admin_test.c: unit tests of the hot-deploy pieces that do no networking:
 * the state directory (src/host/state.c: atomic files, hash checks,
 * garbage collection, the sweep of a crash's temporary files), the
 * registry's JSON (src/host/registry_json.c: deploy configs through the
 * wharf.yaml loader, stored records) and the admin API's base64
 * (src/http/admin_json.c). The server is tested over HTTP by
 * tests/cli/admin.sh. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/host/registryInt.h"
#include "../../src/http/admin_json.c"
#include "../test.h"

static char dir[] = "/tmp/wharf-admin-test.XXXXXX";

static bool exists(const char *sub, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    return access(path, F_OK) == 0;
}

static void test_sha256(void)
{
    char hex[65];
    wh_host_sha256_hex((const uint8_t *)"abc", 3, hex);
    CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
          "%s", hex);
}

static void test_modules(wh_host_state *st)
{
    char err[300], sha[65], other[65];
    const uint8_t bytes[] = "\0asm module bytes";
    size_t len;
    wh_host_sha256_hex(bytes, sizeof bytes, sha);
    CHECK(wh_host_state_put_module(st, sha, bytes, sizeof bytes, err, sizeof err), "%s", err);
    CHECK(wh_host_state_put_module(st, sha, bytes, sizeof bytes, err, sizeof err),
          "storing it twice is fine");
    uint8_t *back = wh_host_state_get_module(st, sha, &len, err, sizeof err);
    CHECK(back && len == sizeof bytes && !memcmp(back, bytes, len), "round trip");
    free(back);
    /* A module whose bytes no longer hash to its name is refused. */
    wh_host_sha256_hex((const uint8_t *)"x", 1, other);
    char path[512];
    snprintf(path, sizeof path, "%s/modules/%s.wasm", dir, other);
    FILE *f = fopen(path, "w");
    fputs("not x", f);
    fclose(f);
    CHECK(!wh_host_state_get_module(st, other, &len, err, sizeof err) && strstr(err, "corrupt"),
          "corrupt: %s", err);
    CHECK(!wh_host_state_get_module(st, "00", &len, err, sizeof err), "missing");
    const char *keep[] = { sha };
    wh_host_state_gc(st, keep, 1);
    snprintf(path, sizeof path, "%s.wasm", sha);
    CHECK(exists("modules", path), "gc keeps what is named");
    snprintf(path, sizeof path, "%s.wasm", other);
    CHECK(!exists("modules", path), "gc removes the rest");
}

static void count_record(void *ctx, const char *name, const char *text, size_t len)
{
    int *n = ctx;
    *n += !strcmp(name, "svc") && len == strlen(text) && strstr(text, "\"history\"") ? 1 : 100;
}

static void test_records(void)
{
    char err[300];
    wh_host_state *st = wh_host_state_open(dir, err, sizeof err);
    CHECK(st != NULL, "%s", err);
    if (!st)
        return;
    test_modules(st);
    const char *rec = "{\"name\":\"svc\",\"history\":[]}";
    CHECK(wh_host_state_put_service(st, "svc", rec, strlen(rec), err, sizeof err), "%s", err);
    int n = 0;
    wh_host_state_each(st, count_record, &n);
    CHECK(n == 1, "one record, got %d", n);
    CHECK(wh_host_state_remove_service(st, "svc", err, sizeof err) &&
          !exists("services", "svc.json"), "removed");
    wh_host_state_close(st);
    /* What an interrupted write leaves is swept when the directory opens. */
    char path[512];
    snprintf(path, sizeof path, "%s/services/#123.0.svc.json", dir);
    fclose(fopen(path, "w"));
    st = wh_host_state_open(dir, err, sizeof err);
    CHECK(st && !exists("services", "#123.0.svc.json"), "temporary file swept");
    wh_host_state_close(st);
}

static void test_configs(void)
{
    char why[600], *path = NULL;
    char *rest = wh_host_reg_split_config("{\"module\":\"/srv/a.wasm\",\"routes\":[\"/a\"]}",
                                          &path, why, sizeof why);
    CHECK(rest && path && !strcmp(path, "/srv/a.wasm") && !strcmp(rest, "{\"routes\":[\"/a\"]}"),
          "split: %s %s", rest ? rest : "-", path ? path : "-");
    free(rest);
    free(path);
    CHECK(!wh_host_reg_split_config("[1]", &path, why, sizeof why) && strstr(why, "JSON object"),
          "%s", why);
    wh_host_config *c = wh_host_reg_config("svc", "{\"routes\":[\"/a\"],\"limits\":"
                                           "{\"fuel\":1000,\"timeout\":\"2s\"}}", "a.wasm",
                                           why, sizeof why);
    CHECK(c && c->nservices == 1 && !strcmp(c->services[0].module, "a.wasm") &&
          c->services[0].limits.fuel == 1000 &&
          c->services[0].limits.timeout_ns == 2000000000ull, "parsed: %s", c ? "" : why);
    wh_host_config_free(c);
    c = wh_host_reg_config("svc", "{\"routes\":[\"/a\"],\"executor\":\"cgi\"}", "a.wasm", why,
                           sizeof why);
    CHECK(!c && !strcmp(why, "executor: expected 'wagi' or 'function', got 'cgi'"),
          "no FILE:LINE prefix: %s", why);
    c = wh_host_reg_config("a\"b", "{\"routes\":[\"/a\"]}", "a.wasm", why, sizeof why);
    CHECK(!c && strstr(why, "service name 'a\"b'"), "names are quoted, then refused: %s", why);
}

static bool collect_spec(void *ctx, const wh_host_stored_spec *s)
{
    int *n = ctx;
    *n += s->version == 7 && s->sha256 && !strcmp(s->module_name, "a.wasm") &&
          !strcmp(s->config_json, "{\"routes\":[\"/a\"]}") && s->deployed_at == 1700000000;
    return true;
}

static void test_record_round_trip(void)
{
    char why[300];
    wh_host_blob blob = { .refs = 1, .sha256 = "ab" };
    wh_host_spec hist[2] = {
        { .version = 6 },   /* from the config file: not stored */
        { .version = 7, .module = &blob, .module_name = "a.wasm",
          .config_json = "{\"routes\":[\"/a\"]}", .deployed_at = 1700000000 },
    };
    char *text = wh_host_reg_record("svc", hist, 2);
    int n = 0;
    CHECK(text && wh_host_reg_each_spec(text, collect_spec, &n, why, sizeof why) && n == 1,
          "round trip: %s", text ? text : why);
    free(text);
    CHECK(!wh_host_reg_record("svc", hist, 1), "no API entry, no record");
    CHECK(!wh_host_reg_each_spec("{\"history\":[{\"version\":\"x\"}]}", collect_spec, &n, why,
                                 sizeof why), "malformed entry");
}

static void test_base64(void)
{
    const char *in = "wharf!";
    for (size_t n = 0; n <= 6; n++) {
        char *enc = wh_http_base64_encode((const uint8_t *)in, n);
        size_t len;
        uint8_t *dec = enc ? wh_http_base64_decode(enc, strlen(enc), &len) : NULL;
        CHECK(dec && len == n && !memcmp(dec, in, n), "length %zu: %s", n, enc ? enc : "-");
        free(enc);
        free(dec);
    }
    size_t len;
    char *enc = wh_http_base64_encode((const uint8_t *)"wh", 2);
    CHECK(!strcmp(enc, "d2g="), "%s", enc);
    free(enc);
    CHECK(!wh_http_base64_decode("d2g", 3, &len), "length not a multiple of 4");
    CHECK(!wh_http_base64_decode("d=g=", 4, &len), "padding inside");
    CHECK(!wh_http_base64_decode("d2g!", 4, &len), "not the alphabet");
}

int main(void)
{
    if (!mkdtemp(dir))
        return 1;
    test_sha256();
    test_records();
    test_configs();
    test_record_round_trip();
    test_base64();
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_done();
}
