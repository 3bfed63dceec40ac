#include "records/standalone.h"

#include <cstring>
#include <unistd.h>
#include <utility>

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

// Starts one source while the privileges are still held: its configuration
// (`load`) and, unless an earlier source did, the app groups are read as the
// caller, the caller's environment is cleared (nothing of it reaches libbpf),
// then `start(config, groups, error)`. nullptr, said on stderr, when it cannot.
template <typename Load, typename Start>
auto start_source(const char *name, const ConfigDirs &dirs, std::optional<ProcessGroups> &groups, Load load,
                  Start start)
{
    decltype(load()) config;
    std::optional<AppsGroups> apps;
    {
        ActAsCaller caller;
        config = load();
        if (!groups)
            apps = load_apps_groups(dirs, log_error_line);
    }
    if (started_setuid())
        clearenv();
    if (!groups)
        groups.emplace(std::move(*apps), "/proc");
    std::string error;
    auto source = start(config, *groups, error);
    if (!source)
        log_error("--records %s: %s", name, error.c_str());
    return source;
}

KernelSymbols kernel_symbols()
{
    return KernelSymbols(detect_kernel("/sys/kernel/btf").tracefs_path);
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
    if (std::string refusal = other_users_activity_refusal(); !refusal.empty()) {
        auto refuse = [&](const std::string &name) {
            log_error("--records %s: refused: %s", name.c_str(), refusal.c_str());
        };
        for (auto [asked, name] :
             {std::pair{&flows, "netflow"}, {&http, "httpflow"}, {&bash, "bash"}, {&dnsflow, "dnsflow"}})
            if (std::exchange(*asked, false))
                refuse(name);
        // malloc's uprobes go on the caller's own processes only (traces/trace_probe.h)
        std::erase_if(trace_kinds, [&](unsigned kind) {
            if (kind == TRACE_MALLOC)
                return false;
            refuse(trace_name(kind));
            return true;
        });
    }
    std::optional<ProcessGroups> groups;
    // each source asked for starts, whatever its configuration's `enabled` says
    auto flows_config = [&] { return load_flows_config(dirs, log_error_line); };
    std::unique_ptr<FlowSource> flow_source;
    if (flows)
        flow_source = start_source("flows", dirs, groups, flows_config, [&](auto &config, auto &apps, auto &error) {
            return FlowSource::start(kernel_symbols(), config, apps, attach, error);
        });
    std::unique_ptr<HttpFlowSource> http_source;
    if (http)
        http_source = start_source(
            "httpflow", dirs, groups, [&] { return load_http_flows_config(dirs, log_error_line); },
            [&](auto &config, auto &apps, auto &error) {
                return HttpFlowSource::start(kernel_symbols(), config, apps, error);
            });
    std::unique_ptr<BashSource> bash_source;
    if (bash)
        bash_source = start_source(
            "bash", dirs, groups, [&] { return load_bash_config(dirs, log_error_line); },
            [&](auto &config, auto &apps, auto &error) {
                return BashSource::start(config, apps, update_every, error);
            });
    std::unique_ptr<DnsSource> dns_source;
    if (dnsflow)
        dns_source = start_source("dnsflow", dirs, groups, flows_config, [](auto &config, auto &apps, auto &error) {
            return DnsSource::start(config, apps, error);
        });
    std::unique_ptr<TraceSource> trace_source;
    if (!trace_kinds.empty())
        trace_source = start_source(
            "traces", dirs, groups, [&] { return load_traces_config(dirs, log_error_line); },
            [&](auto &config, auto &apps, auto &error) {
                return TraceSource::start(kernel_symbols(), config, trace_kinds, apps, error);
            });
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

    // the DNS answers name the flows' and HTTP requests' destinations (dst_domain)
    DomainNames domain_names;
    if (dns_source)
        dns_source->share_domain_names(domain_names, flow_source.get(), http_source.get());
    RecordStream stream(local_host_name(), 10000);
    stream.add_sink(make_fd_sink(STDOUT_FILENO));
    TestRecordSource source;
    ignore_stdin();
    log_summarize();
    Stop stop = run_event_loop(update_every, [&](uint64_t) {
        for (int i = 0; test && i < test_records_per_tick; ++i)
            stream.emit(source.next());
        if (dns_source)  // first: its answers name what the others report
            dns_source->report(&stream, realtime_usec());
        if (flow_source)
            flow_source->report(&stream, realtime_usec());
        if (http_source)
            http_source->report(&stream, realtime_usec());
        if (bash_source)
            bash_source->report(&stream, update_every);
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
    if (dns_source)  // the queries still waiting end as timed out
        dns_source->report(&stream, realtime_usec(), true);
    if (flow_source)  // what closed since the last tick
        flow_source->report(&stream, realtime_usec());
    if (http_source)
        http_source->report(&stream, realtime_usec());
    if (bash_source)  // what was read since the last tick
        bash_source->report(&stream, update_every);
    if (trace_source)
        trace_source->report(&stream, true);
    stream.stop(500);
    log_counts(stream);
    log_summarize();
    return 0;
}
