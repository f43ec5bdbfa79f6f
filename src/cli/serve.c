/* serve.c: `wharf serve`: loads wharf.yaml (docs/config.md), compiles
 * every service's module, and runs the HTTP front door (src/http) until
 * SIGINT or SIGTERM. Owns only the command line: flags override the
 * file's `server:` section. With --check it stops after loading, which
 * makes a config's errors testable without opening a port. */
#include <stdlib.h>
#include <string.h>

#include "../host/config.h"
#include "../host/service.h"
#include "../http/http.h"
#include "cli.h"

typedef struct serve_opts {
    const char *config;
    const char *listen;
    const char *tls_cert, *tls_key;
    int workers;                 /* -1: as the file says */
    bool check;
} serve_opts;

void wh_cli_serve_help(FILE *f)
{
    fputs("usage: wharf serve [options] CONFIG.yaml\n"
          "\n"
          "Serves the WebAssembly services that CONFIG.yaml describes over HTTP/1.1\n"
          "and HTTP/2, a fresh sandboxed instance per request (docs/config.md).\n"
          "\n"
          "options:\n"
          "  --listen ADDR:PORT  address to listen on (default: the file's\n"
          "                      server.listen, else 127.0.0.1:8080; port 0\n"
          "                      picks a free port, logged at start)\n"
          "  --workers N         event loops (threads); 0 = one per core\n"
          "  --tls-cert FILE     serve HTTPS (HTTP/2 by ALPN) with this PEM\n"
          "  --tls-key FILE      certificate chain and key\n"
          "  --check             load and check everything, then exit\n"
          "  -h, --help          show this help\n"
          "\n"
          "Stops on SIGINT or SIGTERM after finishing requests in flight.\n"
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
    static const char *const valued[] = { "--listen", "--workers", "--tls-cert", "--tls-key" };
    for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) {
        if (strcmp(a, valued[k]) != 0)
            continue;
        if (need_value(a, *i, argc))
            return WH_CLI_EXIT_USAGE;
        const char *v = argv[++*i];
        uint64_t n;
        if (k == 0)
            o->listen = v;
        else if (k == 2)
            o->tls_cert = v;
        else if (k == 3)
            o->tls_key = v;
        else if (!wh_cli_parse_u64(v, &n) || n > 1024)
            return wh_cli_error(WH_CLI_EXIT_USAGE,
                                "--workers: expected 0 to 1024, got '%s'", v);
        else
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
    if (!o->config)
        return wh_cli_error(WH_CLI_EXIT_USAGE,
                            "missing CONFIG.yaml (see 'wharf serve --help')");
    if (!o->tls_cert != !o->tls_key)
        return wh_cli_error(WH_CLI_EXIT_USAGE, "--tls-cert and --tls-key go together");
    return 0;
}

/* The server's options: flags first, then the file, then defaults. */
static wh_http_options http_options(const serve_opts *o, const wh_host_config *c)
{
    const wh_host_server_conf *s = &c->server;
    bool flag_tls = o->tls_cert != NULL;
    return (wh_http_options){
        .listen = o->listen ? o->listen : s->listen ? s->listen : WH_HOST_DEFAULT_LISTEN,
        .workers = o->workers >= 0 ? o->workers : s->workers,
        .tls_cert = flag_tls ? o->tls_cert : s->tls_cert,
        .tls_key = flag_tls ? o->tls_key : s->tls_key,
        .request_timeout_ns = s->request_timeout_ns,
        .idle_timeout_ns = s->idle_timeout_ns,
        .max_header_bytes = s->max_header_bytes,
        .health_path = s->health,
    };
}

int wh_cli_serve(int argc, char **argv)
{
    serve_opts o = { .workers = -1 };
    int rc = parse_args(&o, argc, argv);
    if (rc == SHOW_HELP) {
        wh_cli_serve_help(stdout);
        return 0;
    }
    if (rc)
        return rc;
    char err[600];
    wh_host_config *cfg = wh_host_config_load(o.config, err, sizeof err);
    if (!cfg)
        return wh_cli_error(WH_CLI_EXIT_USAGE, "%s", err);
    wh_host_app *app = wh_host_app_new(cfg, err, sizeof err);
    if (!app) {
        rc = wh_cli_error(WH_CLI_EXIT_MODULE, "%s", err);
    } else if (o.check) {
        printf("%s: ok, %d service%s\n", o.config, cfg->nservices,
               cfg->nservices == 1 ? "" : "s");
    } else {
        wh_http_options opts = http_options(&o, cfg);
        rc = wh_http_serve(app, &opts) ? WH_CLI_EXIT_HOST : 0;
    }
    wh_host_app_free(app);
    wh_host_config_free(cfg);
    return rc;
}
