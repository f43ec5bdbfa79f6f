/* sock.c: sock_* on sockets the host hands in as stdin (see sockhelper.c).
 *   sock pair     fd 0 is a connected stream socket: recv "ping", send "pong"
 *   sock accept   fd 0 is a listening socket: accept, recv "hello", send
 *                 "world"; then a second, silent connection */
#include <string.h>
#include <wasi/api.h>

#include "check.h"

static void expect_recv(int fd, const char *want, __wasi_riflags_t flags)
{
    char buf[16] = { 0 };
    __wasi_iovec_t v = { (uint8_t *)buf, strlen(want) };
    __wasi_size_t n = 0;
    __wasi_roflags_t ro = 1;
    ERRNO(__wasi_sock_recv(fd, &v, 1, flags, &n, &ro), 0);
    CHECK(n == strlen(want) && !strcmp(buf, want) && ro == 0, "recv '%s'", buf);
}

static void send_str(int fd, const char *s)
{
    __wasi_ciovec_t v = { (const uint8_t *)s, strlen(s) };
    __wasi_size_t n = 0;
    ERRNO(__wasi_sock_send(fd, &v, 1, 0, &n), 0);
    CHECK(n == strlen(s), "sent %u", (unsigned)n);
}

static void check_socket(int fd)
{
    __wasi_fdstat_t st;
    ERRNO(__wasi_fd_fdstat_get(fd, &st), 0);
    CHECK(st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM, "type %d", st.fs_filetype);
    CHECK(st.fs_rights_base & __WASI_RIGHTS_SOCK_SHUTDOWN, "rights");
}

static void pair(void)
{
    check_socket(0);
    expect_recv(0, "ping", __WASI_RIFLAGS_RECV_PEEK);
    expect_recv(0, "ping", __WASI_RIFLAGS_RECV_WAITALL);
    send_str(0, "pong");
    __wasi_iovec_t v = { 0, 0 };
    __wasi_ciovec_t cv = { 0, 0 };
    __wasi_size_t n;
    __wasi_roflags_t ro;
    __wasi_fd_t nfd;
    ERRNO(__wasi_sock_recv(0, &v, 1, 4, &n, &ro), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_sock_send(0, &cv, 1, 1, &n), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_sock_shutdown(0, 0), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_sock_shutdown(0, 4), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_sock_accept(0, 0, &nfd), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_sock_shutdown(0, __WASI_SDFLAGS_WR), 0);
    ERRNO(__wasi_sock_send(0, &cv, 1, 0, &n), __WASI_ERRNO_PIPE);
}

static void accept_one(void)
{
    __wasi_fd_t fd;
    check_socket(0);
    ERRNO(__wasi_sock_accept(0, __WASI_FDFLAGS_APPEND, &fd), __WASI_ERRNO_INVAL);
    ERRNO(__wasi_sock_accept(0, 0, &fd), 0);
    check_socket((int)fd);
    expect_recv((int)fd, "hello", 0);
    send_str((int)fd, "world");
    ERRNO(__wasi_sock_shutdown(fd, __WASI_SDFLAGS_RD | __WASI_SDFLAGS_WR), 0);
    ERRNO(__wasi_fd_close(fd), 0);
    ERRNO(__wasi_sock_accept(0, __WASI_FDFLAGS_NONBLOCK, &fd), 0);
    __wasi_fdstat_t st;
    ERRNO(__wasi_fd_fdstat_get(fd, &st), 0);
    CHECK(st.fs_flags == __WASI_FDFLAGS_NONBLOCK, "accepted fd is non-blocking");
    __wasi_iovec_t v = { (uint8_t *)&st, 1 };
    __wasi_size_t n;
    __wasi_roflags_t ro;
    ERRNO(__wasi_sock_recv(fd, &v, 1, 0, &n, &ro), __WASI_ERRNO_AGAIN);
    ERRNO(__wasi_fd_close(fd), 0);
    ERRNO(__wasi_fd_fdstat_set_flags(0, __WASI_FDFLAGS_NONBLOCK), 0);
    ERRNO(__wasi_sock_accept(0, 0, &fd), __WASI_ERRNO_AGAIN);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "pair"))
        pair();
    else if (argc > 1 && !strcmp(argv[1], "accept"))
        accept_one();
    else
        CHECK(0, "usage: sock pair|accept");
    return test_done();
}
