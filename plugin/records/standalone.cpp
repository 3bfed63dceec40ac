#include "records/standalone.h"

#include <cstring>
#include <unistd.h>

#include "bash/bash_source.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "core/privileges.h"
#include "kernel/kernel.h"
#include "kernel/probe.h"
#include "net/dns_source.h"
#include "net/flow_source.h"
#include "net/http_source.h"
#include "records/sources.h"
#include "records/stream.h"
#include "traces/trace_source.h"

namespace {

// Records of the test source per tick: enough to see numbering and order.
constexpr int test_records_per_tick = 3;

void log_counts(const RecordStream &stream)
{
    for (const SinkCounts &sink : stream.counts())
        log_info("records: %llu emitted, %llu written to %s, %llu dropped",
                 static_cast<unsigned long long>(stream.emitted()), static_cast<unsigned long long>(sink.written),
                 sink.sink.c_str(), static_cast<unsigned long long>(sink.dropped));
}

// Loads the flow probe while the privileges are still held; nullptr (said on
// stderr) when it cannot.
std::unique_ptr<FlowSource> start_flows(const ConfigDirs &dirs, AttachPath attach, std::optional<ProcessGroups> &groups)
{
    FlowsConfig config;
    AppsGroups apps;
    {
        ActAsCaller caller;
        config = load_flows_config(dirs, log_error_line);
        apps = load_apps_groups(dirs, log_error_line);
    }
    if (started_setuid())
        clearenv(); // nothing from the caller's environment reaches libbpf
    KernelFacts facts = detect_kernel("/sys/kernel/btf");
    KernelSymbols symbols(facts.tracefs_path);
    groups.emplace(std::move(apps), "/proc");
    std::string error;
    std::unique_ptr<FlowSource> source = FlowSource::start(symbols, config, *groups, attach, error);
    if (!source)
        log_error("--records flows: %s", error.c_str());
    return source;
}

// Loads the httpflow programs while the privileges are still held (whatever
// `enabled` says: the user asked for them); nullptr (said on stderr) when it cannot.
std::unique_ptr<HttpFlowSource> start_http(const ConfigDirs &dirs, std::optional<ProcessGroups> &groups)
{
    HttpFlowsConfig config;
    AppsGroups apps;
    {
        ActAsCaller caller;
        config = load_http_flows_config(dirs, log_error_line);
        if (!groups)
            apps = load_apps_groups(dirs, log_error_line);
    }
    if (started_setuid())
        clearenv();
    KernelFacts facts = detect_kernel("/sys/kernel/btf");
    KernelSymbols symbols(facts.tracefs_path);
    if (!groups)
        groups.emplace(std::move(apps), "/proc");
    std::string error;
    std::unique_ptr<HttpFlowSource> source = HttpFlowSource::start(symbols, config, *groups, error);
    if (!source)
        log_error("--records httpflow: %s", error.c_str());
    return source;
}

// The bash probe, with the app groups the flows loaded when they did.
std::unique_ptr<BashSource> start_bash(const ConfigDirs &dirs, int update_every, std::optional<ProcessGroups> &groups)
{
    BashConfig config;
    std::optional<AppsGroups> apps;
    {
        ActAsCaller caller;
        config = load_bash_config(dirs, log_error_line);
        if (!groups)
            apps = load_apps_groups(dirs, log_error_line);
    }
    if (started_setuid())
        clearenv();
    if (!groups)
        groups.emplace(std::move(*apps), "/proc");
    std::string error;
    std::unique_ptr<BashSource> source = BashSource::start(config, *groups, update_every, error);
    if (!source)
        log_error("--records bash: %s", error.c_str());
    return source;
}

// Loads the DNS programs while the privileges are still held; nullptr (said
// on stderr) when they cannot.
std::unique_ptr<DnsSource> start_dns(const ConfigDirs &dirs, std::optional<ProcessGroups> &groups)
{
    FlowsConfig config;
    AppsGroups apps;
    {
        ActAsCaller caller;
        config = load_flows_config(dirs, log_error_line);
        apps = load_apps_groups(dirs, log_error_line);
    }
    if (started_setuid())
        clearenv();
    if (!groups)
        groups.emplace(std::move(apps), "/proc");
    std::string error;
    std::unique_ptr<DnsSource> source = DnsSource::start(config, *groups, error);
    if (!source)
        log_error("--records dnsflow: %s", error.c_str());
    return source;
}

// Loads the traces named on the command line (each on, whatever traces.conf
// says; its rate limits, ring size and cgroup apply); nullptr (said on stderr)
// when none can run.
std::unique_ptr<TraceSource> start_traces(const ConfigDirs &dirs, const std::set<unsigned> &kinds,
                                          std::optional<ProcessGroups> &groups)
{
    TracesConfig config;
    AppsGroups apps;
    {
        ActAsCaller caller;
        config = load_traces_config(dirs, log_error_line);
        if (!groups)
            apps = load_apps_groups(dirs, log_error_line);
    }
    if (started_setuid())
        clearenv();
    KernelFacts facts = detect_kernel("/sys/kernel/btf");
    KernelSymbols symbols(facts.tracefs_path);
    if (!groups)
        groups.emplace(std::move(apps), "/proc");
    std::string error;
    std::unique_ptr<TraceSource> source = TraceSource::start(symbols, config, kinds, *groups, error);
    if (!source)
        log_error("--records traces: %s", error.c_str());
    return source;
}

} // namespace

