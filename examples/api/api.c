/* api.c: a small JSON API as one plugin for `wharf serve` with
 * `executor: function` (examples/wharf.yaml):
 *
 *   GET  /health          {"status":"ok"}
 *   GET  /api/users       the users, as a JSON array
 *   GET  /api/users/ID    one user, or 404
 *   POST /api/users       201 with the new user, made from a JSON body
 *                         {"name":"..."}; 400 without a name
 *
 * Every request runs in a fresh instance, so a created user is not kept:
 * state lives outside the sandbox (this example has none). Built as a
 * WASI reactor with the C SDK (sdk/c/wharf_serve.h). */
#include <stdio.h>
#include <string.h>

#include "wharf_serve.h"

typedef struct user { int id; const char *name, *email; } user;

static const user users[] = {
    { 1, "Ada Lovelace", "ada@example.com" },
    { 2, "Grace Hopper", "grace@example.com" },
    { 3, "Barbara Liskov", "barbara@example.com" },
};

#define NUSERS (int)(sizeof users / sizeof users[0])

static char in[64 * 1024], out[16 * 1024];

static int user_json(char *dst, size_t cap, const user *u)
{
    return snprintf(dst, cap, "{\"id\":%d,\"name\":\"%s\",\"email\":\"%s\"}",
                    u->id, u->name, u->email);
}

static int32_t json(int status, const char *body, size_t n)
{
    return wharf_serve_respond(status, "application/json", body, n);
}

static int32_t error(int status, const char *msg)
{
    int n = snprintf(out, sizeof out, "{\"error\":\"%s\"}", msg);
    return json(status, out, (size_t)n);
}

static int32_t list_users(void)
{
    size_t n = 0;
    out[n++] = '[';
    for (int i = 0; i < NUSERS; i++) {
        if (i)
            out[n++] = ',';
        n += (size_t)user_json(out + n, sizeof out - n, &users[i]);
    }
    out[n++] = ']';
    return json(200, out, n);
}

static int32_t get_user(const char *id, size_t len)
{
    int v = 0;
    for (size_t i = 0; i < len; i++) {
        if (id[i] < '0' || id[i] > '9' || v > 100000)
            return error(400, "user ids are numbers");
        v = v * 10 + (id[i] - '0');
    }
    for (int i = 0; i < NUSERS; i++)
        if (users[i].id == v)
            return json(200, out, (size_t)user_json(out, sizeof out, &users[i]));
    return error(404, "no such user");
}

/* {"name":"X"} -> X, copied into name; false when there is no name. */
static bool body_name(const wharf_serve_request *r, char *name, size_t cap)
{
    char body[1024];
    size_t n = r->body_len < sizeof body - 1 ? r->body_len : sizeof body - 1;
    memcpy(body, r->body, n);
    body[n] = '\0';
    const char *k = strstr(body, "\"name\"");
    const char *q = k ? strchr(k + 6, '"') : NULL;
    const char *end = q ? strchr(q + 1, '"') : NULL;
    if (!end || end == q + 1 || (size_t)(end - q - 1) >= cap)
        return false;
    snprintf(name, cap, "%.*s", (int)(end - q - 1), q + 1);
    return true;
}

static int32_t create_user(const wharf_serve_request *r)
{
    char name[128];
    if (!body_name(r, name, sizeof name))
        return error(400, "expected a JSON body with a \\\"name\\\"");
    user u = { NUSERS + 1, name, "" };
    int n = user_json(out, sizeof out, &u);
    return wharf_serve_respond_ex(201, "application/json", "Location: /api/users/4\r\n",
                                  out, (size_t)n);
}

WHARF_PLUGIN_FN(handle)
{
    wharf_serve_request req;
    if (wharf_serve_read(&req, in, sizeof in) != 0)
        return error(400, "malformed request");
    bool get = wharf_serve_method_is(&req, "GET");
    if (wharf_serve_path_is(&req, "/health"))
        return get ? json(200, "{\"status\":\"ok\"}", 15) : error(405, "use GET");
    if (wharf_serve_path_is(&req, "/api/users")) {
        if (get)
            return list_users();
        if (wharf_serve_method_is(&req, "POST"))
            return create_user(&req);
        return error(405, "use GET or POST");
    }
    static const char prefix[] = "/api/users/";
    size_t plen = sizeof prefix - 1;
    if (req.path_len > plen && !memcmp(req.path, prefix, plen))
        return get ? get_user(req.path + plen, req.path_len - plen) : error(405, "use GET");
    return error(404, "no such endpoint");
}
