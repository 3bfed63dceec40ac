#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>
#include <sys/stat.h>
#include <unistd.h>

#include "accounting/cgroups.h"

namespace {
struct TempDir {
    std::string path;
    TempDir()
    {
        char name[] = "/tmp/ebpf-cgroups-test.XXXXXX";
        path = mkdtemp(name);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string make(const std::string &relative)
    {
        std::filesystem::create_directories(path + "/" + relative);
        return path + "/" + relative;
    }
};

uint64_t inode(const std::string &path)
{
    struct stat status;
    REQUIRE(stat(path.c_str(), &status) == 0);
    return status.st_ino;
}

// The layout cgroups.plugin (Netdata 1.37.1) writes to netdata_shm_cgroup_ebpf.
struct Header {
    int cgroup_root_count, cgroup_max, systemd_enabled, pad;
    size_t body_length;
};
struct Body {
    char name[256];
    uint32_t hash, options;
    int enabled;
    char path[4096 + 1];
};
} // namespace

TEST_CASE("cgroup names: services under system.slice, others by path")
{
    CHECK(describe_cgroup("system.slice/nginx.service").name == "nginx");
    CHECK(describe_cgroup("system.slice/nginx.service").service);
    CHECK(describe_cgroup("a/system.slice/ssh.service").service);
    CHECK_FALSE(describe_cgroup("user.slice/user-0.slice").service);
    CHECK(describe_cgroup("user.slice/user-0.slice").name == "user.slice_user-0.slice");
    CHECK_FALSE(describe_cgroup("system.slice/x.service/child").service);
    CHECK_FALSE(describe_cgroup("other.slice/x.service").service);
    CHECK(describe_cgroup("docker/abc").name == "docker_abc");
}

TEST_CASE("the cgroup2 mount point comes from the mounts table")
{
    TempDir dir;
    std::ofstream(dir.path + "/mounts") << "sysfs /sys sysfs rw 0 0\n"
                                           "cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n"
                                           "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n";
    CHECK(find_cgroup2_root(dir.path + "/mounts") == "/sys/fs/cgroup/unified");
    std::ofstream(dir.path + "/none") << "proc /proc proc rw 0 0\n";
    CHECK(find_cgroup2_root(dir.path + "/none") == "");
}

TEST_CASE("without the agent's list, cgroups are found by walking the hierarchy; ids are inodes")
{
    TempDir root;
    std::string web = root.make("system.slice/web.service");
    std::string box = root.make("machine/box");
    CgroupDirectory cgroups(root.path, root.path + "/no-such-shm");
    cgroups.refresh();
    CHECK_FALSE(cgroups.from_agent());
    REQUIRE(cgroups.find(inode(web)));
    CHECK(cgroups.find(inode(web))->name == "web");
    CHECK(cgroups.find(inode(web))->service);
    CHECK(cgroups.find(inode(box))->name == "machine_box");
    CHECK(cgroups.find(inode(root.path)) == nullptr); // the root is the system's

    // a cgroup created later is found with one more walk in the next cycle
    std::string late = root.make("late");
    cgroups.begin_cycle();
    REQUIRE(cgroups.find(inode(late)));
    CHECK(cgroups.find(inode(late))->name == "late");
}

TEST_CASE("the agent's shared cgroup list wins when it exists, enabled entries only")
{
    TempDir root;
    std::string docker = root.make("docker/abc");
    std::string ssh = root.make("system.slice/ssh.service");
    std::string off = root.make("off");
    std::vector<char> file(sizeof(Header) + 4 * sizeof(Body), 0);
    auto *header = reinterpret_cast<Header *>(file.data());
    header->cgroup_root_count = 3;
    header->cgroup_max = 4;
    header->body_length = sizeof(Body);
    auto *bodies = reinterpret_cast<Body *>(header + 1);
    auto body = [&](int i, const char *name, const std::string &dir, int enabled) {
        strcpy(bodies[i].name, name);
        strcpy(bodies[i].path, (dir + "/cgroup.procs").c_str());
        bodies[i].enabled = enabled;
    };
    body(0, "cgroup_docker_abc", docker, 1);
    body(1, "systemd_ssh", ssh, 1);
    body(2, "cgroup_off", off, 0);
    std::string shm = root.path + "/shm";
    std::ofstream(shm, std::ios::binary).write(file.data(), static_cast<std::streamsize>(file.size()));

    CgroupDirectory cgroups(root.path, shm);
    cgroups.refresh();
    CHECK(cgroups.from_agent());
    REQUIRE(cgroups.find(inode(docker)));
    CHECK(cgroups.find(inode(docker))->name == "docker_abc");
    CHECK_FALSE(cgroups.find(inode(docker))->service);
    CHECK(cgroups.find(inode(ssh))->name == "ssh");
    CHECK(cgroups.find(inode(ssh))->service);
    CHECK(cgroups.find(inode(off)) == nullptr);

    // a list anyone may write is not trusted
    chmod(shm.c_str(), 0666);
    CgroupDirectory untrusted(root.path, shm);
    untrusted.refresh();
    CHECK_FALSE(untrusted.from_agent());
}
