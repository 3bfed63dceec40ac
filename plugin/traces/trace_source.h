// The trace record source: the probe, its ring buffer, who each event's
// process belongs to (app group from apps_groups.conf, cgroup and service),
// and the counts behind the trace charts (charts/traces.conf), for
// `--records exec,...` and for the plugin's records sinks alike.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "accounting/owner_resolver.h"
#include "core/publisher.h"
#include "records/stream.h"
#include "traces/trace_probe.h"
#include "traces/trace_records.h"

struct ring_buffer;

class TraceSource {
public:
    // Loads and attaches the traces in `kinds` (traces/trace_probe.h), so it
    // needs the privileges still held. nullptr and a one-line `error` when
    // none can run; one that cannot is said on stderr and the others run.
    static std::unique_ptr<TraceSource> start(const KernelSymbols &kernel, const TracesConfig &config,
                                              const std::set<unsigned> &kinds, const ProcessGroups &groups,
                                              std::string &error);
    ~TraceSource();
    TraceSource(const TraceSource &) = delete;
    TraceSource &operator=(const TraceSource &) = delete;

    // Reads every event in the ring into the counts, and emits their records
    // when there is a stream. Says new drops on stderr, at most once a minute
    // per trace, and whatever is new when `final` (at stop).
    void report(RecordStream *stream, bool final = false);
    // The charts' counters: per trace for the system (every event, dropped or
    // not) and the plugin (emitted, ring full, rate limited), per app group,
    // cgroup and service (the records read).
    void add_counters(Snapshot &snapshot);
    // Counters of the traces that do not run: their charts are left out.
    std::set<std::string> hidden_counters() const;
    const TraceProbe &probe() const { return probe_; }

private:
    using PerTrace = std::array<uint64_t, TRACE_KINDS>;

    explicit TraceSource(const ProcessGroups &groups);
    static int on_event(void *context, void *data, size_t size);
    TraceOwner owner(const traced_event &event);
    void count(const traced_event &event, const TraceOwner &owner);

    TraceProbe probe_;
    ring_buffer *ring_ = nullptr;
    OwnerResolver owners_;
    RecordStream *stream_ = nullptr;  // this report's
    int64_t realtime_offset_ns_ = 0;  // this report's
    std::array<std::array<uint64_t, TRACE_OUTCOMES>, TRACE_KINDS> outcomes_{};
    std::array<uint64_t, TRACE_KINDS> dropped_said_{};
    std::array<uint64_t, TRACE_KINDS> dropped_said_at_{};  // CLOCK_MONOTONIC seconds
    std::map<std::string, PerTrace> app_counts_, cgroup_counts_, service_counts_;
    std::map<std::string, uint64_t> cgroup_ids_;  // cgroup or service name -> id
    std::map<std::string, uint64_t> signals_;     // signal counter name -> signals sent
};
