#include "kernel/kernel.h"
#include "kernel/attach.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

namespace {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        char name[] = "/tmp/test_kernel.XXXXXX";
        path = mkdtemp(name);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    std::string file(const char *name) const { return (path / name).string(); }
};

// Runs body with stderr sent to a file and returns what it wrote.
template <typename Body> std::string captured_stderr(Body body) {
    TempDir dir;
    std::string log = dir.file("stderr");
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, STDERR_FILENO);
    close(fd);
    body();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    std::ifstream in(log);
    return {std::istreambuf_iterator<char>(in), {}};
}

void write_gzip(const std::string &path, const std::string &text) {
    gzFile file = gzopen(path.c_str(), "wb");
    REQUIRE(file != nullptr);
    REQUIRE(gzwrite(file, text.data(), text.size()) == int(text.size()));
    REQUIRE(gzclose(file) == Z_OK);
}

void write_plain(const std::string &path, const std::string &text) {
    std::ofstream(path, std::ios::binary) << text;
}

std::string running_release() {
    struct utsname names;
    REQUIRE(uname(&names) == 0);
    return names.release;
}

} // namespace

TEST_CASE("kernel release strings from real systems") {
    struct Case {
        const char *release;
        KernelVersion version;
        unsigned code;
    };
    const Case cases[] = {
        {"6.18.44-fc-v595", {6, 18, 44}, 0x06122c},
        {"5.4.0-150-generic", {5, 4, 0}, 0x050400},
        {"4.18.0-477.el8.x86_64", {4, 18, 0}, 0x041200},
        {"3.10.0-1160.el7.x86_64", {3, 10, 0}, 0x030a00},
        {"6.1.0-56-cloud-amd64", {6, 1, 0}, 0x060100},
        {"6.12.117+deb12-amd64", {6, 12, 117}, 0x060c75},
        {"5.15.153.1-microsoft-standard-WSL2", {5, 15, 153}, 0x050f99},
        {"6.6.31+rpt-rpi-v8", {6, 6, 31}, 0x06061f},
        {"4.9.337-1-lts", {4, 9, 337}, 0x0409ff},  // patch above 255 is clamped in code()
        {"6.8.0-rc3", {6, 8, 0}, 0x060800},
        {"6.1", {6, 1, 0}, 0x060100},
        {"5.10.0\n", {5, 10, 0}, 0x050a00},
    };
    for (const Case &c : cases) {
        CAPTURE(c.release);
        KernelVersion version = parse_kernel_release(c.release);
        CHECK(version.major == c.version.major);
        CHECK(version.minor == c.version.minor);
        CHECK(version.patch == c.version.patch);
        CHECK(version.code() == c.code);
    }
    CHECK(KernelVersion{4, 11, 0}.code() == 264960u);  // upstream's minimum kernel
}

TEST_CASE("kernel release garbage gives 0.0.0") {
    for (const char *release : {"", "garbage", "6", "6.", "6.x", "6.1.x", "v6.1.0", "-5.4.0",
                                ".6.1", "99999999999.1.0", "Linux 6.1.0"}) {
        CAPTURE(release);
        CHECK(parse_kernel_release(release) == KernelVersion{});
        CHECK(parse_kernel_release(release).code() == 0u);
    }
}

TEST_CASE("kernel config values") {
    KernelConfig config = KernelConfig::parse(
        "#\n"
        "# Automatically generated file; DO NOT EDIT.\n"
        "#\n"
        "CONFIG_BPF=y\n"
        "CONFIG_BPF_SYSCALL=y\r\n"
        "CONFIG_CONFIGS=m\n"
        "# CONFIG_KPROBES is not set\n"
        "# CONFIG_FTRACE_SYSCALLS is not set\r\n"
        "CONFIG_OLD_STYLE=n\n"
        "CONFIG_LSM=\"landlock,lockdown,yama\"\n"
        "CONFIG_CMDLINE=\"say \\\"hi\\\" \\\\o/\"\n"
        "CONFIG_EMPTY_STRING=\"\"\n"
        "CONFIG_NR_CPUS=8192\n"
        "CONFIG_PHYSICAL_START=0x1000000\n"
        "\n");
    CHECK(config.known());
    CHECK(config.get("CONFIG_BPF") == Tristate::Yes);
    CHECK(config.get("BPF") == Tristate::Yes);
    CHECK(config.get("BPF_SYSCALL") == Tristate::Yes);
    CHECK(config.get("CONFIGS") == Tristate::Module);
    CHECK(config.get("KPROBES") == Tristate::No);
    CHECK(config.get("CONFIG_FTRACE_SYSCALLS") == Tristate::No);
    CHECK(config.get("OLD_STYLE") == Tristate::No);
    CHECK(config.get("NOT_IN_THE_FILE") == Tristate::No);
    CHECK(config.get("LSM") == Tristate::Yes);
    CHECK(config.get("NR_CPUS") == Tristate::Yes);

    CHECK(config.value("BPF") == "y");
    CHECK(config.value("CONFIGS") == "m");
    CHECK(config.value("KPROBES") == "");
    CHECK(config.value("NOT_IN_THE_FILE") == "");
    CHECK(config.value("LSM") == "landlock,lockdown,yama");
    CHECK(config.value("CONFIG_CMDLINE") == "say \"hi\" \\o/");
    CHECK(config.value("EMPTY_STRING") == "");
    CHECK(config.get("EMPTY_STRING") == Tristate::Yes);
    CHECK(config.value("NR_CPUS") == "8192");
    CHECK(config.value("PHYSICAL_START") == "0x1000000");
}

