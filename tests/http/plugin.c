/* plugin.c: the function-executor plugin of tests/cli/serve.sh (a WASI
 * reactor on sdk/c/wharf_serve.h). Its `handle` export dispatches on the
 * last segment of the request path:
 *
 *   .../state    counts calls in a global (1 each time unless reused)
 *   .../trap     traps
 *   .../loop     runs forever
 *   .../error    fails through the plugin ABI (error_set, return 1)
 *   .../raw      outputs bytes that are not a CGI response
 *   .../config   prints config value "greeting"
 *   anything else: 200 "fn PATH" */
#include <stdio.h>
#include <string.h>

#include "wharf_serve.h"

static char buf[1 << 16];
static int counter;

static bool last_is(const wharf_serve_request *r, const char *seg)
{
    size_t n = strlen(seg);
    return r->path_len > n && r->path[r->path_len - n - 1] == '/' &&
           !memcmp(r->path + r->path_len - n, seg, n);
}

WHARF_PLUGIN_FN(handle)
{
    wharf_serve_request r;
    char out[256];
    if (wharf_serve_read(&r, buf, sizeof buf) != 0)
        return wharf_error_set("unreadable request");
    if (last_is(&r, "state")) {
        int n = snprintf(out, sizeof out, "calls %d\n", ++counter);
        return wharf_serve_respond(200, "text/plain", out, (size_t)n);
    }
    if (last_is(&r, "trap"))
        __builtin_trap();
    if (last_is(&r, "loop"))
        for (volatile int i = 0;; i++)
            ;
    if (last_is(&r, "error"))
        return wharf_error_set("the plugin refused");
    if (last_is(&r, "raw")) {
        wharf_output_str("no headers here");
        return 0;
    }
    if (last_is(&r, "config")) {
        int64_t n = wharf_config_get("greeting", out, sizeof out);
        return wharf_serve_respond(200, "text/plain", out, n > 0 ? (size_t)n : 0);
    }
    int n = snprintf(out, sizeof out, "fn %.*s\n", (int)r.path_len, r.path);
    return wharf_serve_respond(200, "text/plain", out, (size_t)n);
}
