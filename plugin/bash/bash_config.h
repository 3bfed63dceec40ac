// ebpf.d/bash.conf, [bash]: the bash command log (docs/RECORDS.md, "bash").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"

struct BashConfig {
    bool enabled = false;                         // enabled = no: off unless asked for
    std::vector<std::string> binaries{"/bin/bash"};  // binaries = /bin/bash (absolute paths, blank-separated)
    uint64_t ring_buffer_bytes = 512 << 10;       // ring buffer size = 512k (rounded up to a power of 2)
    unsigned rate_limit = 100;                    // rate limit = 100 (lines a second host-wide; 0: none)
};

// The user's bash.conf, else the stock one; neither: the defaults. Every
// problem is one `warn` line and the default is kept.
BashConfig load_bash_config(const ConfigDirs &dirs, const Warn &warn);
BashConfig parse_bash_config(const std::string &path, const std::string &text, const Warn &warn);
