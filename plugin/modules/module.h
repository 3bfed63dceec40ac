// A counting module: a BPF skeleton with global, pid and cgroup tables (see
// kernel-collector/lib/accounting.h) and one program set per attach path.
// Who a process is, and when it exits, is the process core's business
// (accounting/process_core.h): a module loads no life-cycle program.
#pragma once

#include <bpf/libbpf.h>
#include <unistd.h>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "kernel/attach.h"
#include "kernel/bpf_loader.h"

struct ModuleSettings {
    bool apps = true;
    bool cgroups = true;
    bool per_cpu_tables = true;
    bool return_mode = false;
    unsigned pid_table_size = 32768;
    unsigned cgroup_table_size = 1024;
    int update_every = 1;  // seconds between reads of its tables and updates of its charts
    int active_pids_fd = -1;          // the process core's array, reused; -1: a private one
    int process_slots_fd = -1;        // the process core's slots, reused; -1: slots off
    uint32_t slot_count = 0;          // their number (the module's pid_slots has as many)
    // Syscalls its [syscalls] section turns off (sync, shm): their programs are
    // not loaded, their counters stay 0 and their dimensions are not shown.
    std::set<std::string> disabled_syscalls;
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
    // The loaded programs and the maps, for the self charts (core/self_monitor.h).
    virtual std::vector<int> program_fds() const = 0;
    virtual std::vector<int> map_fds() const = 0;
};

class CountingModule : public Module {
public:
    // Counter names in the order of the BPF counters array (charts/*.conf names).
    virtual const std::vector<std::string> &counter_names() const = 0;
    // Bytes of one BPF counter: 4 (u32), or 8 for modules that count bytes.
    virtual unsigned counter_bytes() const = 0;
    virtual int global_table_fd() const = 0;
    virtual int pid_table_fd() const = 0;
    virtual int pid_slots_fd() const = 0;
    virtual int cgroup_table_fd() const = 0;
};

// The start of each plan. Modules no longer load life-cycle programs (the
// process core does, once); an empty plan, kept so modules written before the
// core build unchanged.
inline LoadPlan lifecycle_plan(const KernelSymbols &)
{
    return {};
}

// Every registered counting module, in the order they start (modules/registry.h).
std::vector<std::unique_ptr<CountingModule>> make_all_modules(const KernelSymbols &kernel);

// A program named <kind>_<syscall> belongs to that syscall (sync and shm name
// theirs so): the plan without the syscalls `disabled` lists.
void drop_disabled_syscalls(LoadPlan &plan, const std::set<std::string> &disabled);
// What the vfs module's attach paths see differently (--check, docs/CHARTS.md).
const std::vector<std::string> &vfs_path_differences();
// The same for the socket module.
const std::vector<std::string> &socket_path_differences();

// Shared implementation over a bpftool-generated C++ skeleton. `Traits` gives
// the module name, counter names (and counter_bytes when not 4), the plan for
// a path and extra read-only data.
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
        skeleton_ = Skeleton::open();
        if (!skeleton_)
            return "cannot open the BPF object: " + errno_text(-errno);
        drop_disabled_syscalls(plan, settings.disabled_syscalls);
        skeleton_->rodata->apps_enabled = settings.apps;
        skeleton_->rodata->cgroups_enabled = settings.cgroups;
        skeleton_->rodata->per_cpu_tables = settings.per_cpu_tables;
        skeleton_->rodata->plugin_tgid = getpid();
        Traits::set_read_only_data(*skeleton_->rodata, kernel_);
        std::string error = size_tables(settings);
        if (error.empty())
            error = load_and_attach_plan(skeleton_->obj, plan, links_);
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
    int pid_slots_fd() const override { return bpf_map__fd(skeleton_->maps.pid_slots); }
    int cgroup_table_fd() const override { return bpf_map__fd(skeleton_->maps.cgroup_table); }

    std::vector<int> program_fds() const override { return loaded_program_fds(skeleton_ ? skeleton_->obj : nullptr); }
    std::vector<int> map_fds() const override { return loaded_map_fds(skeleton_ ? skeleton_->obj : nullptr); }

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

    // Tables that are off shrink to one entry. Only the global table can be
    // per-CPU (`maps per core`); accounting.h uses atomics on shared ones.
    std::string size_tables(const ModuleSettings &settings)
    {
        bpf_map *pid = skeleton_->maps.pid_table;
        bpf_map *cgroup = skeleton_->maps.cgroup_table;
        bpf_map_type global = settings.per_cpu_tables ? BPF_MAP_TYPE_PERCPU_ARRAY : BPF_MAP_TYPE_ARRAY;
        if (bpf_map__set_type(skeleton_->maps.global_table, global) ||
            bpf_map__set_max_entries(pid, settings.apps ? settings.pid_table_size : 1) ||
            bpf_map__set_max_entries(cgroup, settings.cgroups ? settings.cgroup_table_size : 1))
            return "cannot size the tables";
        bpf_map *active = skeleton_->maps.active_pids;
        int err = settings.active_pids_fd >= 0 ? bpf_map__reuse_fd(active, settings.active_pids_fd)
                                               : bpf_map__set_max_entries(active, 1);
        if (err)
            return "cannot share the process core's active_pids: " + errno_text(err);
        // slots only with app groups: without them no process is read
        bool slots = settings.apps && settings.process_slots_fd >= 0 && settings.slot_count;
        skeleton_->rodata->slot_count = slots ? settings.slot_count : 0;
        err = slots ? bpf_map__reuse_fd(skeleton_->maps.process_slots, settings.process_slots_fd)
                    : bpf_map__set_max_entries(skeleton_->maps.process_slots, 1);
        if (!err)
            err = bpf_map__set_max_entries(skeleton_->maps.pid_slots, slots ? settings.slot_count : 1);
        return err ? "cannot share the process core's slots: " + errno_text(err) : "";
    }

    const KernelSymbols &kernel_;
    Skeleton *skeleton_ = nullptr;
    LinkSet links_;
};
