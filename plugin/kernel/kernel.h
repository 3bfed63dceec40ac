// Facts about the running kernel: version, build configuration, BTF,
// lockdown mode and tracefs. Nothing here loads BPF (attach.* probes that).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

struct KernelVersion {
    unsigned major = 0, minor = 0, patch = 0;
    // Same encoding as KERNEL_VERSION(): major<<16 | minor<<8 | min(patch, 255).
    unsigned code() const;
    bool operator==(const KernelVersion &) const = default;
};

// "6.18.44-fc-v595" -> 6.18.44, "6.1-rc3" -> 6.1.0; anything else -> 0.0.0.
KernelVersion parse_kernel_release(std::string_view release);

enum class Tristate { Yes, Module, No, Unknown };

// CONFIG_* values from a kernel .config.
class KernelConfig {
public:
    // Reads "CONFIG_X=y|m|n|\"str\"|123" and "# CONFIG_X is not set" lines;
    // other lines are ignored. known() is true once one CONFIG_ line was read.
    static KernelConfig parse(std::string_view text);

    // name with or without the CONFIG_ prefix. An option a known config does
    // not mention is No (Kconfig leaves out options whose dependencies are
    // unmet); a string or number value counts as Yes.
    Tristate get(std::string_view name) const;
    // The value as written, strings without their quotes; "" when not set.
    std::string value(std::string_view name) const;
    bool known() const { return !options_.empty(); }

private:
    struct Option {
        Tristate state;
        std::string value;
    };
    std::map<std::string, Option, std::less<>> options_;
};

// Whole file, transparently gunzipped; nullopt (and one stderr line unless
// the file does not exist) when it cannot be read.
std::optional<std::string> read_possibly_gzipped_file(const std::string &path);

// First of /proc/config.gz, /boot/config-<release>, /lib/modules/<release>/config
// that holds a config; *source_out (may be null) names it, "" when none did.
KernelConfig read_kernel_config(std::string_view release, std::string *source_out);

enum class Lockdown { None, Integrity, Confidentiality, Unknown };

// The bracketed word of "none [integrity] confidentiality".
Lockdown parse_lockdown(std::string_view text);
std::string_view lockdown_name(Lockdown mode);

// The mode the kernel booted with, when securityfs cannot say: the stricter of
// `lockdown=` on `cmdline` and the mode `config` forces; None without the
// lockdown LSM; Unknown when neither tells. *source says where it came from.
Lockdown lockdown_at_boot(std::string_view cmdline, const KernelConfig &config, std::string *source);

// /sys/kernel/security/lockdown; when securityfs is not mounted there, it is
// mounted in a child's private mount namespace (the host's mounts stay as they
// are), and without it the mode comes from lockdown_at_boot().
Lockdown read_lockdown(const KernelConfig &config, std::string *source);

struct KernelFacts {
    std::string release;
    KernelVersion version;
    KernelConfig config;
    std::string config_source;    // "" when no config was found
    bool btf = false;             // btf_path is readable
    std::string btf_path;         // <btf_dir>/vmlinux, set even when absent
    Lockdown lockdown = Lockdown::Unknown;
    std::string lockdown_source;  // "securityfs", "kernel command line", "CONFIG_..."
    bool tracefs = false;         // tracefs_path/events exists
    std::string tracefs_path;     // "/sys/kernel/tracing" or "/sys/kernel/debug/tracing"; "" when none
};

KernelFacts detect_kernel(const std::string &btf_dir);

// Mounts tracefs at /sys/kernel/tracing when none is mounted (needs
// CAP_SYS_ADMIN). True when tracefs is available afterwards; otherwise *error
// (may be null) says why, without the "ebpf.plugin: " prefix.
bool ensure_tracefs(std::string *error);
