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

TEST_CASE("every directory is a cgroup: names starting with '.' and any depth")
{
    TempDir root;
    std::string hidden = root.make(".hidden");
    std::string deep = "d";
    for (int level = 1; level < 20; ++level)
        deep += "/d";
    std::string deepest = root.make(deep);
    CgroupDirectory cgroups(root.path, root.path + "/no-such-shm");
    cgroups.refresh();
    REQUIRE(cgroups.find(inode(hidden)));
    CHECK(cgroups.find(inode(hidden))->name == ".hidden");
    REQUIRE(cgroups.find(inode(deepest)));
    CHECK(cgroups.find(inode(deepest))->name.size() == 39);  // 20 levels
}

TEST_CASE("a removed cgroup is forgotten within refresh_every_cycles cycles, known ids or not")
{
    TempDir root;
    std::string gone = root.make("gone");
    uint64_t id = inode(gone);
    CgroupDirectory cgroups(root.path, root.path + "/no-such-shm");
    cgroups.refresh();
    REQUIRE(cgroups.find(id));
    rmdir(gone.c_str());
    for (unsigned cycle = 1; cycle < CgroupDirectory::refresh_every_cycles; ++cycle) {
        cgroups.begin_cycle();
        CHECK(cgroups.find(id));  // not re-read yet: the cost of a walk is paid every few cycles
    }
    cgroups.begin_cycle();
    CHECK(cgroups.find(id) == nullptr);
}

namespace {
struct AgentList {
    std::vector<char> file = std::vector<char>(sizeof(Header) + 8 * sizeof(Body), 0);
    Header *header = reinterpret_cast<Header *>(file.data());
    Body *bodies = reinterpret_cast<Body *>(header + 1);
    void add(const char *name, const std::string &procs, uint32_t options = 0)
    {
        Body &body = bodies[header->cgroup_root_count++];
        strcpy(body.name, name);
        strcpy(body.path, procs.c_str());
        body.options = options;
        body.enabled = 1;
    }
    void write(const std::string &path)
    {
        header->cgroup_max = 8;
        header->body_length = sizeof(Body);
        std::ofstream(path, std::ios::binary).write(file.data(), static_cast<std::streamsize>(file.size()));
    }
};
} // namespace

TEST_CASE("agent list entries: 1.37.1's bare service names with option 0x2, later agents' systemd_ prefix")
{
    // 1.37.1 (cgroups.plugin: prefix "" for services, "cgroup_" otherwise)
    CHECK(describe_agent_entry("ssh", 0x2, "/sys/fs/cgroup/system.slice/ssh.service").name == "ssh");
    CHECK(describe_agent_entry("ssh", 0x2, "/sys/fs/cgroup/system.slice/ssh.service").service);
    CHECK(describe_agent_entry("systemd_x", 0x2, "/sys/fs/cgroup/system.slice/systemd_x.service").name ==
          "systemd_x");
    CHECK(describe_agent_entry("cgroup_docker_abc", 0x4, "/sys/fs/cgroup/docker/abc").name == "docker_abc");
    CHECK_FALSE(describe_agent_entry("cgroup_docker_abc", 0x4, "/sys/fs/cgroup/docker/abc").service);
    // later agents
    CHECK(describe_agent_entry("systemd_ssh", 0x2, "/sys/fs/cgroup/system.slice/ssh.service").name == "ssh");
    CHECK(describe_agent_entry("systemd_systemd_x", 0x2, "/sys/fs/cgroup/system.slice/systemd_x.service").name ==
          "systemd_x");
    CHECK(describe_agent_entry("systemd_ssh", 0, "/sys/fs/cgroup/system.slice/ssh.service").service);
}

TEST_CASE("agent list on a hybrid host: a v1 path names the same path's v2 cgroup")
{
    TempDir root;
    std::string v2 = root.make("unified"), memory = root.make("memory");
    std::string service_v2 = root.make("unified/system.slice/web.service");
    std::string service_v1 = root.make("memory/system.slice/web.service");
    std::string box_v2 = root.make("unified/box");
    root.make("memory/box");
    AgentList list;
    list.add("web", service_v1 + "/cgroup.procs", 0x2);
    list.add("cgroup_box", memory + "/box/cgroup.procs");
    list.add("cgroup_/", memory + "/cgroup.procs");  // a hierarchy's root is never a cgroup of ours
    list.write(root.path + "/shm");

    CgroupDirectory cgroups(v2, root.path + "/shm", {v2, memory});
    cgroups.refresh();
    CHECK(cgroups.from_agent());
    REQUIRE(cgroups.find(inode(service_v2)));
    CHECK(cgroups.find(inode(service_v2))->name == "web");
    CHECK(cgroups.find(inode(service_v2))->service);
    CHECK(cgroups.find(inode(service_v1)) == nullptr);
    REQUIRE(cgroups.find(inode(box_v2)));
    CHECK(cgroups.find(inode(box_v2))->name == "box");
    CHECK(cgroups.find(inode(v2)) == nullptr);
    CHECK(cgroups.find(inode(memory)) == nullptr);

    CHECK(path_below_mount("/a/b/c", {"/a", "/a/b"}) == "c");
    CHECK(path_below_mount("/a/b", {"/a/b"}) == "");
    CHECK(path_below_mount("/ab/c", {"/a"}) == std::nullopt);
}

TEST_CASE("an agent's list with no entries (the agent stopped) is not used")
{
    TempDir root;
    std::string box = root.make("box");
    AgentList list;
    list.write(root.path + "/shm");
    CgroupDirectory cgroups(root.path, root.path + "/shm");
    cgroups.refresh();
    CHECK_FALSE(cgroups.from_agent());
    REQUIRE(cgroups.find(inode(box)));
    CHECK(cgroups.find(inode(box))->name == "box");
}
