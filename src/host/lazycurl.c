/* lazycurl.c: opens libcurl with dlopen on first use (see lazycurl.h).
 * Owns the process-wide table of libcurl functions: written once, under
 * pthread_once, and only read after, like the dynamic linker's own
 * bindings, so it is the one piece of global state here. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "lazycurl.h"

static wh_curl table;
static bool loaded;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Stores the address of `name` into the function pointer at `field`. */
static bool bind_fn(void *lib, void *field, const char *name)
{
    void *f = dlsym(lib, name);
    memcpy(field, &f, sizeof f);   /* object to function pointer, as POSIX allows */
    return f != NULL;
}

static void load(void)
{
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    loaded = lib &&
        bind_fn(lib, &table.global_init, "curl_global_init") &&
        bind_fn(lib, &table.global_cleanup, "curl_global_cleanup") &&
        bind_fn(lib, &table.url, "curl_url") &&
        bind_fn(lib, &table.url_set, "curl_url_set") &&
        bind_fn(lib, &table.url_get, "curl_url_get") &&
        bind_fn(lib, &table.url_cleanup, "curl_url_cleanup") &&
        bind_fn(lib, &table.free, "curl_free") &&
        bind_fn(lib, &table.slist_append, "curl_slist_append") &&
        bind_fn(lib, &table.slist_free_all, "curl_slist_free_all") &&
        bind_fn(lib, &table.easy_init, "curl_easy_init") &&
        bind_fn(lib, &table.easy_setopt, "curl_easy_setopt") &&
        bind_fn(lib, &table.easy_perform, "curl_easy_perform") &&
        bind_fn(lib, &table.easy_getinfo, "curl_easy_getinfo") &&
        bind_fn(lib, &table.easy_strerror, "curl_easy_strerror") &&
        bind_fn(lib, &table.easy_cleanup, "curl_easy_cleanup");
}

const wh_curl *wh_host_curl(void)
{
    pthread_once(&once, load);
    return loaded ? &table : NULL;
}
