#include "core/privileges.h"

#include <cerrno>
#include <cstring>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

bool started_setuid()
{
    return getuid() != geteuid() || getgid() != getegid();
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

std::string drop_privileges(bool keep_cap_bpf)
{
    // The bounding set needs CAP_SETPCAP to shrink, so it goes first. Without
    // CAP_SETPCAP (Debian's unit does not grant it) no_new_privs below has the
    // same effect: no exec can gain privileges again.
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
        if (!CAP_IS_SUPPORTED(cap) || cap_drop_bound(cap) == 0 || errno == EINVAL)
            continue;
        if (errno == EPERM)
            break;
        return failure("cannot drop the capability bounding set");
    }
    if (cap_reset_ambient() != 0 && errno != EINVAL)
        return failure("cannot clear ambient capabilities");
    // becoming a non-root uid clears the permitted set unless asked to keep it
    if (keep_cap_bpf && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        return failure("cannot keep CAP_BPF across the uid change");
    gid_t gid = getgid();
    uid_t uid = getuid();
    if (setresgid(gid, gid, gid) != 0)
        return failure("setresgid");
    if (setresuid(uid, uid, uid) != 0)
        return failure("setresuid");
    cap_t kept = cap_init();
    cap_value_t bpf = CAP_BPF;
    int err = kept ? 0 : -1;
    if (!err && keep_cap_bpf)
        err = cap_set_flag(kept, CAP_PERMITTED, 1, &bpf, CAP_SET) | cap_set_flag(kept, CAP_EFFECTIVE, 1, &bpf, CAP_SET);
    if (!err)
        err = cap_set_proc(kept);
    cap_free(kept);
    if (err != 0)
        return failure(keep_cap_bpf ? "cannot reduce capabilities to CAP_BPF" : "cannot clear capabilities");
    if (keep_cap_bpf && prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0)
        return failure("cannot reset keep-capabilities");
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return failure("cannot set no_new_privs");
    return "";
}
