// filesystem module: read, write, open and sync latency histograms of ext4,
// xfs, nfs, zfs and btrfs (kernel-collector/filesystem.bpf.c).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <fstream>
#include <map>
#include <set>

#include "filesystem.h"
#include "filesystem.skel.h"
#include "modules/kernel_module_functions.h"
#include "modules/table_module.h"
#include "modules/registry.h"

namespace {

using Kind = ProgramSpec::Kind;

struct Filesystem {
    const char *name;                        // as in [filesystem] <name>dist and the chart ids
    std::vector<std::string> mount_types;    // /proc/self/mounts types it covers
    const char *functions[FS_OPERATIONS];    // read, write, open, sync (nfs: getattr)
};

// Order of enum fs_kind.
const Filesystem filesystems[FS_KINDS] = {
    {"ext4", {"ext4"}, {"ext4_file_read_iter", "ext4_file_write_iter", "ext4_file_open", "ext4_sync_file"}},
    {"xfs", {"xfs"}, {"xfs_file_read_iter", "xfs_file_write_iter", "xfs_file_open", "xfs_file_fsync"}},
    {"nfs", {"nfs", "nfs4"}, {"nfs_file_read", "nfs_file_write", "nfs_file_open", "nfs_getattr"}},
    {"zfs", {"zfs"}, {"zpl_iter_read", "zpl_iter_write", "zpl_open", "zpl_fsync"}},
    {"btrfs", {"btrfs"}, {"btrfs_file_read_iter", "btrfs_file_write_iter", "btrfs_file_open", "btrfs_sync_file"}},
};

// Function -> the module it is in ("" for vmlinux), for the functions above.
std::map<std::string, std::string> find_functions()
{
    std::set<std::string> wanted;
    for (const Filesystem &fs : filesystems)
        for (const char *function : fs.functions)
            wanted.insert(function);
    return find_kernel_functions(wanted);
}

class FilesystemModule final : public TableModule {
public:
    FilesystemModule(const KernelSymbols &kernel, FilesystemChoice choice)
        : kernel_(kernel), choice_(std::move(choice)), functions_(find_functions())
    {
    }
    const char *name() const override { return "filesystem"; }

    std::string not_applicable(AttachPath path, bool) const override { return plan_for(path).not_applicable; }

    std::string start(AttachPath path, const ModuleSettings &) override
    {
        std::vector<__u32> kinds;
        std::string error = skeleton_.start(plan_for(path, &kinds));
        attached_ = error.empty() ? kinds : std::vector<__u32>{};
        return error;
    }
    void stop() override
    {
        skeleton_.stop();
        attached_.clear();
    }

    // Four charts per attached filesystem while one of its kind is mounted.
    std::string read(std::vector<KeyedChartValues> &charts) override
    {
        std::set<std::string> mounted = mounted_types();
        int fd = bpf_map__fd(skeleton_.get()->maps.fs_latency);
        for (__u32 kind : attached_) {
            const Filesystem &fs = filesystems[kind];
            bool is_mounted = false;
            for (const std::string &type : fs.mount_types)
                is_mounted |= mounted.contains(type);
            if (!is_mounted)
                continue;
            static const char *const templates[FS_OPERATIONS] = {
                "filesystem.KEY_read_latency", "filesystem.KEY_write_latency", "filesystem.KEY_open_latency",
                "filesystem.KEY_sync_latency"};
            for (__u32 operation = 0; operation < FS_OPERATIONS; operation++) {
                KeyedChartValues chart{templates[operation], fs.name, {}};
                if (kind == FS_NFS && operation == FS_SYNC)
                    chart.chart = "filesystem.KEY_attribute_latency";
                for (__u32 bin = 0; bin < LATENCY_BINS; bin++) {
                    __u32 slot = (kind * FS_OPERATIONS + operation) * LATENCY_BINS + bin;
                    uint64_t count = 0;
                    if (!read_per_cpu_sum(fd, &slot, count))
                        return "cannot read the filesystem table";
                    chart.dimensions.emplace_back(latency_bin_names()[bin], count);
                }
                charts.push_back(std::move(chart));
            }
        }
        return "";
    }

    std::vector<int> program_fds() const override { return skeleton_.program_fds(); }
    std::vector<int> map_fds() const override { return skeleton_.map_fds(); }

private:
    static std::set<std::string> mounted_types()
    {
        std::set<std::string> types;
        std::ifstream mounts("/proc/self/mounts");
        std::string device, point, type, rest;
        while (mounts >> device >> point >> type && std::getline(mounts, rest))
            types.insert(type);
        return types;
    }

    // Can `function` take a program of `path`: it is in the kernel, and for
    // trampolines its BTF (vmlinux or its module's) is there.
    bool can_attach(const std::string &function, AttachPath path) const
    {
        auto found = functions_.find(function);
        if (found == functions_.end())
            return false;
        if (path == AttachPath::Kprobe)
            return true;
        return found->second.empty() ? kernel_.has_function(function)
                                     : has_module_btf(found->second) && may_read_module_btf();
    }

    // kinds: the fs_kind of the filesystems in the plan.
    LoadPlan plan_for(AttachPath path, std::vector<__u32> *kinds = nullptr) const
    {
        if (path == AttachPath::Tracepoint)
            return {{}, "the filesystems' read, write, open and sync functions have no tracepoints "
                        "(trampoline or kprobe needed)"};
        std::string unavailable = kernel_.path_unavailable(path);
        if (!unavailable.empty())
            return {{}, unavailable};
        LoadPlan plan;
        for (__u32 kind = 0; kind < FS_KINDS; kind++) {
            const Filesystem &fs = filesystems[kind];
            if (choice_.disabled.contains(fs.name))
                continue;
            bool all = true;
            for (const char *function : fs.functions)
                all &= can_attach(function, path);
            if (!all)
                continue;
            if (kinds)
                kinds->push_back(kind);
            for (const char *function : fs.functions) {
                std::string name = function;
                if (path == AttachPath::Kprobe) {
                    plan.programs.push_back({"kprobe_" + name, name, Kind::Kprobe});
                    plan.programs.push_back({"kretprobe_" + name, name, Kind::Kretprobe});
                } else {
                    plan.programs.push_back({"fentry_" + name});
                    plan.programs.push_back({"fexit_" + name});
                }
            }
        }
        if (plan.programs.empty())
            return {{}, "none of ext4, xfs, nfs, zfs, btrfs (enabled in filesystem.conf) has its read, write, "
                        "open and sync functions in this kernel" +
                            std::string(path == AttachPath::Trampoline && !may_read_module_btf()
                                            ? " (for trampolines on a module's functions, reading its BTF "
                                              "needs CAP_SYS_ADMIN, which --check and --verify do not keep)"
                                            : "")};
        return plan;
    }

    const KernelSymbols &kernel_;
    FilesystemChoice choice_;
    std::map<std::string, std::string> functions_;
    TableSkeleton<filesystem_bpf> skeleton_;
    std::vector<__u32> attached_;  // fs_kind of the filesystems monitored
};


std::unique_ptr<TableModule> make_module(const KernelSymbols &kernel, const FilesystemChoice &choice)
{
    return std::make_unique<FilesystemModule>(kernel, choice);
}

const bool registered = register_module({.name = "filesystem", .order = 150, .make_table = make_module});
} // namespace
