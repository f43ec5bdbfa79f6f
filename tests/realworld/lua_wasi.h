/* lua_wasi.h: Lua 5.4's configuration for WASI, force-included (-include)
 * into every Lua file: the POSIX one (fseeko with 64-bit offsets, mkstemp,
 * isatty), less io.popen and wait statuses, since WASI has no processes.
 * lua.c (built with LUA_WASI_MAIN) stays off it: it would use sigaction,
 * and WASI's signal emulation has only signal(). */
#include <unistd.h>

#ifndef LUA_WASI_MAIN
#define LUA_USE_POSIX 1
#endif
#define lua_stdin_is_tty() isatty(0)
#define l_popen(L, c, m) \
    ((void)(c), (void)(m), luaL_error(L, "'popen' not supported"), (FILE *)0)
#define l_pclose(L, file) ((void)(L), (void)(file), -1)
#define l_inspectstat(stat, what) ((void)(what))
/* One thread: stdio needs no locking (wasi-libc has no flockfile). */
#define l_getc(f) getc_unlocked(f)
#define l_lockfile(f) ((void)0)
#define l_unlockfile(f) ((void)0)
