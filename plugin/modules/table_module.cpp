#include "modules/table_module.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/latency.h"

const std::vector<std::string> &latency_bin_names()
{
    // Upstream's labels (ebpf_fill_histogram_dimension): bin b spans 2^(b-1) to 2^b microseconds,
    // shown in us, ms or s once the lower bound passes 1000 of the unit.
    static const std::vector<std::string> names = [] {
        const char *units[] = {"us", "ms", "s"};
        std::vector<std::string> out;
        int previous_unit = 0, current_unit = 0;
        uint64_t previous_level = 1000, current_level = 1000, previous_divisor = 1, current_divisor = 1;
        uint64_t previous = 0, current = 1;
        for (int bin = 0; bin < LATENCY_BINS - 1; bin++) {
            out.push_back(std::to_string(previous / previous_divisor) + units[previous_unit] + "->" +
                          std::to_string(current / current_divisor) + units[current_unit]);
            previous = current;
            current <<= 1;
            if (previous_unit != 2 && previous > previous_level) {
                previous_unit++;
                previous_divisor *= 1000;
                previous_level *= 1000;
            }
            if (current_unit != 2 && current > current_level) {
                current_unit++;
                current_divisor *= 1000;
                current_level *= 1000;
            }
        }
        out.push_back(std::to_string(previous / previous_divisor) + units[previous_unit] + "->+Inf");
        return out;
    }();
    return names;
}

bool read_per_cpu_sum(int map_fd, const void *key, uint64_t &sum)
{
    static const int cpus = libbpf_num_possible_cpus();
    std::vector<uint64_t> values(cpus > 0 ? cpus : 1);
    if (bpf_map_lookup_elem(map_fd, key, values.data()) != 0)
        return false;
    sum = 0;
    for (uint64_t value : values)
        sum += value;
    return true;
}

std::string tracepoint_pair_unavailable(const KernelSymbols &kernel, AttachPath path, const TracepointPair &pair)
{
    if (path != AttachPath::Tracepoint)
        return std::string(pair.what) + " are read from their tracepoints only (as upstream)";
    std::string unavailable = kernel.path_unavailable(path);
    if (!unavailable.empty())
        return unavailable;
    if (!kernel.has_raw_tracepoint(pair.entry) || !kernel.has_raw_tracepoint(pair.exit))
        return std::string("kernel has no BTF tracepoints ") + pair.shown;
    return "";
}
