/* wharf_pdk.h: write a plugin in C with this one include. The plugin
 * follows Extism's plugin ABI (docs/abi.md), so it runs under wharf and
 * under any Extism host alike.
 *
 * A plugin exports functions that take no arguments and return 0 on
 * success; they read their input and write their output and errors
 * through the "extism:host/env" imports declared below:
 *
 *     #include "wharf_pdk.h"
 *
 *     WHARF_PLUGIN_FN(greet)
 *     {
 *         char name[64];
 *         uint64_t n = wharf_input(name, sizeof name);
 *         if (n > sizeof name)
 *             return wharf_error_set("name too long");
 *         wharf_output_str("Hello, ");
 *         ...
 *     }
 *
 * Build it freestanding (no libc needed by this header; -mbulk-memory
 * turns the copies the compiler makes into memory.copy instead of calls
 * to a memcpy that -nostdlib leaves undefined):
 *     clang --target=wasm32 -nostdlib -mbulk-memory -O2 -Wl,--no-entry \
 *         -o greet.wasm greet.c
 * or, to use libc and WASI, as a reactor:
 *     clang --target=wasm32-wasi -mexec-model=reactor -O2 -o greet.wasm greet.c
 *
 * Handles (wharf_handle) are offsets into the host's call memory, not
 * pointers into the plugin's own memory: bytes move between the two only
 * through wharf_load and wharf_store (or the helpers built on them). The
 * call memory is reset before every call, so a handle is good for the
 * call that made it. Everything here is static inline: no link-time
 * surprises, nothing unused left in the module.
 */
#ifndef WHARF_PDK_H
#define WHARF_PDK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t wharf_handle;   /* 0 is the null handle */

