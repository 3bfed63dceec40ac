#include "kernel/check.h"

#include <cstdio>
#include <map>
#include <set>

#include "accounting/process_core.h"
#include "kernel/probe.h"
#include "modules/table_module.h"
#include "net/dns_source.h"
#include "net/flow_probe.h"
#include "traces/trace_probe.h"

namespace {
struct Probe {
    AttachPath path;
    const char *label;
    const char *program;
};

const Probe probes[] = {
    {AttachPath::Trampoline, "trampoline", "probe_trampoline"},
    {AttachPath::Kprobe, "kprobe", "probe_kprobe"},
    {AttachPath::Tracepoint, "tracepoint (tp_btf)", "probe_tp_btf"},
    {AttachPath::Tracepoint, "tracepoint (syscalls)", "probe_syscall_tracepoint"},
};

constexpr AttachPath forced_paths[] = {AttachPath::Trampoline, AttachPath::Kprobe, AttachPath::Tracepoint};

// Why the kernel refuses `probe`'s path outright ("" when its empty program loads and attaches).
std::string refusal(const KernelSymbols &symbols, const Probe &probe)
{
    std::string unavailable = symbols.path_unavailable(probe.path);
    return unavailable.empty() ? probe_program(probe.program, true) : unavailable;
}

// "" when the module's programs for `path` load and attach, else "n/a: <why>" or "failed: <why>".
std::string try_module(Module &module, AttachPath path, bool return_mode)
{
    std::string verdict = module.not_applicable(path, return_mode);
    if (!verdict.empty())
        return "n/a: " + verdict;
    ModuleSettings settings;
    settings.return_mode = return_mode;
    std::string error = module.start(path, settings);
    module.stop();
    return error.empty() ? "" : "failed: " + error;
}

// The same for the process core's life-cycle programs: "ok", "ok, process
// slots off (why)", "failed: why" or "n/a: why".
std::string try_core(const KernelSymbols &symbols)
{
    std::string verdict = ProcessCore::not_applicable(symbols);
    if (!verdict.empty())
        return "n/a: " + verdict;
    ProcessCore core(ProcessGroups(AppsGroups{}, "/proc"));
    std::string error = core.start(symbols, CoreSettings{});
    std::string slots = core.slots_refused();
    core.stop();
    if (!error.empty())
        return "failed: " + error;
    return slots.empty() ? "ok" : "ok, process slots off (" + slots + ")";
}
} // namespace

