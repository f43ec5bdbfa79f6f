/* spec_sweep.h: a walk over the core spec suite's commands for the unit
 * tests that check module verdicts (decode_test.c, validate_test.c).
 * Include after test.h, and run from the repository root once
 * `make build/spec/.converted` has turned each $SHARED/spec/core/NAME.wast
 * into build/spec/NAME/NAME.json, its modules beside it. */
#ifndef WH_SPEC_SWEEP_H
#define WH_SPEC_SWEEP_H

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Called for each command of NAME.json; `dir` holds its module files. */
typedef void spec_command_fn(const char *dir, const char *name, const cJSON *cmd,
                             void *ctx);

/* The whole file, NUL-terminated, in a malloc'd buffer; NULL when it
 * cannot be read. */
static char *spec_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf) {
        *len = fread(buf, 1, (size_t)n, f);
        buf[*len] = '\0';
    }
    fclose(f);
    return buf;
}

static void spec_sweep_file(const char *name, spec_command_fn *fn, void *ctx)
{
    char dir[300], path[700];
    size_t len;
    snprintf(dir, sizeof dir, "build/spec/%s", name);
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    char *text = spec_read(path, &len);
    CHECK(text != NULL, "%s missing: run make build/spec/.converted", path);
    cJSON *json = text ? cJSON_Parse(text) : NULL;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(json, "commands"))
        fn(dir, name, c, ctx);
    cJSON_Delete(json);
    free(text);
}

/* Calls fn for every command of every core .wast (in directory order);
 * returns how many .wast files there were. */
static int spec_sweep(spec_command_fn *fn, void *ctx)
{
    const char *shared = getenv("SHARED");
    char dirname[512];
    snprintf(dirname, sizeof dirname, "%s/spec/core", shared ? shared : "../shared");
    DIR *d = opendir(dirname);
    CHECK(d != NULL, "cannot open %s", dirname);
    if (!d)
        return 0;
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 5 && strcmp(e->d_name + n - 5, ".wast") == 0) {
            e->d_name[n - 5] = '\0';
            spec_sweep_file(e->d_name, fn, ctx);
            files++;
        }
    }
    closedir(d);
    return files;
}

#endif /* WH_SPEC_SWEEP_H */
