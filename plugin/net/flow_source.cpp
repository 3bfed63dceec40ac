#include "net/flow_source.h"

#include <utility>

#include "core/log.h"

FlowSource::FlowSource(const ProcessGroups &groups)
    : owners_(groups)
{
}

std::unique_ptr<FlowSource> FlowSource::start(const KernelSymbols &kernel, const FlowsConfig &config,
                                              const ProcessGroups &groups, AttachPath path, std::string &error,
                                              std::vector<ChartDef> viewer_charts)
{
    std::unique_ptr<FlowSource> source(new FlowSource(groups));
    error = source->probe_.start(kernel, config.max_connections, path);
    if (!error.empty())
        return nullptr;
    log_info("flows: on the %s path", attach_path_name(source->probe_.path()));
    std::string nat_error;
    source->nat_ = ConntrackNat::open(nat_error);
    if (source->nat_)
        log_info("flows: NAT tags from conntrack's events");
    else
        log_info("flows: no NAT tags: %s", nat_error.c_str());
    FlowFilter filter = parse_flow_filter_logged(config.filter);
    PortRange ephemeral = config.ephemeral_port
                              ? PortRange{static_cast<uint16_t>(config.ephemeral_port), 65535}
                              : read_port_range("/proc/sys/net/ipv4/ip_local_port_range");
    source->reporter_ = std::make_unique<FlowReporter>(
        source->probe_.table_fd(), std::move(filter), ephemeral,
        [raw = source.get()](uint32_t pid, uint64_t cgroup_id, std::string_view comm) {
            return raw->owners_.owner(pid, cgroup_id, comm);
        },
        source->nat_.get());
    if (!viewer_charts.empty()) {
        source->viewer_ = std::make_unique<NetworkViewer>(config.viewer, ephemeral, std::move(viewer_charts));
        source->reporter_->set_observer([viewer = source->viewer_.get()](const flow_value &flow,
                                                                        const FlowCounts &before) {
            viewer->observe(flow, before);
        });
        log_info("network viewer: up to %u destinations per chart, the rest in 'other'",
                 config.viewer.maximum_dimensions);
    }
    return source;
}

void FlowSource::report(RecordStream *stream, uint64_t time_usec)
{
    owners_.begin_report();
    for (auto *scope : {&app_totals_, &cgroup_totals_, &service_totals_})
        for (auto &[name, totals] : *scope)
            totals.rtt_sum = totals.rtt_samples = 0;
    reporter_->report(time_usec, [&](Record record, uint64_t cgroup_id) {
        count(record, cgroup_id);
        if (stream)
            stream->emit(std::move(record));
    });
    if (nat_ && nat_->lost() != nat_lost_said_) {
        log_error("flows: %llu conntrack events lost so far (receive buffer or entry limit full); "
                  "some flows have no NAT tags",
                  static_cast<unsigned long long>(nat_->lost()));
        nat_lost_said_ = nat_->lost();
    }
}

namespace {

template <typename Value>
Value field_of(const Record &record, std::string_view name)
{
    for (const Field &field : record.fields)
        if (field.name == name)
            return std::get<Value>(field.value);
    return Value{};
}

} // namespace

void FlowSource::count(const Record &record, uint64_t cgroup_id)
{
    if (field_of<std::string>(record, "transport") != "tcp")
        return;
    auto add = [&](std::map<std::string, Totals> &scope, const std::string &name) {
        if (name.empty())
            return;
        Totals &totals = scope[name];
        totals.established += field_of<uint64_t>(record, "tcp_established");
        totals.closed += field_of<uint64_t>(record, "tcp_closed");
        totals.retransmits += field_of<uint64_t>(record, "retransmits");
        if (uint64_t rtt = field_of<uint64_t>(record, "rtt")) {
            totals.rtt_sum += rtt;
            ++totals.rtt_samples;
        }
        totals.cgroup_id = cgroup_id;
    };
    std::string app_group = field_of<std::string>(record, "app_group");
    if (!app_group.starts_with('-'))  // a hidden group has no chart
        add(app_totals_, app_group);
    std::string service = field_of<std::string>(record, "service");
    add(service.empty() ? cgroup_totals_ : service_totals_,
        service.empty() ? field_of<std::string>(record, "cgroup") : service);
}

void FlowSource::add_counters(Snapshot &snapshot)
{
    // a removed cgroup's charts go: its totals with it
    for (auto *scope : {&cgroup_totals_, &service_totals_})
        std::erase_if(*scope, [&](const auto &entry) { return !owners_.cgroup(entry.second.cgroup_id); });
    // An app group, cgroup or service seen for the first time sends 0 first: the agent takes a
    // new dimension's first value of a running total as its baseline, and would lose the
    // connections of that interval (seen in e2e: 10 of a new cgroup's 12). They follow next time.
    auto put = [](std::map<std::string, Totals> &scope, std::map<std::string, Counters> &to) {
        for (auto &[name, totals] : scope) {
            Counters &counters = to[name];
            bool first = !std::exchange(totals.charted, true);
            counters["flows_tcp_established"] = first ? 0 : static_cast<int64_t>(totals.established);
            counters["flows_tcp_closed"] = first ? 0 : static_cast<int64_t>(totals.closed);
            counters["flows_tcp_retransmits"] = first ? 0 : static_cast<int64_t>(totals.retransmits);
            if (totals.rtt_samples)
                counters["flows_tcp_rtt"] = static_cast<int64_t>(totals.rtt_sum / totals.rtt_samples);
        }
    };
    put(app_totals_, snapshot.apps);
    put(cgroup_totals_, snapshot.cgroups);
    put(service_totals_, snapshot.services);
}
