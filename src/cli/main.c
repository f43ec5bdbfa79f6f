/* main.c: the `wharf` command's entry point: picks the subcommand, prints
 * help and version, and owns the pieces every subcommand shares: the one-
 * line error report, the mapping from engine errors to exit statuses
 * (docs/cli.md), and reading a module file. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int wh_cli_error(int code, const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    fputs("wharf: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

static int trap_status(wharf_trap t)
{
    bool limit = t == WHARF_TRAP_FUEL || t == WHARF_TRAP_DEADLINE ||
                 t == WHARF_TRAP_INTERRUPT;
    return limit ? WH_CLI_EXIT_LIMIT : WH_CLI_EXIT_TRAP;
}

int wh_cli_fail(const char *path, const wharf_error *err)
{
    const char *msg = err->message[0] ? err->message : wharf_status_name(err->status);
    switch (err->status) {
    case WHARF_ERR_MALFORMED:
    case WHARF_ERR_INVALID:
        if (err->offset == WHARF_NO_OFFSET)
            return wh_cli_error(WH_CLI_EXIT_MODULE, "%s: %s module: %s", path,
                                wharf_status_name(err->status), msg);
        return wh_cli_error(WH_CLI_EXIT_MODULE, "%s: %s module: %s (at offset 0x%" PRIx64 ")",
                            path, wharf_status_name(err->status), msg, err->offset);
    case WHARF_ERR_UNLINKABLE:
        return wh_cli_error(WH_CLI_EXIT_LINK, "%s", msg);
    case WHARF_ERR_TRAP:
        if (!err->message[0])
            msg = wharf_trap_name(err->trap);
        return wh_cli_error(trap_status(err->trap), "%s", msg);
    case WHARF_ERR_ARG:
    case WHARF_ERR_NOT_FOUND:
        return wh_cli_error(WH_CLI_EXIT_USAGE, "%s", msg);
    default:
        return wh_cli_error(WH_CLI_EXIT_HOST, "%s", msg);
    }
}

uint8_t *wh_cli_read_stream(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = NULL;
    for (;;) {
        uint8_t *bigger = realloc(buf, cap);
        if (!bigger) {
            free(buf);
            errno = ENOMEM;
            return NULL;
        }
        buf = bigger;
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
    }
    if (ferror(f)) {
        int saved = errno;   /* fread's (EISDIR for a directory) */
        free(buf);
        errno = saved;
        return NULL;
    }
    *len = n;
    return buf;
}

uint8_t *wh_cli_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = wh_cli_read_stream(f, len);
    int saved = errno;
    fclose(f);
    errno = saved;
    return buf;
}

int wh_cli_load(wharf_engine *e, const char *path, wharf_module **out)
{
    size_t len;
    uint8_t *bytes = wh_cli_read_file(path, &len);
    if (!bytes)
        return wh_cli_error(WH_CLI_EXIT_HOST, "cannot read '%s': %s", path,
                            strerror(errno));
    wharf_error err = { 0 };
    wharf_status s = wharf_module_new(e, bytes, len, out, &err);
    free(bytes);
    return s == WHARF_OK ? 0 : wh_cli_fail(path, &err);
}

static void help(FILE *f)
{
    fputs("usage: wharf <command> [options] [args]\n"
          "\n"
          "A WebAssembly runtime.\n"
          "\n"
          "commands:\n"
          "  run      run a WASI program, or call one exported function\n"
          "  inspect  list a module's imports, exports and sections\n"
          "  call     call a plugin function with an input (docs/abi.md)\n"
          "  serve    serve WebAssembly services over HTTP (docs/config.md)\n"
          "  deploy   deploy or update a service on a running server\n"
          "  services list a running server's services\n"
          "  undeploy remove a service from a running server\n"
          "  rollback put a service's previous version back (docs/admin-api.md)\n"
          "  help     show this help, or a command's: wharf help run\n"
          "\n"
          "options:\n"
          "  -h, --help     show this help\n"
          "  -V, --version  show the version\n"
          "\n"
          "'wharf FILE.wasm ARGS...' is short for 'wharf run FILE.wasm ARGS...'.\n"
          "Exit statuses are listed in docs/cli.md.\n", f);
}

static bool is_help(const char *s)
{
    return !strcmp(s, "help") || !strcmp(s, "--help") || !strcmp(s, "-h");
}

static bool is_admin_command(const char *s)
{
    return !strcmp(s, "deploy") || !strcmp(s, "services") || !strcmp(s, "undeploy") ||
           !strcmp(s, "rollback");
}

/* `wharf help [COMMAND]`. */
static int help_command(int argc, char **argv)
{
    if (argc < 1) {
        help(stdout);
        return 0;
    }
    if (!strcmp(argv[0], "run"))
        wh_cli_run_help(stdout);
    else if (!strcmp(argv[0], "inspect"))
        wh_cli_inspect_help(stdout);
    else if (!strcmp(argv[0], "call"))
        wh_cli_call_help(stdout);
    else if (!strcmp(argv[0], "serve"))
        wh_cli_serve_help(stdout);
    else if (is_admin_command(argv[0]))
        wh_cli_admin_help(stdout);
    else
        return wh_cli_error(WH_CLI_EXIT_USAGE, "unknown command '%s' (see 'wharf help')",
                            argv[0]);
    return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

/* Standard streams the caller left closed are opened on /dev/null, as
 * Rust's runtime (so wasmtime) does: the guest reads EOF and its writes
 * vanish, instead of the run failing, and no descriptor wharf opens later
 * (a module, a preopened directory) can take their numbers. */
static void open_closed_stdio(void)
{
    for (int fd = 0; fd < 3; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
            open("/dev/null", O_RDWR);   /* the lowest free number: fd */
}

int main(int argc, char **argv)
{
    open_closed_stdio();
    /* A closed pipe is an EPIPE error for the guest (and us), as wasmtime
     * gives it, not a silent death of the whole process. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2)
        return wh_cli_error(WH_CLI_EXIT_USAGE, "no command given (see 'wharf help')");
    const char *cmd = argv[1];
    if (is_help(cmd))
        return help_command(argc - 2, argv + 2);
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("wharf %s\n", WH_CLI_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "run"))
        return wh_cli_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "inspect"))
        return wh_cli_inspect(argc - 2, argv + 2);
    if (!strcmp(cmd, "call"))
        return wh_cli_call(argc - 2, argv + 2);
    if (!strcmp(cmd, "serve"))
        return wh_cli_serve(argc - 2, argv + 2);
    if (is_admin_command(cmd))
        return wh_cli_admin(cmd, argc - 2, argv + 2);
    if (cmd[0] != '-' && has_suffix(cmd, ".wasm"))
        return wh_cli_run(argc - 1, argv + 1);
    return wh_cli_error(WH_CLI_EXIT_USAGE, "unknown command '%s' (see 'wharf help')", cmd);
}
