/* wasi_sock.c: sock_accept, sock_recv, sock_send and sock_shutdown.
 *
 * Preview1 cannot create sockets; these act on sockets the embedder
 * handed in (for example stdio connected to a socket, or a listening
 * socket passed as an inherited fd). Anything else answers NOTSOCK, which
 * is what wasmtime answers for every fd.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "wasiInt.h"

enum { RI_PEEK = 1, RI_WAITALL = 2, RO_TRUNCATED = 1 };
enum { SD_RD = 1, SD_WR = 2 };

/* The socket `fd` with right `need`: BADF, NOTSOCK or NOTCAPABLE. */
static int sock_of(wh_wasi_call *cx, uint32_t fd, uint64_t need, wh_wasi_fd **out)
{
    wh_wasi_fd *e = wh_wasi_fd_get(cx->w, fd);
    if (!e)
        return WH_E_BADF;
    if (e->type != WH_FT_SOCK_STREAM && e->type != WH_FT_SOCK_DGRAM)
        return WH_E_NOTSOCK;
    return wh_wasi_fd_check(cx->w, fd, need, out);
}

static int sock_accept(wh_wasi_call *cx, const wharf_slot *a)
{
    uint32_t flags = WH_A32(1), out = WH_A32(2), fd;
    wh_wasi_fd *e;
    int r = sock_of(cx, WH_A32(0), WH_R_SOCK_ACCEPT, &e);
    if (r)
        return r;
    if (flags & ~(uint32_t)WH_FDF_NONBLOCK)
        return WH_E_INVAL;
    if (!wh_wasi_ok(cx, out, 4))
        return WH_E_FAULT;
    int host;
    do {
        host = accept4(e->host, NULL, NULL,
                       SOCK_CLOEXEC | (flags ? SOCK_NONBLOCK : 0));
    } while (host < 0 && errno == EINTR);
    if (host < 0)
        return wh_wasi_errno(errno);
    if ((r = wh_wasi_fd_add(cx->w, host, WH_RIGHTS_SOCK, 0, (uint16_t)flags, &fd)))
        return r;
    wh_wasi_st32(cx, out, fd);
    return 0;
}

static int sock_recv(wh_wasi_call *cx, const wharf_slot *a)
{
    uint32_t riflags = WH_A32(3), len_out = WH_A32(4), flags_out = WH_A32(5);
    struct iovec v[WH_WASI_IOV_MAX];
    struct msghdr msg = { 0 };
    int cnt;
    wh_wasi_fd *e;
    int r = sock_of(cx, WH_A32(0), WH_R_FD_READ, &e);
    if (r || (r = wh_wasi_iovecs(cx, WH_A32(1), WH_A32(2), v, &cnt)))
        return r;
    if (riflags & ~(uint32_t)(RI_PEEK | RI_WAITALL))
        return WH_E_INVAL;
    if (!wh_wasi_ok(cx, len_out, 4) || !wh_wasi_ok(cx, flags_out, 2))
        return WH_E_FAULT;
    msg.msg_iov = v;
    msg.msg_iovlen = (size_t)cnt;
    int fl = (riflags & RI_PEEK ? MSG_PEEK : 0) |
             (riflags & RI_WAITALL ? MSG_WAITALL : 0);
    ssize_t n;
    do {
        n = recvmsg(e->host, &msg, fl);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return wh_wasi_errno(errno);
    wh_wasi_st32(cx, len_out, (uint32_t)n);
    wh_wasi_st16(cx, flags_out, msg.msg_flags & MSG_TRUNC ? RO_TRUNCATED : 0);
    return 0;
}

/* siflags has no flags defined; MSG_NOSIGNAL turns a closed peer into
 * PIPE instead of killing the host. */
static int sock_send(wh_wasi_call *cx, const wharf_slot *a)
{
    uint32_t out = WH_A32(4);
    struct iovec v[WH_WASI_IOV_MAX];
    struct msghdr msg = { 0 };
    int cnt;
    wh_wasi_fd *e;
    int r = sock_of(cx, WH_A32(0), WH_R_FD_WRITE, &e);
    if (r || (r = wh_wasi_iovecs(cx, WH_A32(1), WH_A32(2), v, &cnt)))
        return r;
    if (WH_A32(3) != 0)
        return WH_E_INVAL;
    if (!wh_wasi_ok(cx, out, 4))
        return WH_E_FAULT;
    msg.msg_iov = v;
    msg.msg_iovlen = (size_t)cnt;
    ssize_t n;
    do {
        n = sendmsg(e->host, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return wh_wasi_errno(errno);
    wh_wasi_st32(cx, out, (uint32_t)n);
    return 0;
}

static int sock_shutdown(wh_wasi_call *cx, const wharf_slot *a)
{
    static const int how[] = { -1, SHUT_RD, SHUT_WR, SHUT_RDWR };
    uint32_t sd = WH_A32(1);
    wh_wasi_fd *e;
    int r = sock_of(cx, WH_A32(0), WH_R_SOCK_SHUTDOWN, &e);
    if (r)
        return r;
    if (sd == 0 || sd > (SD_RD | SD_WR))
        return WH_E_INVAL;
    return shutdown(e->host, how[sd]) ? wh_wasi_errno(errno) : 0;
}

const wh_wasi_func wh_wasi_sock_funcs[] = {
    { "sock_accept", "iii", "i", sock_accept },
    { "sock_recv", "iiiiii", "i", sock_recv },
    { "sock_send", "iiiii", "i", sock_send },
    { "sock_shutdown", "ii", "i", sock_shutdown },
};
const size_t wh_wasi_sock_nfuncs = WH_ARRAY_LEN(wh_wasi_sock_funcs);
