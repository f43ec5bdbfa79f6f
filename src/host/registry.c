/* registry.c: the services `wharf serve` runs now, and every change to
 * them (registry.h): versions with reference counts, immutable snapshots
 * swapped whole, per-name history for rollback, a compile cache, and the
 * state directory's records through state.c.
 *
 * Invariants: `current` always holds a complete, checked set of services
 * whose routes do not clash; a change builds everything it needs (config,
 * module, instance check, record on disk, the caller's view) before the
 * swap, so a failure at any step leaves `current`, the history and the
 * state directory as they were. Only the swap itself takes current_lock.
 *
 * Thread model: changes run under `lock`, one at a time (the admin
 * thread, the main thread on SIGHUP). Versions and snapshots are released
 * from any thread, whichever drops the last reference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "registryInt.h"

#define DEFAULT_MODULE_NAME "module.wasm"

static void version_release(wh_host_service *s);

static int64_t unix_now(void)
{
    return (int64_t)time(NULL);
}

static void count(uint64_t *counter)
{
    __atomic_add_fetch(counter, 1, __ATOMIC_RELAXED);
}

/* ---- Blobs, configs and specs ------------------------------------------- */

/* Takes `bytes` (malloc'd) in every case. */
static wh_host_blob *blob_new(uint8_t *bytes, size_t len)
{
    wh_host_blob *b = calloc(1, sizeof *b);
    if (!b) {
        free(bytes);
        return NULL;
    }
    *b = (wh_host_blob){ .refs = 1, .bytes = bytes, .len = len };
    wh_host_sha256_hex(bytes, len, b->sha256);
    return b;
}

static void blob_unref(wh_host_blob *b)
{
    if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        free(b->bytes);
        free(b);
    }
}

/* Takes `c` in every case. */
static wh_host_cfgref *cfgref_new(wh_host_config *c)
{
    wh_host_cfgref *r = c ? calloc(1, sizeof *r) : NULL;
    if (!r) {
        wh_host_config_free(c);
        return NULL;
    }
    *r = (wh_host_cfgref){ .refs = 1, .cfg = c };
    return r;
}

