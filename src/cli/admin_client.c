/* admin_client.c: `wharf deploy`, `wharf services`, `wharf undeploy` and
 * `wharf rollback`: a client of a running server's admin API
 * (docs/admin-api.md) over plain HTTP/1.1. Owns the command lines and
 * the turning of YAML config files into the API's JSON; the server does
 * every check, so a refused deploy prints the server's reason.
 *
 * The admin URL comes from --admin (default http://127.0.0.1:9090), the
 * bearer token from the environment variable WHARF_ADMIN_TOKEN. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <yaml.h>

#include "../base/base.h"
#include "../http/http.h"
#include "cli.h"

#define DEFAULT_URL "http://127.0.0.1:9090"
#define MAX_ROUTES 64

typedef struct client_opts {
    const char *url;
    const char *name;
    const char *module;          /* deploy: the .wasm file */
    const char *config;          /* deploy: a YAML (or JSON) file */
    const char *routes[MAX_ROUTES];
    int nroutes;
} client_opts;

/* An HTTP answer: status and body (NUL-terminated). */
typedef struct answer {
    long status;
    char *body;
    size_t len;
} answer;

/* ---- HTTP ------------------------------------------------------------------ */

/* The admin API speaks plain HTTP/1.1 (it has no TLS), so one request per
 * connection over a socket is all this needs: no HTTP library to load. */

/* Splits "http://HOST:PORT[/PREFIX]"; false when it is not such a URL. */
static bool split_url(const char *url, char *host, size_t hostlen, char *port,
                      size_t portlen, const char **prefix)
{
    if (strncmp(url, "http://", 7) != 0)
        return false;
    const char *h = url + 7, *end = h + strcspn(h, "/");
    const char *colon = *h == '[' ? strstr(h, "]:") : memchr(h, ':', (size_t)(end - h));
    const char *hend = colon ? colon + (*h == '[') : end;
    size_t n = (size_t)(hend - h) - (*h == '[' ? 2 : 0);
    if (n == 0 || n >= hostlen)
        return false;
    memcpy(host, h + (*h == '['), n);
    host[n] = '\0';
    snprintf(port, portlen, "%.*s", colon ? (int)(end - hend - 1) : 2,
             colon ? hend + 1 : "80");
    *prefix = end;
    return true;
}

static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *p;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    int fd = -1;
    for (p = ai; p && fd < 0; p = p->ai_next) {
        fd = socket(p->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, p->ai_addr, p->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    return fd;
}

/* Reads the whole response (the server closes the connection after it)
 * and splits it into status and body. */
static bool read_answer(int fd, answer *a)
{
    size_t cap = 0, len = 0;
    char *buf = NULL;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *more = realloc(buf, cap = cap ? cap * 2 : 65536);
            if (!more)
                break;
            buf = more;
        }
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    if (buf)
        buf[len] = '\0';
    char *body = buf ? strstr(buf, "\r\n\r\n") : NULL;
    if (!body || sscanf(buf, "HTTP/1.%*d %ld", &a->status) != 1) {
        free(buf);
        return false;
    }
    body += 4;
    a->len = len - (size_t)(body - buf);
    memmove(buf, body, a->len + 1);
    a->body = buf;
    return true;
}

/* One request to the admin API; false (after printing why) when the
 * server could not be reached or did not answer in HTTP. */
