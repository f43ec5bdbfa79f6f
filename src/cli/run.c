/* run.c: `wharf run`, following `wasmtime run`: runs a WASI command
 * (`_start`), or with --invoke calls one export with arguments parsed by
 * its parameter types and prints its results one per line. Owns the
 * command line of `run`, the WASI context built from it and the life of
 * the engine, module, linker and instance for one run. The exit status is
 * the guest's proc_exit code, or the one docs/cli.md assigns to the error. */
#include <stdlib.h>
#include <string.h>

#include "../wasi/wasi.h"
#include "cli.h"

typedef struct run_opts {
    const char *invoke;          /* NULL: run `_start` */
    wharf_limits limits;
    const char *fuel, *timeout;  /* as given, for the messages of limit traps */
    wh_wasi_preopen *dirs;       /* the arrays hold up to argc entries */
    int ndirs;
    const char **env;            /* "NAME=VALUE" */
    int nenv;
    wh_cli_owned owned;
    const char *path;            /* the module */
    char **args;                 /* after the module: guest argv[1..] */
    int nargs;
} run_opts;

void wh_cli_run_help(FILE *f)
{
    fputs("usage: wharf run [options] MODULE.wasm [ARGS...]\n"
          "\n"
          "Runs a WASI command (its _start export) with ARGS as its arguments,\n"
          "or with --invoke calls one exported function with ARGS parsed by its\n"
          "parameter types and prints the results, one per line.\n"
          "\n"
          "options:\n"
          "  --invoke NAME         call export NAME instead of _start\n"
          "  --fuel N              stop after N units of fuel (about one per\n"
          "                        instruction)\n"
          "  --timeout DURATION    stop a call after DURATION: 100us, 500ms, 2s,\n"
          "                        1m, 1h (a bare number is seconds; 0 = none)\n"
          "  --max-memory SIZE     memory.grow fails past SIZE bytes: 65536,\n"
          "                        64KiB, 64MiB, 1GiB (KB, MB, GB are powers of\n"
          "                        1000)\n"
          "  --dir HOST[::GUEST]   give the guest the host directory HOST, named\n"
          "                        GUEST (default: HOST as written)\n"
          "  --env NAME[=VALUE]    set a guest environment variable; without\n"
          "                        =VALUE, pass the host's value of NAME\n"
          "  -h, --help            show this help\n"
          "\n"
          "Options go before MODULE.wasm; everything after it is passed on.\n"
          "Exit status: the guest's proc_exit code; 2 usage, 3 malformed or\n"
          "invalid module, 4 missing import, 134 trap, 137 fuel or timeout\n"
          "exhausted, 1 other errors (docs/cli.md).\n", f);
}

static int opt_invoke(void *p, const char *v)
{
    run_opts *o = p;
    o->invoke = v;
    return 0;
}

static int opt_fuel(void *p, const char *v)
{
    run_opts *o = p;
    o->fuel = v;
    return wh_cli_fuel_arg(v, &o->limits.fuel);
}

static int opt_timeout(void *p, const char *v)
{
    run_opts *o = p;
    o->timeout = v;
    return wh_cli_timeout_arg(v, &o->limits.timeout_ns);
}

static int opt_max_memory(void *p, const char *v)
{
    run_opts *o = p;
    /* As with fuel, 0 would mean "the engine default". */
    if (!wh_cli_parse_size(v, &o->limits.max_memory_bytes) ||
        o->limits.max_memory_bytes == 0)
        return wh_cli_error(WH_CLI_EXIT_USAGE,
                            "--max-memory: expected a positive size like 64MiB, got '%s'", v);
    return 0;
}

static int opt_dir(void *p, const char *v)
{
    run_opts *o = p;
    wh_wasi_preopen *d = &o->dirs[o->ndirs++];
    return wh_cli_dir_arg("--dir", v, &o->owned, &d->host_path, &d->guest_path);
}

static int opt_env(void *p, const char *v)
{
    run_opts *o = p;
    if (*v == '\0' || *v == '=')
        return wh_cli_error(WH_CLI_EXIT_USAGE, "--env: expected NAME[=VALUE], got '%s'", v);
    if (strchr(v, '=')) {
        o->env[o->nenv++] = v;
        return 0;
    }
    const char *val = getenv(v);
    if (!val)
        return 0;   /* unset on the host: unset in the guest too */
    size_t n = strlen(v) + strlen(val) + 2;
    char *kv = malloc(n);
    if (kv)
        snprintf(kv, n, "%s=%s", v, val);
    if (wh_cli_keep(&o->owned, kv))
        return WH_CLI_EXIT_HOST;
    o->env[o->nenv++] = kv;
    return 0;
}