static void cfgref_unref(wh_host_cfgref *r)
{
    if (r && __atomic_sub_fetch(&r->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        wh_host_config_free(r->cfg);
        free(r);
    }
}

static void spec_clear(wh_host_spec *s)
{
    blob_unref(s->module);
    cfgref_unref(s->cfg);
    free(s->module_name);
    free(s->config_json);
    *s = (wh_host_spec){ 0 };
}

/* A copy of `src` with references and strings of its own. */
static bool spec_copy(wh_host_spec *dst, const wh_host_spec *src)
{
    *dst = *src;
    dst->module_name = src->module_name ? strdup(src->module_name) : NULL;
    dst->config_json = src->config_json ? strdup(src->config_json) : NULL;
    if (dst->module)
        __atomic_add_fetch(&dst->module->refs, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&dst->cfg->refs, 1, __ATOMIC_RELAXED);
    if ((src->module_name && !dst->module_name) || (src->config_json && !dst->config_json)) {
        spec_clear(dst);
        return false;
    }
    return true;
}

static const wh_host_service_conf *spec_conf(const wh_host_spec *s)
{
    return &s->cfg->cfg->services[s->conf];
}

static void spec_info(const wh_host_spec *s, const char *name, wh_host_version_info *out)
{
    *out = (wh_host_version_info){
        .name = name, .version = s->version,
        .module_bytes = s->module ? s->module->len : 0,
        .origin = s->config_json ? "api" : "config",
        .deployed_at = s->deployed_at,
    };
    snprintf(out->sha256, sizeof out->sha256, "%s", s->module ? s->module->sha256 : "");
    snprintf(out->module_name, sizeof out->module_name, "%s",
             s->module_name ? s->module_name : "");
}

/* ---- Entries ------------------------------------------------------------------ */

static wh_host_entry *entry_find(wh_host_registry *r, const char *name)
{
    for (int i = 0; i < r->nentries; i++)
        if (!strcmp(r->entries[i]->name, name))
            return r->entries[i];
    return NULL;
}

/* The entry for `name`, made on first use; NULL when out of memory. */
static wh_host_entry *entry_get(wh_host_registry *r, const char *name)
{
    wh_host_entry *e = entry_find(r, name);
    if (e)
        return e;
    wh_host_entry **more = realloc(r->entries, (size_t)(r->nentries + 1) * sizeof *more);
    if (!more)
        return NULL;
    r->entries = more;
    if (!(e = calloc(1, sizeof *e)) || !(e->name = strdup(name))) {
        free(e);
        return NULL;
    }
    e->index = r->nentries;
    r->entries[r->nentries++] = e;
    return e;
}

static void entry_forget(wh_host_entry *e)
{
    for (int i = 0; i < e->nhistory; i++)
        spec_clear(&e->history[i]);
    e->nhistory = 0;
    e->deployed = false;
}

/* ---- The compile cache ------------------------------------------------------------ */

/* The compiled module for `b`, shared with every live version whose
 * module has the same hash; entries die with their last version, so the
 * cache holds nothing that no version uses. */
static wh_host_cached *cache_get(wh_host_registry *r, const wh_host_blob *b,
                                 const char *path, char *why, size_t len)
{
    pthread_mutex_lock(&r->cache_lock);
    wh_host_cached *c = r->cache;
    while (c && strcmp(c->sha256, b->sha256) != 0)
        c = c->next;
    if (c)
        c->refs++;
    pthread_mutex_unlock(&r->cache_lock);
    if (c) {
        count(&r->stats.cache_hits);
        return c;
    }
    count(&r->stats.cache_misses);
    /* Only changes insert, one at a time, so no one adds this hash meanwhile. */
    if (!(c = calloc(1, sizeof *c))) {
        snprintf(why, len, "out of memory");
        return NULL;
    }
    if (!wh_host_compile_module(r->app, path, b->bytes, b->len, &c->module, why, len)) {
        free(c);
        return NULL;
    }
    memcpy(c->sha256, b->sha256, sizeof c->sha256);
    c->refs = 1;
    pthread_mutex_lock(&r->cache_lock);
    c->next = r->cache;
    r->cache = c;
    pthread_mutex_unlock(&r->cache_lock);
    return c;
}

static void cache_put(wh_host_registry *r, wh_host_cached *c)
{
    pthread_mutex_lock(&r->cache_lock);
    bool last = --c->refs == 0;
    if (last) {
        wh_host_cached **p = &r->cache;
        while (*p != c)
            p = &(*p)->next;
        *p = c->next;
    }
    pthread_mutex_unlock(&r->cache_lock);
    if (last) {
        wharf_module_free(c->module);
        free(c);
    }
}

/* ---- Versions ------------------------------------------------------------------------ */

/* The server's limits: raised by services until sealed, enforced after. */
static bool check_limits(wh_host_registry *r, const wh_host_service_conf *c,
                         char *why, size_t len)
{
    bool wagi = c->executor == WH_HOST_EXEC_WAGI;
    if (!r->sealed) {
        if (wagi && c->limits.max_response > r->app->stdout_bytes)
            r->app->stdout_bytes = c->limits.max_response;
        if (c->limits.max_body > r->max_body)
            r->max_body = c->limits.max_body;
        return true;
    }
    if (wagi && c->limits.max_response > r->app->stdout_bytes) {
        snprintf(why, len, "limits: max_response of %llu bytes is more than this server "
                 "allows a WAGI guest (%zu bytes, set at start)",
                 (unsigned long long)c->limits.max_response, r->app->stdout_bytes);
        return false;
    }
    if (c->limits.max_body > r->max_body) {
        snprintf(why, len, "limits: max_body of %llu bytes is more than this server "
                 "buffers (%llu bytes, set at start)",
                 (unsigned long long)c->limits.max_body, (unsigned long long)r->max_body);
        return false;
    }
    return true;
}

static void version_free(wh_host_version *v)
{
    if (v->cached)
        cache_put(v->reg, v->cached);
    spec_clear(&v->spec);
    free(v);
}

/* Builds a version of entry `e` from `sp` (copied): compiled, linked and
 * checked, with one reference. NULL with one line in `why`. */
static wh_host_service *version_new(wh_host_registry *r, wh_host_entry *e,
                                    const wh_host_spec *sp, char *why, size_t len)
{
    const wh_host_service_conf *c = spec_conf(sp);
    if (!check_limits(r, c, why, len))
        return NULL;
    wh_host_version *v = calloc(1, sizeof *v);
    if (!v || !spec_copy(&v->spec, sp)) {
        free(v);
        snprintf(why, len, "out of memory");
        return NULL;
    }
    v->reg = r;
    v->name = e->name;
    if (c->executor == WH_HOST_EXEC_WAGI && sp->module &&
        !(v->cached = cache_get(r, sp->module, c->module, why, len))) {
        version_free(v);
        return NULL;
    }
    wh_host_service_src src = {
        .index = e->index, .stats = &e->stats,
        .wasm = sp->module ? sp->module->bytes : NULL,
        .wasm_len = sp->module ? sp->module->len : 0,
        .module = v->cached ? v->cached->module : NULL,
    };
    wh_host_service *s = wh_host_service_new(r->app, c, &src, why, len);
    if (!s) {
        version_free(v);
        return NULL;
    }
    s->owner = v;
    s->release = version_release;
    __atomic_add_fetch(&r->stats.versions, 1, __ATOMIC_RELAXED);
    return s;
}

/* The last reference is gone: any thread. */
static void version_release(wh_host_service *s)
{
    wh_host_version *v = s->owner;
    if (v->published)
        wh_host_log("info", "msg=\"version freed\" service=%s version=%llu", v->name,
                    (unsigned long long)v->spec.version);
    __atomic_sub_fetch(&v->reg->stats.versions, 1, __ATOMIC_RELAXED);
    wh_host_service_free(s);
    version_free(v);
}

void wh_host_service_info(const wh_host_service *s, wh_host_version_info *out)
{
    if (s->release == version_release) {
        const wh_host_version *v = s->owner;
        spec_info(&v->spec, v->name, out);
        return;
    }
    *out = (wh_host_version_info){ .name = s->conf->name, .origin = "config" };
}

/* ---- Snapshots -------------------------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
    const wh_host_service *x = *(wh_host_service *const *)a, *y = *(wh_host_service *const *)b;
    return strcmp(x->conf->name, y->conf->name);
}

static void snapshot_free(wh_host_snapshot *s)
{
    wh_host_registry *r = s->reg;
    if (s->view)
        r->view.free(r->view.ctx, s->view);
    for (int i = 0; i < s->n; i++)
        wh_host_service_unref(s->services[i]);
    free(s->services);
    free(s);
}

static bool named_in(const char *name, wh_host_service *const *list, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i]->conf->name, name))
            return true;
    return false;
}

/* A new snapshot: `base` less the services named in drop[0..ndrop) and
 * those `add` replaces, plus `add` (each gets a reference of its own).
 * Its view is made; NULL when out of memory. */
static wh_host_snapshot *snapshot_edit(wh_host_registry *r, const wh_host_snapshot *base,
                                       wh_host_service *const *add, int nadd,
                                       wh_host_service *const *drop, int ndrop)
{
    int cap = (base ? base->n : 0) + nadd;
    wh_host_snapshot *s = calloc(1, sizeof *s);
    if (!s || !(s->services = calloc((size_t)cap + 1, sizeof *s->services))) {
        free(s);
        return NULL;
    }
    s->refs = 1;
    s->reg = r;
    for (int i = 0; base && i < base->n; i++) {
        wh_host_service *o = base->services[i];
        if (named_in(o->conf->name, add, nadd) || named_in(o->conf->name, drop, ndrop))
            continue;
        wh_host_service_ref(o);
        s->services[s->n++] = o;
    }
    for (int i = 0; i < nadd; i++) {
        wh_host_service_ref(add[i]);
        s->services[s->n++] = add[i];
    }
    qsort(s->services, (size_t)s->n, sizeof *s->services, by_name);
    if (r->view.make && !(s->view = r->view.make(r->view.ctx, s))) {
        snapshot_free(s);
        return NULL;
    }
    return s;
}

static bool in_snapshot(const wh_host_snapshot *s, const wh_host_service *svc)
{
    for (int i = 0; s && i < s->n; i++)
        if (s->services[i] == svc)
            return true;
    return false;
}

/* Swaps `next` in. Services it no longer holds are retired first, so
 * that a loop that sees the new generation and sweeps its worker drops
 * their pooled instances; each is freed with its last request. */
static void publish(wh_host_registry *r, wh_host_snapshot *next)
{
    wh_host_snapshot *old = r->current;
    for (int i = 0; i < next->n; i++)
        ((wh_host_version *)next->services[i]->owner)->published = true;
    for (int i = 0; i < old->n; i++)
        if (!in_snapshot(next, old->services[i]))
            wh_host_service_retire(old->services[i]);
    pthread_mutex_lock(&r->current_lock);
    r->current = next;
    __atomic_add_fetch(&r->generation, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&r->current_lock);
    wh_host_snapshot_release(old);
}

uint64_t wh_host_registry_generation(const wh_host_registry *r)
{
    return __atomic_load_n(&r->generation, __ATOMIC_ACQUIRE);
}

wh_host_snapshot *wh_host_registry_acquire(wh_host_registry *r)
{
    pthread_mutex_lock(&r->current_lock);
    wh_host_snapshot *s = r->current;
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&r->current_lock);
    return s;
}

