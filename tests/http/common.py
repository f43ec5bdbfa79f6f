"""common.py: what the raw-socket test clients (client.py, admin.py)
share: the server's address, reading one HTTP/1.1 response, and timing
how long the server takes to close a connection."""
import socket
import time

HOST = "127.0.0.1"


def read_response(f):
    """One HTTP/1.1 response from a buffered socket file: (status, body)."""
    line = f.readline()
    if not line:
        return None, b""
    status = int(line.split()[1])
    length = 0
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n", b""):
            break
        name, _, value = h.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return status, f.read(length)


def print_close_time(s, timeout):
    """Reads socket s until the server closes it; prints "closed after N s"
    (counted from now), or "open" when it is still open after timeout s."""
    start = time.monotonic()
    s.settimeout(timeout)
    try:
        while s.recv(4096):
            pass
    except socket.timeout:
        print("open")
        return
    except ConnectionResetError:
        pass  # a reset closes it too
    print("closed after %d s" % round(time.monotonic() - start))
