/* serve.c: `wharf serve`: loads wharf.yaml (docs/config.md) and the
 * state directory into a registry of services, and runs the HTTP front
 * door (src/http) with its admin API (docs/admin-api.md) until SIGINT or
 * SIGTERM; SIGHUP reloads the file. Owns only the command line: flags
 * override the file's `server:` section. With --check it stops after
 * loading, which makes a config's errors testable without opening a
 * port. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../host/config.h"
#include "../host/registry.h"
#include "../http/http.h"
#include "cli.h"

#define DEFAULT_ADMIN "127.0.0.1:9090"
#define DEFAULT_GRACE_NS (5ull * 1000000000)
#define TOKEN_ENV "WHARF_ADMIN_TOKEN"

typedef struct serve_opts {
    const char *config;          /* NULL: services from the state dir and API */
    const char *listen;
    const char *tls_cert, *tls_key;
    int workers;                 /* -1: as the file says */
    bool check;
    const char *admin;           /* NULL: the default; "off": none */
    const char *token_file;
    const char *state_dir;
    uint64_t grace_ns;
} serve_opts;

void wh_cli_serve_help(FILE *f)
{
    fputs("usage: wharf serve [options] [CONFIG.yaml]\n"
          "\n"
          "Serves the WebAssembly services that CONFIG.yaml describes over HTTP/1.1\n"
          "and HTTP/2, a fresh sandboxed instance per request (docs/config.md), and\n"
          "takes deploys at run time through its admin API (docs/admin-api.md).\n"
          "\n"
          "options:\n"
          "  --listen ADDR:PORT  address to listen on (default: the file's\n"
          "                      server.listen, else 127.0.0.1:8080; port 0\n"
          "                      picks a free port, logged at start)\n"
          "  --workers N         event loops (threads); 0 = one per core\n"
          "  --tls-cert FILE     serve HTTPS (HTTP/2 by ALPN) with this PEM\n"
          "  --tls-key FILE      certificate chain and key\n"
          "  --admin ADDR:PORT   the admin API's address (default 127.0.0.1:9090;\n"
          "                      'off' for none); off loopback it needs a token\n"
          "  --admin-token-file FILE  the admin API's bearer token (else the\n"
          "                      environment variable " TOKEN_ENV ")\n"
          "  --state-dir DIR     keep services deployed through the admin API in\n"
          "                      DIR, and load them at start\n"
          "  --grace DURATION    how long to finish requests in flight at\n"
          "                      shutdown (default 5s)\n"
          "  --check             load and check CONFIG.yaml, then exit\n"
          "  -h, --help          show this help\n"
          "\n"
          "Stops on SIGINT or SIGTERM after finishing requests in flight; reloads\n"
          "CONFIG.yaml on SIGHUP (docs/operations.md).\n"
          "Exit status: 0 after a clean stop; 2 bad command line or config;\n"
          "3 a module that cannot be used; 1 the server could not start.\n", f);
}

static int need_value(const char *opt, int i, int argc)
{
    if (i + 1 < argc)
        return 0;
    return wh_cli_error(WH_CLI_EXIT_USAGE, "option '%s' needs a value", opt);
}

/* Applies option argv[*i] (and its value); returns 0 or an exit status. */
static int parse_option(serve_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--check")) {
        o->check = true;
        return 0;
    }
    static const char *const valued[] = { "--listen", "--workers", "--tls-cert", "--tls-key",
                                          "--admin", "--admin-token-file", "--state-dir",
                                          "--grace" };
    for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) {
        if (strcmp(a, valued[k]) != 0)
            continue;
        if (need_value(a, *i, argc))
            return WH_CLI_EXIT_USAGE;
        const char *v = argv[++*i];
        const char **strings[] = { &o->listen, NULL, &o->tls_cert, &o->tls_key, &o->admin,
                                   &o->token_file, &o->state_dir, NULL };
        uint64_t n;
        if (strings[k])
            *strings[k] = v;
        else if (k == 7 && !wh_cli_parse_duration(v, &o->grace_ns))
            return wh_cli_error(WH_CLI_EXIT_USAGE,
                                "--grace: expected a duration like 10s, got '%s'", v);
        else if (k == 1 && (!wh_cli_parse_u64(v, &n) || n > 1024))
            return wh_cli_error(WH_CLI_EXIT_USAGE,
                                "--workers: expected 0 to 1024, got '%s'", v);
        else if (k == 1)
            o->workers = (int)n;
        return 0;
    }
    return wh_cli_error(WH_CLI_EXIT_USAGE, "unknown option '%s' (see 'wharf serve --help')", a);
}

enum { SHOW_HELP = -1 };

static int parse_args(serve_opts *o, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return SHOW_HELP;
        if (a[0] != '-') {
            if (o->config)
                return wh_cli_error(WH_CLI_EXIT_USAGE, "more than one config file given");
            o->config = a;
            continue;
        }
        int rc = parse_option(o, argc, argv, &i);
        if (rc)
            return rc;
    }
    if (!o->config && o->check)
        return wh_cli_error(WH_CLI_EXIT_USAGE,
                            "--check needs CONFIG.yaml (see 'wharf serve --help')");
    if (!o->tls_cert != !o->tls_key)
        return wh_cli_error(WH_CLI_EXIT_USAGE, "--tls-cert and --tls-key go together");
    return 0;
}