void wh_host_snapshot_release(wh_host_snapshot *s)
{
    if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
        snapshot_free(s);
}

int wh_host_snapshot_count(const wh_host_snapshot *s) { return s->n; }
wh_host_service *wh_host_snapshot_service(const wh_host_snapshot *s, int i) { return s->services[i]; }
void *wh_host_snapshot_view(const wh_host_snapshot *s) { return s->view; }

/* The first route of `c` that a service of `s` other than c's namesake
 * serves already: one line in `why`, and true. */
static bool route_clash(const wh_host_snapshot *s, const wh_host_service_conf *c,
                        char *why, size_t len)
{
    for (int i = 0; i < s->n; i++) {
        const wh_host_service_conf *o = s->services[i]->conf;
        if (!strcmp(o->name, c->name))
            continue;
        for (int j = 0; j < c->nroutes; j++)
            for (int k = 0; k < o->nroutes; k++)
                if (!strcmp(c->routes[j].text, o->routes[k].text)) {
                    snprintf(why, len, "route '%s' of service '%s' is already served "
                             "by service '%s'", c->routes[j].text, c->name, o->name);
                    return true;
                }
    }
    return false;
}

/* ---- Persistence ----------------------------------------------------------------------------- */

/* Deletes stored modules that no stored record names any more. */
static void collect_garbage(wh_host_registry *r)
{
    int n = 0, cap = 0;
    for (int i = 0; i < r->nentries; i++)
        cap += r->entries[i]->nhistory;
    const char **keep = calloc((size_t)cap + 1, sizeof *keep);
    if (!keep)
        return;   /* keeping too much is harmless */
    for (int i = 0; i < r->nentries; i++)
        for (int j = 0; j < r->entries[i]->nhistory; j++) {
            const wh_host_spec *s = &r->entries[i]->history[j];
            if (s->config_json && s->module)
                keep[n++] = s->module->sha256;
        }
    wh_host_state_gc(r->state, keep, n);
    free(keep);
}

