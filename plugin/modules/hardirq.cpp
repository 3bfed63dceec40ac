// hardirq module: time spent in hardware interrupt handlers per IRQ and per
// x86 vector (kernel-collector/hardirq.bpf.c).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <fstream>
#include <map>
#include <sstream>

#include "hardirq.h"
#include "hardirq.skel.h"
#include "modules/table_module.h"
#include "modules/registry.h"

namespace {

struct Vector {
    const char *event;      // irq_vectors:<event>_entry/exit
    const char *dimension;  // upstream's name
};
// Order of enum hardirq_vector.
const Vector vectors[HARDIRQ_VECTORS] = {
    {"thermal_apic", "apic_thermal"},       {"threshold_apic", "apic_threshold"},
    {"error_apic", "apic_error"},           {"deferred_error_apic", "apic_deferred_error"},
    {"spurious_apic", "apic_spurious"},     {"call_function", "func_call"},
    {"call_function_single", "func_call_single"}, {"reschedule", "reschedule"},
    {"local_timer", "local_timer"},         {"irq_work", "irq_work"},
    {"x86_platform_ipi", "x86_platform_ipi"},
};

// "<irq>_<name>" as upstream: the last word of the IRQ's /proc/interrupts line.
std::map<__u32, std::string> read_irq_names()
{
    std::map<__u32, std::string> names;
    std::ifstream file("/proc/interrupts");
    std::string line;
    while (std::getline(file, line)) {
        std::istringstream words(line);
        std::string first, word, last;
        words >> first;
        if (first.empty() || first.back() != ':' || first.find_first_not_of("0123456789") != first.size() - 1)
            continue;
        while (words >> word)
            last = word;
        __u32 irq = static_cast<__u32>(std::stoul(first));
        names[irq] = std::to_string(irq) + "_" + last;
    }
    return names;
}

class HardirqModule final : public TracepointTableModule<hardirq_bpf> {
public:
    explicit HardirqModule(const KernelSymbols &kernel)
        : TracepointTableModule(kernel, {"hardirq", "hardware IRQs", "irq_handler_entry", "irq_handler_exit",
                                         "irq_handler_entry/exit"})
    {
    }

    std::string start(AttachPath path, const ModuleSettings &) override
    {
        LoadPlan plan = plan_for(path);
        attached_vectors_.clear();
        for (const ProgramSpec &program : plan.programs)
            for (__u32 vector = 0; vector < HARDIRQ_VECTORS; vector++)
                if (program.program == std::string("tp_") + vectors[vector].event + "_exit")
                    attached_vectors_.push_back(vector);
        return skeleton_.start(plan);
    }

    std::string read(std::vector<KeyedChartValues> &charts) override
    {
        KeyedChartValues chart{"system.hardirq_latency", "", {}};
        int irq_fd = bpf_map__fd(skeleton_.get()->maps.irq_latency);
        __u32 irq = 0, next = 0;
        bool first = true;
        while (bpf_map_get_next_key(irq_fd, first ? nullptr : &irq, &next) == 0) {
            first = false;
            irq = next;
            uint64_t nanoseconds = 0;
            if (!read_per_cpu_sum(irq_fd, &irq, nanoseconds))
                continue;  // removed meanwhile: never happens, the table only grows
            if (!names_.contains(irq))
                names_ = read_irq_names();
            auto name = names_.find(irq);
            chart.dimensions.emplace_back(name != names_.end() ? name->second : std::to_string(irq), nanoseconds);
        }
        int vector_fd = bpf_map__fd(skeleton_.get()->maps.vector_latency);
        for (__u32 vector : attached_vectors_) {
            uint64_t nanoseconds = 0;
            if (!read_per_cpu_sum(vector_fd, &vector, nanoseconds))
                return "cannot read the vector table";
            chart.dimensions.emplace_back(vectors[vector].dimension, nanoseconds);
        }
        charts.push_back(std::move(chart));
        return "";
    }

private:
    LoadPlan plan_for(AttachPath path) const
    {
        std::string why = not_applicable(path, false);
        if (!why.empty())
            return {{}, why};
        LoadPlan plan{{{"tp_irq_handler_entry"}, {"tp_irq_handler_exit"}}, ""};
        // The x86 vectors this kernel traces (irq_vectors:*).
        for (const Vector &vector : vectors) {
            std::string event = vector.event;
            if (kernel_.has_raw_tracepoint(event + "_entry") && kernel_.has_raw_tracepoint(event + "_exit")) {
                plan.programs.push_back({"tp_" + event + "_entry"});
                plan.programs.push_back({"tp_" + event + "_exit"});
            }
        }
        return plan;
    }

    std::vector<__u32> attached_vectors_;
    std::map<__u32, std::string> names_;
};


std::unique_ptr<TableModule> make_module(const KernelSymbols &kernel, const FilesystemChoice &)
{
    return std::make_unique<HardirqModule>(kernel);
}

const bool registered = register_module({.name = "hardirq", .order = 120, .make_table = make_module});
} // namespace
