#include "traces/trace_source.h"

#include <bpf/libbpf.h>
#include <csignal>
#include <cstring>
#include <ctime>

#include "core/log.h"

namespace {

int64_t realtime_minus_monotonic_ns()
{
    timespec realtime{}, monotonic{};
    clock_gettime(CLOCK_REALTIME, &realtime);
    clock_gettime(CLOCK_MONOTONIC, &monotonic);
    return (static_cast<int64_t>(realtime.tv_sec) - monotonic.tv_sec) * 1000000000LL +
           (static_cast<int64_t>(realtime.tv_nsec) - monotonic.tv_nsec);
}

uint64_t monotonic_seconds()
{
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<uint64_t>(now.tv_sec);
}

// The signals charted by name (charts/traces.conf); any other is "other".
std::string signal_counter(int signal)
{
    switch (signal) {
    case SIGHUP: return "trace_signal_hup";
    case SIGINT: return "trace_signal_int";
    case SIGQUIT: return "trace_signal_quit";
    case SIGKILL: return "trace_signal_kill";
    case SIGUSR1: return "trace_signal_usr1";
    case SIGUSR2: return "trace_signal_usr2";
    case SIGTERM: return "trace_signal_term";
    case SIGCHLD: return "trace_signal_chld";
    case SIGCONT: return "trace_signal_cont";
    case SIGSTOP: return "trace_signal_stop";
    default: return "trace_signal_other";
    }
}

} // namespace

TraceSource::TraceSource(const ProcessGroups &groups)
    : owners_(groups)
{
}

TraceSource::~TraceSource()
{
    if (ring_)
        ring_buffer__free(ring_);
}

std::unique_ptr<TraceSource> TraceSource::start(const KernelSymbols &kernel, const TracesConfig &config,
                                                const std::set<unsigned> &kinds, const ProcessGroups &groups,
                                                std::string &error)
{
    std::unique_ptr<TraceSource> source(new TraceSource(groups));
    error = source->probe_.start(kernel, config, kinds);
    for (unsigned kind : kinds)
        if (!source->probe_.problems()[kind].empty())
            log_error("traces: trace_%s cannot run: %s", trace_name(kind), source->probe_.problems()[kind].c_str());
    if (!error.empty())
        return nullptr;
    source->ring_ = ring_buffer__new(source->probe_.ring_fd(), on_event, source.get(), nullptr);
    if (!source->ring_) {
        error = "cannot read the ring buffer: " + errno_text(-errno);
        return nullptr;
    }
    std::string names;
    for (unsigned kind : source->probe_.running())
        names += std::string(names.empty() ? "" : ", ") + "trace_" + trace_name(kind);
    const std::set<unsigned> &running = source->probe_.running();
    bool uprobes = running.contains(TRACE_MALLOC), tracepoints = running.size() > (uprobes ? 1 : 0);
    log_info("traces: %s on %s, ring buffer %llu KiB", names.c_str(),
             uprobes && tracepoints ? "syscall tracepoints and uprobes" : uprobes ? "uprobes" : "syscall tracepoints",
             static_cast<unsigned long long>(config.ring_bytes >> 10));
    return source;
}

TraceOwner TraceSource::owner(const traced_event &event)
{
    std::string_view comm(event.comm, strnlen(event.comm, sizeof(event.comm)));
    return owners_.owner(event.pid, event.cgroup_id, comm, event.kind == TRACE_EXEC ? event.exec.ppid : 0);
}

int TraceSource::on_event(void *context, void *data, size_t size)
{
    auto *self = static_cast<TraceSource *>(context);
    std::optional<traced_event> event = decode_trace_event(data, size);
    if (!event)
        return 0;
    TraceOwner owner = self->owner(*event);
    self->count(*event, owner);
    if (!owner.cgroup.empty())
        self->cgroup_ids_[owner.service.empty() ? owner.cgroup : owner.service] = event->cgroup_id;
    if (self->stream_)
        self->stream_->emit(trace_record(*event, owner, self->realtime_offset_ns_));
    return 0;
}