/* Stores `name`'s history (its API entries) durably: modules first, then
 * the record that names them. */
static bool persist(wh_host_registry *r, const char *name, const wh_host_spec *hist,
                    int n, char *why, size_t len)
{
    if (!r->state)
        return true;
    for (int i = 0; i < n; i++)
        if (hist[i].config_json && hist[i].module &&
            !wh_host_state_put_module(r->state, hist[i].module->sha256,
                                      hist[i].module->bytes, hist[i].module->len, why, len))
            return false;
    char *text = wh_host_reg_record(name, hist, n);
    bool ok = text ? wh_host_state_put_service(r->state, name, text, strlen(text), why, len)
                   : wh_host_state_remove_service(r->state, name, why, len);
    free(text);
    return ok;
}

/* ---- Changes ------------------------------------------------------------------------------------ */

/* e's history with entry `drop` (-1: none) taken out and `sp` added as
 * the newest, into next[]; what falls out goes to gone[]. Moves structs,
 * takes no references. */
static int next_history(const wh_host_entry *e, int drop, const wh_host_spec *sp,
                        wh_host_spec *next, wh_host_spec *gone, int *ngone)
{
    int n = 0;
    *ngone = 0;
    for (int i = 0; i < e->nhistory; i++) {
        if (i == drop)
            gone[(*ngone)++] = e->history[i];
        else
            next[n++] = e->history[i];
    }
    next[n++] = *sp;
    if (n > WH_HOST_HISTORY) {
        gone[(*ngone)++] = next[0];
        memmove(next, next + 1, (size_t)--n * sizeof *next);
    }
    return n;
}

static void log_change(const char *what, const char *name, const wh_host_spec *sp)
{
    wh_host_log("info", "msg=%s service=%s version=%llu origin=%s sha256=%.12s", what, name,
                (unsigned long long)sp->version, sp->config_json ? "api" : "config",
                sp->module ? sp->module->sha256 : "-");
}

/* Makes a version of `sp` (taken in every case) the current one of
 * entry `e`: routes, build, record, swap, history. `drop` is the history
 * entry it replaces (rollback) or -1. Returns an HTTP status. */
static int put_spec(wh_host_registry *r, wh_host_entry *e, wh_host_spec *sp, int drop,
                    char *why, size_t len)
{
    wh_host_spec next[WH_HOST_HISTORY + 1], gone[2];
    int ngone, status = 400;
    bool created = !e->deployed;
    sp->version = e->last_version + 1;
    wh_host_service *s = NULL;
    if (route_clash(r->current, spec_conf(sp), why, len) ||
        !(s = version_new(r, e, sp, why, len)))
        goto out_clear;
    int n = next_history(e, drop, sp, next, gone, &ngone);
    status = 500;
    if (!persist(r, e->name, next, n, why, len))
        goto out_unref;
    wh_host_snapshot *snap = snapshot_edit(r, r->current, &s, 1, NULL, 0);
    if (!snap) {
        snprintf(why, len, "out of memory");
        goto out_unref;
    }
    publish(r, snap);
    memcpy(e->history, next, (size_t)n * sizeof *next);
    e->nhistory = n;
    e->deployed = true;
    e->last_version = sp->version;
    for (int i = 0; i < ngone; i++)
        spec_clear(&gone[i]);
    log_change(drop >= 0 ? "rolled-back" : "deployed", e->name, sp);
    if (r->state)
        collect_garbage(r);
    wh_host_service_unref(s);
    return created ? 201 : 200;
out_unref:
    wh_host_service_unref(s);
out_clear:
    spec_clear(sp);
    return status;
}

