// syscall-workload: known numbers of the calls the sync, mount, shm and oomkill
// modules count (tests/live/syscall_test.py). Linked statically, like the
// other workloads, so nothing runs before main() that the test would count.
//   --syncs N          N each of sync, syncfs, msync, fsync, fdatasync, sync_file_range
//   --dir DIR          where the file for them and the mount points go
//   --mounts N         in a private mount namespace: one mount to make / private,
//                      then N tmpfs mounts and N umounts
//   --failed-mounts M  M mounts of an unknown file system type and M umounts of
//                      a directory that is not a mount point
//   --shm N            N each of shmget, shmat, shmdt, shmctl(IPC_RMID)
//   --oom MIB          allocate and touch MIB MiB until the OOM killer ends it
//   --hog MIB          hold MIB MiB, then run itself with --oom in a child: the
//                      OOM killer ends the hog (the largest), not the child that
//                      ran out of memory; the child then exits
// Prints {"pid": PID} on stdout at the end (not with --oom).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <string>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

void fail(const char *what)
{
    fprintf(stderr, "syscall-workload: %s: %s\n", what, strerror(errno));
    exit(1);
}

void syncs(int n, const std::string &dir)
{
    std::string path = dir + "/sync-file";
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 4096) != 0)
        fail("sync file");
    void *map = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        fail("mmap");
    for (int i = 0; i < n; i++) {
        static_cast<char *>(map)[0] = static_cast<char>(i);
        sync();
        if (syncfs(fd) != 0 || msync(map, 4096, MS_SYNC) != 0 || fsync(fd) != 0 || fdatasync(fd) != 0 ||
            sync_file_range(fd, 0, 4096, SYNC_FILE_RANGE_WRITE) != 0)
            fail("sync calls");
    }
    munmap(map, 4096);
    close(fd);
    unlink(path.c_str());
}

void mounts(int n, int failed, const std::string &dir)
{
    if (unshare(CLONE_NEWNS) != 0)
        fail("unshare");
    // mount call 1: nothing mounted here may reach the test's namespace
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        fail("make / private");
    std::string point = dir + "/mnt";
    if (mkdir(point.c_str(), 0700) != 0 && errno != EEXIST)
        fail("mkdir");
    for (int i = 0; i < n; i++) {
        if (mount("tmpfs", point.c_str(), "tmpfs", 0, "size=64k") != 0)
            fail("mount tmpfs");
        if (umount2(point.c_str(), 0) != 0)
            fail("umount tmpfs");
    }
    for (int i = 0; i < failed; i++) {
        if (mount("none", point.c_str(), "no-such-fs-type", 0, nullptr) == 0 || errno != ENODEV)
            fail("failing mount");
        if (umount2(point.c_str(), 0) == 0 || errno != EINVAL)
            fail("failing umount");
    }
    rmdir(point.c_str());
}

void shm(int n)
{
    for (int i = 0; i < n; i++) {
        int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
        if (id < 0)
            fail("shmget");
        void *at = shmat(id, nullptr, 0);
        if (at == reinterpret_cast<void *>(-1))
            fail("shmat");
        if (shmdt(at) != 0 || shmctl(id, IPC_RMID, nullptr) != 0)
            fail("shmdt/shmctl");
    }
}

void allocate(long mib, pid_t parent)
{
    for (long i = 0; i < mib; i++) {
        if (parent && getppid() != parent)
            exit(0);  // the hog was killed: done
        char *block = static_cast<char *>(malloc(1 << 20));
        if (!block)
            fail("malloc");
        memset(block, 1, 1 << 20);
    }
}

[[noreturn]] void oom(long mib, pid_t parent)
{
    allocate(mib, parent);
    fprintf(stderr, "syscall-workload: %ld MiB allocated and no OOM kill\n", mib);
    exit(3);
}

[[noreturn]] void hog(long mib, const char *self)
{
    allocate(mib, 0);
    pid_t child = fork();
    if (child == 0) {
        std::string parent = std::to_string(getppid());
        execl(self, self, "--oom", "512", "--parent", parent.c_str(), static_cast<char *>(nullptr));
        _exit(127);
    }
    int status = 0;
    waitpid(child, &status, 0);
    fprintf(stderr, "syscall-workload: the hog was not OOM-killed\n");
    exit(3);
}

} // namespace

int main(int argc, char **argv)
{
    int sync_count = 0, mount_count = 0, failed_mounts = 0, shm_count = 0;
    long oom_mib = 0, hog_mib = 0;
    pid_t parent = 0;
    std::string dir = "/tmp";
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string option = argv[i];
        const char *value = argv[i + 1];
        if (option == "--syncs")
            sync_count = atoi(value);
        else if (option == "--dir")
            dir = value;
        else if (option == "--mounts")
            mount_count = atoi(value);
        else if (option == "--failed-mounts")
            failed_mounts = atoi(value);
        else if (option == "--shm")
            shm_count = atoi(value);
        else if (option == "--oom")
            oom_mib = atol(value);
        else if (option == "--hog")
            hog_mib = atol(value);
        else if (option == "--parent")
            parent = atoi(value);
        else {
            fprintf(stderr, "syscall-workload: unknown option %s\n", option.c_str());
            return 2;
        }
    }
    if (hog_mib)
        hog(hog_mib, argv[0]);
    if (oom_mib)
        oom(oom_mib, parent);
    syncs(sync_count, dir);
    if (mount_count || failed_mounts)
        mounts(mount_count, failed_mounts, dir);
    shm(shm_count);
    printf("{\"pid\": %d}\n", getpid());
    return 0;
}
