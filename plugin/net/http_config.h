// [http flows] of ebpf.d/network.conf: the httpflow records and charts
// (net/http_source.h).
#pragma once

#include <string>

#include "core/config.h"
#include "httpflow.h"

struct HttpFlowsConfig {
    bool enabled = false;               // enabled = no: off unless asked for (every read and write is looked at)
    unsigned path_length = 256;         // path length = N: paths cut there (truncated = true), 1 to the capture
    unsigned max_connections = 16384;   // maximum connections = N: HTTP connections followed at once
};

// The user's network.conf, else the stock one. Problems: one `warn` line
// each, default kept.
HttpFlowsConfig load_http_flows_config(const ConfigDirs &dirs, const Warn &warn);
HttpFlowsConfig parse_http_flows_config(const std::string &path, const std::string &text, const Warn &warn);