int run_attach_check(const KernelFacts &facts, const KernelSymbols &symbols, const std::string &conntrack,
                     const std::string &bash)
{
    printf("kernel: %s, BTF %s, lockdown %s (%s), tracefs %s\n", facts.release.c_str(),
           symbols.has_btf() ? "yes" : "no", std::string(lockdown_name(facts.lockdown)).c_str(),
           facts.lockdown_source.c_str(), facts.tracefs ? facts.tracefs_path.c_str() : "not mounted");
    std::set<AttachPath> refused_paths;
    for (const Probe &probe : probes) {
        std::string error = refusal(symbols, probe);
        printf("%s: %s\n", probe.label, error.empty() ? "ok" : ("refused: " + error).c_str());
        if (!error.empty())
            refused_paths.insert(probe.path);
    }
    // what the modules need beyond an attach path; it has a fallback
    const std::string &maps = capless_map_access_refusal();
    printf("map reads without capabilities (5.19+): %s\n",
           maps.empty() ? "ok" : ("refused: " + maps + "; CAP_BPF is kept after attach").c_str());
    // the process core (every module's app groups need it), then the modules'
    // own programs, entry and return mode: what really loads
    std::string core = try_core(symbols);
    printf("process core (life-cycle programs): %s\n",
           (core.starts_with("failed: ") ? "refused: " + core.substr(8) : core).c_str());
    // A module fails the check when a path this kernel allows refuses its
    // programs and none works; one with no program for the allowed paths
    // (cachestat has no tracepoint path) says so in its n/a lines instead.
    int unusable = 0;
    for (auto &module : make_modules_of_every_kind(symbols)) {
        int working = 0, refused_on_allowed_path = 0;
        for (AttachPath path : forced_paths) {
            std::string verdict = try_module(*module, path, false);
            if (verdict.empty())
                verdict = try_module(*module, path, true);
            if (verdict.starts_with("failed: "))
                verdict = "refused: " + verdict.substr(8);
            // "<path> (...)" lines are parts of that path for tools/check-kernel-config.sh
            printf("%s (%s programs): %s\n", attach_path_name(path), module->name(),
                   verdict.empty() ? "ok" : verdict.c_str());
            working += verdict.empty();
            refused_on_allowed_path += verdict.starts_with("refused: ") && !refused_paths.contains(path);
        }
        unusable += !working && refused_on_allowed_path;
    }
    for (const std::string &line : vfs_path_differences())
        printf("vfs sees on %s\n", line.c_str());
    for (const std::string &line : socket_path_differences())
        printf("socket sees on %s\n", line.c_str());
    // the netflow records, loaded when a records sink is on; not a "<path> (...)"
    // line: a path without flow programs is still usable for the modules
    for (AttachPath path : {AttachPath::Trampoline, AttachPath::Tracepoint}) {
        std::string missing = FlowProbe::not_applicable(symbols, path);
        std::string flows = missing.empty() ? FlowProbe().start(symbols, 16, path) : "";
        printf("flows on %s: %s\n", attach_path_name(path),
               !missing.empty() ? ("n/a: " + missing).c_str() : flows.empty() ? "ok" : ("refused: " + flows).c_str());
    }
    printf("conntrack (NAT tags): %s\n", conntrack.c_str());
    // Fluent Bit's traces, each loaded and attached alone; malloc's uprobes
    // only loaded (they attach to the configured processes at start)
    TracesConfig traces;
    traces.ring_bytes = 4096;
    for (unsigned kind = 0; kind < TRACE_MALLOC; ++kind) {
        TraceProbe probe;
        std::string error = probe.start(symbols, traces, {kind});
        if (!probe.problems()[kind].empty())
            error = probe.problems()[kind];
        printf("trace_%s (syscall tracepoints): %s\n", trace_name(kind),
               error.empty() ? "ok" : ("refused: " + error).c_str());
    }
    std::string uprobes = TraceProbe::uprobes_load();
    printf("trace_malloc (uprobes): %s\n", uprobes.empty() ? "loads (attached at start to [trace_malloc] pids)"
                                                            : ("refused: " + uprobes).c_str());
    printf("%s\n", bash.c_str());
    std::string dns_missing = DnsSource::not_applicable();
    std::string dns = dns_missing.empty() ? DnsSource::verdict() : "";  // with the CAP_NET_ADMIN --check keeps
    printf("dns flows on cgroup_skb: %s\n", !dns_missing.empty() ? ("n/a: " + dns_missing).c_str()
                                             : dns.empty()        ? "ok"
                                                                  : ("refused: " + dns).c_str());
    return unusable ? 1 : 0;
}

bool run_program_verification(const KernelSymbols &symbols)
{
    // A path whose empty probe program the kernel refuses is this kernel's
    // choice, not a fault of the module's programs.
    // The table modules' tracepoints are tp_btf programs only: a refused syscall
    // tracepoint says nothing about them.
    std::map<AttachPath, std::string> refused, refused_tables;
    for (const Probe &probe : probes) {
        std::string error = refusal(symbols, probe);
        if (error.empty())
            continue;
        refused.try_emplace(probe.path, error);
        if (std::string_view(probe.program) != "probe_syscall_tracepoint")
            refused_tables.try_emplace(probe.path, error);
    }
    int ok = 0, failed = 0, not_tried = 0;
    // the process core: one program set (BTF tracepoints), whatever the path and mode
    std::string core_verdict = try_core(symbols);
    if (core_verdict.starts_with("ok")) {
        core_verdict = "ok"; // slots or not, the core works (--check tells which)
        ++ok;
    } else {
        core_verdict.starts_with("failed") ? ++failed : ++not_tried;
    }
    printf("verify core tracepoint entry %s\n", core_verdict.c_str());
    for (auto &module : make_modules_of_every_kind(symbols))
        for (AttachPath path : forced_paths)
            for (bool return_mode : {false, true}) {
                auto &refusals = dynamic_cast<TableModule *>(module.get()) ? refused_tables : refused;
                std::string verdict;
                if (refusals.contains(path) && module->not_applicable(path, return_mode).empty())
                    verdict = "refused: " + refusals[path];
                else
                    verdict = try_module(*module, path, return_mode);
                if (verdict.empty()) {
                    verdict = "ok";
                    ++ok;
                } else {
                    verdict.starts_with("failed") ? ++failed : ++not_tried;
                }
                printf("verify %s %s %s %s\n", module->name(), attach_path_name(path),
                       return_mode ? "return" : "entry", verdict.c_str());
            }
    printf("verify: %d program sets ok, %d failed, %d not applicable or refused by this kernel\n", ok, failed,
           not_tried);
    return failed == 0 && ok > 0;
}