/* Exports `int32_t name(void)` under its own name. */
#define WHARF_PLUGIN_FN(name) \
    __attribute__((export_name(#name))) int32_t name(void); int32_t name(void)

#define WHARF_PDK_IMPORT(name) \
    __attribute__((import_module("extism:host/env"), import_name(name)))

/* ---- The raw imports (the ABI, one to one) ----------------------------- */

/* Call memory. alloc returns 0 when out of memory (or for 0 bytes);
 * length returns 0 for anything but a live block's handle. */
WHARF_PDK_IMPORT("alloc") wharf_handle wharf_env_alloc(uint64_t n);
WHARF_PDK_IMPORT("free") void wharf_env_free(wharf_handle h);
WHARF_PDK_IMPORT("length") uint64_t wharf_env_length(wharf_handle h);
WHARF_PDK_IMPORT("length_unsafe") uint64_t wharf_env_length_unsafe(wharf_handle h);
WHARF_PDK_IMPORT("load_u8") uint32_t wharf_env_load_u8(uint64_t off);
WHARF_PDK_IMPORT("load_u64") uint64_t wharf_env_load_u64(uint64_t off);
WHARF_PDK_IMPORT("store_u8") void wharf_env_store_u8(uint64_t off, uint32_t v);
WHARF_PDK_IMPORT("store_u64") void wharf_env_store_u64(uint64_t off, uint64_t v);

/* Input (a block in call memory), output, error. */
WHARF_PDK_IMPORT("input_offset") wharf_handle wharf_env_input_offset(void);
WHARF_PDK_IMPORT("input_length") uint64_t wharf_env_input_length(void);
WHARF_PDK_IMPORT("input_load_u8") uint32_t wharf_env_input_load_u8(uint64_t i);
WHARF_PDK_IMPORT("input_load_u64") uint64_t wharf_env_input_load_u64(uint64_t i);
WHARF_PDK_IMPORT("output_set") void wharf_env_output_set(uint64_t off, uint64_t n);
WHARF_PDK_IMPORT("error_set") void wharf_env_error_set(wharf_handle msg);

/* Config (from the host, read-only) and variables (kept across calls). */
WHARF_PDK_IMPORT("config_get") wharf_handle wharf_env_config_get(wharf_handle key);
WHARF_PDK_IMPORT("var_get") wharf_handle wharf_env_var_get(wharf_handle key);
WHARF_PDK_IMPORT("var_set") void wharf_env_var_set(wharf_handle key, wharf_handle val);

/* Logging; get_log_level: 0 trace, 1 debug, 2 info, 3 warn, 4 error,
 * above that nothing is logged. */
WHARF_PDK_IMPORT("log_trace") void wharf_env_log_trace(wharf_handle msg);
WHARF_PDK_IMPORT("log_debug") void wharf_env_log_debug(wharf_handle msg);
WHARF_PDK_IMPORT("log_info") void wharf_env_log_info(wharf_handle msg);
WHARF_PDK_IMPORT("log_warn") void wharf_env_log_warn(wharf_handle msg);
WHARF_PDK_IMPORT("log_error") void wharf_env_log_error(wharf_handle msg);
WHARF_PDK_IMPORT("get_log_level") int32_t wharf_env_get_log_level(void);

/* Outbound HTTP: req is a JSON block {"url", "method", "headers"}, body a
 * block or 0; returns the response body's handle (0 if empty). */
WHARF_PDK_IMPORT("http_request")
wharf_handle wharf_env_http_request(wharf_handle req, wharf_handle body);
WHARF_PDK_IMPORT("http_status_code") int32_t wharf_env_http_status_code(void);
WHARF_PDK_IMPORT("http_headers") wharf_handle wharf_env_http_headers(void);

/* ---- Moving bytes ------------------------------------------------------ */

static inline size_t wharf_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* Copies n bytes from call memory at `off` into dst: eight at a time, then
 * the tail byte by byte (each step is one import call). */
static inline void wharf_load(uint64_t off, void *dst, uint64_t n)
{
    uint8_t *d = (uint8_t *)dst;
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v = wharf_env_load_u64(off + i);
        __builtin_memcpy(d + i, &v, 8);
    }
    for (; i < n; i++)
        d[i] = (uint8_t)wharf_env_load_u8(off + i);
}

static inline void wharf_store(uint64_t off, const void *src, uint64_t n)
{
    const uint8_t *s = (const uint8_t *)src;
    uint64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        __builtin_memcpy(&v, s + i, 8);
        wharf_env_store_u64(off + i, v);
    }
    for (; i < n; i++)
        wharf_env_store_u8(off + i, s[i]);
}

/* A new block holding a copy of n bytes; 0 if n is 0 or memory ran out. */
static inline wharf_handle wharf_alloc_bytes(const void *src, uint64_t n)
{
    wharf_handle h = wharf_env_alloc(n);
    if (h)
        wharf_store(h, src, n);
    return h;
}

static inline wharf_handle wharf_alloc_str(const char *s)
{
    return wharf_alloc_bytes(s, wharf_strlen(s));
}

/* Writes v in decimal at p (at most 20 digits, no NUL); returns the number
 * of digits. For freestanding plugins, which have no printf. */
static inline int wharf_fmt_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0, k = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    while (n)
        p[k++] = tmp[--n];
    return k;
}

/* Copies up to `cap` bytes of block h into buf; returns the block's full
 * length (larger than cap when buf was too small; 0 for no block). */
static inline uint64_t wharf_read(wharf_handle h, void *buf, uint64_t cap)
{
    uint64_t n = wharf_env_length(h);
    wharf_load(h, buf, n < cap ? n : cap);
    return n;
}

/* ---- Input and output -------------------------------------------------- */

static inline uint64_t wharf_input_length(void)
{
    return wharf_env_input_length();
}

/* Copies up to `cap` bytes of input into buf; returns the input's length. */
static inline uint64_t wharf_input(void *buf, uint64_t cap)
{
    uint64_t n = wharf_env_input_length(), k = n < cap ? n : cap, i = 0;
    uint8_t *d = (uint8_t *)buf;
    for (; i + 8 <= k; i += 8) {
        uint64_t v = wharf_env_input_load_u64(i);
        __builtin_memcpy(d + i, &v, 8);
    }
    for (; i < k; i++)
        d[i] = (uint8_t)wharf_env_input_load_u8(i);
    return n;
}

