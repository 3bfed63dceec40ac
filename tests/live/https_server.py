#!/usr/bin/env python3
"""http_test.py's HTTPS server: python's http.server (HTTP/1.1) behind OpenSSL (python's ssl module,
which calls libssl's SSL_read_ex and SSL_write_ex).

usage: https_server.py ADDRESS PORT DIRECTORY CERT KEY
"""
import functools
import http.server
import socket
import ssl
import sys


class DualStackServer(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def main():
    address, port, directory, cert, key = sys.argv[1:6]
    http.server.SimpleHTTPRequestHandler.protocol_version = "HTTP/1.1"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=directory)
    server = DualStackServer((address, int(port)), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
