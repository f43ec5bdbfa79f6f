/* call.c: `wharf call`, following `extism call`: loads a plugin (docs/abi.md),
 * calls one of its functions with an input and prints the output. Owns
 * the command line of `call` and the manifest built from it; the plugin
 * itself is the embedding API's (wharf_plugin_*). The exit status is 0,
 * 1 when the plugin reports an error, or the one docs/cli.md assigns. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef struct call_opts {
    wharf_manifest m;
    const char *input;           /* --input, or the bytes read for the others */
    size_t input_len;
    const char *input_file;      /* --input-file */
    bool use_stdin;
    int ninputs;                 /* how many of the three were given */
    const char **hosts;          /* the arrays hold up to argc entries */
    wharf_plugin_kv *config;
    wharf_plugin_path *paths;
    wh_cli_owned owned;
    const char *path, *func;
} call_opts;

void wh_cli_call_help(FILE *f)
{
    fputs("usage: wharf call [options] PLUGIN.wasm FUNCTION\n"
          "\n"
          "Calls FUNCTION of a plugin (Extism's plugin ABI, docs/abi.md) with an\n"
          "input and prints its output, unchanged, on stdout.\n"
          "\n"
          "options:\n"
          "  --input TEXT          the input (default: empty)\n"
          "  --input-file PATH     read the input from a file\n"
          "  --stdin               read the input from stdin\n"
          "  --config KEY=VALUE    a config value the plugin can read; repeatable\n"
          "  --allow-host HOST     let the plugin make HTTP requests to HOST (a\n"
          "                        glob: '*.example.com', '*'); repeatable\n"
          "  --allow-path HOST[::GUEST]\n"
          "                        give the plugin the host directory HOST as\n"
          "                        GUEST (implies --wasi); repeatable\n"
          "  --wasi                link WASI (its stdout and stderr go to stderr)\n"
          "  --fuel N              stop after N units of fuel\n"
          "  --timeout DURATION    stop the call after DURATION: 100us, 500ms, 2s\n"
          "  --max-memory SIZE     limit linear and call memory: 64KiB, 16MiB\n"
          "  --log-level LEVEL     print plugin logs at LEVEL and above on stderr:\n"
          "                        trace, debug, info, warn, error (default: off)\n"
          "  -h, --help            show this help\n"
          "\n"
          "Exit status: 0 on success; 1 when the plugin reports an error or a\n"
          "host-side failure; 2 usage; 3 malformed or invalid module; 4 missing\n"
          "import; 134 trap; 137 fuel or timeout exhausted (docs/cli.md).\n", f);
}

static int opt_input(void *p, const char *v)
{
    call_opts *o = p;
    o->input = v;
    o->input_len = strlen(v);
    o->ninputs++;
    return 0;
}

static int opt_input_file(void *p, const char *v)
{
    call_opts *o = p;
    o->input_file = v;
    o->ninputs++;
    return 0;
}

static int opt_config(void *p, const char *v)
{
    call_opts *o = p;
    const char *eq = strchr(v, '=');
    if (!eq || eq == v)
        return wh_cli_error(WH_CLI_EXIT_USAGE, "--config: expected KEY=VALUE, got '%s'", v);
    if (wh_cli_keep(&o->owned, strndup(v, (size_t)(eq - v))))
        return WH_CLI_EXIT_HOST;
    o->config[o->m.nconfig++] = (wharf_plugin_kv){ o->owned.v[o->owned.n - 1], eq + 1 };
    return 0;
}

static int opt_allow_host(void *p, const char *v)
{
    call_opts *o = p;
    if (!*v)
        return wh_cli_error(WH_CLI_EXIT_USAGE, "--allow-host: empty host");
    o->hosts[o->m.nallowed_hosts++] = v;
    return 0;
}

static int opt_allow_path(void *p, const char *v)
{
    call_opts *o = p;
    wharf_plugin_path *d = &o->paths[o->m.nallowed_paths++];
    o->m.wasi = true;
    return wh_cli_dir_arg("--allow-path", v, &o->owned, &d->host_path, &d->guest_path);
}

