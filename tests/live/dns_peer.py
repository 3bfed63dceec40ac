#!/usr/bin/env python3
"""Both ends of tests/live/dns_test.py's DNS exchanges (run through a link to
python named as the process should be).

  dns_peer.py servfail IP   answers every UDP query on IP:53 with SERVFAIL
  dns_peer.py silent IP     reads every UDP query on IP:53 and never answers
      Both print "ready", then, when stdin closes, the number of queries read.
  dns_peer.py client PLAN   the queries of PLAN (JSON: a list of [how, server,
      name, count]; how: "glibc" (getaddrinfo, A and AAAA through resolv.conf),
      "udp" or "tcp" (one A query built here, sent to server:53), "garbage"
      (datagrams of 1 to count bytes to server:53), "burst" (count queries at
      once, answers not awaited), "connect" (getaddrinfo of name, then to each
      address it gives a TCP connection to port 53 with an A query for name),
      "http" (count GET requests, each on a connection of its own, to port
      server of name's first IPv4 address: the statuses)); prints one
      JSON line: per step the rcodes seen ("timeout" when none came); then
      waits for stdin to close.
"""
import http.client
import json
import random
import socket
import struct
import sys
import threading
import time


def question(name, qtype=1):
    labels = b"".join(bytes([len(label)]) + label.encode() for label in name.split("."))
    return labels + b"\0" + struct.pack(">HH", qtype, 1)


def serve(ip, answer):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ip, 53))
    count = [0]

    def loop():
        while True:
            data, peer = sock.recvfrom(2048)
            count[0] += 1
            if answer and len(data) >= 12:
                flags = 0x8182  # QR, RD, RA, SERVFAIL
                sock.sendto(data[:2] + struct.pack(">H", flags) + data[4:], peer)
    threading.Thread(target=loop, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()
    print(count[0], flush=True)


def raw_query(how, server, name):
    ident = random.getrandbits(16)
    message = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question(name)
    if how == "udp":
        sock = socket.socket(socket.AF_INET6 if ":" in server else socket.AF_INET, socket.SOCK_DGRAM)
        sock.settimeout(0.5)  # the silent server's: the plugin's own timeout decides
        sock.sendto(message, (server, 53))
        try:
            while True:
                data = sock.recv(2048)
                if data[:2] == message[:2]:
                    return data[3] & 15
        except socket.timeout:
            return "timeout"
        finally:
            sock.close()
    with socket.create_connection((server, 53), timeout=5) as sock:
        sock.sendall(struct.pack(">H", len(message)) + message)
        data = b""
        while len(data) < 4:
            chunk = sock.recv(2048)
            if not chunk:
                return "closed"
            data += chunk
        return data[5] & 15


def glibc_query(name):
    try:
        socket.getaddrinfo(name, None, socket.AF_UNSPEC, socket.SOCK_STREAM)
        return "found"
    except socket.gaierror as error:
        return error.strerror


def http_get(name, port):
    address = socket.getaddrinfo(name, port, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    for _ in range(50):  # the server may still be starting
        connection = http.client.HTTPConnection(address, port, timeout=5)
        try:
            connection.request("GET", "/")
            response = connection.getresponse()
            response.read()
            return response.status
        except ConnectionRefusedError:
            time.sleep(0.1)
        finally:
            connection.close()
    return "refused"


def client(plan):
    results = []
    for how, server, name, count in plan:
        if how == "burst":  # queries as fast as they go, answers not awaited
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for i in range(count):
                message = struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + question(name)
                sock.sendto(message, (server, 53))
            results.append(count)
            continue
        if how == "garbage":  # datagrams shorter than a DNS header, to port 53
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for i in range(count):
                sock.sendto(bytes([0xff] * (i + 1)), (server, 53))
            results.append(count)
            continue
        if how == "connect":  # the addresses a lookup gives, each connected to
            for _ in range(count):
                addresses = sorted({info[4][0] for info in socket.getaddrinfo(name, 53, socket.AF_UNSPEC,
                                                                                socket.SOCK_STREAM)})
                results.append([[address, raw_query("tcp", address, name)] for address in addresses])
            continue
        if how == "http":
            results.append([http_get(name, int(server)) for _ in range(count)])
            continue
        results.append([glibc_query(name) if how == "glibc" else raw_query(how, server, name) for _ in range(count)])
    print(json.dumps(results), flush=True)
    sys.stdin.read()


def main():
    role = sys.argv[1]
    if role == "client":
        client(json.loads(sys.argv[2]))
    else:
        serve(sys.argv[2], role == "servfail")


if __name__ == "__main__":
    main()
