// [network connections] of ebpf.d/network.conf, the keys the flows read
// (the rest belongs to upstream's network viewer, core/config.cpp).
#pragma once

#include <string>

#include "core/config.h"

struct FlowsConfig {
    unsigned max_connections = 16384;  // maximum number of connections = 16384 (the BPF table's size)
    std::string filter;                // netlog filter = rules (net/filter.h), ';' between them
    unsigned ephemeral_port = 0;       // ephemeral port = N (DataKit's): ports from N up are folded;
                                       // 0: the kernel's ip_local_port_range
};

// The user's network.conf, else the stock one (whole-file precedence, as
// core/config.cpp reads it). Problems: one `warn` line each, default kept.
FlowsConfig load_flows_config(const ConfigDirs &dirs, const Warn &warn);
FlowsConfig parse_flows_config(const std::string &path, const std::string &text, const Warn &warn);