static int opt_fuel(void *p, const char *v)
{
    call_opts *o = p;
    return wh_cli_fuel_arg(v, &o->m.fuel);
}

static int opt_timeout(void *p, const char *v)
{
    call_opts *o = p;
    return wh_cli_timeout_arg(v, &o->m.timeout_ns);
}

/* Rounded up to whole 64 KiB pages, the unit of the manifest's limit. */
static int opt_max_memory(void *p, const char *v)
{
    call_opts *o = p;
    uint64_t bytes, pages;
    if (!wh_cli_parse_size(v, &bytes) || bytes == 0 ||
        (pages = (bytes + 65535) / 65536) > 65536)
        return wh_cli_error(WH_CLI_EXIT_USAGE,
                            "--max-memory: expected a size from 1 byte to 4GiB, got '%s'", v);
    o->m.max_pages = (uint32_t)pages;
    return 0;
}

static void print_log(void *user, wharf_log_level level, const char *msg, size_t len)
{
    static const char *const names[] = { "trace", "debug", "info", "warn", "error" };
    fprintf(stderr, "%s: %.*s\n", level < WHARF_LOG_OFF ? names[level] : "log",
            (int)len, msg);
}

static int opt_log_level(void *p, const char *v)
{
    call_opts *o = p;
    static const char *const names[] = { "trace", "debug", "info", "warn", "error", "off" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(v, names[i]) != 0)
            continue;
        o->m.log_level = (wharf_log_level)i;
        o->m.log = i == WHARF_LOG_OFF ? NULL : print_log;
        return 0;
    }
    return wh_cli_error(WH_CLI_EXIT_USAGE, "--log-level: expected trace, debug, info, "
                        "warn, error or off, got '%s'", v);
}

static const wh_cli_opt call_opt_table[] = {
    { "input", opt_input }, { "input-file", opt_input_file },
    { "config", opt_config }, { "allow-host", opt_allow_host },
    { "allow-path", opt_allow_path }, { "fuel", opt_fuel },
    { "timeout", opt_timeout }, { "max-memory", opt_max_memory },
    { "log-level", opt_log_level },
};

/* Flags without a value. */
static bool flag(call_opts *o, const char *a)
{
    if (!strcmp(a, "--wasi")) {
        o->m.wasi = true;
        return true;
    }
    if (!strcmp(a, "--stdin")) {
        o->use_stdin = true;
        o->ninputs++;
        return true;
    }
    return false;
}

enum { SHOW_HELP = -1 };

/* Options may come before, between or after the two positional arguments. */
static int parse_args(call_opts *o, int argc, char **argv)
{
    const char *pos[2];
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return SHOW_HELP;
        if (flag(o, a))
            continue;
        int rc = 0;
        if (a[0] == '-' && a[1] == '-' && a[2])
            rc = wh_cli_long_option("call", call_opt_table,
                                    sizeof call_opt_table / sizeof call_opt_table[0], o,
                                    argc, argv, &i);
        else if (a[0] == '-' && a[1])
            rc = wh_cli_error(WH_CLI_EXIT_USAGE,
                              "unknown option '%s' (see 'wharf call --help')", a);
        else if (npos < 2)
            pos[npos++] = a;
        else
            rc = wh_cli_error(WH_CLI_EXIT_USAGE, "unexpected argument '%s'", a);
        if (rc)
            return rc;
    }
    if (npos < 2)
        return wh_cli_error(WH_CLI_EXIT_USAGE,
                            "expected PLUGIN.wasm FUNCTION (see 'wharf call --help')");
    if (o->ninputs > 1)
        return wh_cli_error(WH_CLI_EXIT_USAGE,
                            "give at most one of --input, --input-file and --stdin");
    o->path = o->m.wasm_path = pos[0];
    o->func = pos[1];
    return 0;
}

