// ebpf.plugin: start-up order, then the event loop.
//   1. read the command line, configuration and apps groups (as the caller)
//   2. learn the kernel, start every enabled module on the first attach path that works
//   3. drop every privilege
//   4. every update_every seconds: collect, publish, flush
#include <algorithm>
#include <bpf/libbpf.h>
#include <cerrno>
#include <csignal>
#include <set>
#include <numeric>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>
#include <utility>

#include "kernel/attach.h"
#include "core/chart_registry.h"
#include "kernel/check.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/event_loop.h"
#include "core/log.h"
#include "kernel/kernel.h"
#include "kernel/table_budget.h"
#include "kernel/probe.h"
#include "core/options.h"
#include "core/privileges.h"
#include "core/protocol.h"
#include "core/publisher.h"
#include "net/conntrack.h"
#include "bash/bash_source.h"
#include "bash/uprobe_check.h"
#include "net/dns_source.h"
#include "net/flow_source.h"
#include "traces/trace_source.h"
#include "net/http_source.h"
#include "records/producer.h"
#include "records/records_config.h"
#include "records/standalone.h"
#include "records/stream.h"
#include "core/self_monitor.h"
#include "version.h"

namespace {

// libbpf's own messages are kept for debugging only: the reasons that matter
// are reported by the plugin, once, in one line.
int quiet_libbpf(enum libbpf_print_level level, const char *format, va_list args)
{
    if (level != LIBBPF_WARN || !getenv("EBPF_PLUGIN_LIBBPF_DEBUG"))
        return 0;
    char message[1024];
    vsnprintf(message, sizeof message, format, args);
    size_t length = strlen(message);
    if (length > 0 && message[length - 1] == '\n')
        message[length - 1] = '\0';
    log_error("libbpf: %s", message);
    return 0;
}

// A descriptor 0-2 closed at exec would be taken by the first file or BPF
// object we open. stdin and stderr get /dev/null (stdin then reads EOF: no
// agent); false when stdout is closed or not writable: nowhere to send data.
bool standard_fds_usable()
{
    for (int fd : {STDIN_FILENO, STDERR_FILENO})
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int null_fd = open("/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY);
            if (null_fd >= 0 && null_fd != fd) {
                dup2(null_fd, fd);
                close(null_fd);
            }
        }
    int flags = fcntl(STDOUT_FILENO, F_GETFL);
    return flags >= 0 && (flags & O_ACCMODE) != O_RDONLY;
}

void log_stop(const Stop &stop, const ProtocolWriter &out)
{
    switch (stop.cause) {
    case StopCause::Signal:
        log_info("received SIG%s; stopping", sigabbrev_np(stop.signal));
        break;
    case StopCause::InputClosed:
        log_info("stdin closed (the agent is gone); stopping");
        break;
    case StopCause::OutputFailed:
        log_error("cannot write to stdout (%s); stopping", strerror(out.error()));
        break;
    }
}

// The agent's directories. A setuid start reads them with the caller's rights
// only (see ActAsCaller), so they cannot make us read anything the caller
// could not read itself.
ConfigDirs config_dirs()
{
    const char *user = getenv("NETDATA_USER_CONFIG_DIR");
    const char *stock = getenv("NETDATA_STOCK_CONFIG_DIR");
    return {user && *user ? user : "/etc/netdata", stock && *stock ? stock : "/usr/lib/netdata/conf.d"};
}

ModuleSettings settings_for(const ModuleConfig &config, const ProcessCore *core)
{
    ModuleSettings settings;
    settings.apps = config.apps && core;
    settings.active_pids_fd = core ? core->active_pids_fd() : -1;
    settings.process_slots_fd = core ? core->process_slots_fd() : -1;
    settings.slot_count = core ? core->slot_count() : 0;
    settings.cgroups = config.cgroups;
    settings.per_cpu_tables = config.maps_per_core;
    settings.return_mode = config.load_mode == LoadMode::Return;
    settings.pid_table_size = config.pid_table_size;
    settings.update_every = config.update_every;
    settings.disabled_syscalls = {config.disabled_syscalls.begin(), config.disabled_syscalls.end()};
    return settings;
}

// The configured pid table size, cut to what the machine affords (table_budget.h).
unsigned affordable_pid_table_size(const CountingModule &module, const ModuleSettings &settings,
                                   const MachineLimits &limits)
{
    std::string why;
    uint64_t entry = pid_entry_bytes(module.counter_names().size(), module.counter_bytes());
    unsigned size = bound_pid_table_size(settings.pid_table_size, entry, limits, why);
    if (!why.empty())
        log_error("%s: pid table size %u cut to %u (%s)", module.name(), settings.pid_table_size, size,
                  why.c_str());
    return size;
}

// Tries the attach paths in order; the first one that loads and attaches wins.
template <class Kind>
bool start_module(Collector &collector, std::unique_ptr<Kind> module, const ModuleSettings &settings,
                  const std::vector<AttachPath> &order)
{
    std::vector<std::pair<AttachPath, std::string>> refusals;
    for (AttachPath path : order) {
        std::string error = module->start(path, settings);
        if (error.empty()) {
            for (const auto &[refused, why] : refusals)
                log_info("%s: %s path not used: %s", module->name(), attach_path_name(refused), why.c_str());
            log_info("%s: attached with %s (%s mode)", module->name(), attach_path_name(path),
                     settings.return_mode ? "return" : "entry");
            collector.add(std::move(module), path, settings);
            return true;
        }
        refusals.emplace_back(path, error);
    }
    // one line says why (e.g. a module without tracepoints on a tracepoint-only kernel)
    std::string why;
    for (const auto &[refused, error] : refusals)
        why += (why.empty() ? "" : "; ") + std::string(attach_path_name(refused)) + ": " + error;
    log_error("%s: no attach path works on this kernel; module disabled (%s)", module->name(), why.c_str());
    return false;
}

// The process core, when an enabled module groups processes by app; without
// it app group charts are off (system and cgroup charts do not need it). Its
// table holds as many processes as the largest module pid table, within the
// machine's bounds (table_budget.h).
std::unique_ptr<ProcessCore> start_core(const PluginConfig &config, const KernelSymbols &symbols,
                                        const ProcessGroups &groups, const MachineLimits &limits)
{
    CoreSettings settings{0};
    for (const ModuleConfig &module : config.modules)
        if (module.enabled && module.supported && module.apps)
            settings.table_size = std::max(settings.table_size, module.pid_table_size);
    if (!settings.table_size)
        return nullptr;
    std::string why;
    unsigned size = bound_pid_table_size(settings.table_size, core_entry_bytes(), limits, why);
    if (!why.empty())
        log_error("process core: process table size %u cut to %u (%s)", settings.table_size, size, why.c_str());
    settings.table_size = size;
    auto core = std::make_unique<ProcessCore>(groups);
    std::string error = core->start(symbols, settings);
    if (!error.empty()) {
        log_error("process core: %s; app group charts disabled", error.c_str());
        return nullptr;
    }
    log_info("process core: attached with tracepoint");
    return core;
}

// Each module's charts follow its own settings (ebpf.d/<module>.conf).
std::vector<ChartDef> charts_of(const Collector &collector)
{
    std::vector<ModuleCharts> running;
    for (const RunningModule &module : collector.modules()) {
        std::set<std::string> hidden;  // a syscall turned off shows no dimension (counters <syscall>_call)
        for (const std::string &syscall : module.settings.disabled_syscalls)
            hidden.insert(syscall + "_call");
        running.push_back({module.module->name(), module.settings.apps, module.settings.cgroups,
                           module.settings.return_mode, module.settings.update_every, std::move(hidden)});
    }
    for (const RunningTableModule &module : collector.table_modules())
        running.push_back({module.module->name(), false, false, module.settings.return_mode,
                           module.settings.update_every});
    return charts_for(embedded_chart_definitions(), running);
}

// The loop wakes often enough for every module's update every.
int loop_interval(const Collector &collector, int self_update_every)
{
    int interval = self_update_every;
    for (const RunningModule &module : collector.modules())
        interval = std::gcd(interval, module.settings.update_every);
    for (const RunningTableModule &module : collector.table_modules())
        interval = std::gcd(interval, module.settings.update_every);
    return interval;
}

// --version: what a bug report needs, the version and what built it.
std::string version_text()
{
#ifdef __clang__
    const char *compiler = "clang++ " __clang_version__;
#else
    const char *compiler = "g++ " __VERSION__;
#endif
    char text[512];
    snprintf(text, sizeof(text),
             "ebpf.plugin %s\nbuilt with %s, libbpf %d.%d (running %s), BPF programs by %s\n",
             EBPF_PLUGIN_VERSION, compiler, LIBBPF_MAJOR_VERSION, LIBBPF_MINOR_VERSION, libbpf_version_string(),
             *EBPF_PLUGIN_BPF_COMPILER ? EBPF_PLUGIN_BPF_COMPILER : "an unknown clang");
    return text;
}

// The record stream's sinks from ebpf.d/records.conf, opened with the rights
// left after the privileges were dropped. nullptr when none is configured.
std::unique_ptr<RecordStream> make_record_stream(const RecordsConfig &config)
{
    auto stream = std::make_unique<RecordStream>(config.hostname.empty() ? local_host_name() : config.hostname,
                                                 config.queue);
    if (config.journal)
        stream->add_sink(make_journal_sink());
    if (!config.file.empty()) {
        std::string error;
        if (auto sink = make_file_sink(config.file, config.file_max_bytes, config.file_keep, config.file_format, error))
            stream->add_sink(std::move(sink));
        else
            log_error("records: cannot open '%s' (%s); no file sink", config.file.c_str(), error.c_str());
    }
    return stream->has_sinks() ? std::move(stream) : nullptr;
}

// A setuid start by a user other than root or the agent's: the sources that
// would show other users' activity do not start, one stderr line each; malloc
// traces the caller's own processes only, and stays.
void refuse_other_users_activity(const std::string &refusal, bool &flows, HttpFlowsConfig &http, BashConfig &bash,
                                 FlowsConfig &dns, TracesConfig &traces)
{
    for (auto [enabled, name] : {std::pair{&flows, "flows"}, {&http.enabled, "httpflow"}, {&bash.enabled, "bash"},
                                 {&dns.dns_enabled, "dns flows"}})
        if (std::exchange(*enabled, false))
            log_error("%s: refused: %s", name, refusal.c_str());
    for (unsigned kind = 0; kind < TRACE_KINDS; ++kind)
        if (kind != TRACE_MALLOC && std::exchange(traces.traces[kind].enabled, false))
            log_error("traces: trace_%s refused: %s", trace_name(kind), refusal.c_str());
}

} // namespace

