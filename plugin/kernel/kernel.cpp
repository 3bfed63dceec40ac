#include "kernel/kernel.h"
#include "core/log.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zlib.h>

namespace {

constexpr std::string_view config_prefix = "CONFIG_";
// A kernel .config is a few hundred KiB; a cap keeps a path such as
// /dev/zero from being read forever.
constexpr size_t max_config_bytes = 16 << 20;
constexpr const char *tracefs_mount_point = "/sys/kernel/tracing";
constexpr std::array tracefs_candidates = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};

std::optional<unsigned> take_number(std::string_view &text) {
    unsigned number = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (error != std::errc())
        return std::nullopt;
    text.remove_prefix(end - text.data());
    return number;
}

bool take_char(std::string_view &text, char wanted) {
    if (text.empty() || text.front() != wanted)
        return false;
    text.remove_prefix(1);
    return true;
}

std::string_view trim(std::string_view text) {
    constexpr std::string_view blanks = " \t\r\n";
    size_t first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos)
        return {};
    size_t last = text.find_last_not_of(blanks);
    return text.substr(first, last - first + 1);
}

bool is_option_name(std::string_view name) {
    if (name.size() <= config_prefix.size() || !name.starts_with(config_prefix))
        return false;
    return std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

// Kconfig writes strings in double quotes with \" and \\ escaped.
std::optional<std::string> unquote(std::string_view quoted) {
    if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"')
        return std::nullopt;
    std::string text;
    for (size_t i = 1; i + 1 < quoted.size(); i++) {
        if (quoted[i] == '\\' && i + 2 < quoted.size())
            i++;
        text += quoted[i];
    }
    return text;
}

std::string full_option_name(std::string_view name) {
    if (name.starts_with(config_prefix))
        return std::string(name);
    return std::string(config_prefix) + std::string(name);
}

std::string find_tracefs() {
    for (const char *dir : tracefs_candidates) {
        // effective ids: a setuid start has a real uid that cannot see tracefs
        if (faccessat(AT_FDCWD, (std::string(dir) + "/events").c_str(), F_OK, AT_EACCESS) == 0)
            return dir;
    }
    return {};
}

bool is_readable(const std::string &path) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

} // namespace

unsigned KernelVersion::code() const {
    return major << 16 | minor << 8 | std::min(patch, 255u);
}

KernelVersion parse_kernel_release(std::string_view release) {
    auto major = take_number(release);
    if (!major || !take_char(release, '.'))
        return {};
    auto minor = take_number(release);
    if (!minor)
        return {};
    unsigned patch = 0;
    if (take_char(release, '.')) {
        auto number = take_number(release);
        if (!number)
            return {};
        patch = *number;
    }
    return {*major, *minor, patch};
}

KernelConfig KernelConfig::parse(std::string_view text) {
    constexpr std::string_view not_set_prefix = "# ";
    constexpr std::string_view not_set_suffix = " is not set";
    KernelConfig config;
    while (!text.empty()) {
        size_t end = text.find('\n');
        std::string_view line = trim(text.substr(0, end));
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);

        if (line.starts_with(not_set_prefix) && line.ends_with(not_set_suffix)) {
            std::string_view name = line.substr(not_set_prefix.size(),
                                                line.size() - not_set_prefix.size() - not_set_suffix.size());
            if (is_option_name(name))
                config.options_.insert_or_assign(std::string(name), Option{Tristate::No, ""});
            continue;
        }
        size_t equals = line.find('=');
        if (equals == std::string_view::npos || !is_option_name(line.substr(0, equals)))
            continue;
        std::string name(line.substr(0, equals));
        std::string_view value = line.substr(equals + 1);
        if (value == "y")
            config.options_.insert_or_assign(name, Option{Tristate::Yes, "y"});
        else if (value == "m")
            config.options_.insert_or_assign(name, Option{Tristate::Module, "m"});
        else if (value == "n")
            config.options_.insert_or_assign(name, Option{Tristate::No, ""});
        else if (value.starts_with('"')) {
            if (auto unquoted = unquote(value))
                config.options_.insert_or_assign(name, Option{Tristate::Yes, *unquoted});
        } else if (!value.empty())
            config.options_.insert_or_assign(name, Option{Tristate::Yes, std::string(value)});
    }
    return config;
}