static bool call(const client_opts *o, const char *method, const char *path,
                 const char *body, answer *a)
{
    char host[256], port[16], head[2048];
    const char *prefix, *token = getenv("WHARF_ADMIN_TOKEN");
    *a = (answer){ 0 };
    if (!split_url(o->url, host, sizeof host, port, sizeof port, &prefix)) {
        wh_cli_error(WH_CLI_EXIT_USAGE, "--admin: expected http://HOST:PORT, got '%s'", o->url);
        return false;
    }
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(head, sizeof head, "%s %s%s HTTP/1.1\r\nHost: %s:%s\r\n"
                     "Connection: close\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n%s%s%s\r\n", method, prefix, path, host, port,
                     blen, token && *token ? "Authorization: Bearer " : "",
                     token && *token ? token : "", token && *token ? "\r\n" : "");
    int fd = connect_to(host, port);
    const char *why = fd < 0 ? strerror(errno) : "no HTTP answer";
    /* Plain writes: main() ignores SIGPIPE, so a closed peer is an error. */
    bool ok = fd >= 0 && n > 0 && (size_t)n < sizeof head &&
              wh_write_all(fd, head, (size_t)n) && wh_write_all(fd, body ? body : "", blen) &&
              read_answer(fd, a);
    if (!ok)
        wh_cli_error(WH_CLI_EXIT_HOST, "cannot reach the admin API at %s: %s", o->url, why);
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Reports a refused request: the server's message and request id. The
 * exit status: 3 for a request the server refused as wrong (4xx but an
 * authentication failure), 1 otherwise. */
static int refused(const char *what, const answer *a)
{
    cJSON *o = cJSON_Parse(a->body ? a->body : "");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    int code = a->status >= 400 && a->status < 500 && a->status != 401 ? WH_CLI_EXIT_MODULE
                                                                       : WH_CLI_EXIT_HOST;
    if (cJSON_IsString(e))
        wh_cli_error(code, "%s: %s (HTTP %ld, request id %s)", what, e->valuestring,
                     a->status, cJSON_IsString(id) ? id->valuestring : "-");
    else
        wh_cli_error(code, "%s: HTTP %ld from the admin API", what, a->status);
    cJSON_Delete(o);
    return code;
}

/* ---- YAML config files into JSON -------------------------------------------- */

static cJSON *yaml_to_json(yaml_document_t *doc, yaml_node_t *n, int depth);

static cJSON *scalar_json(const yaml_node_t *n)
{
    const char *v = (const char *)n->data.scalar.value;
    bool plain = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (plain && (!*v || !strcmp(v, "~") || !strcmp(v, "null")))
        return cJSON_CreateNull();   /* the server reports it as missing */
    return cJSON_CreateString(v);
}

static cJSON *mapping_json(yaml_document_t *doc, yaml_node_t *n, int depth)
{
    cJSON *o = cJSON_CreateObject();
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; o && p < n->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        cJSON *v = yaml_to_json(doc, yaml_document_get_node(doc, p->value), depth + 1);
        if (!v || k->type != YAML_SCALAR_NODE ||
            !cJSON_AddItemToObject(o, (const char *)k->data.scalar.value, v)) {
            cJSON_Delete(v);
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

/* Mappings to objects, sequences to arrays, scalars to strings: the
 * server reads every value as text, as it reads wharf.yaml. */
static cJSON *yaml_to_json(yaml_document_t *doc, yaml_node_t *n, int depth)
{
    if (!n || depth > 32)
        return NULL;
    if (n->type == YAML_SCALAR_NODE)
        return scalar_json(n);
    if (n->type == YAML_MAPPING_NODE)
        return mapping_json(doc, n, depth);
    cJSON *a = cJSON_CreateArray();
    for (yaml_node_item_t *i = n->data.sequence.items.start; a && i < n->data.sequence.items.top;
         i++) {
        cJSON *v = yaml_to_json(doc, yaml_document_get_node(doc, *i), depth + 1);
        if (!v || !cJSON_AddItemToArray(a, v)) {
            cJSON_Delete(v);
            cJSON_Delete(a);
            return NULL;
        }
    }
    return a;
}

/* The service's keys from --config FILE (a YAML mapping), or an empty
 * object. NULL after printing why. */
static cJSON *read_config(const char *path)
{
    if (!path)
        return cJSON_CreateObject();
    FILE *f = fopen(path, "rb");
    if (!f) {
        wh_cli_error(WH_CLI_EXIT_USAGE, "--config %s: %s", path, strerror(errno));
        return NULL;
    }
    yaml_parser_t p;
    yaml_document_t doc;
    cJSON *o = NULL;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    if (yaml_parser_load(&p, &doc)) {
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        o = root && root->type == YAML_MAPPING_NODE ? yaml_to_json(&doc, root, 0) : NULL;
        yaml_document_delete(&doc);
    }
    if (!o)
        wh_cli_error(WH_CLI_EXIT_USAGE, "--config %s: expected a mapping of the service's "
                     "keys (as under 'services: NAME:' in wharf.yaml)%s%s", path,
                     p.problem ? ": " : "", p.problem ? p.problem : "");
    yaml_parser_delete(&p);
    fclose(f);
    return o;
}

/* ---- Commands ------------------------------------------------------------------ */

static const char *text_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "-";
}

static double number_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}


static void print_version(const char *verb, const char *name, const answer *a)
{
    cJSON *o = cJSON_Parse(a->body ? a->body : "");
    const char *sha = text_of(cJSON_GetObjectItemCaseSensitive(o, "module"), "sha256");
    printf("%s %s: version %.0f", verb, name, number_of(o, "version"));
    if (strcmp(sha, "-") != 0)
        printf(", module sha256 %.12s", sha);
    printf("\n");
    cJSON_Delete(o);
}

/* The JSON body of a deploy; NULL after printing why. */
static char *deploy_body(const client_opts *o)
{
    size_t len;
    uint8_t *wasm = wh_cli_read_file(o->module, &len);
    if (!wasm) {
        wh_cli_error(WH_CLI_EXIT_HOST, "cannot read '%s': %s", o->module, strerror(errno));
        return NULL;
    }
    char *b64 = wh_http_base64_encode(wasm, len);
    free(wasm);
    cJSON *config = read_config(o->config), *root = cJSON_CreateObject();
    const char *slash = strrchr(o->module, '/');
    char *body = NULL;
    if (b64 && config && root && cJSON_AddStringToObject(root, "module", b64) &&
        cJSON_AddStringToObject(root, "module_name", slash ? slash + 1 : o->module)) {
        if (o->nroutes) {
            cJSON_DeleteItemFromObjectCaseSensitive(config, "routes");
            cJSON_AddItemToObject(config, "routes",
                                  cJSON_CreateStringArray(o->routes, o->nroutes));
        }
        cJSON_AddItemToObject(root, "config", config);
        config = NULL;
        body = cJSON_PrintUnformatted(root);
    }
    cJSON_Delete(config);
    cJSON_Delete(root);
    free(b64);
    return body;
}

static int deploy(const client_opts *o)
{
    char path[300], what[200];
    char *body = deploy_body(o);
    if (!body)
        return WH_CLI_EXIT_USAGE;
    snprintf(path, sizeof path, "/v1/services/%s", o->name);
    snprintf(what, sizeof what, "deploy %s", o->name);
    answer a;
    int rc = WH_CLI_EXIT_HOST;
    if (call(o, "PUT", path, body, &a)) {
        if (a.status == 200 || a.status == 201) {
            print_version(a.status == 201 ? "deployed" : "updated", o->name, &a);
            rc = 0;
        } else {
            rc = refused(what, &a);
        }
    }
    free(a.body);
    free(body);
    return rc;
}

/* One line per service: name, version, executor, module, requests and
 * routes. */
static void print_table(const char *text)
{
    cJSON *o = cJSON_Parse(text);
    const cJSON *s;
    printf("%-20s %7s  %-9s %-12s %9s  %s\n", "NAME", "VERSION", "EXECUTOR", "MODULE",
           "REQUESTS", "ROUTES");
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(o, "services")) {
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(s, "counters"), "requests"), *r;
        double total = 0;
        cJSON_ArrayForEach(r, req)
            total += r->valuedouble;
        printf("%-20s %7.0f  %-9s %-12.12s %9.0f ", text_of(s, "name"), number_of(s, "version"),
               text_of(s, "executor"),
               text_of(cJSON_GetObjectItemCaseSensitive(s, "module"), "sha256"), total);
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(s, "routes"))
            printf(" %s", r->valuestring);
        printf("\n");
    }
    cJSON_Delete(o);
}

