#include "accounting/process_core.h"

#include <algorithm>
#include <bpf/bpf.h>
#include <cstring>

#include "core.skel.h"
#include "core/log.h"

namespace {
// Decisions about removed processes stay this many cycles for late events.
constexpr uint64_t keep_gone_cycles = 5;
const char *const lifecycle_tracepoints[] = {"sched_process_fork", "sched_process_exec", "sched_process_exit"};

task_identity identity_of(const TableEntry &entry)
{
    task_identity identity;
    memcpy(&identity, entry.words.data(), sizeof(identity));
    return identity;
}

TableEntry entry_of(uint32_t pid, const task_identity &identity)
{
    TableEntry entry{pid, std::vector<uint32_t>(sizeof(identity) / sizeof(uint32_t))};
    memcpy(entry.words.data(), &identity, sizeof(identity));
    return entry;
}
} // namespace

ProcessCore::ProcessCore(ProcessGroups groups) : groups_(std::move(groups)) {}

ProcessCore::~ProcessCore() { stop(); }

std::string ProcessCore::not_applicable(const KernelSymbols &kernel)
{
    for (const char *tracepoint : lifecycle_tracepoints)
        if (!kernel.has_raw_tracepoint(tracepoint))
            return std::string("kernel has no BTF tracepoint ") + tracepoint;
    return "";
}

std::string ProcessCore::start(const KernelSymbols &kernel, const CoreSettings &settings)
{
    stop();
    std::string error = not_applicable(kernel);
    if (!error.empty())
        return error;
    // Slots need BPF's compare-and-swap (Linux 5.12): a kernel that refuses
    // it runs the core on its hash table alone.
    error = load(settings, settings.table_size);
    if (!error.empty()) {
        stop();
        std::string without = load(settings, 0);
        if (!without.empty()) {
            stop();
            return error;
        }
        // the verifier's last line says nothing more than the errno here
        slots_refused_ = "the kernel refuses the slot claim, a BPF compare-and-swap (Linux 5.12): " +
                         error.substr(0, error.find(" (verifier:"));
        log_info("process core: process slots off (%s): every process uses the hash tables", slots_refused_.c_str());
    }
    return "";
}

std::string ProcessCore::load(const CoreSettings &settings, uint32_t slot_count)
{
    skeleton_ = core_bpf::open();
    if (!skeleton_)
        return "cannot open the BPF object: " + errno_text(-errno);
    uint32_t words = active_pid_words();
    skeleton_->rodata->slot_count = slot_count;
    if (bpf_map__set_max_entries(skeleton_->maps.process_table, settings.table_size) ||
        bpf_map__set_max_entries(skeleton_->maps.active_pids, words) ||
        bpf_map__set_max_entries(skeleton_->maps.process_slots, slot_count ? slot_count : 1))
        return "cannot size the tables";
    LoadPlan plan{{{slot_count ? "core_fork_slots" : "core_fork"}, {"core_exec"}, {"core_exit"}}, ""};
    std::string error = load_and_attach_plan(skeleton_->obj, plan, links_);
    if (!error.empty())
        return error;
    reader_ = std::make_unique<TableReader>(bpf_map__fd(skeleton_->maps.process_table), 4,
                                            static_cast<unsigned>(sizeof(task_identity)), settings.table_size);
    active_ = std::make_unique<ActivePids>(bpf_map__fd(skeleton_->maps.active_pids), words);
    if (slot_count) {
        slots_ = std::make_unique<ProcessSlots>(bpf_map__fd(skeleton_->maps.process_slots), slot_count);
        if (!slots_->usable())
            return "cannot map the process slots: " + errno_text(-errno);
    }
    return "";
}

void ProcessCore::stop()
{
    slots_refused_.clear();
    links_.clear();
    reader_.reset();
    active_.reset();
    slots_.reset();
    slot_owners_.clear();
    closing_.clear();
    if (skeleton_)
        core_bpf::destroy(skeleton_);
    skeleton_ = nullptr;
}

int ProcessCore::active_pids_fd() const
{
    return skeleton_ ? bpf_map__fd(skeleton_->maps.active_pids) : -1;
}

int ProcessCore::process_slots_fd() const
{
    return slots_ ? bpf_map__fd(skeleton_->maps.process_slots) : -1;
}

bpf_object *ProcessCore::object() const
{
    return skeleton_ ? skeleton_->obj : nullptr;
}

bool ProcessCore::gone(uint32_t pid) const
{
    auto found = processes_.find(pid);
    return found != processes_.end() && found->second.state == State::Gone;
}

size_t ProcessCore::entries() const { return processes_.size() - gone_count_; }

uint64_t ProcessCore::table_full() const
{
    uint32_t zero = 0;
    uint64_t full = 0;
    if (skeleton_)
        bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.core_table_full), &zero, &full);
    return full;
}

// The group a child inherits: its parent's, decided when the parent was read
// (entries are read in creation order, so before the child).
int ProcessCore::parent_group(uint32_t ppid)
{
    if (ppid <= 1)
        return groups_.other_group();
    auto parent = processes_.find(ppid);
    if (parent != processes_.end() && parent->second.group >= 0)
        return parent->second.group;
    return groups_.decide_from_proc(ppid).value_or(groups_.other_group());
}

