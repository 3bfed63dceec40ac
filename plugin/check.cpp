#include "check.h"

#include <cstdio>

#include "bpf_loader.h"
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
} // namespace

int run_attach_check(const KernelFacts &facts, const KernelSymbols &symbols)
{
    printf("kernel: %s, BTF %s, lockdown %s, tracefs %s\n", facts.release.c_str(), symbols.has_btf() ? "yes" : "no",
           std::string(lockdown_name(facts.lockdown)).c_str(),
           facts.tracefs ? facts.tracefs_path.c_str() : "not mounted");
    const Probe probes[] = {
        {AttachPath::Trampoline, "trampoline", "probe_trampoline"},
        {AttachPath::Kprobe, "kprobe", "probe_kprobe"},
        {AttachPath::Tracepoint, "tracepoint (tp_btf)", "probe_tp_btf"},
        {AttachPath::Tracepoint, "tracepoint (syscalls)", "probe_syscall_tracepoint"},
    };
    int working = 0;
    for (const Probe &probe : probes) {
        std::string error = try_program(probe.program);
        printf("%s: %s\n", probe.label, error.empty() ? "ok" : ("refused: " + error).c_str());
        working += error.empty();
    }
    return working ? 0 : 1;
}
