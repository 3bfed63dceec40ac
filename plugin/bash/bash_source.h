// The bash record source: DataKit's `bash` records (cmd, pid, user, message)
// from the command lines bash/bash_probe.h sees, with the uid, cgroup,
// service and app group added, and the charts' counters (charts/bash.conf),
// for `--records bash` and the plugin's normal run alike.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "accounting/owner_resolver.h"
#include "bash/bash_config.h"
#include "bash/bash_probe.h"
#include "core/publisher.h"
#include "records/stream.h"

class BashSource {
public:
    // Loads and attaches the probe (bash/bash_probe.h): needs the privileges
    // still held. nullptr and a one-line `error` when no binary could be probed;
    // each binary left out is one stderr line. `seconds`: until the first report.
    static std::unique_ptr<BashSource> start(const BashConfig &config, const ProcessGroups &groups, int seconds,
                                             std::string &error);

    // Emits a record per line read since the last call (to `stream` when
    // there is one), counts them, and opens the next rate-limit window of
    // `seconds` (the time until the next call).
    void report(RecordStream *stream, int seconds);
    // System counters bash_lines, bash_rate_dropped, bash_ring_dropped; per
    // app group, cgroup and service bash_commands.
    void add_counters(Snapshot &snapshot);
    const BashProbe &probe() const { return probe_; }

private:
    struct Totals {
        uint64_t commands = 0;
        uint64_t cgroup_id = 0;
    };

    BashSource(const ProcessGroups &groups, unsigned rate_limit);
    Record make_record(const struct bash_event &event, uint64_t realtime_now, uint64_t monotonic_now);
    const std::string &user_name(uint32_t uid);

    BashProbe probe_;
    OwnerResolver owners_;
    unsigned rate_limit_;
    uint64_t lines_ = 0;
    std::unordered_map<uint32_t, std::string> users_;  // uid -> login name, as looked up
    std::map<std::string, Totals> app_totals_, cgroup_totals_, service_totals_;
};
