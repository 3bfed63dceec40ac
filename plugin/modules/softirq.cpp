// softirq module: time spent per softirq vector (kernel-collector/softirq.bpf.c).
#include <bpf/libbpf.h>

#include "modules/table_module.h"
#include "modules/registry.h"
#include "softirq.h"
#include "softirq.skel.h"

namespace {

// The kernel's order (include/linux/interrupt.h); upstream's dimensions.
const char *const vector_names[SOFTIRQ_VECTORS] = {"HI",      "TIMER",   "NET_TX", "NET_RX",  "BLOCK",
                                                   "IRQ_POLL", "TASKLET", "SCHED",  "HRTIMER", "RCU"};

class SoftirqModule final : public TracepointTableModule<softirq_bpf> {
public:
    explicit SoftirqModule(const KernelSymbols &kernel)
        : TracepointTableModule(kernel, {"softirq", "softirqs", "softirq_entry", "softirq_exit", "softirq_entry/exit"})
    {
    }

    std::string start(AttachPath path, const ModuleSettings &) override
    {
        std::string why = not_applicable(path, false);
        return skeleton_.start(why.empty() ? LoadPlan{{{"tp_softirq_entry"}, {"tp_softirq_exit"}}, ""}
                                           : LoadPlan{{}, why});
    }

    std::string read(std::vector<KeyedChartValues> &charts) override
    {
        KeyedChartValues chart{"system.softirq_latency", "", {}};
        int fd = bpf_map__fd(skeleton_.get()->maps.softirq_latency);
        for (__u32 vector = 0; vector < SOFTIRQ_VECTORS; vector++) {
            uint64_t nanoseconds = 0;
            if (!read_per_cpu_sum(fd, &vector, nanoseconds))
                return "cannot read the softirq table";
            chart.dimensions.emplace_back(vector_names[vector], nanoseconds);
        }
        charts.push_back(std::move(chart));
        return "";
    }
};


std::unique_ptr<TableModule> make_module(const KernelSymbols &kernel, const FilesystemChoice &)
{
    return std::make_unique<SoftirqModule>(kernel);
}

const bool registered = register_module({.name = "softirq", .order = 130, .make_table = make_module});
} // namespace
