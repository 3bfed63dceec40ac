#include "kernel/check.h"

#include <cstdio>
#include <map>

#include "kernel/bpf_loader.h"
#include "modules/table_module.h"
#include "probe.skel.h"

namespace {
struct Probe {
    AttachPath path;
    const char *label;
    const char *program;
};

// Loads and attaches `program` alone. Returns "" or the reason it failed.
std::string try_program(const char *program)
{
    probe_bpf *skeleton = probe_bpf::open();
    if (!skeleton)
        return "cannot open the probe object";
    LoadPlan plan;
    plan.programs.emplace_back(program);
    LinkSet links;
    std::string error = load_plan(skeleton->obj, plan);
    if (error.empty())
        error = attach_plan(skeleton->obj, plan, links);
    links.clear();
    probe_bpf::destroy(skeleton);
    return error;
}

// Why the kernel refuses `probe`'s path outright ("" when its empty program loads and attaches).
std::string refusal(const KernelSymbols &symbols, const Probe &probe)
{
    std::string unavailable = symbols.path_unavailable(probe.path);
    return unavailable.empty() ? try_program(probe.program) : unavailable;
}

const Probe probes[] = {
    {AttachPath::Trampoline, "trampoline", "probe_trampoline"},
    {AttachPath::Kprobe, "kprobe", "probe_kprobe"},
    {AttachPath::Tracepoint, "tracepoint (tp_btf)", "probe_tp_btf"},
    {AttachPath::Tracepoint, "tracepoint (syscalls)", "probe_syscall_tracepoint"},
};
} // namespace

int run_attach_check(const KernelFacts &facts, const KernelSymbols &symbols)
{
    printf("kernel: %s, BTF %s, lockdown %s (%s), tracefs %s\n", facts.release.c_str(),
           symbols.has_btf() ? "yes" : "no", std::string(lockdown_name(facts.lockdown)).c_str(),
           facts.lockdown_source.c_str(), facts.tracefs ? facts.tracefs_path.c_str() : "not mounted");
    int working = 0;
    std::map<AttachPath, std::string> refused;  // each path's refusal, for the table modules
    for (const Probe &probe : probes) {
        std::string error = refusal(symbols, probe);
        printf("%s: %s\n", probe.label, error.empty() ? "ok" : ("refused: " + error).c_str());
        working += error.empty();
        // The table modules' tracepoints are tp_btf programs, not syscall tracepoints.
        if (!error.empty() && std::string(probe.program) != "probe_syscall_tracepoint")
            refused.try_emplace(probe.path, error);
    }
    for (const std::string &line : vfs_path_differences())
        printf("vfs sees on %s\n", line.c_str());
    // The table modules have one or two paths: say which applies, or why none does.
    std::vector<std::unique_ptr<TableModule>> tables;
    tables.push_back(make_hardirq_module(symbols));
    tables.push_back(make_softirq_module(symbols));
    tables.push_back(make_disk_module(symbols));
    tables.push_back(make_filesystem_module(symbols, {}));
    for (const auto &module : tables) {
        std::string reasons;
        const char *usable = nullptr;
        for (AttachPath path : {AttachPath::Trampoline, AttachPath::Kprobe, AttachPath::Tracepoint}) {
            std::string why = module->not_applicable(path, false);
            if (why.empty() && refused.contains(path))
                why = refused[path];
            if (why.empty()) {
                usable = attach_path_name(path);
                break;
            }
            reasons += std::string(reasons.empty() ? "" : "; ") + attach_path_name(path) + ": " + why;
        }
        if (usable)
            printf("%s: can use the %s path\n", module->name(), usable);
        else
            printf("%s: cannot run on this kernel (%s)\n", module->name(), reasons.c_str());
    }
    return working ? 0 : 1;
}

bool run_program_verification(const KernelSymbols &symbols)
{
    // A path whose empty probe program the kernel refuses is this kernel's
    // choice, not a fault of the module's programs.
    std::map<AttachPath, std::string> refused;
    for (const Probe &probe : probes)
        if (!refused.contains(probe.path)) {
            std::string error = refusal(symbols, probe);
            if (!error.empty())
                refused[probe.path] = error;
        }
    std::vector<std::unique_ptr<Module>> modules;
    modules.push_back(make_process_module(symbols));
    modules.push_back(make_fd_module(symbols));
    modules.push_back(make_vfs_module(symbols));
    modules.push_back(make_hardirq_module(symbols));
    modules.push_back(make_softirq_module(symbols));
    modules.push_back(make_disk_module(symbols));
    modules.push_back(make_filesystem_module(symbols, {}));
    int ok = 0, failed = 0, not_tried = 0;
    for (auto &module : modules)
        for (AttachPath path : {AttachPath::Trampoline, AttachPath::Kprobe, AttachPath::Tracepoint})
            for (bool return_mode : {false, true}) {
                std::string verdict = module->not_applicable(path, return_mode);
                if (!verdict.empty()) {
                    verdict = "n/a: " + verdict;
                    ++not_tried;
                } else if (refused.contains(path)) {
                    verdict = "refused: " + refused[path];
                    ++not_tried;
                } else {
                    ModuleSettings settings;
                    settings.return_mode = return_mode;
                    std::string error = module->start(path, settings);
                    module->stop();
                    verdict = error.empty() ? "ok" : "failed: " + error;
                    error.empty() ? ++ok : ++failed;
                }
                printf("verify %s %s %s %s\n", module->name(), attach_path_name(path),
                       return_mode ? "return" : "entry", verdict.c_str());
            }
    printf("verify: %d program sets ok, %d failed, %d not applicable or refused by this kernel\n", ok, failed,
           not_tried);
    return failed == 0 && ok > 0;
}
