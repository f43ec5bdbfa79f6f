/* inspect.c: `wharf inspect MODULE`: prints a module's sections (with
 * offsets and sizes), imports and exports (with kinds, indices and
 * function signatures), through the public API only. The format is
 * line-oriented and stable, for people and for grep (docs/cli.md). */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

void wh_cli_inspect_help(FILE *f)
{
    fputs("usage: wharf inspect MODULE.wasm\n"
          "\n"
          "Decodes and validates MODULE.wasm, then lists its sections (offset\n"
          "and size in bytes), imports and exports (kind, index in its index\n"
          "space, and the signature of functions).\n", f);
}

static const char *section_name(uint8_t id)
{
    static const char *const names[] = {
        "custom", "type", "import", "function", "table", "memory", "global",
        "export", "start", "element", "code", "data", "datacount",
    };
    return id < sizeof names / sizeof names[0] ? names[id] : "unknown";
}

static const char *extern_name(wharf_externkind k)
{
    switch (k) {
    case WHARF_EXTERN_FUNC: return "func";
    case WHARF_EXTERN_TABLE: return "table";
    case WHARF_EXTERN_MEMORY: return "memory";
    case WHARF_EXTERN_GLOBAL: return "global";
    }
    return "?";
}

static void print_sections(const wharf_module *m)
{
    uint32_t n = wharf_module_section_count(m);
    printf("sections (%" PRIu32 "):\n", n);
    for (uint32_t i = 0; i < n; i++) {
        wharf_section_info s;
        wharf_module_section(m, i, &s);
        printf("  %-9s offset %6" PRIu64 " size %6" PRIu64, section_name(s.id),
               s.offset, s.size);
        if (s.id == 0) {
            fputs(" \"", stdout);
            wh_cli_print_name(stdout, s.name, s.name_len);
            fputc('"', stdout);
        }
        fputc('\n', stdout);
    }
}

/* "func[3]    env.log: func(i32)" — the module part for imports only. */
static void print_extern(const wharf_module *m, const wharf_extern_info *x)
{
    char kind[32];
    snprintf(kind, sizeof kind, "%s[%" PRIu32 "]", extern_name(x->kind), x->index);
    printf("  %-11s ", kind);
    if (x->module) {
        wh_cli_print_name(stdout, x->module, x->module_len);
        fputc('.', stdout);
    }
    wh_cli_print_name(stdout, x->name, x->name_len);
    const wharf_valkind *p, *r;
    uint32_t np, nr;
    if (x->kind == WHARF_EXTERN_FUNC &&
        wharf_module_func_type(m, x->index, &p, &np, &r, &nr)) {
        fputs(": ", stdout);
        wh_cli_print_functype(stdout, p, np, r, nr);
    }
    fputc('\n', stdout);
}

static void print_externs(const wharf_module *m, bool imports)
{
    uint32_t n = imports ? wharf_module_import_count(m) : wharf_module_export_count(m);
    printf("%s (%" PRIu32 "):\n", imports ? "imports" : "exports", n);
    for (uint32_t i = 0; i < n; i++) {
        wharf_extern_info x;
        memset(&x, 0, sizeof x);
        if (imports)
            wharf_module_import(m, i, &x);
        else
            wharf_module_export(m, i, &x);
        if (!imports)
            x.module = NULL;
        print_extern(m, &x);
    }
}

int wh_cli_inspect(int argc, char **argv)
{
    if (argc == 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
        wh_cli_inspect_help(stdout);
        return 0;
    }
    if (argc != 1 || argv[0][0] == '-')
        return wh_cli_error(WH_CLI_EXIT_USAGE,
                            "usage: wharf inspect MODULE.wasm (see 'wharf inspect --help')");
    wharf_engine *e;
    if (wharf_engine_new(NULL, &e) != WHARF_OK)
        return wh_cli_error(WH_CLI_EXIT_HOST, "out of memory");
    wharf_module *m;
    int rc = wh_cli_load(e, argv[0], &m);
    if (rc == 0) {
        printf("module %s\n", argv[0]);
        print_sections(m);
        print_externs(m, true);
        print_externs(m, false);
        wharf_module_free(m);
    }
    wharf_engine_free(e);
    return rc;
}