/* Reads all of `f` into a buffer kept in o->owned. */
static int slurp(call_opts *o, FILE *f, const char *name)
{
    size_t n;
    uint8_t *buf = wh_cli_read_stream(f, &n);
    if (!buf && errno == ENOMEM)
        return wh_cli_error(WH_CLI_EXIT_HOST, "out of memory reading %s", name);
    if (!buf)
        return wh_cli_error(WH_CLI_EXIT_HOST, "cannot read %s: %s", name, strerror(errno));
    o->input = (const char *)buf;
    o->input_len = n;
    return wh_cli_keep(&o->owned, (char *)buf);
}

static int read_input(call_opts *o)
{
    if (o->use_stdin)
        return slurp(o, stdin, "stdin");
    if (!o->input_file)
        return 0;
    FILE *f = fopen(o->input_file, "rb");
    if (!f)
        return wh_cli_error(WH_CLI_EXIT_HOST, "cannot read '%s': %s", o->input_file,
                            strerror(errno));
    int rc = slurp(o, f, o->input_file);
    fclose(f);
    return rc;
}

/* The exit status for a failed plugin call or load. */
static int call_failed(const call_opts *o, wharf_status st, const wharf_error *err)
{
    switch (st) {
    case WHARF_ERR_PLUGIN:
        return wh_cli_error(WH_CLI_EXIT_HOST, "%s: %s", o->func, err->message);
    case WHARF_ERR_EXIT:
        return err->exit_code;
    case WHARF_ERR_NOT_FOUND:
        return wh_cli_error(WH_CLI_EXIT_USAGE, "%s: no plugin function '%s'", o->path,
                            o->func);
    case WHARF_ERR_ARG:
        /* Loading reports an unreadable file as a bad argument. */
        return wh_cli_error(strstr(err->message, "cannot read") ? WH_CLI_EXIT_HOST
                                                                : WH_CLI_EXIT_USAGE,
                            "%s", err->message);
    default:
        return wh_cli_fail(o->path, err);
    }
}

/* The output as it is; on a terminal, a newline so the prompt starts on a
 * line of its own. */
static bool print_output(const uint8_t *out, size_t len)
{
    if (fwrite(out, 1, len, stdout) != len)
        return false;
    return !isatty(STDOUT_FILENO) || out[len - 1] == '\n' || putchar('\n') != EOF;
}

static int call_plugin(call_opts *o)
{
    wharf_plugin *p;
    wharf_error err = { 0 };
    wharf_status st = wharf_plugin_new(NULL, &o->m, &p, &err);
    if (st != WHARF_OK)
        return call_failed(o, st, &err);
    const uint8_t *out;
    size_t len;
    st = wharf_plugin_call(p, o->func, (const uint8_t *)o->input, o->input_len,
                           &out, &len, &err);
    int rc = 0;
    if (st != WHARF_OK)
        rc = call_failed(o, st, &err);
    else if (len && !print_output(out, len))
        rc = wh_cli_error(WH_CLI_EXIT_HOST, "cannot write the output: %s", strerror(errno));
    wharf_plugin_free(p);
    return rc;
}

static int call_opts_alloc(call_opts *o, int argc)
{
    size_t n = (size_t)argc + 1;
    o->hosts = calloc(n, sizeof *o->hosts);
    o->config = calloc(n, sizeof *o->config);
    o->paths = calloc(n, sizeof *o->paths);
    if (!o->hosts || !o->config || !o->paths)
        return wh_cli_error(WH_CLI_EXIT_HOST, "out of memory");
    o->m.allowed_hosts = o->hosts;
    o->m.config = o->config;
    o->m.allowed_paths = o->paths;
    o->m.log_level = WHARF_LOG_OFF;
    return 0;
}

static void call_opts_free(call_opts *o)
{
    wh_cli_owned_free(&o->owned);
    free(o->paths);
    free(o->config);
    free(o->hosts);
}

int wh_cli_call(int argc, char **argv)
{
    call_opts o = { 0 };
    int rc = call_opts_alloc(&o, argc);
    if (rc == 0)
        rc = parse_args(&o, argc, argv);
    if (rc == SHOW_HELP) {
        wh_cli_call_help(stdout);
        rc = 0;
    } else if (rc == 0 && (rc = read_input(&o)) == 0) {
        rc = call_plugin(&o);
    }
    call_opts_free(&o);
    return rc;
}
