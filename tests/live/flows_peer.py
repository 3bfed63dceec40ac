#!/usr/bin/env python3
"""Both ends of flows_test.py's connections, each run in its own network namespace.

server ADDRESS [udp=PORT] PORT...: answers datagrams on the UDP port; accepts on each port (ADDRESS "::": IPv6 and IPv4, the latter as
    IPv4-mapped IPv6 sockets); per connection reads until EOF, then
    answers with the bytes the request's first line asks for and closes.
client PLAN_JSON: makes the plan's connections one after another and prints, per
    connection, its local port, how long the whole exchange took (µs), its receives that
    returned bytes and the kernel's count of its retransmitted segments (TCP_INFO), as
    JSON (a connection with "pause" waits that long after it); then its "burst" of short
    connections (request + i, answer + i bytes), and exits when its stdin closes.
    The server prints, per connection once it is closed, the peer's port and the
    kernel's count of the server side's retransmits: {"port": P, "retrans": N}.
    A connection with "hold" sends half its request, waits that long, sends the rest;
    with "drop" the acknowledgements it gets are dropped by an nftables rule for that
    long (so its segments are retransmitted).
"""
import json
import socket
import struct
import subprocess
import sys
import threading
import time


def read_all(conn, calls=None):
    """calls: a list that gets one entry per receive that returned bytes."""
    data = bytearray()
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return bytes(data)
        if calls is not None:
            calls.append(len(chunk))
        data += chunk


def tcp_info(conn):
    """(state, total retransmits) of struct tcp_info: tcpi_state is byte 0, tcpi_total_retrans the
    u32 at byte 100 (the kernel's own count; under emulation a slow ACK can cause one)."""
    info = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return info[0], struct.unpack_from("I", info, 100)[0]


TCP_CLOSE = 7
lock = threading.Lock()


def serve(conn):
    with conn:
        port = conn.getpeername()[1]
        request = read_all(conn)
        answer = int(request.split(b"\n", 1)[0])
        conn.sendall(b"r" * answer)
        conn.shutdown(socket.SHUT_WR)
        # closed once the peer acknowledged the answer and the FIN: no retransmit after that
        deadline = time.monotonic() + 10
        while tcp_info(conn)[0] != TCP_CLOSE and time.monotonic() < deadline:
            time.sleep(0.01)
        with lock:
            print(json.dumps({"port": port, "retrans": tcp_info(conn)[1]}), flush=True)


def udp_answer(address, port):
    """Answers each datagram with twice its bytes, from an unconnected socket."""
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((address, port))
    while True:
        data, peer = sock.recvfrom(65536)
        sock.sendto(b"u" * (2 * len(data)), peer)


def server(address, ports, udp_port=None):
    if udp_port:
        threading.Thread(target=udp_answer, args=(address, udp_port), daemon=True).start()
    listeners = []
    for port in ports:
        listener = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if ":" in address:
            listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        listener.bind((address, port))
        listener.listen(64)
        listeners.append(listener)

    def accept_loop(listener):
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    for listener in listeners[1:]:
        threading.Thread(target=accept_loop, args=(listener,), daemon=True).start()
    print("listening", flush=True)
    accept_loop(listeners[0])


def nft(script):
    subprocess.run(["nft", "-f", "-"], input=script, text=True, check=True)


def client(plan):
    done = []
    for c in plan["connections"]:
        request = (str(c["answer"]) + "\n").encode()
        request += b"q" * (c["request"] - len(request))
        start = time.monotonic()
        server, own = c.get("server", plan["server"]), c.get("client", plan["client"])
        conn = socket.socket(socket.AF_INET6 if ":" in server else socket.AF_INET)
        if c.get("bind"):
            conn.bind((own, c["bind"]))
        conn.connect((server, c["port"]))
        port = conn.getsockname()[1]
        if c.get("drop"):
            # the acknowledgements are lost, not the segments: a segment dropped
            # on its way out fails its send and is no retransmit of the kernel's
            nft("table inet flows_test {\n chain in {\n type filter hook input priority 0;\n"
                f" tcp dport {port} drop\n }}\n}}\n")
            conn.sendall(request)
            time.sleep(c["drop"])
            nft("delete table inet flows_test")
        elif c.get("hold"):
            conn.sendall(request[:len(request) // 2])
            time.sleep(c["hold"])
            conn.sendall(request[len(request) // 2:])
        else:
            conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)
        calls = []
        answer = read_all(conn, calls)  # the server's FIN: everything this side sent is acknowledged
        retrans = tcp_info(conn)[1]
        conn.close()
        done.append({"port": port, "exchange_us": int((time.monotonic() - start) * 1e6),
                     "answer_bytes": len(answer), "receives": len(calls), "retrans": retrans})
        time.sleep(c.get("pause", 0))
    burst = plan.get("burst", {})
    burst_retrans = 0
    for i in range(burst.get("count", 0)):  # short connections from ephemeral ports, all in one go
        conn = socket.create_connection((plan["server"], burst["port"]))
        conn.sendall((str(burst["answer"] + i) + "\n").encode().ljust(burst["request"] + i, b"q"))
        conn.shutdown(socket.SHUT_WR)
        got = len(read_all(conn))
        burst_retrans += tcp_info(conn)[1]
        conn.close()
        if got != burst["answer"] + i:
            raise SystemExit(f"burst connection {i}: {got} bytes back")
    udp = plan.get("udp")
    if udp:  # a connected UDP socket: each datagram answered with twice its bytes
        conn = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        conn.bind((plan["client"], udp["bind"]))
        conn.connect((plan["server"], udp["port"]))
        for size in udp["sizes"]:
            conn.send(b"d" * size)
            if len(conn.recv(65536)) != 2 * size:
                raise SystemExit("udp: a short answer")
        conn.close()
    print(json.dumps(done + ([{"burst_retrans": burst_retrans}] if burst else [])), flush=True)
    sys.stdin.read()  # alive until told: a flow's app group is read from /proc


if __name__ == "__main__":
    if sys.argv[1] == "server":
        udp_ports = [int(a[4:]) for a in sys.argv[3:] if a.startswith("udp=")]
        server(sys.argv[2], [int(p) for p in sys.argv[3:] if not p.startswith("udp=")],
               udp_ports[0] if udp_ports else None)
    else:
        client(json.loads(sys.argv[2]))