TEST_CASE("kernel config garbage lines are ignored") {
    KernelConfig config = KernelConfig::parse(
        "hello world\n"
        "CONFIG_=y\n"
        "CONFIG_NO_VALUE=\n"
        "CONFIG_UNTERMINATED=\"abc\n"
        "CONFIG_BAD NAME=y\n"
        "BPF=y\n"
        "# CONFIG_ALMOST is not\n"
        "#CONFIG_SQUASHED is not set\n"
        "CONFIG_KEPT=y\n"
        "\x01\xff=y\n");
    CHECK(config.known());
    CHECK(config.get("KEPT") == Tristate::Yes);
    CHECK(config.value("CONFIG_UNTERMINATED") == "");
    CHECK(config.get("NO_VALUE") == Tristate::No);
    CHECK(config.get("ALMOST") == Tristate::No);
    CHECK(config.value("SQUASHED") == "");

    KernelConfig later_wins = KernelConfig::parse("CONFIG_X=m\nCONFIG_X=y\n");
    CHECK(later_wins.get("X") == Tristate::Yes);
}

TEST_CASE("kernel config without CONFIG_ lines is unknown") {
    for (const char *text : {"", "\n\n", "# just a comment\n", "garbage\r\n"}) {
        CAPTURE(text);
        KernelConfig config = KernelConfig::parse(text);
        CHECK_FALSE(config.known());
        CHECK(config.get("BPF") == Tristate::Unknown);
        CHECK(config.value("BPF") == "");
    }
    CHECK(KernelConfig().get("BPF") == Tristate::Unknown);
}

TEST_CASE("config files are read gzipped or plain") {
    TempDir dir;
    const std::string text = "CONFIG_BPF=y\n# CONFIG_KPROBES is not set\n";
    write_gzip(dir.file("config.gz"), text);
    write_plain(dir.file("config"), text);

    CHECK(read_possibly_gzipped_file(dir.file("config.gz")) == text);
    CHECK(read_possibly_gzipped_file(dir.file("config")) == text);

    std::string log = captured_stderr([&] { CHECK(read_possibly_gzipped_file(dir.file("absent")) == std::nullopt); });
    CHECK(log == "");

    std::string truncated_path = dir.file("truncated.gz");
    std::string compressed;
    {
        std::ifstream in(dir.file("config.gz"), std::ios::binary);
        compressed.assign(std::istreambuf_iterator<char>(in), {});
    }
    write_plain(truncated_path, compressed.substr(0, compressed.size() - 12));
    log = captured_stderr([&] { CHECK(read_possibly_gzipped_file(truncated_path) == std::nullopt); });
    CHECK(log == "ebpf.plugin: cannot read " + truncated_path + ": unexpected end of file\n");

    log = captured_stderr([&] { CHECK(read_possibly_gzipped_file(dir.path.string()) == std::nullopt); });
    CHECK(log == "ebpf.plugin: cannot read " + dir.path.string() + ": Is a directory\n");
}

TEST_CASE("this host's kernel config comes from /proc/config.gz") {
    std::string source = "unchanged";
    KernelConfig config = read_kernel_config(running_release(), &source);
    REQUIRE(config.known());
    CHECK(source == "/proc/config.gz");
    CHECK(config.get("CONFIG_BPF_SYSCALL") == Tristate::Yes);
    CHECK(config.get("CONFIG_KPROBES") == Tristate::No);
    CHECK(config.get("HAVE_KPROBES") == Tristate::Yes);
    CHECK(config.get("DEBUG_INFO_BTF") == Tristate::Yes);
    CHECK(config.get("DYNAMIC_FTRACE_WITH_DIRECT_CALLS") == Tristate::Yes);
    CHECK(config.get("FTRACE_SYSCALLS") == Tristate::Yes);

    CHECK(read_kernel_config(running_release(), nullptr).get("BPF") == Tristate::Yes);
}

