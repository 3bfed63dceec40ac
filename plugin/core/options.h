// Command line: `ebpf.plugin [update_every] [options]`, as the agent starts it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/config.h"

struct Options {
    int update_every = 1;           // argv[1] from the agent
    bool help = false;
    bool version = false;
    bool check = false;             // print what each attach path can do here, then exit
    bool verify = false;            // load and attach every program set once, then exit
    std::optional<AttachPath> attach; // --attach: this path only, no fallback
    std::optional<std::string> records; // --records NAME[,NAME...]: JSON lines on stdout, no charts
    std::vector<std::string> errors;
};

Options parse_options(const std::vector<std::string> &arguments);
const char *usage_text();
