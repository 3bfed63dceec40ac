// A table module: its BPF programs keep global tables keyed by something other
// than a process (an IRQ, a softirq vector, a disk and latency bin, a
// filesystem, operation and bin). It has no per-process, app group or cgroup
// accounts: each cycle it reads its tables into keyed charts (scope = keyed in
// charts/<module>.conf), naming the dimensions itself.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/chart_data.h"
#include "modules/module.h"

class TableModule : public Module {
public:
    // Reads the tables: every chart the module shows now (a chart left out,
    // e.g. of an unmounted filesystem, goes obsolete). "" or why it could not.
    virtual std::string read(std::vector<KeyedChartValues> &charts) = 0;
};

// The [filesystem] section of ebpf.d/filesystem.conf: `<name>dist = yes|no`.
struct FilesystemChoice {
    std::set<std::string> disabled;  // "ext4", "xfs", "nfs", "zfs", "btrfs"
};

// Every registered table module (modules/registry.h), and every module of both kinds (--check, --verify).
std::vector<std::unique_ptr<TableModule>> make_all_table_modules(const KernelSymbols &kernel,
                                                                 const FilesystemChoice &filesystems);
std::vector<std::unique_ptr<Module>> make_modules_of_every_kind(const KernelSymbols &kernel);


// The upstream histogram's dimension names: "0us->1us" ... "4s->+Inf".
const std::vector<std::string> &latency_bin_names();
// Sums a per-CPU value of `map_fd` at `key`; false when the key is absent.
bool read_per_cpu_sum(int map_fd, const void *key, uint64_t &sum);

// The skeleton and links of a started table module.
template <class Skeleton>
class TableSkeleton {
public:
    ~TableSkeleton() { stop(); }
    Skeleton *get() const { return skeleton_; }
    std::vector<int> program_fds() const { return loaded_program_fds(skeleton_ ? skeleton_->obj : nullptr); }
    std::vector<int> map_fds() const { return loaded_map_fds(skeleton_ ? skeleton_->obj : nullptr); }

    std::string start(const LoadPlan &plan)
    {
        stop();
        if (!plan.not_applicable.empty())
            return plan.not_applicable;
        skeleton_ = Skeleton::open();
        if (!skeleton_)
            return "cannot open the BPF object: " + errno_text(-errno);
        std::string error = load_and_attach_plan(skeleton_->obj, plan, links_);
        if (!error.empty())
            stop();
        return error;
    }

    void stop()
    {
        links_.clear();
        if (skeleton_)
            Skeleton::destroy(skeleton_);
        skeleton_ = nullptr;
    }

private:
    Skeleton *skeleton_ = nullptr;
    LinkSet links_;
};

// What a table module reading one pair of BTF tracepoints needs of the kernel.
struct TracepointPair {
    const char *module;  // "disk"
    const char *what;    // "block requests": read from their tracepoints only (as upstream)
    const char *entry;   // both raw tracepoints must exist
    const char *exit;
    const char *shown;   // the pair in the message: "block_rq_issue/complete"
};

// "" when the module can run on `path`, else why not.
std::string tracepoint_pair_unavailable(const KernelSymbols &kernel, AttachPath path, const TracepointPair &pair);

// The common body of the tracepoint-only table modules (hardirq, softirq, disk):
// each one adds its start (the programs) and its read (the charts).
template <class Skeleton>
class TracepointTableModule : public TableModule {
public:
    TracepointTableModule(const KernelSymbols &kernel, const TracepointPair &pair) : kernel_(kernel), pair_(pair) {}
    const char *name() const override { return pair_.module; }

    std::string not_applicable(AttachPath path, bool) const override
    {
        return tracepoint_pair_unavailable(kernel_, path, pair_);
    }

    void stop() override { skeleton_.stop(); }
    std::vector<int> program_fds() const override { return skeleton_.program_fds(); }
    std::vector<int> map_fds() const override { return skeleton_.map_fds(); }

protected:
    const KernelSymbols &kernel_;
    TableSkeleton<Skeleton> skeleton_;

private:
    TracepointPair pair_;
};
