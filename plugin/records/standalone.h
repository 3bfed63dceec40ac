// `ebpf.plugin --records NAME[,NAME...]`: records as JSON lines on stdout
// (for jq or a log shipper) instead of the plugins.d protocol, until a signal
// or until stdout's reader goes away.
#pragma once

#include <string>

#include "core/config.h"

// Returns the process exit code. `dirs`: where network.conf and
// apps_groups.conf are read (as the caller) for flows.
// `attach`: --attach, the flows' path (Auto: tracepoints, else trampolines).
int run_records_mode(const std::string &names, int update_every, const ConfigDirs &dirs, AttachPath attach);
