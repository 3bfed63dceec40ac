// The netflow record source: the probe, the reporter, and who owns a flow
// (app group from apps_groups.conf, cgroup and service), for `--records flows`
// and for the plugin's records sinks alike.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "accounting/cgroups.h"
#include "accounting/process_groups.h"
#include "net/flow_probe.h"
#include "net/flow_records.h"
#include "net/flows_config.h"
#include "records/stream.h"

class FlowSource {
public:
    // Loads and attaches the probe, so it needs the privileges still held.
    // nullptr and a one-line `error` when it cannot.
    static std::unique_ptr<FlowSource> start(const KernelSymbols &kernel, const FlowsConfig &config,
                                             const ProcessGroups &groups, std::string &error);

    // Emits the records of the flows that changed since the last call.
    void report(RecordStream &stream, uint64_t time_usec);

private:
    explicit FlowSource(const ProcessGroups &groups);
    FlowOwner owner(uint32_t pid, uint64_t cgroup_id);

    FlowProbe probe_;
    const ProcessGroups &groups_;
    CgroupDirectory cgroups_;
    std::unique_ptr<FlowReporter> reporter_;
    std::unordered_map<uint32_t, std::string> app_groups_;  // this report's, by pid
};