/* The module's bytes of a deploy: sent, read from a server file, or none
 * (a pipeline). False with a message when the file cannot be read. */
static bool deploy_module(const wh_host_deploy *d, const char *path, wh_host_blob **out,
                          char *why, size_t len)
{
    size_t n = d->wasm_len;
    uint8_t *bytes = NULL;
    *out = NULL;
    if (!d->wasm && !path)
        return true;
    if (d->wasm && (bytes = malloc(n ? n : 1)))
        memcpy(bytes, d->wasm, n);
    else if (!d->wasm)
        bytes = wh_host_read_module(path, &n, why, len);
    if (!(*out = bytes ? blob_new(bytes, n) : NULL) && (bytes || d->wasm))
        snprintf(why, len, "out of memory");
    return *out != NULL;
}

/* Parses a deploy into `sp`; false with a message (a 400). */
static bool deploy_spec(const wh_host_deploy *d, wh_host_spec *sp, char *why, size_t len)
{
    char *path = NULL;
    *sp = (wh_host_spec){ .deployed_at = unix_now() };
    if (!(sp->config_json = wh_host_reg_split_config(d->config, &path, why, len)))
        return false;
    bool ok = false;
    if (d->wasm && path) {
        snprintf(why, len, "config: 'module' names a file, but the module's bytes were "
                 "sent too");
    } else {
        const char *name = d->wasm ? (d->module_name ? d->module_name : DEFAULT_MODULE_NAME)
                                   : path;
        sp->module_name = name ? strdup(name) : NULL;
        wh_host_config *c = wh_host_reg_config(d->name, sp->config_json, sp->module_name,
                                               why, len);
        ok = c && (sp->cfg = cfgref_new(c)) && deploy_module(d, path, &sp->module, why, len);
        if (c && !sp->cfg)
            snprintf(why, len, "out of memory");
    }
    free(path);
    return ok;
}

/* Ends a change: status, message and counters. */
static void finish(wh_host_registry *r, wh_host_outcome *out, int status,
                   const wh_host_entry *e, const char *why)
{
    out->status = status;
    out->version = e && status < 400 ? e->last_version : 0;
    if (status >= 400)
        snprintf(out->message, sizeof out->message, "%s", why);
    count(status < 400 ? &r->stats.changes : &r->stats.refused);
}

void wh_host_registry_deploy(wh_host_registry *r, const wh_host_deploy *d,
                             wh_host_outcome *out)
{
    char why[sizeof out->message] = "";
    wh_host_spec sp;
    *out = (wh_host_outcome){ 0 };
    pthread_mutex_lock(&r->lock);
    wh_host_entry *e = NULL;
    int status = 400;
    if (deploy_spec(d, &sp, why, sizeof why) && !(e = entry_get(r, d->name))) {
        status = 500;
        snprintf(why, sizeof why, "out of memory");
    }
    if (e)
        status = put_spec(r, e, &sp, -1, why, sizeof why);
    else
        spec_clear(&sp);
    finish(r, out, status, e, why);
    pthread_mutex_unlock(&r->lock);
}

void wh_host_registry_rollback(wh_host_registry *r, const char *name, wh_host_outcome *out)
{
    char why[sizeof out->message] = "";
    *out = (wh_host_outcome){ 0 };
    pthread_mutex_lock(&r->lock);
    wh_host_entry *e = entry_find(r, name);
    wh_host_spec sp;
    int status;
    if (!e || !e->deployed) {
        status = 404;
        snprintf(why, sizeof why, "no service '%s'", name);
    } else if (e->nhistory < 2) {
        status = 409;
        snprintf(why, sizeof why, "service '%s' has no earlier version to roll back to",
                 name);
    } else if (!spec_copy(&sp, &e->history[e->nhistory - 2])) {
        status = 500;
        snprintf(why, sizeof why, "out of memory");
    } else {
        sp.deployed_at = unix_now();
        status = put_spec(r, e, &sp, e->nhistory - 2, why, sizeof why);
    }
    finish(r, out, status, e, why);
    pthread_mutex_unlock(&r->lock);
}

/* Removes the records of the services in drop[0..n) from the state
 * directory; false with a message. */
static bool unstore(wh_host_registry *r, wh_host_service *const *drop, int n,
                    char *why, size_t len)
{
    for (int i = 0; i < n; i++)
        if (!persist(r, drop[i]->conf->name, NULL, 0, why, len))
            return false;
    return true;
}

/* Forgets the history of the services in drop[0..n), which the next
 * snapshot no longer holds. */
