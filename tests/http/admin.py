#!/usr/bin/env python3
"""admin.py: the parts of tests/cli/admin.sh that need a program, not
curl: changing a service while clients load it without pause.

    admin.py swap PORT ADMIN_PORT PATH NAME A.wasm B.wasm CHANGES THREADS
        Deploys A.wasm as service NAME (keeping its routes); then, while
        THREADS keep-alive clients send GET PATH back to back on PORT,
        CHANGES changes alternate on the admin API: deploy B.wasm, roll
        back to A, deploy B... Prints one line: "ok requests=N changes=C
        bodies=A,B" when every request got a 200 whose body is "version A"
        or "version B" and every change succeeded, else "FAIL ..." with
        what went wrong.

    admin.py idle PORT PATH
        One request on a keep-alive connection, then waits for the server
        to close it; prints "closed after N s" (or "open" after 20 s).
"""
import base64
import http.client
import json
import socket
import sys
import threading

from common import HOST, print_close_time, read_response

WANT = {b"version A\n", b"version B\n"}


def client(port, path, stop, tally, lock):
    s = socket.create_connection((HOST, port))
    f = s.makefile("rb")
    req = b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path.encode()
    seen = {}
    while not stop.is_set():
        s.sendall(req)
        status, body = read_response(f)
        key = (status, body)
        seen[key] = seen.get(key, 0) + 1
    s.close()
    with lock:
        for k, v in seen.items():
            tally[k] = tally.get(k, 0) + v


def admin(aport, method, path, body=None):
    c = http.client.HTTPConnection(HOST, aport, timeout=30)
    c.request(method, path, body=body,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def deploy_body(wasm, routes):
    with open(wasm, "rb") as f:
        return json.dumps({"module": base64.b64encode(f.read()).decode(),
                           "module_name": wasm.rsplit("/", 1)[-1],
                           "config": {"routes": routes}})


def swap(port, aport, path, name, a_wasm, b_wasm, changes, threads):
    status, current = admin(aport, "GET", "/v1/services/" + name)
    if status != 200:
        print("FAIL cannot read service %s: %d" % (name, status))
        return
    routes = json.loads(current)["routes"]
    status, _ = admin(aport, "PUT", "/v1/services/" + name, deploy_body(a_wasm, routes))
    if status != 200:
        print("FAIL cannot deploy A: %d" % status)
        return
    body = deploy_body(b_wasm, routes)
    stop, lock, tally = threading.Event(), threading.Lock(), {}
    ts = [threading.Thread(target=client, args=(port, path, stop, tally, lock))
          for _ in range(threads)]
    for t in ts:
        t.start()
    bad = []
    for i in range(changes):
        if i % 2 == 0:
            status, data = admin(aport, "PUT", "/v1/services/" + name, body)
        else:
            status, data = admin(aport, "POST", "/v1/services/%s/rollback" % name)
        if status not in (200, 201):
            bad.append("change %d: %d %s" % (i, status, data[:200]))
    stop.set()
    for t in ts:
        t.join()
    total = sum(tally.values())
    wrong = {k: v for k, v in tally.items() if k[0] != 200 or k[1] not in WANT}
    bodies = sorted(k[1].decode().strip()[-1] for k in tally if k not in wrong)
    if bad or wrong or total == 0:
        print("FAIL requests=%d wrong=%r changes_failed=%r" % (total, wrong, bad[:3]))
    else:
        print("ok requests=%d changes=%d bodies=%s" % (total, changes, ",".join(bodies)))


def idle(port, path):
    s = socket.create_connection((HOST, port))
    s.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path.encode())
    read_response(s.makefile("rb"))
    print_close_time(s, 20)


def main():
    cmd = sys.argv[1]
    if cmd == "swap":
        port, aport = int(sys.argv[2]), int(sys.argv[3])
        swap(port, aport, sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7],
             int(sys.argv[8]), int(sys.argv[9]))
    elif cmd == "idle":
        idle(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
