// ebpf.d.conf and ebpf.d/<module>.conf, read the way Netdata 1.37.1's ebpf.plugin reads them.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.h"

enum class LoadMode { Entry, Return };
enum class AttachPath { Auto, Trampoline, Kprobe, Tracepoint };   // "ebpf co-re tracing": trampoline|probe|tracepoint; auto when absent
enum class TypeFormat { Auto, Legacy, CoRe };                     // "ebpf type format"
enum class CollectPid { RealParent, Parent, All };

struct ModuleConfig {
    std::string name;            // "process", "fd", ...
    bool enabled = false;        // from [ebpf programs]
    bool supported = false;      // implemented by this plugin
    LoadMode load_mode; bool apps; bool cgroups; int update_every; unsigned pid_table_size;
    AttachPath attach = AttachPath::Auto; TypeFormat type_format = TypeFormat::Auto;
    CollectPid collect_pid = CollectPid::RealParent; bool maps_per_core = true;
    std::set<std::string> disabled_filesystems;  // filesystem.conf [filesystem] `<name>dist = no`
    std::set<std::string, std::less<>> disabled_syscalls;   // sync, shm: [syscalls] keys set to no
};

struct PluginConfig {
    int update_every;            // [global] update every, else argv value
    LoadMode load_mode = LoadMode::Entry; bool apps = true; bool cgroups = false;
    unsigned pid_table_size = 32768; std::string btf_path = "/sys/kernel/btf"; bool maps_per_core = true;
    AttachPath attach = AttachPath::Auto; TypeFormat type_format = TypeFormat::Auto;
    ResourceLimits limits;               // [global] cpu limit, memory limit, ... (core/limits.h)
    bool network_connections = false;    // [ebpf programs] network connections: the flows and their charts
    std::vector<ModuleConfig> modules;   // every module name upstream knows, in a fixed order
    const ModuleConfig *module(std::string_view name) const;
};

struct ConfigDirs { std::string user; std::string stock; };   // e.g. /etc/netdata, /usr/lib/netdata/conf.d

using Warn = std::function<void(const std::string &)>;

// Loads ebpf.d.conf (user dir first, else stock dir; legacy name ebpf.conf too, as upstream), then for every
// module ebpf.d/<module>.conf (user file wins over stock file, whole-file precedence as upstream).
// Per-module [global] keys override the global ones for that module. Problems go to `warn`, one line each,
// starting with "ebpf.plugin: "; the value in effect is kept. Options this plugin does not honour (`lifetime`,
// a `collect pid` other than `real parent`, the keys of modules it lacks) are named once per file.
// Never throws on bad input.
PluginConfig load_config(const ConfigDirs &dirs, int argv_update_every, const Warn &warn);

// dir + "/" + name, without doubling a trailing '/' of dir.
std::string config_path(const std::string &dir, std::string_view name);

// Reads a small regular text file. Missing: the file does not exist (no warning). Unusable: it exists but
// cannot be used (unreadable, not a regular file, larger than max_bytes, contains a NUL byte); one warning.
enum class FileStatus { Loaded, Missing, Unusable };
FileStatus read_text_file(const std::string &path, std::string &text, const Warn &warn,
                          size_t max_bytes = 1 << 20);