static void forget(wh_host_registry *r, wh_host_service *const *drop, int n)
{
    for (int i = 0; i < n; i++) {
        wh_host_entry *e = entry_find(r, drop[i]->conf->name);
        wh_host_log("info", "msg=undeployed service=%s version=%llu", e->name,
                    (unsigned long long)e->last_version);
        entry_forget(e);
    }
}

void wh_host_registry_undeploy(wh_host_registry *r, const char *name, wh_host_outcome *out)
{
    char why[sizeof out->message] = "";
    *out = (wh_host_outcome){ 0 };
    pthread_mutex_lock(&r->lock);
    wh_host_service *s = NULL;
    for (int i = 0; i < r->current->n && !s; i++)
        if (!strcmp(r->current->services[i]->conf->name, name))
            s = r->current->services[i];
    wh_host_snapshot *snap = s ? snapshot_edit(r, r->current, NULL, 0, &s, 1) : NULL;
    int status = 500;
    if (!s) {
        status = 404;
        snprintf(why, sizeof why, "no service '%s'", name);
    } else if (!snap) {
        snprintf(why, sizeof why, "out of memory");
    } else if (!unstore(r, &s, 1, why, sizeof why)) {
        wh_host_snapshot_release(snap);
    } else {
        forget(r, &s, 1);
        publish(r, snap);
        if (r->state)
            collect_garbage(r);
        status = 200;
    }
    finish(r, out, status, NULL, why);
    pthread_mutex_unlock(&r->lock);
}

/* ---- The config file (start-up and SIGHUP) --------------------------------------------------- */

/* Builds version `i` of the file's services into built[i]; false with
 * "FILE:LINE: service 'NAME': why" in err. */
static bool build_from_file(wh_host_registry *r, wh_host_cfgref *cfg, int i,
                            wh_host_service **built, char *err, size_t errlen)
{
    const wh_host_service_conf *c = &cfg->cfg->services[i];
    char why[600] = "";
    wh_host_entry *e = entry_get(r, c->name);
    wh_host_spec sp = { .cfg = cfg, .conf = i, .deployed_at = unix_now() };
    if (!e) {
        snprintf(why, sizeof why, "out of memory");
    } else if (c->module) {
        size_t n;
        uint8_t *bytes = wh_host_read_module(c->module, &n, why, sizeof why);
        if (bytes && !(sp.module = blob_new(bytes, n)))
            snprintf(why, sizeof why, "out of memory");
        sp.module_name = sp.module ? strdup(c->module) : NULL;
    }
    if (e && (!c->module || sp.module)) {
        sp.version = e->last_version + 1;
        built[i] = version_new(r, e, &sp, why, sizeof why);
    }
    blob_unref(sp.module);
    free(sp.module_name);
    if (!built[i])
        snprintf(err, errlen, "%s:%d: service '%s': %s", cfg->cfg->path, c->module_line,
                 c->name, why);
    return built[i] != NULL;
}

/* The current services an earlier file brought that `cfg` lacks. */
static int dropped_by_file(const wh_host_registry *r, const wh_host_config *cfg,
                           wh_host_service **out)
{
    int n = 0;
    for (int i = 0; i < r->current->n; i++) {
        wh_host_service *s = r->current->services[i];
        bool listed = false;
        for (int j = 0; j < cfg->nservices && !listed; j++)
            listed = !strcmp(cfg->services[j].name, s->conf->name);
        if (!listed && !((wh_host_version *)s->owner)->spec.config_json)
            out[n++] = s;
    }
    return n;
}

/* Records the file's versions as current in their entries' history. */
static void commit_file(wh_host_registry *r, wh_host_service *const *built, int n)
{
    for (int i = 0; i < n; i++) {
        const wh_host_version *v = built[i]->owner;
        wh_host_entry *e = entry_find(r, v->name);
        wh_host_spec sp, next[WH_HOST_HISTORY + 1], gone[2];
        int ngone;
        if (!spec_copy(&sp, &v->spec))
            continue;   /* out of memory: only rollback loses this entry */
        int k = next_history(e, -1, &sp, next, gone, &ngone);
        memcpy(e->history, next, (size_t)k * sizeof *next);
        e->nhistory = k;
        e->deployed = true;
        e->last_version = sp.version;
        for (int j = 0; j < ngone; j++)
            spec_clear(&gone[j]);
        log_change("deployed", e->name, &sp);
    }
}

/* Swaps in the file's services (built[0..n)) and drops what it no longer
 * lists; false with a message when a route clashes. */
