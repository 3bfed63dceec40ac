#!/usr/bin/env python3
"""The client of http_test.py, run in its own network namespace.

http_client.py PLAN_JSON: PLAN is {"server": ADDRESS, "port": PORT, "tls": BOOL, "connections": [[BATCH, ...], ...]}
(tls: through python's ssl module, i.e. libssl, certificate not checked), a BATCH
a list of [METHOD, PATH] sent in one write (more than one: pipelined), whose answers are then peeked
at (MSG_PEEK) and read in full (Content-Length; none after HEAD, 204 or 304). Each connection is fresh; its batches share it
(keep-alive). Prints one JSON line per request: method, path, status, request and response bytes,
the local port; then "done", and exits when its stdin closes (its app group is read while it runs).
"""
import json
import socket
import ssl
import sys


def read_answer(conn, buffer, method):
    """(status, bytes of the whole answer, the buffer left over)."""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            raise SystemExit("connection closed inside a head")
        buffer += chunk
    head, rest = buffer.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, value = line.split(b":", 1)
        if name.strip().lower() == b"content-length":
            length = int(value)
    if method == "HEAD" or status in (204, 304):
        length = 0
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            raise SystemExit("connection closed inside a body")
        rest += chunk
    return status, len(head) + 4 + length, rest[length:]


def main():
    plan = json.loads(sys.argv[1])
    family = socket.AF_INET6 if ":" in plan["server"] else socket.AF_INET
    tls = plan.get("tls", False)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    for batches in plan["connections"]:
        with socket.socket(family, socket.SOCK_STREAM) as plain:
            plain.connect((plan["server"], plan["port"]))
            conn = context.wrap_socket(plain) if tls else plain
            port = conn.getsockname()[1]
            for batch in batches:
                requests = [f"{m} {p} HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\n\r\n".encode() if m == "POST"
                            else f"{m} {p} HTTP/1.1\r\nHost: test\r\n\r\n".encode() for m, p in batch]
                conn.sendall(b"".join(requests))
                if not tls:
                    conn.recv(16, socket.MSG_PEEK)  # read again below: counted once
                buffer = b""
                for (method, path), request in zip(batch, requests):
                    status, size, buffer = read_answer(conn, buffer, method)
                    print(json.dumps({"method": method, "path": path, "status": status, "request_bytes": len(request),
                                      "response_bytes": size, "port": port}), flush=True)
    print("done", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