/* The input as a NUL-terminated string in buf (cap >= 1): its length, or
 * -1 (and buf unterminated) when it does not fit in `cap` bytes with the
 * NUL. */
static inline int64_t wharf_input_str(char *buf, uint64_t cap)
{
    uint64_t n = wharf_input(buf, cap - 1);
    if (n >= cap)
        return -1;
    buf[n] = '\0';
    return (int64_t)n;
}

/* Sets the output to a copy of n bytes (replacing any earlier output). */
static inline void wharf_output(const void *buf, uint64_t n)
{
    wharf_env_output_set(wharf_alloc_bytes(buf, n), n);
}

static inline void wharf_output_str(const char *s)
{
    wharf_output(s, wharf_strlen(s));
}

/* Sets the call's error message; returns 1, so that a plugin function can
 * end with `return wharf_error_set("...")`. The block is not freed: some
 * Extism hosts read it only after the call. */
static inline int32_t wharf_error_set(const char *msg)
{
    wharf_env_error_set(wharf_alloc_str(msg));
    return 1;
}

/* ---- Config, variables, logging ---------------------------------------- */

/* Copies up to `cap` bytes of the value that `lookup` (config_get or
 * var_get) finds for `key` into buf; returns its length, or -1 when the
 * host has none. Both blocks are freed. */
static inline int64_t wharf_lookup(wharf_handle (*lookup)(wharf_handle), const char *key,
                                   void *buf, uint64_t cap)
{
    wharf_handle k = wharf_alloc_str(key);
    wharf_handle v = lookup(k);
    wharf_env_free(k);
    if (!v)
        return -1;
    uint64_t n = wharf_read(v, buf, cap);
    wharf_env_free(v);
    return (int64_t)n;
}

/* Config value `key`, as wharf_lookup. */
static inline int64_t wharf_config_get(const char *key, void *buf, uint64_t cap)
{
    return wharf_lookup(wharf_env_config_get, key, buf, cap);
}

/* Variable `key`, as wharf_lookup. */
static inline int64_t wharf_var_get(const char *key, void *buf, uint64_t cap)
{
    return wharf_lookup(wharf_env_var_get, key, buf, cap);
}

/* Sets variable `key` to n bytes; n == 0 removes it. */
static inline void wharf_var_set(const char *key, const void *val, uint64_t n)
{
    wharf_handle k = wharf_alloc_str(key);
    wharf_handle v = n ? wharf_alloc_bytes(val, n) : 0;
    wharf_env_var_set(k, v);
    wharf_env_free(k);
    wharf_env_free(v);
}

/* Logs msg at a level (0 trace ... 4 error) if the host wants it. */
static inline void wharf_log(int32_t level, const char *msg)
{
    if (level < wharf_env_get_log_level())
        return;
    wharf_handle h = wharf_alloc_str(msg);
    switch (level) {
    case 0: wharf_env_log_trace(h); break;
    case 1: wharf_env_log_debug(h); break;
    case 2: wharf_env_log_info(h); break;
    case 3: wharf_env_log_warn(h); break;
    default: wharf_env_log_error(h); break;
    }
    wharf_env_free(h);
}

/* ---- HTTP -------------------------------------------------------------- */

/* Sends the request described by JSON `req` (e.g. {"url":"http://...",
 * "method":"POST","headers":{"a":"b"}}) with n bytes of body (n == 0: none).
 * Returns the response body's handle (free it when done) and stores the
 * status in *status. A refused or failed request fails the whole call. */
static inline wharf_handle wharf_http_request(const char *req, const void *body,
                                              uint64_t n, int32_t *status)
{
    wharf_handle r = wharf_alloc_str(req);
    wharf_handle b = n ? wharf_alloc_bytes(body, n) : 0;
    wharf_handle res = wharf_env_http_request(r, b);
    wharf_env_free(r);
    wharf_env_free(b);
    if (status)
        *status = wharf_env_http_status_code();
    return res;
}

#ifdef __cplusplus
}
#endif
#endif /* WHARF_PDK_H */
