/* registry_json.c: the registry's JSON (cJSON): an API deploy's config,
 * which has wharf.yaml's keys, and the service records of the state
 * directory.
 *
 * A deploy's config is checked by the same loader as wharf.yaml: JSON is
 * YAML's flow syntax, so the object is placed under `services: NAME:` and
 * parsed by config.c. One loader means one list of keys, one set of
 * messages and no second place for the rules to drift. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registryInt.h"

#define API_CONFIG_PATH "config"   /* what config.c calls an API config */

char *wh_host_reg_split_config(const char *json, char **module_path,
                               char *why, size_t len)
{
    *module_path = NULL;
    cJSON *obj = cJSON_Parse(json);
    if (!cJSON_IsObject(obj)) {
        snprintf(why, len, "config: expected a JSON object of the service's keys");
        cJSON_Delete(obj);
        return NULL;
    }
    cJSON *m = cJSON_DetachItemFromObjectCaseSensitive(obj, "module");
    char *rest = NULL;
    if (m && !cJSON_IsString(m))
        snprintf(why, len, "config: 'module' must be a file name (a string)");
    else if (m && !(*module_path = strdup(m->valuestring)))
        snprintf(why, len, "out of memory");
    else if (!(rest = cJSON_PrintUnformatted(obj)))
        snprintf(why, len, "out of memory");
    if (!rest) {
        free(*module_path);
        *module_path = NULL;
    }
    cJSON_Delete(m);
    cJSON_Delete(obj);
    return rest;
}

/* "services:\n  NAME: {...}\n" with `module` added to the object. */
static char *as_yaml(const char *name, const char *json, const char *module_name)
{
    cJSON *obj = cJSON_Parse(json), *key = cJSON_CreateString(name);
    char *text = NULL, *body = NULL, *quoted = NULL;
    if (obj && key && (!module_name || cJSON_AddStringToObject(obj, "module", module_name)) &&
        (body = cJSON_PrintUnformatted(obj)) && (quoted = cJSON_PrintUnformatted(key))) {
        size_t n = strlen(body) + strlen(quoted) + 32;
        if ((text = malloc(n)))
            snprintf(text, n, "services:\n  %s: %s\n", quoted, body);
    }
    free(body);
    free(quoted);
    cJSON_Delete(obj);
    cJSON_Delete(key);
    return text;
}

wh_host_config *wh_host_reg_config(const char *name, const char *json,
                                   const char *module_name, char *why, size_t len)
{
    char *yaml = as_yaml(name, json, module_name);
    if (!yaml) {
        snprintf(why, len, "out of memory");
        return NULL;
    }
    char err[700];
    wh_host_config *c = wh_host_config_parse(API_CONFIG_PATH, yaml, strlen(yaml), err,
                                             sizeof err);
    free(yaml);
    if (c)
        return c;
    /* Lines and the file name point into the YAML made above: drop them. */
    const char *msg = err;
    if (!strncmp(msg, API_CONFIG_PATH ":", strlen(API_CONFIG_PATH ":"))) {
        const char *colon = strstr(msg + strlen(API_CONFIG_PATH ":"), ": ");
        msg = colon ? colon + 2 : msg;
    }
    snprintf(why, len, "%s", msg);
    return NULL;
}

/* ---- State records ----------------------------------------------------------- */

static cJSON *spec_json(const wh_host_spec *s)
{
    cJSON *o = cJSON_CreateObject(), *cfg = cJSON_Parse(s->config_json);
    if (!o || !cfg ||
        !cJSON_AddNumberToObject(o, "version", (double)s->version) ||
        !(s->module ? cJSON_AddStringToObject(o, "module", s->module->sha256)
                    : cJSON_AddNullToObject(o, "module")) ||
        !cJSON_AddStringToObject(o, "module_name", s->module_name ? s->module_name : "") ||
        !cJSON_AddNumberToObject(o, "deployed_at", (double)s->deployed_at) ||
        !cJSON_AddItemToObject(o, "config", cfg)) {
        cJSON_Delete(o);
        cJSON_Delete(cfg);
        return NULL;
    }
    return o;
}

char *wh_host_reg_record(const char *name, const wh_host_spec *hist, int n)
{
    cJSON *root = cJSON_CreateObject(), *list = cJSON_CreateArray();
    bool ok = root && list && cJSON_AddStringToObject(root, "name", name);
    int kept = 0;
    for (int i = 0; ok && i < n; i++) {
        if (!hist[i].config_json)
            continue;   /* from the config file, which is its own record */
        cJSON *s = spec_json(&hist[i]);
        ok = s && cJSON_AddItemToArray(list, s);
        kept++;
    }
    char *text = NULL;
    if (ok && kept && cJSON_AddItemToObject(root, "history", list)) {
        list = NULL;
        text = cJSON_PrintUnformatted(root);
    }
    cJSON_Delete(list);
    cJSON_Delete(root);
    return text;
}

/* Reads one stored entry; false when a field is missing or mistyped. */
static bool read_spec(const cJSON *o, wh_host_stored_spec *s, char **config)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "version");
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "module");
    const cJSON *mn = cJSON_GetObjectItemCaseSensitive(o, "module_name");
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "deployed_at");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "config");
    if (!cJSON_IsNumber(v) || v->valuedouble < 1 || !(cJSON_IsString(m) || cJSON_IsNull(m)) ||
        !cJSON_IsString(mn) || !cJSON_IsNumber(at) || !cJSON_IsObject(c) ||
        !(*config = cJSON_PrintUnformatted(c)))
        return false;
    *s = (wh_host_stored_spec){
        .version = (uint64_t)v->valuedouble,
        .sha256 = cJSON_IsString(m) ? m->valuestring : NULL,
        .module_name = mn->valuestring,
        .config_json = *config,
        .deployed_at = (int64_t)at->valuedouble,
    };
    return true;
}

bool wh_host_reg_each_spec(const char *text,
                           bool (*fn)(void *ctx, const wh_host_stored_spec *s),
                           void *ctx, char *why, size_t len)
{
    cJSON *root = cJSON_Parse(text);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "history"), *item;
    bool ok = cJSON_IsArray(list);
    const cJSON *items = ok ? list : NULL;
    if (!ok)
        snprintf(why, len, "not a service record (no \"history\" list)");
    cJSON_ArrayForEach(item, items) {
        wh_host_stored_spec s;
        char *config = NULL;
        if (!read_spec(item, &s, &config)) {
            snprintf(why, len, "a malformed history entry");
            ok = false;
        }
        ok = ok && fn(ctx, &s);
        free(config);
        if (!ok)
            break;
    }
    cJSON_Delete(root);
    return ok;
}