static int services(const client_opts *o)
{
    char path[300];
    snprintf(path, sizeof path, "/v1/services%s%s", o->name ? "/" : "", o->name ? o->name : "");
    answer a;
    int rc = WH_CLI_EXIT_HOST;
    if (call(o, "GET", path, NULL, &a)) {
        rc = 0;
        if (a.status != 200) {
            rc = refused("services", &a);
        } else if (o->name) {
            cJSON *j = cJSON_Parse(a.body);
            char *pretty = j ? cJSON_Print(j) : NULL;
            printf("%s\n", pretty ? pretty : a.body);
            free(pretty);
            cJSON_Delete(j);
        } else {
            print_table(a.body);
        }
    }
    free(a.body);
    return rc;
}

/* undeploy (DELETE) and rollback (POST .../rollback). */
static int change(const client_opts *o, bool rollback)
{
    char path[300], what[200];
    snprintf(path, sizeof path, "/v1/services/%s%s", o->name, rollback ? "/rollback" : "");
    snprintf(what, sizeof what, "%s %s", rollback ? "rollback" : "undeploy", o->name);
    answer a;
    int rc = WH_CLI_EXIT_HOST;
    if (call(o, rollback ? "POST" : "DELETE", path, NULL, &a)) {
        rc = a.status == 200 ? 0 : refused(what, &a);
        if (!rc && rollback)
            print_version("rolled back", o->name, &a);
        else if (!rc)
            printf("undeployed %s\n", o->name);
    }
    free(a.body);
    return rc;
}

