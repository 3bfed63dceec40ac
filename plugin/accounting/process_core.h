// The process core (kernel-collector/core.bpf.c): one set of life-cycle
// programs and one identity per process for the whole plugin. Each cycle it
// reads the processes that changed, in creation order, decides their app
// groups from their lineage, and tells the modules which processes to read
// and which to remove.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "accounting/active_pids.h"
#include "accounting/process_groups.h"
#include "accounting/process_slots.h"
#include "accounting/table_reader.h"
#include "kernel/attach.h"
#include "kernel/bpf_loader.h"
#include "lib/table_value.h"

struct core_bpf;

struct CoreSettings {
    unsigned table_size = 32768; // `pid table size`: entries of process_table, and slots
};

// A process whose module counters sit in slot `index` (kernel-collector/lib/process_slots.h).
struct SlotOwner {
    uint32_t pid;
    uint32_t index;
    auto operator<=>(const SlotOwner &) const = default;
};

class ProcessCore {
public:
    explicit ProcessCore(ProcessGroups groups);
    ~ProcessCore();
    ProcessCore(const ProcessCore &) = delete;
    ProcessCore &operator=(const ProcessCore &) = delete;

    // Why the core cannot run on this kernel ("" when it can be tried).
    static std::string not_applicable(const KernelSymbols &kernel);
    // Loads and attaches the life-cycle programs. Returns "" or a one-line reason.
    std::string start(const KernelSymbols &kernel, const CoreSettings &settings);
    void stop();
    // The active_pids array every module reuses.
    int active_pids_fd() const;
    // The slot array every module reuses, and its size (0: slots off, before Linux 5.12).
    int process_slots_fd() const;
    uint32_t slot_count() const { return slots_ ? slots_->count() : 0; }
    // Why the kernel refused the slots ("" when they are on, or the core is stopped).
    const std::string &slots_refused() const { return slots_refused_; }
    // Its loaded object, for the self charts (core/self_monitor.h); null when stopped.
    bpf_object *object() const;

    // One cycle, before the modules: reads the marks and the changed identities.
    std::string begin_cycle();
    // Pids whose module entries may have changed, or are read a last time.
    const std::vector<uint64_t> &changed() const { return changed_; }
    // A mark beyond the array was seen: modules read their whole tables.
    bool read_everything() const { return read_everything_; }
    // The app group of a process a module counted for; -1 when the core has
    // not recorded it yet (read that entry again next cycle).
    int group_of(uint32_t pid);
    // Its entries are read a last time this cycle, then removed.
    bool finishing(uint32_t pid) const { return finishing_.contains(pid); }
    // Removed already: a module entry for it is a late event (a reap).
    bool gone(uint32_t pid) const;
    // The group of counters just taken from a slot: the name the process has
    // now. An exec after the cycle's read renamed it; what it counted from its
    // start up to the take goes with the new name, as if read after the exec.
    int group_after_take(const SlotOwner &owner);
    // Slots whose module counters are taken this cycle: of processes read or
    // finishing now, and of those given back last cycle (their last events).
    const std::vector<SlotOwner> &slot_owners() const { return slot_owners_; }
    // After the modules: removes the identities of finished processes.
    std::string end_cycle();

    ProcessGroups &groups() { return groups_; }
    // Processes known and not removed (the self chart's `core` pid entries).
    size_t entries() const;
    uint64_t table_full() const;

private:
    enum class State { Live, Exited, Gone };
    struct Process {
        uint64_t start_ns = 0;
        uint64_t identity_ns = 0;
        int group = -1;
        int inherited = -1;   // the parent's group when first seen
        State state = State::Live;
        uint64_t cycle = 0;   // when it was removed
    };
    std::string load(const CoreSettings &settings, uint32_t slot_count);
    void read_slots();
    void apply(uint32_t pid, const task_identity &identity);
    void set_gone(uint32_t pid, Process &process);
    int parent_group(uint32_t ppid);

    ProcessGroups groups_;
    core_bpf *skeleton_ = nullptr;
    LinkSet links_;
    std::unique_ptr<TableReader> reader_;
    std::unique_ptr<ActivePids> active_;
    std::unique_ptr<ProcessSlots> slots_;
    std::string slots_refused_;
    std::vector<SlotOwner> slot_owners_;
    std::vector<SlotOwner> closing_;                  // given back this cycle: freed at the next end
    std::unordered_map<uint32_t, Process> processes_;
    std::vector<uint32_t> exited_;                    // seen exited this cycle: finishing next
    std::unordered_set<uint32_t> finishing_;
    std::deque<std::pair<uint64_t, uint32_t>> gone_;  // (cycle removed, pid), oldest first
    size_t gone_count_ = 0;
    std::unordered_map<uint32_t, uint64_t> unseen_; // pid -> cycle a module first asked
    std::vector<uint64_t> changed_, missing_;
    std::vector<TableEntry> entries_;
    bool read_everything_ = false;
    uint64_t cycle_ = 0;
};
