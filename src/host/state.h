/* state.h: the state directory of `wharf serve --state-dir DIR`, where
 * services deployed through the admin API are kept across restarts:
 *
 *   DIR/modules/SHA256.wasm   module bytes, named by their SHA-256
 *   DIR/services/NAME.json    one service's record (registry_json.c)
 *
 * Every file is written whole to a temporary name, fsync'd, renamed over
 * the old one and the directory fsync'd: a crash at any point leaves the
 * old file or the new one, never a mix. A record is written only after
 * the modules it names, so a record never names a missing module. Knows
 * nothing of what records mean. One thread at a time (the registry's
 * writer). */
#ifndef WH_HOST_STATE_H
#define WH_HOST_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct wh_host_state wh_host_state;

/* The lower-case hex SHA-256 of `len` bytes, NUL-terminated. */
void wh_host_sha256_hex(const uint8_t *bytes, size_t len, char out[65]);

/* Opens DIR, creating it and its subdirectories, and deletes the
 * temporary files a crash left behind. NULL with one line in err. */
wh_host_state *wh_host_state_open(const char *dir, char *err, size_t errlen);
void wh_host_state_close(wh_host_state *st);
const char *wh_host_state_dir(const wh_host_state *st);

/* Stores a module under its hash unless it is there already; durable on
 * return. */
bool wh_host_state_put_module(wh_host_state *st, const char *sha256,
                              const uint8_t *bytes, size_t len,
                              char *err, size_t errlen);
/* Module `sha256` in a malloc'd buffer, its hash checked; NULL with one
 * line in err when missing, unreadable or corrupt. */
uint8_t *wh_host_state_get_module(wh_host_state *st, const char *sha256,
                                  size_t *len, char *err, size_t errlen);

/* Replaces (or creates) the record of service `name`; durable on return. */
bool wh_host_state_put_service(wh_host_state *st, const char *name,
                               const char *text, size_t len,
                               char *err, size_t errlen);
bool wh_host_state_remove_service(wh_host_state *st, const char *name,
                                  char *err, size_t errlen);

/* Calls fn with each stored record (text NUL-terminated, borrowed for the
 * call), in name order. Unreadable records are logged and skipped. */
typedef void (*wh_host_state_fn)(void *ctx, const char *name, const char *text,
                                 size_t len);
void wh_host_state_each(wh_host_state *st, wh_host_state_fn fn, void *ctx);

/* Deletes every stored module whose hash is not among keep[0..n). */
void wh_host_state_gc(wh_host_state *st, const char *const *keep, int n);

#endif /* WH_HOST_STATE_H */