void ProcessCore::apply(uint32_t pid, const task_identity &identity)
{
    Process &process = processes_[pid];
    // a reused pid (or a pid seen before only through /proc, start 0) gets a fresh decision
    if ((process.start_ns && process.start_ns != identity.start_ns) || process.state == State::Gone) {
        gone_count_ -= process.state == State::Gone;
        process = Process{};
        finishing_.erase(pid); // a new process under that pid: its entries stay
    }
    process.start_ns = identity.start_ns;
    if (process.inherited < 0)
        process.inherited = parent_group(identity.ppid);
    if (process.group < 0 || identity.identity_ns > process.identity_ns) {
        std::string_view comm(identity.comm, strnlen(identity.comm, sizeof(identity.comm)));
        process.group = groups_.decide(pid, comm, !identity.exited, process.inherited);
        process.identity_ns = identity.identity_ns;
    }
    if (identity.exited && process.state == State::Live) {
        process.state = State::Exited;
        exited_.push_back(pid);
    }
}

void ProcessCore::set_gone(uint32_t pid, Process &process)
{
    gone_count_ += process.state != State::Gone;
    process.state = State::Gone;
    process.cycle = cycle_;
    gone_.emplace_back(cycle_, pid);
}

std::string ProcessCore::begin_cycle()
{
    ++cycle_;
    changed_.clear();
    finishing_.clear();
    // seen exited in an earlier cycle (and not replaced by a new process since)
    for (uint32_t pid : exited_)
        if (auto found = processes_.find(pid); found != processes_.end() && found->second.state == State::Exited)
            finishing_.insert(pid);
    exited_.clear();

    std::string error;
    read_everything_ = !active_->usable() || active_->take(changed_);
    if (read_everything_) {
        error = reader_->read(entries_);
        changed_.clear();
        for (const TableEntry &entry : entries_)
            changed_.push_back(entry.key);
    } else {
        error = reader_->lookup(changed_, entries_, missing_);
    }
    slot_owners_ = closing_;
    if (slots_)
        read_slots();
    // creation order: a parent is decided before its children
    std::sort(entries_.begin(), entries_.end(), [](const TableEntry &a, const TableEntry &b) {
        return identity_of(a).start_ns < identity_of(b).start_ns;
    });
    for (const TableEntry &entry : entries_)
        apply(static_cast<uint32_t>(entry.key), identity_of(entry));
    for (uint32_t pid : finishing_) {
        changed_.push_back(pid);
        if (slots_ && slots_->owner(slots_->index_of(pid)) == pid)
            slot_owners_.push_back({pid, slots_->index_of(pid)});
    }
    // a finishing process may have been read again this cycle
    std::sort(slot_owners_.begin(), slot_owners_.end());
    slot_owners_.erase(std::unique(slot_owners_.begin(), slot_owners_.end()), slot_owners_.end());
    return error;
}

// The identities of changed processes that own a slot (all owned slots when
// everything is read). Their module counters are taken this cycle.
void ProcessCore::read_slots()
{
    size_t from = 0;
    if (read_everything_) {
        from = changed_.size(); // those are the hash table's
        for (uint32_t index = 0; index < slots_->count(); ++index) {
            uint32_t owner = slots_->owner(index);
            if (owner && !(owner & (SLOT_TAKING | SLOT_CLOSING)))
                changed_.push_back(owner);
        }
    }
    for (size_t i = from; i < changed_.size(); ++i) {
        uint32_t pid = static_cast<uint32_t>(changed_[i]);
        if (std::optional<task_identity> identity = slots_->identity(pid)) {
            entries_.push_back(entry_of(pid, *identity));
            slot_owners_.push_back({pid, slots_->index_of(pid)});
        }
    }
}

int ProcessCore::group_of(uint32_t pid)
{
    auto found = processes_.find(pid);
    if (found != processes_.end() && found->second.group >= 0)
        return found->second.group;
    // The fork tracepoint fires after the child was woken up: its first
    // events can come before its identity. Ask again next cycle.
    auto [unseen, first] = unseen_.try_emplace(pid, cycle_);
    if (unseen->second == cycle_)
        return -1;
    unseen_.erase(unseen);
    // not born under the core's eyes: it started before the plugin
    std::optional<int> group = groups_.decide_from_proc(pid);
    Process &process = processes_[pid];
    process.group = process.inherited = group.value_or(groups_.other_group());
    if (!group)
        set_gone(pid, process); // neither in the core nor in /proc: its exit was not recorded
    return process.group;
}

int ProcessCore::group_after_take(const SlotOwner &owner)
{
    auto found = processes_.find(owner.pid);
    if (found != processes_.end() && found->second.state != State::Gone)
        if (std::optional<task_identity> identity = slots_->identity(owner.pid))
            if (identity->identity_ns > found->second.identity_ns)
                apply(owner.pid, *identity);
    return group_of(owner.pid);
}

std::string ProcessCore::end_cycle()
{
    std::vector<uint64_t> finished(finishing_.begin(), finishing_.end());
    std::string error = reader_->remove(finished);
    // Given back last cycle and taken once more by the modules: free now. A
    // program that saw the slot still owned ended long before (a cycle ago).
    for (const SlotOwner &closed : closing_)
        slots_->free(closed.index, closed.pid);
    closing_.clear();
    for (const SlotOwner &owner : slot_owners_)
        if (finishing_.contains(owner.pid)) {
            slots_->close(owner.index, owner.pid);
            closing_.push_back(owner);
        }
    for (uint32_t pid : finishing_)
        set_gone(pid, processes_[pid]);
    // forget removed processes after a while; no pass over every process
    while (!gone_.empty() && gone_.front().first + keep_gone_cycles < cycle_) {
        auto [cycle, pid] = gone_.front();
        gone_.pop_front();
        auto found = processes_.find(pid);
        if (found != processes_.end() && found->second.state == State::Gone && found->second.cycle == cycle) {
            processes_.erase(found);
            --gone_count_;
        }
    }
    std::erase_if(unseen_, [this](const auto &item) { return item.second + 1 < cycle_; });
    return error;
}