int main(int argc, char **argv)
{
    install_stop_handlers();
    signal(SIGPIPE, SIG_IGN); // a write to a closed stdout must fail, not kill us quietly
    if (!standard_fds_usable()) {
        log_error("stdout is closed or not writable: nowhere to send data; exiting");
        return 0;
    }
    // libbpf parses the kernel's BTF (megabytes) for every load: with a fixed
    // threshold those buffers are mmapped and given back, instead of raising
    // glibc's dynamic threshold and staying in the heap for the plugin's life.
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    libbpf_set_print(quiet_libbpf);

    Options options = parse_options(std::vector<std::string>(argv + 1, argv + argc));
    if (options.help || options.version) {
        fputs(options.help ? usage_text() : version_text().c_str(), stdout);
        return 0;
    }
    for (const std::string &error : options.errors)
        log_error("%s", error.c_str());
    if (options.records)
        return run_records_mode(*options.records, options.update_every, config_dirs(),
                                options.attach.value_or(AttachPath::Auto));

    PluginConfig config;
    RecordsConfig records_config;
    FlowsConfig flows_config;
    HttpFlowsConfig http_config;
    BashConfig bash_config;
    TracesConfig traces_config;
    std::optional<AppsGroups> apps_groups;
    bool collecting = !options.check && !options.verify; // the probes read no configuration
    if (collecting) {
        ActAsCaller caller;
        ConfigDirs dirs = config_dirs();
        config = load_config(dirs, options.update_every, log_error_line);
        apps_groups = load_apps_groups(dirs, log_error_line);
        records_config = load_records_config(dirs, log_error_line);
        flows_config = load_flows_config(dirs, log_error_line);
        http_config = load_http_flows_config(dirs, log_error_line);
        bash_config = load_bash_config(dirs, log_error_line);
        traces_config = load_traces_config(dirs, log_error_line);
    }
    if (started_setuid())
        clearenv(); // nothing from the caller's environment reaches libbpf

    if (config.btf_path != "/sys/kernel/btf")
        log_error("'btf path = %s' is not supported (the programs use the running kernel's own "
                  "BTF, /sys/kernel/btf/vmlinux); ignored", config.btf_path.c_str());
    std::string tracefs_error;
    if (!ensure_tracefs(&tracefs_error))
        log_error("syscall tracepoints unavailable: %s", tracefs_error.c_str());
    KernelFacts facts = detect_kernel("/sys/kernel/btf");
    KernelSymbols symbols(facts.tracefs_path);
    log_info("kernel %s, BTF %s, lockdown %s (%s), kernel config %s", facts.release.c_str(),
             symbols.has_btf() ? "yes" : "no", std::string(lockdown_name(facts.lockdown)).c_str(),
             facts.lockdown_source.c_str(), facts.config_source.empty() ? "not found" : facts.config_source.c_str());
    if (!symbols.has_btf())
        log_error("this kernel has no BTF (/sys/kernel/btf/vmlinux): CO-RE programs cannot load");
    // the flows' NAT tags need CAP_NET_ADMIN, which --check gives up below
    std::string conntrack = options.check ? conntrack_verdict() : "";
    // and uprobes (the bash command log) CAP_SYS_ADMIN
    std::string uprobe_error = options.check ? try_readline_uretprobe(BashConfig{}.binaries.front()) : "";
    if (options.check || options.verify) {
        // Loading and attaching is all that is left to do: no need for root.
        std::string keep_error = keep_only_loading_privileges();
        if (!keep_error.empty()) {
            log_error("cannot drop privileges (%s); exiting", keep_error.c_str());
            return 1;
        }
    }
    if (options.check)
        return run_attach_check(facts, symbols, conntrack, bash_check_line(uprobe_error));
    if (options.verify)
        return run_program_verification(symbols) ? 0 : 1;

    // Needs CAP_SYS_ADMIN, so before the drop; on for as long as the plugin runs.
    BpfRunTimeStats run_time_stats;
    if (!run_time_stats.error().empty())
        log_error("cannot turn on BPF run-time statistics (%s): the BPF time charts stay at 0",
                  run_time_stats.error().c_str());
    ProtocolWriter out(STDOUT_FILENO, wait_writable);
    const MachineLimits limits = machine_limits();
    ProcessGroups groups(std::move(*apps_groups), "/proc");
    std::unique_ptr<ProcessCore> core = start_core(config, symbols, groups, limits);
    const ProcessCore *core_used = core.get();
    Collector collector(groups, std::move(core),
                        CgroupDirectory(find_cgroup2_root("/proc/self/mounts"), "/dev/shm/netdata_shm_cgroup_ebpf",
                                        find_cgroup_mounts("/proc/self/mounts")));
    // `ebpf co-re tracing = trampoline` (Debian's stock value) is the default
    // order; `probe` or `tracepoint` in the config, or --attach, is that path only.
    auto order_for = [&](const ModuleConfig &module_config) {
        if (module_config.type_format == TypeFormat::Legacy)
            log_error("%s: 'ebpf type format = legacy' is not supported (no per-kernel objects "
                      "are shipped); using CO-RE", module_config.name.c_str());
        AttachPath preferred = options.attach.value_or(module_config.attach);
        bool fallback = preferred == AttachPath::Auto || preferred == AttachPath::Trampoline;
        return attach_order(preferred, fallback && !options.attach);
    };
    for (auto &module : make_all_modules(symbols)) {
        const ModuleConfig *module_config = config.module(module->name());
        if (!module_config || !module_config->enabled)
            continue;
        ModuleSettings settings = settings_for(*module_config, core_used);
        if (settings.apps)
            settings.pid_table_size = affordable_pid_table_size(*module, settings, limits);
        start_module(collector, std::move(module), settings, order_for(*module_config));
    }
    const ModuleConfig *filesystem = config.module("filesystem");
    FilesystemChoice filesystems{filesystem ? filesystem->disabled_filesystems : std::set<std::string>{}};
    for (auto &module : make_all_table_modules(symbols, filesystems)) {
        const ModuleConfig *module_config = config.module(module->name());
        if (!module_config || !module_config->enabled)
            continue;
        // no per-pid tables: the process core is not theirs
        start_module(collector, std::move(module), settings_for(*module_config, nullptr), order_for(*module_config));
    }
    if (collector.modules().empty() && collector.table_modules().empty()) {
        log_error("no module could start; disabling the plugin");
        out.disable();
        out.flush();
        return 1;
    }

    // Flows: their charts with `network connections = yes`, their records when a sink is configured.
    std::unique_ptr<FlowSource> flows;
    bool sink_configured = records_config.journal || !records_config.file.empty();
    bool flows_wanted = config.network_connections || sink_configured;
    if (std::string refusal = other_users_activity_refusal(); !refusal.empty())
        refuse_other_users_activity(refusal, flows_wanted, http_config, bash_config, flows_config, traces_config);
    if (flows_wanted) {
        std::string error;
        // the network viewer: its charts with `network connections = yes`, as 1.37.1's
        std::vector<ChartDef> viewer_charts;
        if (config.network_connections) {
            viewer_charts = embedded_chart_definitions();
            std::erase_if(viewer_charts, [](const ChartDef &chart) { return chart.module != "network_viewer"; });
            for (ChartDef &chart : viewer_charts)
                chart.update_every = config.update_every;
        }
        flows = FlowSource::start(symbols, flows_config, groups, options.attach.value_or(AttachPath::Auto), error,
                                  std::move(viewer_charts));
        if (!flows)
            log_error("flows: %s; no flow charts or records", error.c_str());
    }

    // HTTP: with `[http flows] enabled = yes` in network.conf, its charts and records.
    std::unique_ptr<HttpFlowSource> http;
    if (http_config.enabled) {
        std::string error;
        http = HttpFlowSource::start(symbols, http_config, groups, error);
        if (!http)
            log_error("httpflow: %s; no HTTP charts or records", error.c_str());
    }
    // The bash command log (ebpf.d/bash.conf): its charts, and its records when a sink is configured.
    std::unique_ptr<BashSource> bash;
    if (bash_config.enabled) {
        std::string error;
        bash = BashSource::start(bash_config, groups, config.update_every, error);
        if (!bash)
            log_error("bash: %s; no bash charts or records", error.c_str());
    }
    // DNS: charts and records with [dns flows] enabled = yes in network.conf.
    std::unique_ptr<DnsSource> dns;
    if (flows_config.dns_enabled) {
        std::string error;
        dns = DnsSource::start(flows_config, groups, error);
        if (!dns)
            log_error("dns flows: %s; no DNS charts or records", error.c_str());
    }
    // Traces: their charts and, when a sink is configured, their records.
    std::unique_ptr<TraceSource> traces;
    if (traces_config.any_enabled()) {
        std::set<unsigned> kinds;
        for (unsigned kind = 0; kind < TRACE_KINDS; ++kind)
            if (traces_config.traces[kind].enabled)
                kinds.insert(kind);
        std::string error;
        traces = TraceSource::start(symbols, traces_config, kinds, groups, error);
        if (!traces)
            log_error("traces: %s; no trace charts or records", error.c_str());
    }

    // Loading parsed the kernel's BTF several times over: give that memory back.
    symbols.release_btf();
    malloc_trim(0);

    const std::string &map_refusal = capless_map_access_refusal();
    if (!map_refusal.empty())
        log_info("keeping CAP_BPF after attach: %s", map_refusal.c_str());
    std::string drop_error = drop_privileges(!map_refusal.empty());
    if (!drop_error.empty()) {
        log_error("cannot drop privileges (%s); exiting", drop_error.c_str());
        return 1;
    }

    std::unique_ptr<RecordStream> records = make_record_stream(records_config);
    if (!records && !config.network_connections)
        flows.reset();  // no sink could open and no charts asked for: nowhere for flows to go
    // At stop, a producer with no sink has nothing left to say, but the traces their drops.
    std::vector<RecordProducer> producers;
    // DNS first: the answers it reads name the destinations of the flows and
    // HTTP requests reported after it in the same tick (dst_domain)
    DomainNames domain_names;
    if (dns) {
        dns->share_domain_names(domain_names, flows.get(), http.get());
        // cgroup_skb programs: counted as the path with no kprobe, charted as dns_cgroup_skb
        producers.push_back({"dns", AttachPath::Tracepoint, dns->object(),
                             [&](RecordStream *stream, bool final) {
                                 if (stream || !final)  // at stop: the queries still waiting end as timed out
                                     dns->report(stream, realtime_usec(), final);
                             },
                             [&](Snapshot &snapshot) { dns->add_counters(snapshot); }});
    }
    if (flows)
        producers.push_back({"flows", flows->probe().path(), flows->probe().object(),
                             [&](RecordStream *stream, bool final) {
                                 if (stream || !final)
                                     flows->report(stream, realtime_usec());  // at stop: what closed since
                             },
                             [&](Snapshot &snapshot) { flows->add_counters(snapshot); }});
    if (http)
        producers.push_back({"httpflow", AttachPath::Tracepoint, http->object(),
                             [&](RecordStream *stream, bool final) {
                                 if (stream || !final)
                                     http->report(stream, realtime_usec());
                             },
                             [&](Snapshot &snapshot) { http->add_counters(snapshot); }});
    if (bash)  // a uprobe: a kprobe-type program, charted as bash_uprobe
        producers.push_back({"bash", AttachPath::Kprobe, bash->probe().object(),
                             [&](RecordStream *stream, bool final) {
                                 if (stream || !final)
                                     bash->report(stream, config.update_every);  // at stop: what was read since
                             },
                             [&](Snapshot &snapshot) { bash->add_counters(snapshot); }});
    if (traces)
        producers.push_back({"traces", AttachPath::Tracepoint, traces->probe().object(),
                             [&](RecordStream *stream, bool final) { traces->report(stream, final); },
                             [&](Snapshot &snapshot) { traces->add_counters(snapshot); }, traces->hidden_counters()});
    std::vector<ChartDef> charts = charts_of(collector);
    for (const RecordProducer &producer : producers) {
        std::vector<ChartDef> own = charts_for(embedded_chart_definitions(),
                                               {{producer.module, config.apps, config.cgroups, false,
                                                 config.update_every, producer.hidden_counters}});
        std::erase_if(own, [&](const ChartDef &chart) { return chart.module != producer.module; });
        charts.insert(charts.end(), own.begin(), own.end());
    }
    if (!records)
        std::erase_if(charts, [](const ChartDef &chart) { return chart.context == "netdata.ebpf_records"; });
    ChartRegistry registry(out, config.update_every);
    Publisher publisher(registry, std::move(charts));
    const int interval = loop_interval(collector, config.update_every);
    uint64_t elapsed = 0;  // seconds of loop ticks so far: the first tick updates every chart
    SelfMonitor self(collector, config.limits);
    for (const RecordProducer &producer : producers)
        self.watch(producer.module, producer.path, producer.object);
    bool over_limit = false;
    log_summarize();
    Stop stop = run_event_loop(interval, [&](uint64_t now_usec) {
        std::set<std::string> due = collector.due_modules(elapsed, config.update_every);
        elapsed += static_cast<uint64_t>(interval);
        Snapshot snapshot = collector.collect(&due);
        for (RecordProducer &producer : producers) {
            if (!due.contains("self"))
                break;  // producers run at the plugin's own interval
            producer.report(records.get(), false);
            producer.add_counters(snapshot);
            due.insert(producer.module);
        }
        if (records) {
            add_record_counters(*records, snapshot.system);
            for (const std::string &line : records->new_errors())
                log_error("%s", line.c_str());
        }
        if (due.contains("self"))
            over_limit = !self.observe(snapshot.system);
        publisher.publish(snapshot, now_usec, due);
        if (flows && due.contains("flows"))
            flows->publish_viewer(registry, now_usec);
        return out.flush() && !over_limit;
    });
    if (over_limit) {
        out.disable();  // the agent does not restart it; the reason is on stderr
        out.flush();
        if (records)
            records->stop(300);
        log_summarize();
        return 1;
    }
    log_stop(stop, out);
    for (RecordProducer &producer : producers)
        producer.report(records.get(), true);
    if (records)
        records->stop(300);
    log_summarize();
    return 0;
}
