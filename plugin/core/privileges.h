// Privileges of a setuid-root plugin: files are read with the caller's rights,
// and once programs are attached the process keeps no capability at all
// (CAP_BPF alone where the kernel needs it to read maps).
#pragma once

#include <string>

// True when started through the setuid/setgid bit (real and effective ids differ).
bool started_setuid();

// Why this start may not run the sources that show other users' activity
// (connections, DNS queries, HTTP requests, bash command lines, traced
// syscalls): "" when it may. Started setuid, only root and the agent's user
// may: the user whose login group (in the passwd database, which the caller
// cannot change) is the group of this binary (Debian's netdata user for its
// 4750 root:netdata plugin), not any other member of that group. Started
// without setuid the caller holds the privileges itself.
std::string other_users_activity_refusal();

// While it lives, the effective uid/gid are the caller's (real) ones, so a
// file the caller cannot read cannot be read through us either.
class ActAsCaller {
public:
    ActAsCaller();
    ~ActAsCaller();
    ActAsCaller(const ActAsCaller &) = delete;
    ActAsCaller &operator=(const ActAsCaller &) = delete;

private:
    bool switched_ = false;
};

// Becomes the real uid/gid for good and clears every capability set
// (effective, permitted, inheritable, ambient, bounding), except CAP_BPF in
// the effective and permitted sets when `keep_cap_bpf`: kernels before 5.19
// refuse even reads of the maps we hold without it (see kernel/probe.h).
// Returns "" or why not.
std::string drop_privileges(bool keep_cap_bpf);

// For --check and --verify, once the kernel is learnt: becomes the real uid/gid
// for good, keeping only what loading and attaching programs needs (CAP_BPF,
// CAP_PERFMON, or CAP_SYS_ADMIN where CAP_BPF does not exist or where
// kernel.perf_event_paranoid is 3 (Debian's kernels); CAP_DAC_READ_SEARCH
// for tracefs ids; CAP_SYS_RESOURCE for the memlock limit of kernels before 5.11;
// CAP_NET_ADMIN to attach cgroup socket programs).
// Returns "" or why not.
std::string keep_only_loading_privileges();
