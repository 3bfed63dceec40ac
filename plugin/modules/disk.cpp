// disk module: block request latency histograms per disk (kernel-collector/disk.bpf.c).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <fstream>
#include <map>
#include <unistd.h>

#include "disk.h"
#include "disk.skel.h"
#include "modules/table_module.h"
#include "modules/registry.h"

namespace {

// The disk's name (sda, loop0, nvme0n1) from sysfs; "" once it is gone or
// empty (a detached loop device: /proc/partitions, upstream's list, leaves it out).
std::string disk_name(__u32 dev)
{
    std::string link = "/sys/dev/block/" + std::to_string(dev >> 20) + ":" + std::to_string(dev & 0xfffff);
    char target[512];
    ssize_t length = readlink(link.c_str(), target, sizeof target - 1);
    std::ifstream size_file(link + "/size");
    uint64_t sectors = 0;
    if (length <= 0 || !(size_file >> sectors) || sectors == 0)
        return "";
    std::string path(target, static_cast<size_t>(length));
    return path.substr(path.rfind('/') + 1);
}

class DiskModule final : public TracepointTableModule<disk_bpf> {
public:
    explicit DiskModule(const KernelSymbols &kernel)
        : TracepointTableModule(kernel, {"disk", "block requests", "block_rq_issue", "block_rq_complete",
                                         "block_rq_issue/complete"})
    {
    }

    std::string start(AttachPath path, const ModuleSettings &) override
    {
        std::string why = not_applicable(path, false);
        if (!why.empty())
            return skeleton_.start({{}, why});
        // block_rq_issue(rq) since 5.11, block_rq_issue(q, rq) before
        bool with_queue = kernel_.raw_tracepoint_arg_count("block_rq_issue") == 2;
        return skeleton_.start(
            {{{with_queue ? "tp_block_rq_issue_with_queue" : "tp_block_rq_issue"}, {"tp_block_rq_complete"}}, ""});
    }

    // One chart per disk present (a detached one goes obsolete), all bins.
    std::string read(std::vector<KeyedChartValues> &charts) override
    {
        std::map<__u32, std::vector<uint64_t>> histograms;
        int fd = bpf_map__fd(skeleton_.get()->maps.disk_latency);
        disk_bin_key key{}, next{};
        bool first = true;
        while (bpf_map_get_next_key(fd, first ? nullptr : &key, &next) == 0) {
            first = false;
            key = next;
            uint64_t count = 0;
            if (key.bin >= LATENCY_BINS || !read_per_cpu_sum(fd, &key, count))
                continue;
            auto &bins = histograms[key.dev];
            bins.resize(LATENCY_BINS);
            bins[key.bin] = count;
        }
        for (const auto &[dev, bins] : histograms) {
            std::string name = disk_name(dev);
            if (name.empty())
                continue;
            KeyedChartValues chart{"disk_latency_io.KEY", name, {}};
            for (size_t bin = 0; bin < bins.size(); bin++)
                chart.dimensions.emplace_back(latency_bin_names()[bin], bins[bin]);
            charts.push_back(std::move(chart));
        }
        return "";
    }
};


std::unique_ptr<TableModule> make_module(const KernelSymbols &kernel, const FilesystemChoice &)
{
    return std::make_unique<DiskModule>(kernel);
}

const bool registered = register_module({.name = "disk", .order = 140, .make_table = make_module});
} // namespace
