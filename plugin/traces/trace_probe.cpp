#include "traces/trace_probe.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "accounting/cgroups.h"
#include "traces.skel.h"

namespace {

struct Syscalls {
    std::vector<std::string> needed, optional;  // syscall tracepoint names without sys_enter_/sys_exit_
};

Syscalls syscalls_of(unsigned kind)
{
    switch (kind) {
    case TRACE_EXEC: return {{"execve"}, {"execveat"}};
    case TRACE_SIGNAL: return {{"kill"}, {"tkill", "tgkill"}};
    case TRACE_BIND: return {{"bind"}, {}};
    case TRACE_TCP: return {{"listen", "connect"}, {"accept", "accept4"}};
    case TRACE_VFS: return {{"openat"}, {"open", "unlinkat", "unlink"}};
    default: return {};
    }
}

// A cgroup v2 directory's id (its inode number), from an absolute path or
// one relative to the cgroup2 mount; 0 when it is not one.
uint64_t cgroup_id_of(const std::string &path)
{
    std::string full = path.starts_with('/') ? path : find_cgroup2_root("/proc/self/mounts") + "/" + path;
    struct stat st {};
    if (stat(full.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return 0;
    return st.st_ino;
}

constexpr const char *malloc_programs[] = {"uprobe_trace_malloc", "uprobe_trace_calloc", "uprobe_trace_realloc",
                                           "uretprobe_trace_allocation", "uprobe_trace_free"};

// A setuid start by another user may probe only that user's processes (as
// ptrace would let it); root, any.
bool caller_owns(uint32_t pid)
{
    uid_t caller = getuid();
    if (caller == 0)
        return true;
    struct stat st {};
    return stat(("/proc/" + std::to_string(pid)).c_str(), &st) == 0 && st.st_uid == caller;
}

} // namespace

std::string libc_of_process(uint32_t pid)
{
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    std::string line;
    while (std::getline(maps, line)) {
        size_t slash = line.find('/');
        if (slash == std::string::npos)
            continue;
        std::string path = line.substr(slash);
        std::string base = path.substr(path.rfind('/') + 1);
        if (!base.starts_with("libc.so") && !base.starts_with("libc-"))
            continue;
        // another process's files as it sees them (a container's own libc)
        return pid == static_cast<uint32_t>(getpid()) ? path : "/proc/" + std::to_string(pid) + "/root" + path;
    }
    return "";
}

std::string TraceProbe::unavailable(const KernelSymbols &kernel, unsigned kind)
{
    if (kind == TRACE_MALLOC)
        return "";  // uprobes: what is missing shows at attach
    for (const std::string &syscall : syscalls_of(kind).needed)
        for (const char *side : {"sys_enter_", "sys_exit_"})
            if (!kernel.has_syscall_tracepoint(side + syscall))
                return "kernel has no syscall tracepoint " + std::string(side) + syscall +
                       " (CONFIG_FTRACE_SYSCALLS, or tracefs not mounted)";
    return "";
}

std::string TraceProbe::uprobes_load()
{
    if (access("/sys/bus/event_source/devices/uprobe/type", R_OK) != 0)
        return "kernel has no uprobe PMU (CONFIG_UPROBE_EVENTS)";
    traces_bpf *skeleton = traces_bpf::open();
    if (!skeleton)
        return "cannot open the BPF object: " + errno_text(-errno);
    LoadPlan plan;
    for (const char *program : malloc_programs)
        plan.programs.push_back({program});
    std::string error = load_plan(skeleton->obj, plan);
    traces_bpf::destroy(skeleton);
    return error;
}

TraceProbe::~TraceProbe()
{
    stop();
}

void TraceProbe::stop()
{
    links_.clear();
    if (skeleton_)
        traces_bpf::destroy(skeleton_);
    skeleton_ = nullptr;
    running_.clear();
}

std::string TraceProbe::start(const KernelSymbols &kernel, const TracesConfig &config, const std::set<unsigned> &kinds)
{
    stop();
    LoadPlan load, attach;
    std::set<unsigned> planned;
    for (unsigned kind : kinds) {
        problems_[kind] = unavailable(kernel, kind);
        if (kind == TRACE_MALLOC && config.malloc_pids.empty())
            problems_[kind] = "no process to trace: give [trace_malloc] pids";
        if (!problems_[kind].empty())
            continue;
        planned.insert(kind);
        if (kind == TRACE_MALLOC) {
            for (const char *program : malloc_programs)
                load.programs.push_back({program});
            continue;
        }
        Syscalls syscalls = syscalls_of(kind);
        for (const std::string &syscall : syscalls.needed)
            for (const char *side : {"enter_", "exit_"})
                attach.programs.push_back({std::string("tp_trace_") + side + syscall});
        for (const std::string &syscall : syscalls.optional)
            if (kernel.has_syscall_tracepoint("sys_enter_" + syscall) && kernel.has_syscall_tracepoint("sys_exit_" + syscall))
                for (const char *side : {"enter_", "exit_"})
                    attach.programs.push_back({std::string("tp_trace_") + side + syscall});
    }
    if (planned.empty())
        return "no trace can run here";
    load.programs.insert(load.programs.end(), attach.programs.begin(), attach.programs.end());
    uint64_t cgroup_id = 0;
    if (!config.cgroup.empty() && !(cgroup_id = cgroup_id_of(config.cgroup)))
        return "[traces] cgroup = " + config.cgroup + " is not a cgroup v2 directory";

    skeleton_ = traces_bpf::open();
    if (!skeleton_)
        return "cannot open the BPF object: " + errno_text(-errno);
    for (unsigned kind = 0; kind < TRACE_KINDS; ++kind)
        skeleton_->rodata->records_per_second[kind] = config.traces[kind].records_per_second;
    skeleton_->rodata->only_cgroup_id = cgroup_id;
    skeleton_->rodata->plugin_tgid = static_cast<uint32_t>(getpid());
    std::string error;
    if (bpf_map__set_max_entries(skeleton_->maps.events, static_cast<uint32_t>(config.ring_bytes)))
        error = "cannot size the ring buffer";
    if (error.empty())
        error = load_plan(skeleton_->obj, load);
    if (error.empty())
        error = attach_plan(skeleton_->obj, attach, links_);
    if (error.empty() && planned.contains(TRACE_MALLOC)) {
        problems_[TRACE_MALLOC] = attach_malloc(config.malloc_pids);
        if (!problems_[TRACE_MALLOC].empty())
            planned.erase(TRACE_MALLOC);
    }
    if (!error.empty()) {
        stop();
        return error;
    }
    running_ = planned;
    return running_.empty() ? "no trace can run here" : "";
}

std::string TraceProbe::attach_malloc(const std::vector<uint32_t> &pids)
{
    struct Probe {
        bpf_program *program;
        const char *function;
        bool retprobe;
    };
    const Probe probes[] = {
        {skeleton_->progs.uprobe_trace_malloc, "malloc", false},
        {skeleton_->progs.uretprobe_trace_allocation, "malloc", true},
        {skeleton_->progs.uprobe_trace_calloc, "calloc", false},
        {skeleton_->progs.uretprobe_trace_allocation, "calloc", true},
        {skeleton_->progs.uprobe_trace_realloc, "realloc", false},
        {skeleton_->progs.uretprobe_trace_allocation, "realloc", true},
        {skeleton_->progs.uprobe_trace_free, "free", false},
    };
    std::string problems;
    size_t attached = 0;
    for (uint32_t pid : pids) {
        if (!caller_owns(pid)) {
            problems += (problems.empty() ? "" : "; ") + std::string("pid ") + std::to_string(pid) +
                        ": not a process of the user who started the plugin";
            continue;
        }
        std::string libc = libc_of_process(pid);
        if (libc.empty()) {
            problems += (problems.empty() ? "" : "; ") + std::string("pid ") + std::to_string(pid) + ": no libc mapped";
            continue;
        }
        for (const Probe &probe : probes) {
            LIBBPF_OPTS(bpf_uprobe_opts, options, .retprobe = probe.retprobe, .func_name = probe.function);
            bpf_link *link = bpf_program__attach_uprobe_opts(probe.program, static_cast<pid_t>(pid), libc.c_str(), 0,
                                                             &options);
            if (!link) {
                problems += (problems.empty() ? "" : "; ") + std::string("pid ") + std::to_string(pid) + ": " +
                            probe.function + ": " + errno_text(-errno);
                break;
            }
            links_.add(link);
            ++attached;
        }
    }
    return attached ? "" : problems;
}

int TraceProbe::ring_fd() const
{
    return skeleton_ ? bpf_map__fd(skeleton_->maps.events) : -1;
}

const bpf_object *TraceProbe::object() const
{
    return skeleton_ ? skeleton_->obj : nullptr;
}

bool TraceProbe::read_counts(TraceCounts &counts) const
{
    if (!skeleton_)
        return false;
    int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0)
        return false;
    std::vector<uint64_t> values(static_cast<size_t>(cpus));
    int fd = bpf_map__fd(skeleton_->maps.counts);
    for (uint32_t row = 0; row < TRACE_COUNT_ROWS; ++row)
        for (uint32_t outcome = 0; outcome < TRACE_OUTCOMES; ++outcome) {
            uint32_t index = row * TRACE_OUTCOMES + outcome;
            if (bpf_map_lookup_elem(fd, &index, values.data()))
                return false;
            uint64_t sum = 0;
            for (uint64_t value : values)
                sum += value;
            counts[row][outcome] = sum;
        }
    return true;
}
