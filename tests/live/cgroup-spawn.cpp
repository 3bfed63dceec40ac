// cgroup-spawn DIR PROGRAM [ARGS...]: starts PROGRAM inside the cgroup v2
// directory DIR with clone3(CLONE_INTO_CGROUP), so the child does nothing
// before exec that a test would have to account for, waits for it and exits
// with its status. Linked statically, like the workload.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <linux/sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fputs("usage: cgroup-spawn CGROUP_DIR PROGRAM [ARGS...]\n", stderr);
        return 2;
    }
    int cgroup = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroup < 0) {
        fprintf(stderr, "cgroup-spawn: %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    clone_args args{};
    args.flags = CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<__u64>(cgroup);
    long child = syscall(SYS_clone3, &args, sizeof(args));
    if (child < 0) {
        fprintf(stderr, "cgroup-spawn: clone3: %s\n", strerror(errno));
        return 2;
    }
    if (child == 0) {
        execv(argv[2], argv + 2);
        _exit(127);
    }
    int status = 0;
    if (waitpid(static_cast<pid_t>(child), &status, 0) < 0)
        return 2;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
