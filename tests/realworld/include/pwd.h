/* pwd.h: the user database, which WASI does not have (wasi-libc ships no
 * pwd.h). Lookups find nobody, so programs fall back to $HOME. */
#ifndef WHARF_RW_PWD_H
#define WHARF_RW_PWD_H
#include <stddef.h>
#include <sys/types.h>

struct passwd {
    char *pw_name, *pw_dir, *pw_shell;
    uid_t pw_uid;
    gid_t pw_gid;
};

static inline uid_t getuid(void) { return 0; }
static inline struct passwd *getpwuid(uid_t uid) { (void)uid; return NULL; }

#endif
