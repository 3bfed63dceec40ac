#include "core/self_monitor.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/log.h"
#include "kernel/attach.h"

BpfRunTimeStats::BpfRunTimeStats()
{
    fd_ = bpf_enable_stats(BPF_STATS_RUN_TIME);
    if (fd_ < 0)
        error_ = strerror(errno);
}

BpfRunTimeStats::~BpfRunTimeStats()
{
    if (fd_ >= 0)
        close(fd_);
}

ProgramCost program_cost(const std::vector<int> &program_fds)
{
    ProgramCost cost;
    for (int fd : program_fds) {
        bpf_prog_info info{};
        uint32_t length = sizeof(info);
        if (bpf_obj_get_info_by_fd(fd, &info, &length) != 0)
            continue;
        cost.run_time_ns += info.run_time_ns;
        cost.run_count += info.run_cnt;
    }
    return cost;
}

uint64_t locked_memory(const std::vector<int> &fds, std::set<uint32_t> &counted)
{
    uint64_t total = 0;
    for (int fd : fds) {
        bpf_map_info info{};
        uint32_t length = sizeof(info);
        if (bpf_obj_get_info_by_fd(fd, &info, &length) != 0 || !counted.insert(info.id).second)
            continue;  // a map shared with the process core is the core's
        char path[64], line[256];
        snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
        FILE *file = fopen(path, "re");
        if (!file)
            continue;
        unsigned long long bytes;
        while (fgets(line, sizeof(line), file))
            if (sscanf(line, "memlock: %llu", &bytes) == 1)
                total += bytes;
        fclose(file);
    }
    return total;
}

ProcessCost process_cost()
{
    ProcessCost cost;
    rusage usage{};
    if (getrusage(RUSAGE_SELF, &usage) == 0) {
        cost.user_usec = static_cast<uint64_t>(usage.ru_utime.tv_sec) * 1000000 + usage.ru_utime.tv_usec;
        cost.system_usec = static_cast<uint64_t>(usage.ru_stime.tv_sec) * 1000000 + usage.ru_stime.tv_usec;
    }
    // Resident now, not the peak that ru_maxrss gives.
    if (FILE *statm = fopen("/proc/self/statm", "re")) {
        unsigned long long size, resident;
        if (fscanf(statm, "%llu %llu", &size, &resident) == 2)
            cost.rss_bytes = resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
        fclose(statm);
    }
    return cost;
}

std::optional<int64_t> ns_per_run(const ProgramCost &before, const ProgramCost &now)
{
    if (now.run_count <= before.run_count || now.run_time_ns < before.run_time_ns)
        return std::nullopt;
    uint64_t runs = now.run_count - before.run_count;
    return static_cast<int64_t>((now.run_time_ns - before.run_time_ns + runs / 2) / runs);
}

SelfMonitor::SelfMonitor(Collector &collector, const ResourceLimits &limits) : collector_(collector), guard_(limits)
{
}

bool SelfMonitor::observe(Counters &system)
{
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    ResourceUsage usage;
    usage.now_seconds = static_cast<double>(now.tv_sec) + now.tv_nsec / 1e9;

    ProcessCost process = process_cost();
    system["cpu_user"] = static_cast<int64_t>(process.user_usec);
    system["cpu_system"] = static_cast<int64_t>(process.system_usec);
    system["rss"] = static_cast<int64_t>(process.rss_bytes);
    usage.cpu_seconds = static_cast<double>(process.user_usec + process.system_usec) / 1e6;
    usage.rss_bytes = process.rss_bytes;

    std::set<uint32_t> counted;  // map ids: a map shared with the core counts once, as the core's
    if (const ProcessCore *core = collector_.core()) {
        add_cost(system, "core", AttachPath::Tracepoint, program_cost(loaded_program_fds(core->object())));
        uint64_t locked = locked_memory(loaded_map_fds(core->object()), counted);
        system["kernel_memory_core"] = static_cast<int64_t>(locked);
        usage.kernel_memory_bytes += locked;
    }
    for (const RunningModule &running : collector_.modules()) {
        std::string module = running.module->name();
        ProgramCost cost = program_cost(running.module->program_fds());
        add_cost(system, module, running.path, cost);
        uint64_t locked = locked_memory(running.module->map_fds(), counted);
        system["kernel_memory_" + module] = static_cast<int64_t>(locked);
        system["shed_" + module] = 0;
        usage.kernel_memory_bytes += locked;
        usage.modules.push_back({module, cost.run_time_ns});
    }
    for (const RunningTableModule &running : collector_.table_modules()) {
        std::string module = running.module->name();
        add_cost(system, module, running.path, program_cost(running.module->program_fds()));
        uint64_t locked = locked_memory(running.module->map_fds(), counted);
        system["kernel_memory_" + module] = static_cast<int64_t>(locked);
        system["shed_" + module] = 0;  // only counting modules are shed
        usage.kernel_memory_bytes += locked;
    }
    for (const Watched &watched : watched_) {
        add_cost(system, watched.name, watched.path, program_cost(loaded_program_fds(watched.object)));
        uint64_t locked = locked_memory(loaded_map_fds(watched.object), counted);
        system["kernel_memory_" + watched.name] = static_cast<int64_t>(locked);
        usage.kernel_memory_bytes += locked;
    }
    for (const std::string &module : shed_)
        system["shed_" + module] = 1;

    LimitAction action = guard_.check(usage);
    switch (action.kind) {
    case LimitAction::Kind::None:
        break;
    case LimitAction::Kind::Shed:
        log_error("%s", action.message.c_str());
        shed(action.module);
        system["shed_" + action.module] = 1;
        break;
    case LimitAction::Kind::Exit:
        log_error("%s", action.message.c_str());
        return false;
    }
    return true;
}

void SelfMonitor::watch(std::string name, AttachPath path, const bpf_object *object)
{
    watched_.push_back({std::move(name), path, object});
}

void SelfMonitor::add_cost(Counters &system, const std::string &name, AttachPath used, const ProgramCost &cost)
{
    // One dimension per module and path, 0 on the paths it does not use.
    for (AttachPath path : {AttachPath::Trampoline, AttachPath::Kprobe, AttachPath::Tracepoint}) {
        std::string key = name + "_" + attach_path_name(path);
        system["bpf_time_" + key] = path == used ? static_cast<int64_t>(cost.run_time_ns) : 0;
        system["bpf_runs_" + key] = path == used ? static_cast<int64_t>(cost.run_count) : 0;
    }
    auto before = previous_.find(name);
    if (before != previous_.end())
        if (auto per_run = ns_per_run(before->second, cost))
            system["bpf_ns_per_run_" + name + "_" + attach_path_name(used)] = *per_run;
    previous_[name] = cost;
}

void SelfMonitor::shed(const std::string &module)
{
    collector_.shed(module);
    previous_.erase(module);
    shed_.insert(module);
    malloc_trim(0);  // what its tables' buffers held goes back to the system
}