static bool swap_file(wh_host_registry *r, const wh_host_config *cfg,
                      wh_host_service **built, int n, char *err, size_t errlen)
{
    wh_host_service **drop = calloc((size_t)r->current->n + 1, sizeof *drop);
    int ndrop = drop ? dropped_by_file(r, cfg, drop) : 0;
    wh_host_snapshot *snap = drop ? snapshot_edit(r, r->current, built, n, drop, ndrop) : NULL;
    char why[600];
    bool ok = snap != NULL;
    if (!ok)
        snprintf(err, errlen, "%s: out of memory", cfg->path);
    for (int i = 0; ok && i < n; i++)
        if (route_clash(snap, built[i]->conf, why, sizeof why)) {
            snprintf(err, errlen, "%s:%d: %s (deployed through the admin API)", cfg->path,
                     built[i]->conf->routes[0].line, why);
            ok = false;
        }
    if (ok && !unstore(r, drop, ndrop, why, sizeof why)) {
        snprintf(err, errlen, "%s: %s", cfg->path, why);
        ok = false;
    }
    if (ok) {
        forget(r, drop, ndrop);
        commit_file(r, built, n);
        publish(r, snap);
        if (r->state && ndrop)
            collect_garbage(r);
    } else if (snap) {
        wh_host_snapshot_release(snap);
    }
    free(drop);
    return ok;
}

wh_host_apply_result wh_host_registry_apply_file(wh_host_registry *r, const char *path,
                                                 char *err, size_t errlen)
{
    wh_host_cfgref *cfg = cfgref_new(wh_host_config_load(path, err, errlen));
    if (!cfg)
        return WH_HOST_APPLY_BAD_CONFIG;
    int n = cfg->cfg->nservices;
    wh_host_service **built = calloc((size_t)n + 1, sizeof *built);
    pthread_mutex_lock(&r->lock);
    bool ok = built != NULL;
    if (!ok)
        snprintf(err, errlen, "%s: out of memory", path);
    for (int i = 0; ok && i < n; i++)
        ok = build_from_file(r, cfg, i, built, err, errlen);
    ok = ok && swap_file(r, cfg->cfg, built, n, err, errlen);
    count(ok ? &r->stats.changes : &r->stats.refused);
    pthread_mutex_unlock(&r->lock);
    for (int i = 0; built && i < n; i++)
        if (built[i])
            wh_host_service_unref(built[i]);
    free(built);
    cfgref_unref(cfg);
    return ok ? WH_HOST_APPLY_OK : WH_HOST_APPLY_BAD_SERVICE;
}

/* ---- The state directory at start ---------------------------------------------------------------- */

typedef struct loading {
    wh_host_registry *r;
    const char *name;
    wh_host_spec hist[WH_HOST_HISTORY];
    int n;
    uint64_t last;
} loading;

static void load_failed(const char *name, uint64_t version, const char *why)
{
    char quoted[800];
    wh_host_log_quote(quoted, sizeof quoted, why, strlen(why));
    wh_host_log("error", "msg=\"cannot restore a stored version\" service=%s version=%llu "
                "error=%s", name, (unsigned long long)version, quoted);
}

/* One stored history entry into ld->hist (the oldest falls out past
 * WH_HOST_HISTORY); an entry that cannot be restored is logged and
 * skipped. */
static bool load_spec(void *ctx, const wh_host_stored_spec *st)
{
    loading *ld = ctx;
    char why[600] = "";
    wh_host_spec sp = { .version = st->version, .deployed_at = st->deployed_at,
                        .module_name = strdup(st->module_name),
                        .config_json = strdup(st->config_json) };
    size_t len;
    uint8_t *bytes = st->sha256 ? wh_host_state_get_module(ld->r->state, st->sha256, &len,
                                                           why, sizeof why) : NULL;
    bool ok = (!st->sha256 || (bytes && (sp.module = blob_new(bytes, len)))) &&
              sp.module_name && sp.config_json &&
              (sp.cfg = cfgref_new(wh_host_reg_config(ld->name, st->config_json,
                                                      st->sha256 ? st->module_name : NULL,
                                                      why, sizeof why)));
    if (ld->last < st->version)
        ld->last = st->version;
    if (!ok) {
        load_failed(ld->name, st->version, why[0] ? why : "out of memory");
        spec_clear(&sp);
        return true;
    }
    if (ld->n == WH_HOST_HISTORY) {
        spec_clear(&ld->hist[0]);
        memmove(ld->hist, ld->hist + 1, (size_t)--ld->n * sizeof *ld->hist);
    }
    ld->hist[ld->n++] = sp;
    return true;
}