void TraceSource::count(const traced_event &event, const TraceOwner &owner)
{
    if (event.kind == TRACE_SIGNAL)
        ++signals_[signal_counter(event.signal.signal)];
    if (!owner.app_group.empty() && !owner.app_group.starts_with('-'))  // a hidden group has no chart
        ++app_counts_[owner.app_group][event.kind];
    if (!owner.service.empty())
        ++service_counts_[owner.service][event.kind];
    else if (!owner.cgroup.empty())
        ++cgroup_counts_[owner.cgroup][event.kind];
}

void TraceSource::report(RecordStream *stream, bool final)
{
    owners_.begin_report();
    stream_ = stream;
    realtime_offset_ns_ = realtime_minus_monotonic_ns();
    ring_buffer__consume(ring_);
    stream_ = nullptr;
    if (!probe_.read_counts(outcomes_))
        return;
    // a busy host drops every second: said at most once a minute, and at the end
    uint64_t now = monotonic_seconds();
    for (unsigned kind = 0; kind < TRACE_KINDS; ++kind) {
        uint64_t ring_full = outcomes_[kind][TRACE_RING_FULL], limited = outcomes_[kind][TRACE_RATE_LIMITED];
        if (ring_full + limited == dropped_said_[kind] || (!final && dropped_said_at_[kind] &&
                                                           now < dropped_said_at_[kind] + 60))
            continue;
        log_error("traces: trace_%s: %llu events dropped so far (%llu the ring buffer was full, %llu over the "
                  "records per second)",
                  trace_name(kind), static_cast<unsigned long long>(ring_full + limited),
                  static_cast<unsigned long long>(ring_full), static_cast<unsigned long long>(limited));
        dropped_said_[kind] = ring_full + limited;
        dropped_said_at_[kind] = now;
    }
}

std::set<std::string> TraceSource::hidden_counters() const
{
    std::set<std::string> hidden;
    for (unsigned kind = 0; kind < TRACE_KINDS; ++kind) {
        if (probe_.running().contains(kind))
            continue;
        std::string name = trace_name(kind);
        for (const char *prefix : {"trace_", "trace_emitted_", "trace_ring_full_", "trace_rate_limited_"})
            hidden.insert(prefix + name);
    }
    return hidden;
}

void TraceSource::add_counters(Snapshot &snapshot)
{
    for (unsigned kind = 0; kind < TRACE_KINDS; ++kind) {
        if (!probe_.running().contains(kind))
            continue;
        std::string name = trace_name(kind);
        const auto &outcome = outcomes_[kind];
        snapshot.system["trace_" + name] =
            static_cast<int64_t>(outcome[TRACE_EMITTED] + outcome[TRACE_RING_FULL] + outcome[TRACE_RATE_LIMITED]);
        snapshot.system["trace_emitted_" + name] = static_cast<int64_t>(outcome[TRACE_EMITTED]);
        snapshot.system["trace_ring_full_" + name] = static_cast<int64_t>(outcome[TRACE_RING_FULL]);
        snapshot.system["trace_rate_limited_" + name] = static_cast<int64_t>(outcome[TRACE_RATE_LIMITED]);
    }
    if (probe_.running().contains(TRACE_SIGNAL))
        for (const char *counter : {"trace_signal_hup", "trace_signal_int", "trace_signal_quit", "trace_signal_kill",
                                    "trace_signal_usr1", "trace_signal_usr2", "trace_signal_term", "trace_signal_chld",
                                    "trace_signal_cont", "trace_signal_stop", "trace_signal_other"})
            snapshot.system[counter] = static_cast<int64_t>(signals_[counter]);
    // a removed cgroup's charts go: its counts with it
    std::erase_if(cgroup_ids_, [&](const auto &entry) { return !owners_.cgroup(entry.second); });
    for (auto *scope : {&cgroup_counts_, &service_counts_})
        std::erase_if(*scope, [&](const auto &entry) { return !cgroup_ids_.contains(entry.first); });
    auto put = [&](const std::map<std::string, PerTrace> &scope, std::map<std::string, Counters> &to) {
        for (const auto &[group, counts] : scope)
            for (unsigned kind : probe_.running())
                to[group]["trace_" + std::string(trace_name(kind))] = static_cast<int64_t>(counts[kind]);
    };
    put(app_counts_, snapshot.apps);
    put(cgroup_counts_, snapshot.cgroups);
    put(service_counts_, snapshot.services);
}
