// [network connections] and [dns flows] of ebpf.d/network.conf, the keys the
// flows read (the rest belongs to upstream's network viewer, core/config.cpp).
#pragma once

#include <string>

#include "core/config.h"

struct FlowsConfig {
    unsigned max_connections = 16384;  // maximum number of connections = 16384 (the BPF table's size)
    std::string filter;                // netlog filter = rules (net/filter.h), ';' between them
    unsigned ephemeral_port = 0;       // ephemeral port = N (DataKit's): ports from N up are folded;
                                       // 0: the kernel's ip_local_port_range
    // [dns flows]
    bool dns_enabled = false;           // enabled = yes: DNS charts, and dnsflow records to the sinks
    unsigned dns_timeout_ms = 5000;     // timeout = seconds (0.1 to 300): an unanswered query ends with rcode -1
    unsigned dns_ring_kib = 1024;       // ring buffer size = KiB (a power of two, 64 to 65536)
};

// The user's network.conf, else the stock one (whole-file precedence, as
// core/config.cpp reads it). Problems: one `warn` line each, default kept.
FlowsConfig load_flows_config(const ConfigDirs &dirs, const Warn &warn);
FlowsConfig parse_flows_config(const std::string &path, const std::string &text, const Warn &warn);
