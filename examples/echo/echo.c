/* echo.c: a plugin for `wharf serve` with `executor: function`
 * (examples/wharf.yaml). Exports two functions:
 *
 *   handle  echoes the request: a POST/PUT body comes back as it was sent
 *           (same content type); anything else gets a one-line summary of
 *           the request it made;
 *   hello   "Hello, wharf!", the smallest useful handler (bench/http).
 *
 * Built as a WASI reactor with the C SDK (sdk/c/wharf_serve.h). */
#include <stdio.h>

#include "wharf_serve.h"

static char buf[1 << 20];   /* the request; limits.max_body keeps it under */

WHARF_PLUGIN_FN(handle)
{
    wharf_serve_request req;
    if (wharf_serve_read(&req, buf, sizeof buf) != 0)
        return wharf_serve_respond_str(400, "text/plain", "malformed request\n");
    if (wharf_serve_method_is(&req, "POST") || wharf_serve_method_is(&req, "PUT")) {
        size_t n;
        const char *type = wharf_serve_header(&req, "content-type", &n);
        char ct[128];
        snprintf(ct, sizeof ct, "%.*s", type ? (int)n : 0, type ? type : "");
        return wharf_serve_respond(200, type ? ct : "application/octet-stream",
                                   req.body, req.body_len);
    }
    char line[512];
    int n = snprintf(line, sizeof line, "%.*s %.*s%s%.*s\n", (int)req.method_len,
                     req.method, (int)req.path_len, req.path, req.query_len ? "?" : "",
                     (int)req.query_len, req.query);
    return wharf_serve_respond(200, "text/plain", line,
                               n < (int)sizeof line ? (size_t)n : sizeof line - 1);
}

WHARF_PLUGIN_FN(hello)
{
    return wharf_serve_respond_str(200, "text/plain", "Hello, wharf!\n");
}