int run_records_mode(const std::string &names, int update_every, const ConfigDirs &dirs, AttachPath attach)
{
    std::vector<std::string> errors;
    std::set<std::string> selected = parse_record_names(names, errors);
    for (const std::string &error : errors)
        log_error("%s", error.c_str());
    bool test = selected.erase("test") > 0;
    bool flows = selected.erase("netflow") > 0;
    bool http = selected.erase("httpflow") > 0;
    bool bash = selected.erase("bash") > 0;
    bool dnsflow = selected.erase("dnsflow") > 0;
    std::set<unsigned> trace_kinds;
    for (const std::string &source : selected) {
        unsigned kind = trace_kind_of(source);
        if (kind < TRACE_KINDS)
            trace_kinds.insert(kind);
        else
            log_error("--records: '%s' records are not produced by this build yet", source.c_str());
    }
    std::optional<ProcessGroups> groups;
    std::unique_ptr<FlowSource> flow_source = flows ? start_flows(dirs, attach, groups) : nullptr;
    std::unique_ptr<HttpFlowSource> http_source = http ? start_http(dirs, groups) : nullptr;
    std::unique_ptr<BashSource> bash_source = bash ? start_bash(dirs, update_every, groups) : nullptr;
    std::unique_ptr<DnsSource> dns_source = dnsflow ? start_dns(dirs, groups) : nullptr;
    std::unique_ptr<TraceSource> trace_source = trace_kinds.empty() ? nullptr : start_traces(dirs, trace_kinds, groups);
    if (!test && !flow_source && !http_source && !bash_source && !dns_source && !trace_source) {
        log_error("--records: nothing to print; exiting");
        return 1;
    }
    // the test source needs no privilege at all; flows read their table
    std::string drop_error = drop_privileges((flow_source || http_source || dns_source || trace_source) && !capless_map_access_refusal().empty());
    if (!drop_error.empty()) {
        log_error("cannot drop privileges (%s); exiting", drop_error.c_str());
        return 1;
    }

    RecordStream stream(local_host_name(), 10000);
    stream.add_sink(make_fd_sink(STDOUT_FILENO));
    TestRecordSource source;
    ignore_stdin();
    log_summarize();
    Stop stop = run_event_loop(update_every, [&](uint64_t) {
        for (int i = 0; test && i < test_records_per_tick; ++i)
            stream.emit(source.next());
        if (flow_source)
            flow_source->report(&stream, realtime_usec());
        if (http_source)
            http_source->report(&stream, realtime_usec());
        if (bash_source)
            bash_source->report(&stream, update_every);
        if (dns_source)
            dns_source->report(&stream, realtime_usec());
        if (trace_source)
            trace_source->report(&stream);
        for (const std::string &line : stream.new_errors())
            log_error("%s", line.c_str());
        return !stream.any_broken();
    });
    if (stop.cause == StopCause::Signal)
        log_info("received SIG%s; stopping", sigabbrev_np(stop.signal));
    else
        log_info("stdout's reader went away; stopping");
    if (flow_source)  // what closed since the last tick
        flow_source->report(&stream, realtime_usec());
    if (http_source)
        http_source->report(&stream, realtime_usec());
    if (bash_source)  // what was read since the last tick
        bash_source->report(&stream, update_every);
    if (dns_source)  // the queries still waiting end as timed out
        dns_source->report(&stream, realtime_usec(), true);
    if (trace_source)
        trace_source->report(&stream, true);
    stream.stop(500);
    log_counts(stream);
    log_summarize();
    return 0;
}