TEST_CASE("lockdown modes") {
    CHECK(parse_lockdown("[none] integrity confidentiality\n") == Lockdown::None);
    CHECK(parse_lockdown("none [integrity] confidentiality\n") == Lockdown::Integrity);
    CHECK(parse_lockdown("none integrity [confidentiality]") == Lockdown::Confidentiality);
    CHECK(parse_lockdown("") == Lockdown::Unknown);
    CHECK(parse_lockdown("none integrity confidentiality") == Lockdown::Unknown);
    CHECK(parse_lockdown("[paranoid] none") == Lockdown::Unknown);
    CHECK(parse_lockdown("none] [integrity") == Lockdown::Unknown);
    CHECK(parse_lockdown("[none") == Lockdown::Unknown);

    CHECK(lockdown_name(Lockdown::None) == "none");
    CHECK(lockdown_name(Lockdown::Integrity) == "integrity");
    CHECK(lockdown_name(Lockdown::Confidentiality) == "confidentiality");
    CHECK(lockdown_name(Lockdown::Unknown) == "unknown");
}

TEST_CASE("detect_kernel on this host") {
    const std::string release = running_release();
    KernelFacts facts = detect_kernel("/sys/kernel/btf");
    CHECK(facts.release == release);
    CHECK(facts.version == parse_kernel_release(release));
    CHECK(facts.config_source == "/proc/config.gz");
    CHECK(facts.config.get("BPF_SYSCALL") == Tristate::Yes);
    CHECK(facts.btf);
    CHECK(facts.btf_path == "/sys/kernel/btf/vmlinux");

    std::ifstream lockdown_file("/sys/kernel/security/lockdown");
    std::string lockdown_text;
    std::getline(lockdown_file, lockdown_text);
    CHECK(facts.lockdown == (lockdown_file ? parse_lockdown(lockdown_text) : Lockdown::Unknown));

    std::string expected_tracefs = access("/sys/kernel/tracing/events", F_OK) == 0         ? "/sys/kernel/tracing"
                                   : access("/sys/kernel/debug/tracing/events", F_OK) == 0 ? "/sys/kernel/debug/tracing"
                                                                                           : "";
    CHECK(facts.tracefs_path == expected_tracefs);
    CHECK(facts.tracefs == !expected_tracefs.empty());

    KernelFacts without_btf = detect_kernel("/nonexistent/btf");
    CHECK_FALSE(without_btf.btf);
    CHECK(without_btf.btf_path == "/nonexistent/btf/vmlinux");
}

// Runs in a child with its own mount namespace, so the host's mounts stay as they are.
TEST_CASE("ensure_tracefs mounts tracefs when none is mounted") {
    if (geteuid() != 0) {
        std::string error;
        if (!detect_kernel("/sys/kernel/btf").tracefs) {
            CHECK_FALSE(ensure_tracefs(&error));
            CHECK(error == "cannot mount tracefs on /sys/kernel/tracing: Operation not permitted");
        }
        return;
    }
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            _exit(10);
        umount2("/sys/kernel/tracing", MNT_DETACH);
        umount2("/sys/kernel/debug", MNT_DETACH);
        if (detect_kernel("/sys/kernel/btf").tracefs)
            _exit(11);
        std::string error = "unchanged";
        if (!ensure_tracefs(&error))
            _exit(12);
        KernelFacts facts = detect_kernel("/sys/kernel/btf");
        if (!facts.tracefs || facts.tracefs_path != "/sys/kernel/tracing" || error != "unchanged")
            _exit(13);
        if (!ensure_tracefs(nullptr))  // already mounted: nothing to do
            _exit(14);
        _exit(0);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("parameter counts of kernel functions and BTF tracepoints, from this host's BTF") {
    KernelSymbols symbols("");
    REQUIRE(symbols.has_btf());
    // stable for many releases: tcp_sendmsg(sk, msg, size), inet_sock_set_state(sk, oldstate, newstate)
    CHECK(symbols.function_arg_count("tcp_sendmsg") == 3);
    CHECK(symbols.raw_tracepoint_arg_count("inet_sock_set_state") == 3);
    CHECK(symbols.function_arg_count("no_such_function_here") == -1);
    CHECK(symbols.raw_tracepoint_arg_count("no_such_tracepoint_here") == -1);
    CHECK(symbols.function_arg_count("inet_sock_set_state") == -1);  // a tracepoint, not a function
}
