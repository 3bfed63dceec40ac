#include "kernel/kernel.h"
#include "kernel/attach.h"
#include "kernel/bpf_loader.h"
#include "capture.h"
#include "kernel/table_budget.h"

#include <doctest/doctest.h>

#include <cerrno>
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
    return log_messages({std::istreambuf_iterator<char>(in), {}});
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
    CHECK(log == "cannot read " + truncated_path + ": unexpected end of file\n");

    log = captured_stderr([&] { CHECK(read_possibly_gzipped_file(dir.path.string()) == std::nullopt); });
    CHECK(log == "cannot read " + dir.path.string() + ": Is a directory\n");
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

TEST_CASE("lockdown at boot, when securityfs cannot say") {
    std::string source;
    KernelConfig lsm = KernelConfig::parse("CONFIG_SECURITY_LOCKDOWN_LSM=y\n");
    KernelConfig integrity =
        KernelConfig::parse("CONFIG_SECURITY_LOCKDOWN_LSM=y\nCONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y\n");
    KernelConfig confidentiality =
        KernelConfig::parse("CONFIG_SECURITY_LOCKDOWN_LSM=y\nCONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY=y\n");

    CHECK(lockdown_at_boot("quiet", integrity, &source) == Lockdown::Integrity);
    CHECK(source == "CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y");
    CHECK(lockdown_at_boot("ro", confidentiality, &source) == Lockdown::Confidentiality);
    CHECK(source == "CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY=y");
    // lockdown= can raise the forced mode, never lower it
    CHECK(lockdown_at_boot("quiet lockdown=confidentiality", integrity, &source) == Lockdown::Confidentiality);
    CHECK(source == "kernel command line");
    CHECK(lockdown_at_boot("lockdown=none ro", integrity, &source) == Lockdown::Integrity);
    CHECK(lockdown_at_boot("lockdown=integrity", lsm, &source) == Lockdown::Integrity);
    CHECK(source == "kernel command line");
    // after "--" the words are init's
    CHECK(lockdown_at_boot("ro -- lockdown=integrity", lsm, &source) == Lockdown::Unknown);
    CHECK(lockdown_at_boot("", lsm, &source) == Lockdown::Unknown);
    CHECK(source.starts_with("securityfs unreadable"));
    CHECK(lockdown_at_boot("lockdown=integrity", KernelConfig::parse("CONFIG_BPF=y\n"), &source) == Lockdown::None);
    CHECK(source == "CONFIG_SECURITY_LOCKDOWN_LSM is not set");
    CHECK(lockdown_at_boot("lockdown=integrity", KernelConfig(), &source) == Lockdown::Integrity);
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

    // Root reads securityfs, mounting it privately when the host has not; the
    // mode can only have been raised since boot.
    std::ifstream cmdline_file("/proc/cmdline");
    std::string cmdline, boot_source;
    std::getline(cmdline_file, cmdline);
    Lockdown at_boot = lockdown_at_boot(cmdline, facts.config, &boot_source);
    if (geteuid() == 0) {
        CHECK(facts.lockdown_source.starts_with("securityfs"));
        CHECK(facts.lockdown != Lockdown::Unknown);
        CHECK(static_cast<int>(facts.lockdown) >= static_cast<int>(at_boot));
    } else {
        std::ifstream lockdown_file("/sys/kernel/security/lockdown");
        std::string lockdown_text;
        std::getline(lockdown_file, lockdown_text);
        CHECK(facts.lockdown == (lockdown_file ? parse_lockdown(lockdown_text) : at_boot));
    }

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

TEST_CASE("load errors say why") {
    // EPERM with no word from the verifier: the kernel refuses the program type
    CHECK(load_error_text(-EPERM, true, true, "") ==
          "the kernel refuses fentry/fexit programs (EPERM at load, with the privileges to load BPF, before "
          "verification: a security policy, lockdown or a security module, forbids them)");
    CHECK(load_error_text(-EPERM, false, false, "") ==
          "the kernel refuses these programs (EPERM at load: loading BPF needs root or CAP_BPF)");
    // the verifier's last word is kept
    CHECK(load_error_text(-EACCES, true, false, "R1 invalid mem access 'scalar'") ==
          "load failed: Permission denied (verifier: R1 invalid mem access 'scalar')");
    CHECK(load_error_text(-EPERM, true, true, "unknown func bpf_foo#999") ==
          "load failed: Operation not permitted (verifier: unknown func bpf_foo#999)");
    CHECK(load_error_text(-EINVAL, true, false, "") == "load failed: Invalid argument");
}

TEST_CASE("pid table sizes from configuration are bounded by pid_max and by memory, tighter for a non-root caller")
{
    std::string why;
    // 24 u32 counters: a 96-byte value, shared by all CPUs, in a 64-byte element, and the
    // same counters in the process's slot.
    uint64_t entry = pid_entry_bytes(24, 4);
    CHECK(entry == 64 + 96 + 96);
    CHECK(pid_entry_bytes(5, 4) == 64 + 24 + 24);
    CHECK(pid_entry_bytes(14, 8) == 64 + 112 + 112);
    CHECK(core_entry_bytes() == 64 + 40 + 48);
    const uint64_t gib = 1ull << 30;

    MachineLimits root{24 * gib, 4194304, true};
    CHECK(bound_pid_table_size(32768, entry, root, why) == 32768);
    CHECK(why.empty());
    // The case: 4194304 entries would be 640 MiB a table; 1/8 of 4 GiB is 512 MiB.
    MachineLimits small_root{4 * gib, 4194304, true};
    CHECK(bound_pid_table_size(4194304, entry, small_root, why) == 512 * (1 << 20) / 256);
    CHECK(why == "a pid table may take 1/8 of memory (512 MiB, 256 bytes an entry)");

    MachineLimits nobody{24 * gib, 4194304, false};
    CHECK(bound_pid_table_size(4194304, entry, nobody, why) == 24 * gib / 64 / 256);
    CHECK(why == "a pid table may take 1/64 of memory (384 MiB, 256 bytes an entry) when the caller is not root");
    // The built-in default stays allowed whatever the machine.
    MachineLimits tiny{256ull << 20, 4194304, false};
    CHECK(bound_pid_table_size(32768, entry, tiny, why) == 32768);
    CHECK(why.empty());
    CHECK(bound_pid_table_size(40000, entry, tiny, why) == 32768);

    MachineLimits few_pids{24 * gib, 32768, true};
    CHECK(bound_pid_table_size(4194304, entry, few_pids, why) == 32768);
    CHECK(why == "kernel.pid_max is 32768: no more processes can exist");
    CHECK(bound_pid_table_size(4, entry, few_pids, why) == 4);
    CHECK(why.empty());
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
