/* main.c: the host-embed example, a plugin manager on libwharf: loads
 * every *.wasm file of a directory as a plugin, then calls one function
 * of each plugin that has it, once per input given, printing one line per
 * call. Plugins get a config value, a host function and limits; a plugin
 * that fails to load or to run is reported and the others go on.
 *
 *   host-embed DIR                       what each plugin says it does
 *   host-embed DIR FUNCTION INPUT...     FUNCTION(INPUT) on every plugin
 *
 * Built by `make examples` as build/examples/host-embed/host-embed, with
 * its plugins (from plugins/) next to it. See docs/embedding.md. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wharf.h"

typedef struct loaded {
    char *name;
    wharf_plugin *plugin;
} loaded;

/* A host function for the plugins, imported as extism:host/user
 * host_name: () -> i64, the handle of a block holding the host's name. */
static wharf_status host_name(wharf_plugin *p, void *user, wharf_slot *slots)
{
    const char *name = user;
    slots[0] = wharf_plugin_memory_new(p, name, strlen(name));
    return WHARF_OK;
}

static int is_wasm(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 5 && !strcmp(d->d_name + n - 5, ".wasm");
}

/* Loads DIR/NAME with the manifest every plugin here gets. */
static wharf_plugin *load_one(wharf_engine *e, const char *dir, const char *name)
{
    static const wharf_plugin_kv config[] = { { "greeting", "Hello" } };
    static const wharf_valkind i64[] = { WHARF_I64 };
    static const wharf_plugin_func funcs[] = {
        { .name = "host_name", .results = i64, .nresults = 1, .fn = host_name,
          .user = "host-embed" },
    };
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    wharf_manifest m = {
        .wasm_path = path,
        .max_pages = 256,                      /* 16 MiB of memory at most */
        .timeout_ns = 1000 * 1000 * 1000,      /* 1 s per call */
        .fuel = 100 * 1000 * 1000,
        .config = config, .nconfig = 1,
        .funcs = funcs, .nfuncs = 1,
    };
    wharf_plugin *p;
    wharf_error err;
    if (wharf_plugin_new(e, &m, &p, &err) != WHARF_OK) {
        printf("%s: not loaded: %s\n", name, err.message);
        return NULL;
    }
    return p;
}

/* Loads every plugin of `dir` (in name order); returns how many. */
static int load_dir(wharf_engine *e, const char *dir, loaded **out)
{
    struct dirent **names;
    int n = scandir(dir, &names, is_wasm, alphasort);
    if (n < 0) {
        perror(dir);
        return -1;
    }
    *out = calloc((size_t)n + 1, sizeof **out);
    int k = 0;
    for (int i = 0; i < n; i++) {
        wharf_plugin *p = *out ? load_one(e, dir, names[i]->d_name) : NULL;
        if (p)
            (*out)[k++] = (loaded){ strdup(names[i]->d_name), p };
        free(names[i]);
    }
    free(names);
    return *out ? k : -1;
}

static void call_one(const loaded *l, const char *func, const char *input)
{
    const uint8_t *out;
    size_t len;
    wharf_error err;
    wharf_status s = wharf_plugin_call(l->plugin, func, (const uint8_t *)input,
                                       strlen(input), &out, &len, &err);
    if (s == WHARF_OK)
        printf("%s: %.*s\n", l->name, (int)len, (const char *)out);
    else
        printf("%s: error: %s\n", l->name, err.message);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc == 3) {
        fprintf(stderr, "usage: host-embed DIR [FUNCTION INPUT...]\n");
        return 2;
    }
    wharf_engine *e;
    if (wharf_engine_new(NULL, &e) != WHARF_OK)
        return 1;
    loaded *plugins;
    int n = load_dir(e, argv[1], &plugins);
    const char *func = argc > 2 ? argv[2] : "describe";
    for (int a = argc > 2 ? 3 : 1; n > 0 && a < argc; a++)
        for (int i = 0; i < n; i++)
            if (wharf_plugin_has_function(plugins[i].plugin, func))
                call_one(&plugins[i], func, argc > 2 ? argv[a] : "");
    for (int i = 0; i < n; i++) {
        wharf_plugin_free(plugins[i].plugin);
        free(plugins[i].name);
    }
    if (n >= 0)
        free(plugins);
    wharf_engine_free(e);
    return n < 0;
}
