// A counting module: a BPF skeleton with global, pid and cgroup tables (see
// kernel-collector/lib/accounting.h) and one program set per attach path.
#pragma once

#include <bpf/libbpf.h>
#include <memory>
#include <string>
#include <vector>

#include "kernel/attach.h"
#include "kernel/bpf_loader.h"
#include "kernel/probe.h"

struct ModuleSettings {
    bool apps = true;
    bool cgroups = true;
    bool per_cpu_tables = true;
    bool return_mode = false;
    unsigned pid_table_size = 32768;
    unsigned cgroup_table_size = 1024;
    int update_every = 1;  // seconds between reads of its tables and updates of its charts
};

// What every module kind offers: a name, starting on one attach path, stopping.
class Module {
public:
    virtual ~Module() = default;
    virtual const char *name() const = 0;
    // Loads and attaches the programs of `path`. Returns "" or a one-line reason.
    virtual std::string start(AttachPath path, const ModuleSettings &settings) = 0;
    virtual void stop() = 0;
    // Why `path` cannot apply to this kernel at all ("" when it can be tried).
    virtual std::string not_applicable(AttachPath path, bool return_mode) const = 0;
};

class CountingModule : public Module {
public:
    // Counter names in the order of the BPF counters array (charts/*.conf names).
    virtual const std::vector<std::string> &counter_names() const = 0;
    // Bytes of one BPF counter: 4 (u32), or 8 for modules that count bytes.
    virtual unsigned counter_bytes() const = 0;
    virtual int global_table_fd() const = 0;
    virtual int pid_table_fd() const = 0;
    virtual int cgroup_table_fd() const = 0;
    // -1 when the loaded object does not keep the bitmap (kernels before 5.12)
    virtual int active_pids_fd() const = 0;
};

// The life-cycle programs every module loads on every path (lib/accounting.h):
// the start of each plan, or why no plan can apply.
inline LoadPlan lifecycle_plan(const KernelSymbols &kernel)
{
    if (!kernel.has_raw_tracepoint("sched_process_exit") || !kernel.has_raw_tracepoint("sched_process_exec"))
        return {{}, "kernel has no BTF tracepoints sched_process_exit/exec"};
    return {{{"lifecycle_exit"}, {"lifecycle_exec"}}, ""};
}

std::unique_ptr<CountingModule> make_process_module(const KernelSymbols &kernel);
std::unique_ptr<CountingModule> make_fd_module(const KernelSymbols &kernel);
std::unique_ptr<CountingModule> make_vfs_module(const KernelSymbols &kernel);
// All of the above, in the order they start (modules/all_modules.cpp).
std::vector<std::unique_ptr<CountingModule>> make_all_modules(const KernelSymbols &kernel);
// What the vfs module's attach paths see differently (--check, docs/CHARTS.md).
const std::vector<std::string> &vfs_path_differences();

// Shared implementation over a bpftool-generated C++ skeleton. `Traits` gives
// the module name, counter names, the plan for a path and extra read-only data,
// and the same source's compat build for kernels without BPF atomics beyond add
// (`Compat`, a skeleton of its own, and `create_skeleton` of the main one).
template <class Skeleton, class Traits>
class SkeletonModule final : public CountingModule {
public:
    explicit SkeletonModule(const KernelSymbols &kernel) : kernel_(kernel) {}
    ~SkeletonModule() override { stop(); }

    const char *name() const override { return Traits::name; }
    const std::vector<std::string> &counter_names() const override { return Traits::counter_names(); }
    unsigned counter_bytes() const override
    {
        if constexpr (requires { Traits::counter_bytes; })
            return Traits::counter_bytes;
        else
            return 4;
    }

    std::string start(AttachPath path, const ModuleSettings &settings) override
    {
        stop();
        LoadPlan plan = plan_for(path, settings.return_mode);
        if (!plan.not_applicable.empty())
            return plan.not_applicable;
        compat_ = !bpf_atomics_refusal().empty();
        skeleton_ = compat_ ? open_compat() : Skeleton::open();
        if (!skeleton_)
            return "cannot open the BPF object: " + errno_text(-errno);
        skeleton_->rodata->apps_enabled = settings.apps;
        skeleton_->rodata->cgroups_enabled = settings.cgroups;
        skeleton_->rodata->per_cpu_tables = settings.per_cpu_tables;
        Traits::set_read_only_data(*skeleton_->rodata, kernel_);
        std::string error = size_tables(settings);
        if (error.empty())
            error = load_plan(skeleton_->obj, plan);
        if (error.empty())
            error = attach_plan(skeleton_->obj, plan, links_);
        if (!error.empty())
            stop();
        return error;
    }

    void stop() override
    {
        links_.clear();
        if (skeleton_)
            Skeleton::destroy(skeleton_);
        skeleton_ = nullptr;
    }

    int global_table_fd() const override { return bpf_map__fd(skeleton_->maps.global_table); }
    int pid_table_fd() const override { return bpf_map__fd(skeleton_->maps.pid_table); }
    int cgroup_table_fd() const override { return bpf_map__fd(skeleton_->maps.cgroup_table); }
    int active_pids_fd() const override { return compat_ ? -1 : bpf_map__fd(skeleton_->maps.active_pids); }

    std::string not_applicable(AttachPath path, bool return_mode) const override
    {
        return plan_for(path, return_mode).not_applicable;
    }


private:
    LoadPlan plan_for(AttachPath path, bool return_mode) const
    {
        std::string unavailable = kernel_.path_unavailable(path);
        return unavailable.empty() ? Traits::plan(kernel_, path, return_mode) : LoadPlan{{}, unavailable};
    }

    // The compat object has the same maps, programs and read-only data as the
    // main one: only the ELF that the skeleton opens differs.
    static Skeleton *open_compat()
    {
        auto *skeleton = static_cast<Skeleton *>(calloc(1, sizeof(Skeleton)));
        if (!skeleton)
            return nullptr;
        int err = Traits::create_skeleton(skeleton);
        if (!err) {
            skeleton->skeleton->data = const_cast<void *>(Traits::Compat::elf_bytes(&skeleton->skeleton->data_sz));
            err = bpf_object__open_skeleton(skeleton->skeleton, nullptr);
        }
        if (err) {
            Skeleton::destroy(skeleton);
            errno = -err;
            return nullptr;
        }
        return skeleton;
    }

    // Tables that are off shrink to one entry; shared tables need atomics,
    // which accounting.h uses when per_cpu_tables is false.
    std::string size_tables(const ModuleSettings &settings)
    {
        bpf_map *pid = skeleton_->maps.pid_table;
        bpf_map *cgroup = skeleton_->maps.cgroup_table;
        bpf_map_type type = settings.per_cpu_tables ? BPF_MAP_TYPE_PERCPU_HASH : BPF_MAP_TYPE_HASH;
        if (bpf_map__set_type(pid, type) || bpf_map__set_type(cgroup, type) ||
            bpf_map__set_max_entries(pid, settings.apps ? settings.pid_table_size : 1) ||
            bpf_map__set_max_entries(cgroup, settings.cgroups ? settings.cgroup_table_size : 1) ||
            (compat_ && bpf_map__set_max_entries(skeleton_->maps.active_pids, 1)))
            return "cannot size the tables";
        return "";
    }

    const KernelSymbols &kernel_;
    Skeleton *skeleton_ = nullptr;
    bool compat_ = false; // skeleton_ holds the compat object
    LinkSet links_;
};