static const wh_cli_opt run_opt_table[] = {
    { "invoke", opt_invoke }, { "fuel", opt_fuel }, { "timeout", opt_timeout },
    { "max-memory", opt_max_memory }, { "dir", opt_dir }, { "env", opt_env },
};

/* Non-error outcomes that end a run early, kept apart from exit statuses. */
enum { SHOW_HELP = -1, GUEST_EXITED = -2 };

/* Options up to the module path (or "--"); the rest is the guest's. */
static int parse_args(run_opts *o, int argc, char **argv)
{
    int i = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0')
            break;
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return SHOW_HELP;
        if (a[1] != '-')
            return wh_cli_error(WH_CLI_EXIT_USAGE,
                                "unknown option '%s' (see 'wharf run --help')", a);
        int rc = wh_cli_long_option("run", run_opt_table,
                                    sizeof run_opt_table / sizeof run_opt_table[0], o,
                                    argc, argv, &i);
        if (rc)
            return rc;
    }
    if (i >= argc)
        return wh_cli_error(WH_CLI_EXIT_USAGE,
                            "missing MODULE.wasm (see 'wharf run --help')");
    o->path = argv[i];
    o->args = argv + i + 1;
    o->nargs = argc - i - 1;
    return 0;
}

/* Everything one run holds, released in reverse order by session_close. */
typedef struct session {
    wharf_engine *engine;
    wharf_module *module;
    wh_wasi *wasi;
    wharf_linker *linker;
    wharf_instance *inst;
} session;

/* The exit status for the outcome of an engine call that may run guest
 * code: a WASI exit passes the guest's code through. */
static int outcome(session *s, const run_opts *o, wharf_status st,
                   const wharf_error *err)
{
    if (st == WHARF_OK)
        return 0;
    if (st == WHARF_ERR_EXIT)
        return wh_wasi_exit_code(s->wasi);
    /* Say which of the user's limits stopped the guest. */
    if (st == WHARF_ERR_TRAP && err->trap == WHARF_TRAP_FUEL && o->fuel)
        return wh_cli_error(WH_CLI_EXIT_LIMIT, "%s (--fuel %s)", err->message, o->fuel);
    if (st == WHARF_ERR_TRAP && err->trap == WHARF_TRAP_DEADLINE && o->timeout)
        return wh_cli_error(WH_CLI_EXIT_LIMIT, "%s (--timeout %s)", err->message,
                            o->timeout);
    return wh_cli_fail(o->path, err);
}

/* WASI state: argv = [module path, ARGS...], --env, --dir, stdio 0/1/2. */
static int wasi_open(session *s, const run_opts *o)
{
    const char **argv = calloc((size_t)o->nargs + 1, sizeof *argv);
    if (!argv)
        return wh_cli_error(WH_CLI_EXIT_HOST, "out of memory");
    argv[0] = o->path;
    for (int i = 0; i < o->nargs; i++)
        argv[i + 1] = o->args[i];
    wh_wasi_config cfg = {
        .argv = argv, .argc = o->nargs + 1, .env = o->env, .nenv = o->nenv,
        .preopens = o->dirs, .npreopens = o->ndirs,
        .stdin_fd = 0, .stdout_fd = 1, .stderr_fd = 2,
    };
    wharf_error err = { 0 };
    wharf_status st = wh_wasi_new(&cfg, &s->wasi, &err);
    free(argv);
    if (st != WHARF_OK)
        return wh_cli_error(WH_CLI_EXIT_HOST, "%s",
                            err.message[0] ? err.message : wharf_status_name(st));
    return 0;
}

static int session_open(session *s, const run_opts *o)
{
    if (wharf_engine_new(NULL, &s->engine) != WHARF_OK)
        return wh_cli_error(WH_CLI_EXIT_HOST, "out of memory");
    int rc = wh_cli_load(s->engine, o->path, &s->module);
    if (rc == 0)
        rc = wasi_open(s, o);
    if (rc)
        return rc;
    if (wharf_linker_new(s->engine, &s->linker) != WHARF_OK ||
        wh_wasi_define(s->wasi, s->linker) != WHARF_OK)
        return wh_cli_error(WH_CLI_EXIT_HOST, "out of memory");
    wharf_error err = { 0 };
    wharf_status st = wharf_instance_new(s->module, s->linker, &o->limits,
                                         &s->inst, &err);
    /* A start function may trap or call proc_exit; either ends the run. */
    if (st == WHARF_OK)
        return 0;
    rc = outcome(s, o, st, &err);
    return rc ? rc : GUEST_EXITED;
}

