// The workload's socket part (workload_socket.cpp).
#pragma once

#include <string>

struct SocketWork {
    long tcp = 0;        // TCP connections per address family (IPv4, IPv6) over loopback
    long tcp_bytes = 0;  // bytes each way per connection, in one send and one recv
    long udp = 0;        // UDP datagrams each way per address family
    long udp_size = 0;   // bytes per datagram
    long errors = 0;     // failing TCP and UDP sends and receives, each (IPv4)
    std::string netns;   // a network namespace to provoke retransmits in (/run/netns/<name>)
};

// Does the work; returns the TCP retransmits the kernel counted on its sockets.
long run_socket_work(const SocketWork &work);
