// The netflow record source: the probe, the reporter, and who owns a flow
// (app group from apps_groups.conf, cgroup and service), for `--records flows`
// and for the plugin's records sinks alike.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "accounting/owner_resolver.h"
#include "core/publisher.h"
#include "accounting/process_groups.h"
#include "net/conntrack.h"
#include "net/flow_probe.h"
#include "net/flow_records.h"
#include "net/flows_config.h"
#include "net/network_viewer.h"
#include "records/stream.h"

class FlowSource {
public:
    // Loads and attaches the probe on `path` (net/flow_probe.h) and joins
    // conntrack's events (net/conntrack.h), so it needs the privileges still held. nullptr and a one-line `error` when it cannot.
    // With `viewer_charts` (charts/network_viewer.conf) the flows also feed the network viewer.
    static std::unique_ptr<FlowSource> start(const KernelSymbols &kernel, const FlowsConfig &config,
                                             const ProcessGroups &groups, AttachPath path, std::string &error,
                                             std::vector<ChartDef> viewer_charts = {});

    // Reads the flows that changed since the last call into the charts'
    // counters, and emits their records when there is a stream.
    void report(RecordStream *stream, uint64_t time_usec);
    // The charts' counters (charts/flows.conf) per app group, cgroup and
    // service: TCP connections established and closed and retransmits since
    // the start, and the mean RTT of the last report's TCP flows.
    void add_counters(Snapshot &snapshot);
    // The network viewer's charts (none without viewer charts at start).
    void publish_viewer(ChartRegistry &registry, uint64_t now_usec)
    {
        if (viewer_)
            viewer_->publish(registry, now_usec);
    }
    const FlowProbe &probe() const { return probe_; }
    // The DNS flows' names of destinations (dst_domain); null: none.
    void set_domain_names(const DomainNames *names) { reporter_->set_domain_names(names); }

private:
    struct Totals {
        uint64_t established = 0, closed = 0, retransmits = 0;
        uint64_t rtt_sum = 0, rtt_samples = 0;  // the last report's
        uint64_t cgroup_id = 0;
        bool charted = false;  // its first values went out (as 0: the agent's baseline)
    };

    explicit FlowSource(const ProcessGroups &groups);
    void count(const Record &record, uint64_t cgroup_id);

    FlowProbe probe_;
    std::unique_ptr<ConntrackNat> nat_;  // null: no NAT tags (said at start)
    uint64_t nat_lost_said_ = 0;
    OwnerResolver owners_;
    std::unique_ptr<FlowReporter> reporter_;
    std::unique_ptr<NetworkViewer> viewer_;
    std::map<std::string, Totals> app_totals_, cgroup_totals_, service_totals_;
};
