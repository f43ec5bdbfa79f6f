/* lazycurl.h: libcurl, opened with dlopen on first use instead of linked.
 *
 * Linking libcurl (and the ~30 libraries it depends on) costs every wharf
 * process ~3 ms at start-up (bench/startup.sh), while only a plugin's
 * outbound HTTP request or an admin command talks HTTP. So nothing links
 * -lcurl: code that needs libcurl includes this header and calls its
 * functions through wh_host_curl(), with the same arguments and results as
 * the curl_* function of the same name (curl->easy_init() is
 * curl_easy_init()).
 */
#ifndef WH_HOST_LAZYCURL_H
#define WH_HOST_LAZYCURL_H

#include <curl/curl.h>

typedef struct wh_curl {
    CURLcode (*global_init)(long flags);
    void (*global_cleanup)(void);
    CURLU *(*url)(void);
    CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
    CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
    void (*url_cleanup)(CURLU *);
    void (*free)(void *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    const char *(*easy_strerror)(CURLcode);
    void (*easy_cleanup)(CURL *);
} wh_curl;

/* The libcurl functions, loading libcurl.so.4 on the first call; NULL if
 * it or one of the functions cannot be found (and on every later call).
 * Thread-safe; the table is never changed or freed once loaded. */
const wh_curl *wh_host_curl(void);

#endif
