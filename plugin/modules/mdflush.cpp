// mdflush module: flush requests per md (software RAID) device
// (kernel-collector/mdflush.bpf.c).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mdflush.h"
#include "mdflush.skel.h"
#include "modules/kernel_module_functions.h"
#include "modules/table_module.h"
#include "modules/registry.h"

namespace {

const char *const kFunction = "md_flush_request";

class MdflushModule final : public TableModule {
public:
    explicit MdflushModule(const KernelSymbols &kernel) : kernel_(kernel) {}
    const char *name() const override { return "mdflush"; }

    std::string not_applicable(AttachPath path, bool) const override { return plan_for(path).not_applicable; }

    std::string start(AttachPath path, const ModuleSettings &) override { return skeleton_.start(plan_for(path)); }
    void stop() override { skeleton_.stop(); }

    // One chart, one dimension per md device seen flushing ("md<minor>" as
    // upstream), kept once seen; no chart before the first flush.
    std::string read(std::vector<KeyedChartValues> &charts) override
    {
        KeyedChartValues chart{"mdstat.mdstat_flush", "", {}};
        int fd = bpf_map__fd(skeleton_.get()->maps.md_flushes);
        __u32 minor = 0, next = 0;
        bool first = true;
        while (bpf_map_get_next_key(fd, first ? nullptr : &minor, &next) == 0) {
            first = false;
            minor = next;
            uint64_t flushes = 0;
            if (read_per_cpu_sum(fd, &minor, flushes))
                chart.dimensions.emplace_back("md" + std::to_string(minor), flushes);
        }
        if (!chart.dimensions.empty())
            charts.push_back(std::move(chart));
        return "";
    }

    std::vector<int> program_fds() const override { return skeleton_.program_fds(); }
    std::vector<int> map_fds() const override { return skeleton_.map_fds(); }

private:
    LoadPlan plan_for(AttachPath path) const
    {
        if (path == AttachPath::Tracepoint)
            return {{}, "md_flush_request has no tracepoint (trampoline or kprobe needed)"};
        std::string unavailable = kernel_.path_unavailable(path);
        if (!unavailable.empty())
            return {{}, unavailable};
        // Read each time: md_mod may be loaded after the plugin's start.
        auto found = find_kernel_functions({kFunction});
        if (found.empty())
            return {{}, "this kernel has no md_flush_request (the md RAID driver, md_mod, is not loaded)"};
        const std::string &module = found.begin()->second;
        if (path == AttachPath::Kprobe)
            return {{{"kprobe_md_flush_request", kFunction, ProgramSpec::Kind::Kprobe}}, ""};
        if (module.empty() ? !kernel_.has_function(kFunction) : !has_module_btf(module))
            return {{}, "md_flush_request has no BTF (" + (module.empty() ? "vmlinux" : module) +
                            "): trampolines need it"};
        if (!module.empty() && !may_read_module_btf())
            return {{}, "a trampoline on md_flush_request (in " + module + ") reads that module's BTF, "
                        "which needs CAP_SYS_ADMIN (--check and --verify do not keep it)"};
        return {{{"fentry_md_flush_request"}}, ""};
    }

    const KernelSymbols &kernel_;
    TableSkeleton<mdflush_bpf> skeleton_;
};


std::unique_ptr<TableModule> make_module(const KernelSymbols &kernel, const FilesystemChoice &)
{
    return std::make_unique<MdflushModule>(kernel);
}

const bool registered = register_module({.name = "mdflush", .order = 160, .make_table = make_module});
} // namespace