Tristate KernelConfig::get(std::string_view name) const {
    if (!known())
        return Tristate::Unknown;
    auto option = options_.find(full_option_name(name));
    return option == options_.end() ? Tristate::No : option->second.state;
}

std::string KernelConfig::value(std::string_view name) const {
    auto option = options_.find(full_option_name(name));
    return option == options_.end() ? std::string() : option->second.value;
}

std::optional<std::string> read_possibly_gzipped_file(const std::string &path) {
    // gzread passes through files that are not gzip-compressed unchanged.
    gzFile file = gzopen(path.c_str(), "rbe");
    if (!file) {
        if (errno != ENOENT)
            log_error("cannot open %s: %s", path.c_str(), strerror(errno));
        return std::nullopt;
    }
    std::string text;
    std::array<char, 65536> buffer;
    int bytes;
    while ((bytes = gzread(file, buffer.data(), buffer.size())) > 0 && text.size() < max_config_bytes)
        text.append(buffer.data(), bytes);

    // A truncated stream ends the loop like EOF does; only gzerror tells.
    int zlib_error = Z_OK;
    const char *message = gzerror(file, &zlib_error);
    std::optional<std::string> result = std::move(text);
    if (bytes < 0 || zlib_error != Z_OK) {
        // zlib's message already reads "<path>: <reason>".
        log_error("cannot read %s", message);
        result.reset();
    } else if (result->size() >= max_config_bytes) {
        log_error("%s is larger than %zu bytes, ignoring it", path.c_str(), max_config_bytes);
        result.reset();
    }
    gzclose(file);
    return result;
}

KernelConfig read_kernel_config(std::string_view release, std::string *source_out) {
    const std::string version(release);
    const std::array sources = {
        std::string("/proc/config.gz"),
        "/boot/config-" + version,
        "/lib/modules/" + version + "/config",
    };
    for (const std::string &source : sources) {
        auto text = read_possibly_gzipped_file(source);
        if (!text)
            continue;
        KernelConfig config = KernelConfig::parse(*text);
        if (!config.known()) {
            log_error("%s has no CONFIG_ lines, ignoring it", source.c_str());
            continue;
        }
        if (source_out)
            *source_out = source;
        return config;
    }
    if (source_out)
        source_out->clear();
    return {};
}

Lockdown parse_lockdown(std::string_view text) {
    size_t opening = text.find('[');
    size_t closing = text.find(']', opening);
    if (opening == std::string_view::npos || closing == std::string_view::npos)
        return Lockdown::Unknown;
    std::string_view mode = text.substr(opening + 1, closing - opening - 1);
    if (mode == "none")
        return Lockdown::None;
    if (mode == "integrity")
        return Lockdown::Integrity;
    if (mode == "confidentiality")
        return Lockdown::Confidentiality;
    return Lockdown::Unknown;
}