/* The server's options: flags first, then the file, then defaults. */
static wh_http_options http_options(const serve_opts *o, const wh_host_config *c,
                                    const char *token)
{
    static const wh_host_server_conf none = {
        .request_timeout_ns = WH_HOST_DEFAULT_REQUEST_TIMEOUT_NS,
        .idle_timeout_ns = WH_HOST_DEFAULT_IDLE_TIMEOUT_NS,
        .max_header_bytes = WH_HOST_DEFAULT_MAX_HEADER_BYTES,
    };
    const wh_host_server_conf *s = c ? &c->server : &none;
    bool flag_tls = o->tls_cert != NULL;
    bool admin_off = o->admin && !strcmp(o->admin, "off");
    return (wh_http_options){
        .listen = o->listen ? o->listen : s->listen ? s->listen : WH_HOST_DEFAULT_LISTEN,
        .workers = o->workers >= 0 ? o->workers : s->workers,
        .tls_cert = flag_tls ? o->tls_cert : s->tls_cert,
        .tls_key = flag_tls ? o->tls_key : s->tls_key,
        .request_timeout_ns = s->request_timeout_ns,
        .idle_timeout_ns = s->idle_timeout_ns,
        .max_header_bytes = s->max_header_bytes,
        .health_path = s->health,
        .grace_ns = o->grace_ns,
        .admin_listen = admin_off ? NULL : o->admin ? o->admin : DEFAULT_ADMIN,
        .admin_optional = !o->admin,
        .admin_token = token,
    };
}

/* The admin token: from --admin-token-file (its first line), else from
 * the environment. Returns 0 or an exit status; *out may stay NULL. */
static int admin_token(const serve_opts *o, char *buf, size_t len, const char **out)
{
    *out = NULL;
    if (!o->token_file) {
        const char *env = getenv(TOKEN_ENV);
        *out = env && *env ? env : NULL;
        return 0;
    }
    FILE *f = fopen(o->token_file, "r");
    if (!f)
        return wh_cli_error(WH_CLI_EXIT_USAGE, "--admin-token-file %s: %s", o->token_file,
                            strerror(errno));
    bool got = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    size_t n = got ? strcspn(buf, "\r\n") : 0;
    buf[n] = '\0';
    if (n == 0)
        return wh_cli_error(WH_CLI_EXIT_USAGE, "--admin-token-file %s: the file is empty",
                            o->token_file);
    *out = buf;
    return 0;
}

/* SIGHUP: the file again, with the same all-or-nothing semantics as a
 * deploy through the admin API. */
typedef struct reload_ctx {
    wh_host_registry *reg;
    const char *path;
} reload_ctx;

static void reload(void *arg)
{
    reload_ctx *rc = arg;
    char err[700], quoted[1500];
    wh_host_log("info", "msg=\"reloading the config\" config=%s", rc->path);
    if (wh_host_registry_apply_file(rc->reg, rc->path, err, sizeof err) == WH_HOST_APPLY_OK) {
        wh_host_log("info", "msg=\"config reloaded\" config=%s", rc->path);
        return;
    }
    wh_host_log_quote(quoted, sizeof quoted, err, strlen(err));
    wh_host_log("error", "msg=\"config not reloaded: nothing changed\" error=%s", quoted);
}

/* Builds the registry from the state directory, then the file. */
static int load_services(const serve_opts *o, wh_host_registry **out)
{
    char err[700];
    wh_host_registry *reg = wh_host_registry_new(o->state_dir, err, sizeof err);
    *out = reg;
    if (!reg)
        return wh_cli_error(WH_CLI_EXIT_HOST, "%s", err);
    wh_host_registry_load_state(reg);
    if (!o->config)
        return 0;
    wh_host_apply_result r = wh_host_registry_apply_file(reg, o->config, err, sizeof err);
    if (r == WH_HOST_APPLY_OK)
        return 0;
    return wh_cli_error(r == WH_HOST_APPLY_BAD_CONFIG ? WH_CLI_EXIT_USAGE : WH_CLI_EXIT_MODULE,
                        "%s", err);
}

static int serve(const serve_opts *o, const wh_host_config *cfg)
{
    char token_buf[512];
    const char *token;
    wh_host_registry *reg = NULL;
    int rc = admin_token(o, token_buf, sizeof token_buf, &token);
    if (!rc)
        rc = load_services(o, &reg);
    if (!rc) {
        reload_ctx ctx = { reg, o->config };
        wh_http_options opts = http_options(o, cfg, token);
        opts.reload = o->config ? reload : NULL;
        opts.reload_ctx = &ctx;
        rc = wh_http_serve(reg, &opts) ? WH_CLI_EXIT_HOST : 0;
    }
    wh_host_registry_free(reg);
    return rc;
}

int wh_cli_serve(int argc, char **argv)
{
    serve_opts o = { .workers = -1, .grace_ns = DEFAULT_GRACE_NS };
    int rc = parse_args(&o, argc, argv);
    if (rc == SHOW_HELP) {
        wh_cli_serve_help(stdout);
        return 0;
    }
    if (rc)
        return rc;
    char err[600];
    wh_host_config *cfg = NULL;
    if (o.config && !(cfg = wh_host_config_load(o.config, err, sizeof err)))
        return wh_cli_error(WH_CLI_EXIT_USAGE, "%s", err);
    if (o.check) {
        wh_host_app *app = wh_host_app_new(cfg, err, sizeof err);
        if (!app)
            rc = wh_cli_error(WH_CLI_EXIT_MODULE, "%s", err);
        else
            printf("%s: ok, %d service%s\n", o.config, cfg->nservices,
                   cfg->nservices == 1 ? "" : "s");
        wh_host_app_free(app);
    } else {
        rc = serve(&o, cfg);
    }
    wh_host_config_free(cfg);
    return rc;
}
