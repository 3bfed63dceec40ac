#include "kernel/probe.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <sys/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/bpf_loader.h"
#include "probe.skel.h"

std::string probe_program(const char *program, bool attach)
{
    probe_bpf *skeleton = probe_bpf::open();
    if (!skeleton)
        return "cannot open the probe object";
    LoadPlan plan;
    plan.programs.emplace_back(program);
    LinkSet links;
    std::string error = load_plan(skeleton->obj, plan);
    if (error.empty() && attach)
        error = attach_plan(skeleton->obj, plan, links);
    links.clear();
    probe_bpf::destroy(skeleton);
    return error;
}

static std::string probe_capless_map_access()
{
    int map = bpf_map_create(BPF_MAP_TYPE_ARRAY, "probe_capless", 4, 8, 1, nullptr);
    if (map < 0)
        return "cannot create a map to probe with: " + errno_text(-errno);
    pid_t child = fork();
    if (child == 0) {
        cap_t none = cap_init();
        if (!none || cap_set_proc(none) != 0)
            _exit(2);
        __u32 key;
        _exit(bpf_map_get_next_key(map, nullptr, &key) == 0 ? 0 : errno == EPERM ? 1 : 3);
    }
    int status = 0;
    bool waited = child > 0 && waitpid(child, &status, 0) == child;
    close(map);
    if (!waited || !WIFEXITED(status))
        return "cannot probe in a child process";
    switch (WEXITSTATUS(status)) {
    case 0: return "";
    case 1: return "bpf() refused without capabilities (kernel.unprivileged_bpf_disabled, before 5.19)";
    case 2: return "cannot clear capabilities in the probe process";
    }
    return "map read failed in the probe process";
}

const std::string &capless_map_access_refusal()
{
    static const std::string refusal = probe_capless_map_access();
    return refusal;
}
