// ebpf.d/network.conf as the flows, their network viewer and the DNS flows read
// it ([global] connection table sizes, [network connections], [service name],
// [dns flows]); the socket module's keys are core/config.cpp's.
#pragma once

#include <string>

#include "core/config.h"
#include "net/viewer_config.h"

struct FlowsConfig {
    unsigned max_connections = 16384;  // maximum number of connections = 16384 (the BPF table's size); else
                                       // the sum of 1.37.1's ipv4, ipv6 and udp connection table sizes
    std::string filter;                // netlog filter = rules (net/filter.h), ';' between them
    unsigned ephemeral_port = 0;       // ephemeral port = N (DataKit's): ports from N up are folded;
                                       // 0: the kernel's ip_local_port_range
    NetworkViewerConfig viewer;        // ports, ips, hostnames, maximum dimensions, names
    // [dns flows]
    bool dns_enabled = false;           // enabled = yes: DNS charts, and dnsflow records to the sinks
    unsigned dns_timeout_ms = 5000;     // timeout = seconds (0.1 to 300): an unanswered query ends with rcode -1
    unsigned dns_ring_kib = 1024;       // ring buffer size = KiB (a power of two, 64 to 65536)
};

// The user's network.conf, else the stock one (whole-file precedence, as
// core/config.cpp reads it), and /etc/services. Problems: one `warn` line
// each, default kept.
FlowsConfig load_flows_config(const ConfigDirs &dirs, const Warn &warn);
FlowsConfig parse_flows_config(const std::string &path, const std::string &text, const Warn &warn,
                               const ServiceNames &services = {});
