// ebpf.plugin: start-up order, then the event loop.
//   1. read the command line, configuration and apps groups (as the caller)
//   2. learn the kernel, start every enabled module on the first attach path that works
//   3. drop every privilege
//   4. every update_every seconds: collect, publish, flush
#include <bpf/libbpf.h>
#include <csignal>
#include <malloc.h>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include "kernel/attach.h"
#include "core/chart_registry.h"
#include "kernel/check.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/event_loop.h"
#include "kernel/kernel.h"
#include "core/options.h"
#include "core/privileges.h"
#include "core/protocol.h"
#include "core/publisher.h"
#include "version.h"

namespace {

void warn(const std::string &line)
{
    fprintf(stderr, "%s\n", line.c_str());
}

// libbpf's own messages are kept for debugging only: the reasons that matter
// are reported by the plugin, once, in one line.
int quiet_libbpf(enum libbpf_print_level level, const char *format, va_list args)
{
    if (level != LIBBPF_WARN || !getenv("EBPF_PLUGIN_LIBBPF_DEBUG"))
        return 0;
    return vfprintf(stderr, format, args);
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

std::vector<std::unique_ptr<CountingModule>> make_modules(const KernelSymbols &symbols)
{
    std::vector<std::unique_ptr<CountingModule>> modules;
    modules.push_back(make_process_module(symbols));
    modules.push_back(make_fd_module(symbols));
    modules.push_back(make_socket_module(symbols));
    return modules;
}

ModuleSettings settings_for(const ModuleConfig &config)
{
    ModuleSettings settings;
    settings.apps = config.apps;
    settings.cgroups = config.cgroups;
    settings.per_cpu_tables = config.maps_per_core;
    settings.return_mode = config.load_mode == LoadMode::Return;
    settings.pid_table_size = config.pid_table_size;
    return settings;
}

// Tries the attach paths in order; the first one that loads and attaches wins.
bool start_module(Collector &collector, std::unique_ptr<CountingModule> module, const ModuleConfig &config,
                  const std::vector<AttachPath> &order)
{
    ModuleSettings settings = settings_for(config);
    for (AttachPath path : order) {
        std::string error = module->start(path, settings);
        if (error.empty()) {
            fprintf(stderr, "ebpf.plugin: %s: attached with %s (%s mode)\n", module->name(), attach_path_name(path),
                    settings.return_mode ? "return" : "entry");
            collector.add(std::move(module), path, settings);
            return true;
        }
        fprintf(stderr, "ebpf.plugin: %s: %s path not used: %s\n", module->name(), attach_path_name(path),
                error.c_str());
    }
    fprintf(stderr, "ebpf.plugin: %s: no attach path works on this kernel; module disabled\n", module->name());
    return false;
}

std::vector<ChartDef> charts_of(const Collector &collector)
{
    std::vector<ChartDef> charts;
    for (const ChartDef &chart : embedded_chart_definitions()) {
        bool running = chart.module == "self";
        for (const RunningModule &module : collector.modules())
            running |= chart.module == module.module->name() &&
                       (chart.scope != Scope::Apps || module.settings.apps) &&
                       (chart.scope != Scope::Cgroup || module.settings.cgroups) &&
                       (chart.scope != Scope::Services || module.settings.cgroups);
        if (running)
            charts.push_back(chart);
    }
    return charts;
}

} // namespace

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); // a write to a closed stdout must fail, not kill us quietly
    // libbpf parses the kernel's BTF (megabytes) for every load: with a fixed
    // threshold those buffers are mmapped and given back, instead of raising
    // glibc's dynamic threshold and staying in the heap for the plugin's life.
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    libbpf_set_print(quiet_libbpf);

    Options options = parse_options(std::vector<std::string>(argv + 1, argv + argc));
    if (options.help || options.version) {
        fputs(options.help ? usage_text() : "ebpf.plugin " EBPF_PLUGIN_VERSION "\n", stdout);
        return 0;
    }
    for (const std::string &error : options.errors)
        fprintf(stderr, "ebpf.plugin: %s\n", error.c_str());

    PluginConfig config;
    std::optional<AppsGroups> apps_groups;
    {
        ActAsCaller caller;
        ConfigDirs dirs = config_dirs();
        config = load_config(dirs, options.update_every, warn);
        apps_groups = load_apps_groups(dirs, warn);
    }
    if (started_setuid())
        clearenv(); // nothing from the caller's environment reaches libbpf

    if (config.btf_path != "/sys/kernel/btf")
        fprintf(stderr, "ebpf.plugin: 'btf path = %s' is not supported (the programs use the running kernel's own "
                        "BTF, /sys/kernel/btf/vmlinux); ignored\n", config.btf_path.c_str());
    KernelFacts facts = detect_kernel("/sys/kernel/btf");
    std::string tracefs_error;
    if (!ensure_tracefs(&tracefs_error))
        fprintf(stderr, "ebpf.plugin: syscall tracepoints unavailable: %s\n", tracefs_error.c_str());
    facts = detect_kernel("/sys/kernel/btf");
    KernelSymbols symbols(facts.tracefs_path);
    fprintf(stderr, "ebpf.plugin: kernel %s, BTF %s, lockdown %s, kernel config %s\n", facts.release.c_str(),
            symbols.has_btf() ? "yes" : "no", std::string(lockdown_name(facts.lockdown)).c_str(),
            facts.config_source.empty() ? "not found" : facts.config_source.c_str());
    if (!symbols.has_btf())
        fprintf(stderr, "ebpf.plugin: this kernel has no BTF (/sys/kernel/btf/vmlinux): CO-RE programs cannot load\n");
    if (options.check)
        return run_attach_check(facts, symbols);
    if (options.verify)
        return run_program_verification(symbols) ? 1 : 0;

    ProtocolWriter out(STDOUT_FILENO);
    Collector collector(ProcessGroups(std::move(*apps_groups), "/proc"),
                        CgroupDirectory(find_cgroup2_root("/proc/self/mounts"), "/dev/shm/netdata_shm_cgroup_ebpf"));
    for (auto &module : make_modules(symbols)) {
        const ModuleConfig *module_config = config.module(module->name());
        if (!module_config || !module_config->enabled)
            continue;
        if (module_config->type_format == TypeFormat::Legacy)
            fprintf(stderr, "ebpf.plugin: %s: 'ebpf type format = legacy' is not supported (no per-kernel objects "
                            "are shipped); using CO-RE\n", module->name());
        // `ebpf co-re tracing = trampoline` (Debian's stock value) is the default
        // order; `probe` or `tracepoint` in the config, or --attach, is that path only.
        AttachPath preferred = options.attach.value_or(module_config->attach);
        bool fallback = preferred == AttachPath::Auto || preferred == AttachPath::Trampoline;
        start_module(collector, std::move(module), *module_config,
                     attach_order(preferred, fallback && !options.attach));
    }
    if (collector.modules().empty()) {
        fprintf(stderr, "ebpf.plugin: no module could start; disabling the plugin\n");
        out.disable();
        out.flush();
        return 1;
    }

    // Loading parsed the kernel's BTF several times over: give that memory back.
    symbols.release_btf();
    malloc_trim(0);

    std::string drop_error = drop_privileges();
    if (!drop_error.empty()) {
        fprintf(stderr, "ebpf.plugin: cannot drop privileges (%s); exiting\n", drop_error.c_str());
        return 1;
    }

    ChartRegistry registry(out, config.update_every);
    Publisher publisher(registry, charts_of(collector), config.load_mode == LoadMode::Return);
    run_event_loop(config.update_every, [&](uint64_t now_usec) {
        publisher.publish(collector.collect(), now_usec);
        return out.flush();
    });
    return 0;
}