namespace {

constexpr const char *securityfs_dir = "/sys/kernel/security";
constexpr long securityfs_magic = 0x73636673;

// The lockdown file's first line; nullopt when it cannot be read.
std::optional<std::string> read_lockdown_file() {
    FILE *file = fopen((std::string(securityfs_dir) + "/lockdown").c_str(), "re");
    if (!file)
        return std::nullopt;
    char line[256] = "";
    bool got_line = fgets(line, sizeof(line), file) != nullptr;
    fclose(file);
    return got_line ? std::optional<std::string>(line) : std::nullopt;
}

bool securityfs_mounted() {
    struct statfs fs;
    return statfs(securityfs_dir, &fs) == 0 && fs.f_type == securityfs_magic;
}

// Mounts securityfs in a child with its own mount namespace, so the host's
// mounts stay as they are, and reads the lockdown file there. *mounted says
// whether the mount worked (it needs root); nullopt when it did not, or when
// securityfs has no lockdown file (no lockdown LSM).
std::optional<std::string> read_lockdown_in_private_mount(bool *mounted) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        return std::nullopt;
    pid_t child = fork();
    if (child == 0) {
        close(pipe_fds[0]);
        if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            mount("securityfs", securityfs_dir, "securityfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
            _exit(1);
        std::string text = "mounted\n" + read_lockdown_file().value_or("");
        _exit(write(pipe_fds[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()) ? 0 : 1);
    }
    close(pipe_fds[1]);
    std::string text;
    char buffer[256];
    ssize_t bytes;
    while (child > 0 && (bytes = read(pipe_fds[0], buffer, sizeof(buffer))) > 0)
        text.append(buffer, bytes);
    close(pipe_fds[0]);
    if (child > 0)
        waitpid(child, nullptr, 0);
    *mounted = text.starts_with("mounted\n");
    if (!*mounted || text.size() == std::strlen("mounted\n"))
        return std::nullopt;
    return text.substr(std::strlen("mounted\n"));
}

Lockdown stricter(Lockdown a, Lockdown b) {
    auto rank = [](Lockdown mode) { return mode == Lockdown::Unknown ? -1 : static_cast<int>(mode); };
    return rank(a) >= rank(b) ? a : b;
}

} // namespace

Lockdown lockdown_at_boot(std::string_view cmdline, const KernelConfig &config, std::string *source) {
    Lockdown from_cmdline = Lockdown::Unknown;
    for (size_t start = 0; start < cmdline.size();) {
        size_t end = cmdline.find_first_of(" \t\n", start);
        std::string_view word = cmdline.substr(start, end == std::string_view::npos ? end : end - start);
        if (word.starts_with("lockdown="))
            from_cmdline = parse_lockdown("[" + std::string(word.substr(9)) + "]");
        if (word == "--")
            break; // what follows is init's
        start = end == std::string_view::npos ? cmdline.size() : end + 1;
    }
    Lockdown forced = Lockdown::Unknown;
    std::string forced_by;
    if (config.get("LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY") == Tristate::Yes)
        forced = Lockdown::Confidentiality, forced_by = "CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY=y";
    else if (config.get("LOCK_DOWN_KERNEL_FORCE_INTEGRITY") == Tristate::Yes)
        forced = Lockdown::Integrity, forced_by = "CONFIG_LOCK_DOWN_KERNEL_FORCE_INTEGRITY=y";

    if (config.known() && config.get("SECURITY_LOCKDOWN_LSM") != Tristate::Yes) {
        *source = "CONFIG_SECURITY_LOCKDOWN_LSM is not set";
        return Lockdown::None;
    }
    Lockdown mode = stricter(from_cmdline, forced);
    if (mode == Lockdown::Unknown)
        *source = "securityfs unreadable, no lockdown= at boot, no forced mode in the kernel config";
    else if (mode == from_cmdline)
        *source = "kernel command line";
    else
        *source = forced_by;
    return mode;
}

Lockdown read_lockdown(const KernelConfig &config, std::string *source) {
    bool mounted = securityfs_mounted();
    std::optional<std::string> text = read_lockdown_file();
    if (!text && !mounted)
        text = read_lockdown_in_private_mount(&mounted);
    if (text) {
        *source = "securityfs";
        return parse_lockdown(*text);
    }
    if (mounted) {
        *source = "securityfs has no lockdown file: no lockdown LSM";
        return Lockdown::None;
    }
    auto cmdline = read_possibly_gzipped_file("/proc/cmdline");
    return lockdown_at_boot(cmdline.value_or(""), config, source);
}

std::string_view lockdown_name(Lockdown mode) {
    switch (mode) {
    case Lockdown::None: return "none";
    case Lockdown::Integrity: return "integrity";
    case Lockdown::Confidentiality: return "confidentiality";
    case Lockdown::Unknown: break;
    }
    return "unknown";
}

KernelFacts detect_kernel(const std::string &btf_dir) {
    KernelFacts facts;
    struct utsname names;
    if (uname(&names) == 0)
        facts.release = names.release;
    facts.version = parse_kernel_release(facts.release);
    facts.config = read_kernel_config(facts.release, &facts.config_source);
    facts.btf_path = btf_dir + "/vmlinux";
    facts.btf = is_readable(facts.btf_path);
    facts.lockdown = read_lockdown(facts.config, &facts.lockdown_source);
    facts.tracefs_path = find_tracefs();
    facts.tracefs = !facts.tracefs_path.empty();
    return facts;
}

bool ensure_tracefs(std::string *error) {
    if (!find_tracefs().empty())
        return true;
    std::string why;
    if (mount("tracefs", tracefs_mount_point, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
        why = std::string("cannot mount tracefs on ") + tracefs_mount_point + ": " + strerror(errno);
    else if (find_tracefs().empty())
        why = std::string("tracefs mounted on ") + tracefs_mount_point + " has no events directory";
    else
        return true;
    if (error)
        *error = why;
    return false;
}
