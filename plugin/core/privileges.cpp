#include "core/privileges.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

bool started_setuid()
{
    return getuid() != geteuid() || getgid() != getegid();
}

std::string other_users_activity_refusal()
{
    if (!started_setuid() || getuid() == 0)
        return "";
    struct stat binary {};
    if (stat("/proc/self/exe", &binary) != 0)
        return "started setuid, and its own binary cannot be examined: " + std::string(strerror(errno));
    std::vector<char> buffer(16384);
    passwd user{}, *user_found = nullptr;
    if (getpwuid_r(getuid(), &user, buffer.data(), buffer.size(), &user_found) == 0 && user_found &&
        user.pw_gid == binary.st_gid)
        return "";
    group owner{}, *owner_found = nullptr;
    std::vector<char> group_buffer(16384);
    std::string group_name = getgrgid_r(binary.st_gid, &owner, group_buffer.data(), group_buffer.size(),
                                        &owner_found) == 0 && owner_found ? owner.gr_name
                                                                          : std::to_string(binary.st_gid);
    return "started setuid by uid " + std::to_string(getuid()) +
           ", neither root nor the agent's user (whose login group " + group_name +
           " owns the plugin): it would show other users' activity";
}

ActAsCaller::ActAsCaller()
{
    if (!started_setuid())
        return;
    switched_ = setegid(getgid()) == 0 && seteuid(getuid()) == 0;
}

ActAsCaller::~ActAsCaller()
{
    if (switched_ && (seteuid(0) != 0 || setegid(0) != 0))
        _exit(1); // cannot happen with a saved uid of 0; never continue half-privileged
}

static std::string failure(const char *what)
{
    return std::string(what) + ": " + strerror(errno);
}

// Shrinks the bounding set to `keep` (needs CAP_SETPCAP; without it no_new_privs,
// set by the callers, has the same effect: no exec can gain privileges again).
static std::string limit_bounding_set(const std::vector<cap_value_t> &keep)
{
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
        if (!CAP_IS_SUPPORTED(cap) || std::find(keep.begin(), keep.end(), cap) != keep.end() ||
            cap_drop_bound(cap) == 0 || errno == EINVAL)
            continue;
        if (errno == EPERM)
            break;
        return failure("cannot drop the capability bounding set");
    }
    return "";
}

// The capabilities of `wanted` this process has (a container may lack some).
static std::vector<cap_value_t> permitted_of(const std::vector<cap_value_t> &wanted)
{
    std::vector<cap_value_t> held;
    cap_t current = cap_get_proc();
    for (cap_value_t cap : wanted) {
        cap_flag_value_t value = CAP_CLEAR;
        if (current && cap_get_flag(current, cap, CAP_PERMITTED, &value) == 0 && value == CAP_SET)
            held.push_back(cap);
    }
    cap_free(current);
    return held;
}

// Becomes the real ids; only `wanted` (as far as held) stays effective and permitted.
static std::string become_caller_keeping(const std::vector<cap_value_t> &wanted)
{
    const std::vector<cap_value_t> keep = permitted_of(wanted);
    std::string error = limit_bounding_set(keep);
    if (!error.empty())
        return error;
    if (cap_reset_ambient() != 0 && errno != EINVAL)
        return failure("cannot clear ambient capabilities");
    if (!keep.empty() && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        return failure("cannot keep capabilities across setresuid");
    gid_t gid = getgid();
    uid_t uid = getuid();
    if (setresgid(gid, gid, gid) != 0)
        return failure("setresgid");
    if (setresuid(uid, uid, uid) != 0)
        return failure("setresuid");
    cap_t caps = cap_init();
    int err = caps ? 0 : -1;
    if (caps && !keep.empty())
        err = cap_set_flag(caps, CAP_PERMITTED, static_cast<int>(keep.size()), keep.data(), CAP_SET) ||
              cap_set_flag(caps, CAP_EFFECTIVE, static_cast<int>(keep.size()), keep.data(), CAP_SET);
    if (err == 0)
        err = cap_set_proc(caps);
    cap_free(caps);
    if (err != 0)
        return failure("cannot set capabilities");
    if (!keep.empty() && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
        return failure("cannot reset keep-capabilities");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return failure("cannot set no_new_privs");
    return "";
}

std::string drop_privileges(bool keep_cap_bpf)
{
    if (keep_cap_bpf)
        return become_caller_keeping({CAP_BPF});
    return become_caller_keeping({});
}

static bool perf_events_need_sys_admin()
{
    FILE *file = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    int level = 2;
    if (file) {
        if (fscanf(file, "%d", &level) != 1)
            level = 2;
        fclose(file);
    }
    return level > 2;
}

std::string keep_only_loading_privileges()
{
    // CAP_NET_ADMIN: attaching cgroup socket programs (the DNS flows' cgroup_skb)
    std::vector<cap_value_t> keep = {CAP_DAC_READ_SEARCH, CAP_SYS_RESOURCE, CAP_NET_ADMIN};
    if (CAP_IS_SUPPORTED(CAP_BPF))
        keep.insert(keep.end(), {CAP_BPF, CAP_PERFMON});
    // Without CAP_BPF, or where Debian's kernels restrict perf_event_open to
    // CAP_SYS_ADMIN (kernel.perf_event_paranoid 3, their patch), kprobes and
    // tracepoints cannot be attached without it.
    if (!CAP_IS_SUPPORTED(CAP_BPF) || perf_events_need_sys_admin())
        keep.push_back(CAP_SYS_ADMIN);
    return become_caller_keeping(keep);
}
