// oomkill module: OOM kills per victim (kernel-collector/oomkill.bpf.c).
#include "modules/module.h"
#include "modules/registry.h"
#include "oomkill.h"
#include "oomkill.skel.h"

namespace {

struct OomkillTraits {
    static constexpr const char *name = "oomkill";

    static const std::vector<std::string> &counter_names()
    {
        static const std::vector<std::string> names = {"oomkill"};
        return names;
    }

    // Upstream counts at the oom:mark_victim tracepoint only, and so do we: the
    // trampoline and kprobe paths do not apply (auto mode falls through to it).
    static LoadPlan plan(const KernelSymbols &kernel, AttachPath path, bool)
    {
        LoadPlan plan;
        if (path != AttachPath::Tracepoint)
            return {{}, "OOM kills are counted at the oom:mark_victim tracepoint only"};
        if (!kernel.has_tracepoint("oom", "mark_victim"))
            return {{}, "no tracepoint oom:mark_victim (tracefs is not mounted or the kernel lacks it)"};
        if (!kernel.has_raw_tracepoint("sched_process_exit"))
            return {{}, "kernel BTF has no sched_process_exit tracepoint (a victim is counted at its exit)"};
        plan.programs.push_back({"tp_mark_victim"});
        plan.programs.push_back({"victim_free"});
        return plan;
    }

    static void set_read_only_data(oomkill_bpf::oomkill_bpf__rodata &, const KernelSymbols &) {}
};


std::unique_ptr<CountingModule> make_module(const KernelSymbols &kernel)
{
    return std::make_unique<SkeletonModule<oomkill_bpf, OomkillTraits>>(kernel);
}

const bool registered = register_module({.name = "oomkill", .order = 110, .make_counting = make_module});
} // namespace
