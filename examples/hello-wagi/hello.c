/* hello.c: the smallest WAGI guest, served by `wharf serve`
 * (examples/wharf.yaml). A WAGI guest is a plain WASI command: the request
 * arrives as CGI environment variables and stdin, and the response is
 * what it prints: headers, an empty line, then the body.
 * Try: curl 'http://127.0.0.1:8080/hello?name=you'
 * Test by hand: QUERY_STRING=name=you wharf run --env QUERY_STRING hello-wagi.wasm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The value of `key` in a query string like "a=1&name=x", copied into
 * buf; NULL when absent. Not URL-decoded: this is a hello world. */
static const char *query_param(const char *query, const char *key, char *buf, size_t cap)
{
    size_t klen = strlen(key);
    for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        if (strncmp(p, key, klen) != 0 || p[klen] != '=')
            continue;
        size_t n = strcspn(p + klen + 1, "&");
        if (n >= cap)
            n = cap - 1;
        memcpy(buf, p + klen + 1, n);
        buf[n] = '\0';
        return buf;
    }
    return NULL;
}

int main(void)
{
    char name[64];
    const char *who = query_param(getenv("QUERY_STRING"), "name", name, sizeof name);
    printf("Content-Type: text/plain; charset=utf-8\n\n");
    const char *greeting = getenv("GREETING");   /* from wharf.yaml */
    printf("%s, %s!\n", greeting ? greeting : "Hello", who && *who ? who : "wharf");
    return 0;
}