static void load_record(void *ctx, const char *name, const char *text, size_t len)
{
    wh_host_registry *r = ctx;
    loading ld = { .r = r, .name = name };
    char why[600] = "";
    wh_host_entry *e = entry_get(r, name);
    wh_host_service *s = NULL;
    wh_host_snapshot *snap = NULL;
    if (!e || !wh_host_reg_each_spec(text, load_spec, &ld, why, sizeof why) || !ld.n) {
        load_failed(name, 0, why[0] ? why : "no version could be restored");
    } else {
        e->last_version = ld.last;
        if (!(s = version_new(r, e, &ld.hist[ld.n - 1], why, sizeof why)))
            load_failed(name, ld.hist[ld.n - 1].version, why);
        else if (!(snap = snapshot_edit(r, r->current, &s, 1, NULL, 0)))
            load_failed(name, ld.hist[ld.n - 1].version, "out of memory");
    }
    if (snap) {
        publish(r, snap);
        memcpy(e->history, ld.hist, (size_t)ld.n * sizeof *ld.hist);
        e->nhistory = ld.n;
        e->deployed = true;
        log_change("restored", name, &ld.hist[ld.n - 1]);
    } else {
        for (int i = 0; i < ld.n; i++)
            spec_clear(&ld.hist[i]);
    }
    if (s)
        wh_host_service_unref(s);
}

void wh_host_registry_load_state(wh_host_registry *r)
{
    if (!r->state)
        return;
    pthread_mutex_lock(&r->lock);
    wh_host_state_each(r->state, load_record, r);
    collect_garbage(r);
    pthread_mutex_unlock(&r->lock);
}

/* ---- The registry ------------------------------------------------------------------------------- */

wh_host_registry *wh_host_registry_new(const char *state_dir, char *err, size_t errlen)
{
    wh_host_registry *r = calloc(1, sizeof *r);
    if (!r || !(r->current = calloc(1, sizeof *r->current))) {
        snprintf(err, errlen, "out of memory");
        free(r);
        return NULL;
    }
    r->current->refs = 1;
    r->current->reg = r;
    pthread_mutex_init(&r->lock, NULL);
    pthread_mutex_init(&r->current_lock, NULL);
    pthread_mutex_init(&r->cache_lock, NULL);
    r->max_body = WH_HOST_MAX_BODY_FLOOR;
    if (!(r->app = wh_host_app_new(NULL, err, errlen)) ||
        (state_dir && !(r->state = wh_host_state_open(state_dir, err, errlen)))) {
        wh_host_registry_free(r);
        return NULL;
    }
    /* A WAGI guest may write limits.max_response's default at least. */
    r->app->stdout_bytes = WH_HOST_DEFAULT_MAX_RESPONSE;
    return r;
}

void wh_host_registry_free(wh_host_registry *r)
{
    if (!r)
        return;
    wh_host_snapshot_release(r->current);
    int64_t left = __atomic_load_n(&r->stats.versions, __ATOMIC_RELAXED);
    if (left)
        wh_host_log("warn", "msg=\"versions still in use at exit\" versions=%lld",
                    (long long)left);
    for (int i = 0; i < r->nentries; i++) {
        entry_forget(r->entries[i]);
        free(r->entries[i]->name);
        free(r->entries[i]);
    }
    free(r->entries);
    wh_host_state_close(r->state);
    wh_host_app_free(r->app);
    pthread_mutex_destroy(&r->lock);
    pthread_mutex_destroy(&r->current_lock);
    pthread_mutex_destroy(&r->cache_lock);
    free(r);
}

wh_host_app *wh_host_registry_app(wh_host_registry *r) { return r->app; }

void wh_host_registry_seal(wh_host_registry *r)
{
    pthread_mutex_lock(&r->lock);
    r->sealed = true;
    pthread_mutex_unlock(&r->lock);
}

uint64_t wh_host_registry_max_body(const wh_host_registry *r) { return r->max_body; }

bool wh_host_registry_set_view(wh_host_registry *r, const wh_host_view_ops *ops)
{
    pthread_mutex_lock(&r->lock);
    r->view = *ops;
    wh_host_snapshot *s = r->current;
    bool ok = (s->view = ops->make(ops->ctx, s)) != NULL;
    pthread_mutex_unlock(&r->lock);
    return ok;
}

int wh_host_registry_history(wh_host_registry *r, const char *name,
                             wh_host_version_info *out, int max)
{
    pthread_mutex_lock(&r->lock);
    const wh_host_entry *e = entry_find(r, name);
    int n = e && e->deployed ? 0 : -1;
    for (int i = e ? e->nhistory - 1 : -1; n >= 0 && i >= 0 && n < max; i--)
        spec_info(&e->history[i], e->name, &out[n++]);
    pthread_mutex_unlock(&r->lock);
    return n;
}

void wh_host_registry_stats_get(const wh_host_registry *r, wh_host_registry_stats *out)
{
    out->cache_hits = __atomic_load_n(&r->stats.cache_hits, __ATOMIC_RELAXED);
    out->cache_misses = __atomic_load_n(&r->stats.cache_misses, __ATOMIC_RELAXED);
    out->changes = __atomic_load_n(&r->stats.changes, __ATOMIC_RELAXED);
    out->refused = __atomic_load_n(&r->stats.refused, __ATOMIC_RELAXED);
    out->versions = __atomic_load_n(&r->stats.versions, __ATOMIC_RELAXED);
}