/* ---- Command lines ------------------------------------------------------------- */

void wh_cli_admin_help(FILE *f)
{
    fputs("usage: wharf deploy NAME MODULE.wasm [--route ROUTE]... [--config FILE]\n"
          "       wharf services [NAME]\n"
          "       wharf undeploy NAME\n"
          "       wharf rollback NAME\n"
          "\n"
          "Changes what a running `wharf serve` serves, through its admin API\n"
          "(docs/admin-api.md). `deploy` adds or updates service NAME with the module\n"
          "and the service's keys from FILE (YAML, as under 'services: NAME:' in\n"
          "wharf.yaml, without 'module'); --route (repeatable) sets its routes.\n"
          "`services` lists the services, or shows one with its history.\n"
          "`rollback` makes the version before the current one current again.\n"
          "\n"
          "options:\n"
          "  --admin URL     the admin API (default " DEFAULT_URL ")\n"
          "  -h, --help      show this help\n"
          "\n"
          "The bearer token, if the server wants one, comes from the environment\n"
          "variable WHARF_ADMIN_TOKEN.\n"
          "Exit status: 0 done; 1 the server could not be reached, failed or\n"
          "refused the token; 2 bad command line; 3 the server refused the change\n"
          "(its reason is printed).\n", f);
}

enum { SHOW_HELP = -1 };

/* Applies option argv[*i] and its value; returns 0 or an exit status. */
static int parse_option(client_opts *o, bool deploy, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    bool known = !strcmp(a, "--admin") || (deploy && (!strcmp(a, "--route") ||
                                                      !strcmp(a, "--config")));
    if (!known)
        return wh_cli_error(WH_CLI_EXIT_USAGE, "unknown option '%s' (see 'wharf help deploy')",
                            a);
    if (*i + 1 >= argc)
        return wh_cli_error(WH_CLI_EXIT_USAGE, "option '%s' needs a value", a);
    const char *v = argv[++*i];
    if (!strcmp(a, "--admin"))
        o->url = v;
    else if (!strcmp(a, "--config"))
        o->config = v;
    else if (o->nroutes == MAX_ROUTES)
        return wh_cli_error(WH_CLI_EXIT_USAGE, "at most %d routes", MAX_ROUTES);
    else
        o->routes[o->nroutes++] = v;
    return 0;
}

/* Options anywhere; `want` positional arguments (NAME, then MODULE), the
 * last of them optional when `optional`. */
static int parse_args(client_opts *o, int argc, char **argv, int want, bool optional,
                      bool deploy)
{
    const char **pos[] = { &o->name, &o->module };
    int got = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return SHOW_HELP;
        if (argv[i][0] == '-') {
            int rc = parse_option(o, deploy, argc, argv, &i);
            if (rc)
                return rc;
        } else if (got == want) {
            return wh_cli_error(WH_CLI_EXIT_USAGE, "unexpected argument '%s'", argv[i]);
        } else {
            *pos[got++] = argv[i];
        }
    }
    if (got < want - (optional ? 1 : 0))
        return wh_cli_error(WH_CLI_EXIT_USAGE, "missing %s (see 'wharf help deploy')",
                            got == 0 ? "NAME" : "MODULE.wasm");
    return 0;
}

int wh_cli_admin(const char *cmd, int argc, char **argv)
{
    client_opts o = { .url = DEFAULT_URL };
    bool is_deploy = !strcmp(cmd, "deploy"), is_list = !strcmp(cmd, "services");
    int rc = parse_args(&o, argc, argv, is_deploy ? 2 : 1, is_list, is_deploy);
    if (rc == SHOW_HELP) {
        wh_cli_admin_help(stdout);
        return 0;
    }
    if (rc)
        return rc;
    if (is_deploy)
        return deploy(&o);
    if (is_list)
        return services(&o);
    return change(&o, !strcmp(cmd, "rollback"));
}
