/* cli.h: what the files of the `wharf` command share: exit statuses, error
 * reporting, module loading, command-line options, and the text forms of
 * values, durations and sizes. The CLI uses only the public API (wharf.h) and WASI (wasi.h). */
#ifndef WH_CLI_H
#define WH_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../../include/wharf.h"

#define WH_CLI_VERSION "0.1.0"

/* Exit statuses, documented in docs/cli.md. A WASI guest's own proc_exit
 * code is passed through unchanged and may coincide with any of these. */
enum {
    WH_CLI_EXIT_OK = 0,
    WH_CLI_EXIT_HOST = 1,      /* host-side failure: I/O, --dir, memory */
    WH_CLI_EXIT_USAGE = 2,     /* bad command line, unknown export, bad args */
    WH_CLI_EXIT_MODULE = 3,    /* malformed or invalid module */
    WH_CLI_EXIT_LINK = 4,      /* an import could not be resolved */
    WH_CLI_EXIT_TRAP = 134,    /* the guest trapped (128 + SIGABRT) */
    WH_CLI_EXIT_LIMIT = 137,   /* fuel or time ran out (128 + SIGKILL) */
};

/* Prints "wharf: error: <message>" as one line on stderr; returns `code`. */
int wh_cli_error(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Reports a failed engine call (never WHARF_ERR_EXIT) and returns the exit
 * status for it. `path` names the module for load errors. */
int wh_cli_fail(const char *path, const wharf_error *err);

/* Reads and compiles the module at `path`. Returns 0, or an exit status
 * after reporting the error. */
int wh_cli_load(wharf_engine *e, const char *path, wharf_module **out);

/* The subcommands: argv[0] is the subcommand's first argument. */
int wh_cli_inspect(int argc, char **argv);
int wh_cli_run(int argc, char **argv);
void wh_cli_run_help(FILE *f);
void wh_cli_inspect_help(FILE *f);
/* call.c: `wharf call PLUGIN.wasm FUNCTION` (plugins, docs/abi.md). */
int wh_cli_call(int argc, char **argv);
void wh_cli_call_help(FILE *f);
/* serve.c: `wharf serve CONFIG.yaml` (docs/config.md). */
int wh_cli_serve(int argc, char **argv);
void wh_cli_serve_help(FILE *f);
/* admin_client.c: `wharf deploy|services|undeploy|rollback` (`cmd`), a
 * client of a server's admin API (docs/admin-api.md). */
int wh_cli_admin(const char *cmd, int argc, char **argv);
void wh_cli_admin_help(FILE *f);

/* The whole file, or the rest of stream `f`, in a malloc'd buffer; NULL
 * with errno set on failure (ENOMEM when out of memory). */
uint8_t *wh_cli_read_file(const char *path, size_t *len);
uint8_t *wh_cli_read_stream(FILE *f, size_t *len);

/* options.c: the command lines of `run` and `call`. Functions returning
 * int return 0, or an exit status after reporting the error. */

/* Strings made while reading a command line, freed together. */
typedef struct wh_cli_owned {
    char **v;
    int n, cap;
} wh_cli_owned;

/* Keeps malloc'd `s` until wh_cli_owned_free; a NULL `s` (a failed
 * allocation) is reported as out of memory. `s` is freed on failure. */
int wh_cli_keep(wh_cli_owned *o, char *s);
void wh_cli_owned_free(wh_cli_owned *o);

/* A long option with a value; `set` applies it to the subcommand's
 * options struct `opts`. */
typedef struct wh_cli_opt {
    const char *name;   /* without the leading "--" */
    int (*set)(void *opts, const char *value);
} wh_cli_opt;

/* Applies the long option at argv[*i], "--name VALUE" (moving *i to the
 * value) or "--name=VALUE", found among the `n` entries of `table`. An
 * unknown option's message points to 'wharf CMD --help'. */
int wh_cli_long_option(const char *cmd, const wh_cli_opt *table, size_t n, void *opts,
                       int argc, char **argv, int *i);
/* --fuel N (positive) and --timeout DURATION. */
int wh_cli_fuel_arg(const char *v, uint64_t *fuel);
int wh_cli_timeout_arg(const char *v, uint64_t *ns);
/* HOST[::GUEST] for option `opt` (e.g. "--dir"); GUEST defaults to HOST.
 * A HOST copied out of `v` is kept in `owned`. */
int wh_cli_dir_arg(const char *opt, const char *v, wh_cli_owned *owned,
                   const char **host, const char **guest);

/* values.c: text forms. Parsers accept the whole string or fail. */
const char *wh_cli_kind_name(wharf_valkind k);
bool wh_cli_parse_val(wharf_valkind k, const char *s, wharf_val *out);
void wh_cli_print_val(FILE *f, const wharf_val *v);
/* "func(i32, i64) -> f32", "func() -> (i32, i32)" */
void wh_cli_print_functype(FILE *f, const wharf_valkind *params, uint32_t np,
                           const wharf_valkind *results, uint32_t nr);
/* A name from the module, escaped so that any byte prints as one token. */
void wh_cli_print_name(FILE *f, const char *s, size_t len);
bool wh_cli_parse_u64(const char *s, uint64_t *out);
/* "500ms", "2s", "1m", "100us", "10ns", "1h"; a bare number is seconds. */
bool wh_cli_parse_duration(const char *s, uint64_t *ns);
/* "65536", "64KiB", "64MiB", "1GiB", "1KB" (= 1000), "1MB", "1GB". */
bool wh_cli_parse_size(const char *s, uint64_t *bytes);

#endif /* WH_CLI_H */
