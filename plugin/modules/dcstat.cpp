// dcstat module: directory cache lookups (kernel-collector/dcstat.bpf.c).
#include "modules/interval_counters.h"
#include "modules/module.h"
#include "modules/registry.h"
#include "dcstat.h"
#include "dcstat.skel.h"

namespace {

using Kind = ProgramSpec::Kind;

struct DcstatTraits {
    static constexpr const char *name = "dcstat";
    static constexpr unsigned counter_bytes = sizeof(dcstat_value::counters[0]);

    static const std::vector<std::string> &counter_names()
    {
        // order of enum dcstat_counter
        static const std::vector<std::string> names = {"dc_reference", "dc_slow", "dc_miss"};
        return names;
    }

    static LoadPlan plan(const KernelSymbols &kernel, AttachPath path, bool)
    {
        LoadPlan plan;
        switch (path) {
        case AttachPath::Trampoline:
        case AttachPath::Kprobe:
            for (const char *function : {"lookup_fast", "d_lookup"})
                if (!kernel.has_function(function))
                    return {{}, std::string("kernel BTF has no ") + function + " (renamed or inlined)"};
            if (path == AttachPath::Kprobe) {
                plan.programs.push_back({"kprobe_lookup_fast", "lookup_fast", Kind::Kprobe});
                plan.programs.push_back({"kretprobe_d_lookup", "d_lookup", Kind::Kretprobe});
                return plan;
            }
            plan.programs.push_back({"fentry_lookup_fast"});
            plan.programs.push_back({"fexit_d_lookup"});
            return plan;
        case AttachPath::Tracepoint:
            return {{}, "lookup_fast and d_lookup (directory cache lookups) have no tracepoint; "
                        "dcstat needs trampolines or kprobes"};
        case AttachPath::Auto:
            break;
        }
        return {{}, "internal error: no attach path chosen"};
    }

    static void set_read_only_data(dcstat_bpf::dcstat_bpf__rodata &, const KernelSymbols &) {}
};

} // namespace

// Upstream's ratio, per interval: references that found a dentry, in percent
// (0 in an interval without references, as upstream).
void add_dcstat_interval_counters(Counters &counters, const Counters &previous)
{
    auto reference = counters.find("dc_reference");
    if (reference == counters.end())
        return;
    int64_t references = reference->second - counter_value(previous, "dc_reference");
    int64_t misses = counter_value(counters, "dc_miss") - counter_value(previous, "dc_miss");
    counters["dc_ratio"] = references > 0 ? std::max<int64_t>(references - misses, 0) * 100 / references : 0;
}

namespace {
std::unique_ptr<CountingModule> make_module(const KernelSymbols &kernel)
{
    return std::make_unique<SkeletonModule<dcstat_bpf, DcstatTraits>>(kernel);
}

const bool registered = register_module({.name = "dcstat", .order = 50, .make_counting = make_module,
                                         .per_interval = add_dcstat_interval_counters});
} // namespace
