#!/usr/bin/env python3
"""client.py: the raw-socket and load parts of tests/cli/serve.sh, which
curl cannot do: pipelining, malformed and slow requests, many concurrent
clients. Each subcommand prints one line that the shell test compares.

    client.py pipeline PORT PATH N       N requests in one write; prints the
                                         statuses and whether the bodies came
                                         back in order
    client.py malformed PORT             prints the status of a garbage request
    client.py slow PORT [body]           sends half a request head (or a whole
                                         head and a tenth of its body) and
                                         prints how many seconds until the
                                         server hung up ("open" if it did not
                                         in 30 s)
    client.py load PORT THREADS N PATH...  THREADS keep-alive clients send N
                                         requests each, cycling through the
                                         PATHs; prints "STATUS:COUNT ..." sorted
"""
import socket
import sys
import threading

from common import HOST, print_close_time, read_response


def pipeline(port, path, n):
    s = socket.create_connection((HOST, port))
    reqs = b"".join(
        b"GET %s?i=%d HTTP/1.1\r\nHost: t\r\n\r\n" % (path.encode(), i)
        for i in range(n))
    s.sendall(reqs)
    f = s.makefile("rb")
    statuses, ordered = [], True
    for i in range(n):
        status, body = read_response(f)
        statuses.append(str(status))
        ordered = ordered and (b"QUERY_STRING=i=%d\n" % i) in body
    print(" ".join(statuses), "in-order" if ordered else "OUT-OF-ORDER")


def malformed(port):
    s = socket.create_connection((HOST, port))
    s.sendall(b"GARBAGE\x01 / NOT-HTTP\r\n\r\n")
    status, _ = read_response(s.makefile("rb"))
    print(status)


def slow(port, body):
    s = socket.create_connection((HOST, port))
    if body:
        s.sendall(b"POST /g/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789")
    else:
        s.sendall(b"GET /g/env HTTP/1.1\r\nHost: t\r\n")
    print_close_time(s, 30)


def load(port, threads, n, paths):
    counts, lock = {}, threading.Lock()

    def client(k):
        s = socket.create_connection((HOST, port))
        f = s.makefile("rb")
        for i in range(n):
            path = paths[(k + i) % len(paths)]
            s.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path.encode())
            status, _ = read_response(f)
            with lock:
                counts[status] = counts.get(status, 0) + 1
        s.close()

    ts = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(" ".join("%s:%d" % (k, counts[k]) for k in sorted(counts, key=str)))


def main():
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "pipeline":
        pipeline(port, sys.argv[3], int(sys.argv[4]))
    elif cmd == "malformed":
        malformed(port)
    elif cmd == "slow":
        slow(port, sys.argv[3:] == ["body"])
    elif cmd == "load":
        load(port, int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
