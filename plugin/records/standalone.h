// `ebpf.plugin --records NAME[,NAME...]`: records as JSON lines on stdout
// (for jq or a log shipper) instead of the plugins.d protocol, until a signal
// or until stdout's reader goes away.
#pragma once

#include <string>

// Returns the process exit code.
int run_records_mode(const std::string &names, int update_every);
