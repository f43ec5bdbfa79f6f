/* sockhelper.c (native): runs `WHARF run SOCK_WASM MODE` with a socket as
 * its stdin and plays the peer. Exits 0 when the peer saw what it should.
 *   sockhelper pair|accept WHARF SOCK_WASM */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t spawn(int stdin_fd, char **argv, const char *mode)
{
    pid_t pid = fork();
    if (pid == 0) {
        dup2(stdin_fd, 0);
        char *args[] = { argv[2], "run", argv[3], (char *)mode, NULL };
        execv(argv[2], args);
        _exit(127);
    }
    close(stdin_fd);
    return pid;
}

static int expect(int fd, const char *want)
{
    char buf[16] = { 0 };
    size_t n = strlen(want), got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got != n || memcmp(buf, want, n)) {
        fprintf(stderr, "sockhelper: wanted '%s', got '%s'\n", want, buf);
        return 1;
    }
    return 0;
}

static int pair(char **argv, pid_t *pid)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return 1;
    *pid = spawn(sv[1], argv, "pair");
    int bad = write(sv[0], "ping", 4) != 4;
    bad |= expect(sv[0], "pong");
    char c;
    bad |= read(sv[0], &c, 1) != 0;   /* the guest shut down its side */
    close(sv[0]);
    return bad;
}

static int accept_mode(char **argv, pid_t *pid)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
        (size_t)snprintf(sa.sun_path + 1, sizeof sa.sun_path - 1, "wharf-%d", getpid()));
    int s = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0 || c < 0 || bind(s, (struct sockaddr *)&sa, len) || listen(s, 4))
        return 1;
    *pid = spawn(s, argv, "accept");
    if (connect(c, (struct sockaddr *)&sa, len) != 0)
        return 1;
    int bad = write(c, "hello", 5) != 5;
    bad |= expect(c, "world");
    close(c);
    /* A second connection that sends nothing: the guest reads AGAIN. */
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    bad |= connect(c, (struct sockaddr *)&sa, len) != 0;
    char ch;
    bad |= read(c, &ch, 1) != 0;   /* EOF once the guest closes it */
    close(c);
    return bad;
}

int main(int argc, char **argv)
{
    pid_t pid = -1;
    int status = 0, bad;
    if (argc != 4)
        return 2;
    bad = !strcmp(argv[1], "pair") ? pair(argv, &pid) : accept_mode(argv, &pid);
    if (pid > 0)
        waitpid(pid, &status, 0);
    return bad || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}
