/* options.c: what the command lines of `wharf run` and `wharf call` share:
 * long options looked up in a table, the strings made while reading them,
 * and the values both take (--fuel, --timeout, a directory HOST[::GUEST])
 * with one wording for their errors. Each subcommand keeps its own table
 * and its own options struct. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int wh_cli_keep(wh_cli_owned *o, char *s)
{
    if (s && o->n == o->cap) {
        int cap = o->cap ? o->cap * 2 : 8;
        char **v = realloc(o->v, (size_t)cap * sizeof *v);
        if (!v) {
            free(s);
            s = NULL;
        } else {
            o->v = v;
            o->cap = cap;
        }
    }
    if (!s)
        return wh_cli_error(WH_CLI_EXIT_HOST, "out of memory");
    o->v[o->n++] = s;
    return 0;
}

void wh_cli_owned_free(wh_cli_owned *o)
{
    for (int i = 0; i < o->n; i++)
        free(o->v[i]);
    free(o->v);
    *o = (wh_cli_owned){ 0 };
}

int wh_cli_long_option(const char *cmd, const wh_cli_opt *table, size_t n, void *opts,
                       int argc, char **argv, int *i)
{
    const char *arg = argv[*i] + 2, *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    for (size_t k = 0; k < n; k++) {
        const wh_cli_opt *opt = &table[k];
        if (strlen(opt->name) != len || strncmp(arg, opt->name, len) != 0)
            continue;
        const char *val = eq ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
        if (!val)
            return wh_cli_error(WH_CLI_EXIT_USAGE, "option '--%s' needs a value", opt->name);
        return opt->set(opts, val);
    }
    return wh_cli_error(WH_CLI_EXIT_USAGE, "unknown option '%s' (see 'wharf %s --help')",
                        argv[*i], cmd);
}

/* The engine reads fuel 0 as "unlimited", so 0 cannot be passed on. */
int wh_cli_fuel_arg(const char *v, uint64_t *fuel)
{
    if (!wh_cli_parse_u64(v, fuel) || *fuel == 0)
        return wh_cli_error(WH_CLI_EXIT_USAGE,
                            "--fuel: expected a positive integer, got '%s'", v);
    return 0;
}

int wh_cli_timeout_arg(const char *v, uint64_t *ns)
{
    if (!wh_cli_parse_duration(v, ns))
        return wh_cli_error(WH_CLI_EXIT_USAGE,
                            "--timeout: expected a duration like 500ms or 2s, got '%s'", v);
    return 0;
}

int wh_cli_dir_arg(const char *opt, const char *v, wh_cli_owned *owned,
                   const char **host, const char **guest)
{
    const char *sep = strstr(v, "::");
    *host = *guest = v;
    if (sep) {
        if (wh_cli_keep(owned, strndup(v, (size_t)(sep - v))))
            return WH_CLI_EXIT_HOST;
        *host = owned->v[owned->n - 1];
        *guest = sep + 2;
    }
    if (!**host || !**guest)
        return wh_cli_error(WH_CLI_EXIT_USAGE, "%s: expected HOST[::GUEST], got '%s'", opt, v);
    return 0;
}