static void session_close(session *s)
{
    if (s->inst)
        wharf_instance_free(s->inst);
    if (s->linker)
        wharf_linker_free(s->linker);
    if (s->wasi)
        wh_wasi_free(s->wasi);
    if (s->module)
        wharf_module_free(s->module);
    if (s->engine)
        wharf_engine_free(s->engine);
}

/* Calls export `name` with `args` as text; prints the results. */
static int call_export(session *s, const run_opts *o, const char *name,
                       char **args, int nargs)
{
    wharf_func *f;
    if (wharf_instance_func(s->inst, name, &f) != WHARF_OK)
        return wh_cli_error(WH_CLI_EXIT_USAGE, "%s: no exported function '%s'",
                            o->path, name);
    const wharf_valkind *p, *r;
    uint32_t np, nr;
    wharf_func_type(f, &p, &np, &r, &nr);
    if ((uint32_t)nargs != np)
        return wh_cli_error(WH_CLI_EXIT_USAGE, "'%s' takes %u argument%s, %d given",
                            name, np, np == 1 ? "" : "s", nargs);
    wharf_val *vals = calloc((size_t)np + nr + 1, sizeof *vals);
    if (!vals)
        return wh_cli_error(WH_CLI_EXIT_HOST, "out of memory");
    int rc = 0;
    for (uint32_t i = 0; i < np && !rc; i++)
        if (!wh_cli_parse_val(p[i], args[i], &vals[i]))
            rc = wh_cli_error(WH_CLI_EXIT_USAGE, "argument %u of '%s': '%s' is not a valid %s",
                              i + 1, name, args[i], wh_cli_kind_name(p[i]));
    if (!rc) {
        wharf_error err = { 0 };
        wharf_status st = wharf_call(s->inst, f, vals, np, vals + np, nr, &err);
        rc = outcome(s, o, st, &err);
        for (uint32_t i = 0; i < nr && st == WHARF_OK; i++)
            wh_cli_print_val(stdout, &vals[np + i]);
    }
    free(vals);
    return rc;
}

static bool has_func(session *s, const char *name)
{
    wharf_func *f;
    return wharf_instance_func(s->inst, name, &f) == WHARF_OK;
}

/* A command runs `_start` (if it has none, instantiation did all the
 * work). With --invoke, a reactor's `_initialize` runs first, as in
 * wasmtime. */
static int run_guest(session *s, const run_opts *o)
{
    if (!o->invoke)
        return has_func(s, "_start") ? call_export(s, o, "_start", NULL, 0) : 0;
    if (strcmp(o->invoke, "_initialize") != 0 && has_func(s, "_initialize")) {
        int rc = call_export(s, o, "_initialize", NULL, 0);
        if (rc)
            return rc;
    }
    return call_export(s, o, o->invoke, o->args, o->nargs);
}

static int run_opts_alloc(run_opts *o, int argc)
{
    size_t n = (size_t)argc + 1;
    o->dirs = calloc(n, sizeof *o->dirs);
    o->env = calloc(n, sizeof *o->env);
    if (!o->dirs || !o->env)
        return wh_cli_error(WH_CLI_EXIT_HOST, "out of memory");
    return 0;
}

static void run_opts_free(run_opts *o)
{
    wh_cli_owned_free(&o->owned);
    free(o->env);
    free(o->dirs);
}

int wh_cli_run(int argc, char **argv)
{
    run_opts o = { 0 };
    int rc = run_opts_alloc(&o, argc);
    if (rc == 0)
        rc = parse_args(&o, argc, argv);
    if (rc == SHOW_HELP) {
        wh_cli_run_help(stdout);
        rc = 0;
    } else if (rc == 0) {
        session s = { 0 };
        rc = session_open(&s, &o);
        if (rc == 0)
            rc = run_guest(&s, &o);
        else if (rc == GUEST_EXITED)
            rc = 0;   /* a start function's proc_exit(0) */
        session_close(&s);
    }
    run_opts_free(&o);
    return rc;
}
