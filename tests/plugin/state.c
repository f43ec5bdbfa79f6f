/* state.c: test plugin for config, variables, logging, the call memory
 * allocator and outbound HTTP. */
#include "wharf_pdk.h"

/* Outputs config[input], or fails when the host has no such key. */
WHARF_PLUGIN_FN(config)
{
    char key[64], val[256];
    if (wharf_input_str(key, sizeof key) < 0)
        return wharf_error_set("key too long");
    int64_t len = wharf_config_get(key, val, sizeof val);
    if (len < 0)
        return wharf_error_set("no such config key");
    if ((uint64_t)len > sizeof val)
        return wharf_error_set("value too long");
    wharf_output(val, (uint64_t)len);
    return 0;
}

/* Increments variable "count" (a little-endian u64) and outputs it as one
 * decimal number. */
WHARF_PLUGIN_FN(count)
{
    uint64_t c = 0;
    int64_t n = wharf_var_get("count", &c, sizeof c);
    if (n >= 0 && n != sizeof c)
        return wharf_error_set("count has the wrong size");
    c++;
    wharf_var_set("count", &c, sizeof c);
    char out[20];
    wharf_output(out, (uint64_t)wharf_fmt_u64(out, c));
    return 0;
}

WHARF_PLUGIN_FN(reset)
{
    wharf_var_set("count", 0, 0);
    return 0;
}

/* Sets a variable far larger than the store allows: the host traps. */
WHARF_PLUGIN_FN(big_var)
{
    wharf_handle k = wharf_alloc_str("big");
    wharf_handle v = wharf_env_alloc((uint64_t)2 << 20);
    wharf_env_var_set(k, v);
    return 0;
}

/* One line at each level, and the level back as output. */
WHARF_PLUGIN_FN(logs)
{
    wharf_log(0, "trace line");
    wharf_log(1, "debug line");
    wharf_log(2, "info line");
    wharf_log(3, "warn line");
    wharf_log(4, "error line");
    char c = (char)('0' + wharf_env_get_log_level());
    wharf_output(&c, 1);
    return 0;
}

static bool expect(bool ok, const char *what)
{
    if (!ok)
        wharf_error_set(what);
    return ok;
}

/* Exercises the allocator: lengths, reuse of freed blocks, the null
 * handle, and contents surviving neighbouring writes. */
WHARF_PLUGIN_FN(alloc)
{
    wharf_handle a = wharf_env_alloc(10), b = wharf_env_alloc(100);
    wharf_handle c = wharf_env_alloc(3);
    if (!expect(a && b && c && a != b && b != c, "alloc failed") ||
        !expect(wharf_env_length(a) == 10 && wharf_env_length(b) == 100 &&
                wharf_env_length_unsafe(c) == 3, "wrong lengths") ||
        !expect(wharf_env_alloc(0) == 0 && wharf_env_length(0) == 0, "null handle") ||
        !expect(wharf_env_length(a + 1) == 0, "length of a non-handle"))
        return 1;
    wharf_store(a, "0123456789", 10);
    wharf_store(c, "xyz", 3);
    wharf_env_free(b);
    if (!expect(wharf_env_length(b) == 0, "length after free"))
        return 1;
    wharf_handle d = wharf_env_alloc(50);
    if (!expect(d == b && wharf_env_length(d) == 50, "freed block not reused"))
        return 1;
    char got[10];
    wharf_load(a, got, 10);
    for (int i = 0; i < 10; i++)
        if (!expect(got[i] == (char)('0' + i), "contents lost"))
            return 1;
    wharf_output_str("ok");
    return 0;
}

/* The output block is freed right after output_set, as the Go PDK does;
 * the next allocation must not overwrite it. */
WHARF_PLUGIN_FN(output_then_free)
{
    wharf_handle h = wharf_alloc_str("kept");
    wharf_env_output_set(h, 4);
    wharf_env_free(h);
    wharf_handle x = wharf_alloc_str("XXXX");
    (void)x;
    return 0;
}

/* Copies string s to p; returns where its NUL went, for the next one. */
static char *put_str(char *p, const char *s)
{
    while ((*p = *s++))
        p++;
    return p;
}

/* GETs the URL given as input; outputs "STATUS BODY". */
WHARF_PLUGIN_FN(http_get)
{
    char url[256], req[320];
    if (wharf_input_str(url, sizeof url) < 0)
        return wharf_error_set("url too long");
    char *p = put_str(req, "{\"url\":\"");
    p = put_str(p, url);
    put_str(p, "\",\"headers\":{\"X-Plugin\":\"state\"}}");
    int32_t status;
    wharf_handle body = wharf_http_request(req, 0, 0, &status);
    char out[300];
    uint64_t len = wharf_read(body, out + 4, sizeof out - 4);
    out[0] = (char)('0' + status / 100);
    out[1] = (char)('0' + status / 10 % 10);
    out[2] = (char)('0' + status % 10);
    out[3] = ' ';
    wharf_output(out, 4 + (len < sizeof out - 4 ? len : sizeof out - 4));
    return 0;
}

/* The response headers of the last request (JSON). */
WHARF_PLUGIN_FN(http_headers)
{
    wharf_handle h = wharf_env_http_headers();
    wharf_env_output_set(h, wharf_env_length(h));
    return 0;
}

/* POSTs the input to the URL in config "url"; outputs the response. */
WHARF_PLUGIN_FN(http_post)
{
    char url[200], req[300], body[256];
    int64_t u = wharf_config_get("url", url, sizeof url);
    if (u < 0 || u >= (int64_t)sizeof url)
        return wharf_error_set("config url missing");
    uint64_t n = wharf_input(body, sizeof body);
    if (n > sizeof body)
        return wharf_error_set("input too large");
    url[u] = '\0';
    char *p = put_str(req, "{\"method\":\"POST\",\"url\":\"");
    p = put_str(p, url);
    put_str(p, "\"}");
    wharf_handle res = wharf_http_request(req, body, n, 0);
    wharf_env_output_set(res, wharf_env_length(res));
    return 0;
}
