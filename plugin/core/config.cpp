#include "core/config.h"
#include "core/config_values.h"

#include <ini.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <map>
#include <optional>
#include <set>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace {

using namespace config_values;

// ---------------------------------------------------------------------------------------------
// Modules upstream 1.37.1 knows, in the order of its ebpf_modules[] table.

struct KnownModule {
    std::string_view name;                      // key in [ebpf programs]
    std::string_view file;                      // ebpf.d/<file>
    bool supported;                             // implemented by this plugin
    bool enabled_by_default;                    // upstream's value when ebpf.d.conf does not name it
    std::vector<std::string_view> own_sections;     // sections only this module reads
    std::vector<std::string_view> own_global_keys;  // [global] keys only this module reads
};

const std::vector<KnownModule> &known_modules()
{
    static const std::vector<KnownModule> modules = {
        {"process", "process.conf", true, true, {}, {}},
        {"socket", "network.conf", true, false, {"network connections", "service name"},
         {"bandwidth table size", "ipv4 connection table size", "ipv6 connection table size",
          "udp connection table size", "socket monitoring table size"}},
        {"cachestat", "cachestat.conf", true, false, {}, {}},
        {"sync", "sync.conf", true, true, {"syscalls"}, {}},
        {"dcstat", "dcstat.conf", true, false, {}, {}},
        {"swap", "swap.conf", true, false, {}, {}},
        {"vfs", "vfs.conf", true, false, {}, {}},
        {"filesystem", "filesystem.conf", true, false, {"filesystem"}, {}},
        {"disk", "disk.conf", true, false, {}, {}},
        {"mount", "mount.conf", true, true, {}, {}},
        {"fd", "fd.conf", true, true, {}, {}},
        {"hardirq", "hardirq.conf", true, true, {}, {}},
        {"softirq", "softirq.conf", true, true, {}, {}},
        {"oomkill", "oomkill.conf", true, true, {}, {}},
        {"shm", "shm.conf", true, true, {"syscalls"}, {}},
        {"mdflush", "mdflush.conf", true, false, {}, {}},
    };
    return modules;
}

const KnownModule &socket_module() { return known_modules()[1]; }

// The keys of [syscalls], as 1.37.1's sync.conf and shm.conf name them.
const std::vector<std::string_view> sync_syscalls = {"sync", "syncfs", "msync", "fsync", "fdatasync", "sync_file_range"};
const std::vector<std::string_view> shm_syscalls = {"shmget", "shmat", "shmdt", "shmctl"};

bool contains(const std::vector<std::string_view> &list, std::string_view item)
{
    return std::find(list.begin(), list.end(), item) != list.end();
}

// ---------------------------------------------------------------------------------------------
// One INI file, parsed by inih, with every problem reported once and with its line number.

struct Setting {
    std::string section;        // lower case, for matching
    std::string section_text;   // as written
    std::string key;            // lower case, for matching
    std::string key_text;       // as written
    std::string value;
    int line;
};

// inih's line buffer; a longer line is refused as a whole rather than split into pieces.
constexpr int kLineBuffer = 4096;
constexpr size_t kMaxLine = kLineBuffer - 2;   // room for '\n' and '\0'

class IniFile {
public:
    using Sink = std::function<void(const Setting &)>;

    IniFile(std::string path, const Warn &warn) : path_(std::move(path)), warn_(warn) {}

    void parse(std::string_view text, const Sink &sink)
    {
        // Netdata's format: no continuation lines (every stock key is indented), no inline comments
        // (';' stays in values), and a line without '=' is reported here rather than failing silently.
        ini_allow_multiline = false;
        ini_allow_inline_comments = false;
        ini_allow_no_value = true;
        ini_stop_on_first_error = false;
        ini_use_stack = false;
        ini_allow_realloc = false;
        ini_initial_alloc = kLineBuffer;
        ini_max_line = kLineBuffer;

        text_ = text;
        sink_ = &sink;
        ini_parse_stream(&IniFile::read_line, this, &IniFile::on_pair, this);
        sink_ = nullptr;
    }

    void warn_at(int line, const std::string &message)
    {
        warn_("ebpf.plugin: " + path_ + ":" + std::to_string(line) + ": " + message);
    }

    // `id` identifies what is reported, so that case variants of one key count once.
    void warn_once(const std::string &id, const std::string &message)
    {
        if (reported_.insert(id).second)
            warn_("ebpf.plugin: " + path_ + ": " + message);
    }

    void invalid(const Setting &s, const std::string &kept)
    {
        warn_at(s.line, "invalid value '" + printable(s.value) + "' for '" + printable(s.key_text) + "'; using " +
                            printable(kept));
    }

    void unsupported_key(const Setting &s)
    {
        warn_once("key\n" + s.section + "\n" + s.key,
                  "option '" + printable(s.key_text) + "' in [" + printable(s.section_text) +
                      "] is not supported; ignored");
    }

    void unsupported_section(const Setting &s)
    {
        warn_once("section\n" + s.section,
                  "section [" + printable(s.section_text) + "] is not supported; ignored");
    }

    // 1.37.1 also read the viewer's sections from ebpf.d.conf; network.conf wins there
    void network_viewer_sections_here()
    {
        warn_once("network viewer", "the network viewer's sections ([network connections], [service name]) are "
                                    "read from ebpf.d/network.conf only; ignored here");
    }

    void module_options(std::string_view module)
    {
        warn_once("module\n" + std::string(module),
                  "options of module '" + std::string(module) + "' are not implemented by this plugin; ignored");
    }

    // Reports a key given twice (also through an alias); the later line wins.
    void note_repeat(const Setting &s, std::string_view canonical_key)
    {
        auto [where, first] = first_line_.try_emplace(s.section + "\n" + std::string(canonical_key), s.line);
        if (!first) {
            warn_at(s.line, "option '" + printable(s.key_text) + "' in [" + printable(s.section_text) + "] repeats line " +
                                std::to_string(where->second) + "; the later line wins");
            where->second = s.line;
        }
    }

private:
    static char *read_line(char *buffer, int size, void *self_pointer)
    {
        auto &self = *static_cast<IniFile *>(self_pointer);
        if (self.position_ >= self.text_.size() || size < 2)
            return nullptr;
        size_t end = self.text_.find('\n', self.position_);
        if (end == std::string_view::npos)
            end = self.text_.size();
        std::string_view line = self.text_.substr(self.position_, end - self.position_);
        self.position_ = end + 1;
        ++self.line_;

        std::string_view served = self.screen(line, std::min(kMaxLine, static_cast<size_t>(size) - 2));
        served.copy(buffer, served.size());
        buffer[served.size()] = '\n';
        buffer[served.size() + 1] = '\0';
        return buffer;
    }

    // Lines inih would mishandle: too long (it would split them), or a section header without ']'
    // (it would keep filing keys under the previous section). Both are replaced and reported.
    std::string_view screen(std::string_view line, size_t max_length)
    {
        if (line.size() > max_length) {
            warn_at(line_, "line longer than " + std::to_string(max_length) + " bytes; ignored");
            return {};
        }
        std::string_view body = line;
        if (line_ == 1 && body.starts_with("\xEF\xBB\xBF"))
            body.remove_prefix(3);
        body = trim(body);
        if (!body.starts_with('['))
            return line;
        if (body.find(']') == std::string_view::npos) {
            warn_at(line_, "section header without ']'; ignored up to the next section");
            in_broken_section_ = true;
            return "[]";
        }
        in_broken_section_ = false;
        return line;
    }

    static int on_pair(void *self_pointer, const char *section, const char *name, const char *value)
    {
        auto &self = *static_cast<IniFile *>(self_pointer);
        try {
            self.deliver(section, name, value);
        } catch (...) {
            // Nothing may unwind through inih's C frames; a setting lost to bad_alloc keeps its default.
        }
        return 1;
    }

    void deliver(const char *section, const char *name, const char *value)
    {
        if (in_broken_section_)
            return;
        if (!value || !*name) {
            warn_at(line_, "expected 'name = value'; ignored");
            return;
        }
        std::string_view section_text = trim(section);
        if (section_text.empty()) {
            warn_at(line_, "option '" + printable(name) + "' is outside any section; ignored");
            return;
        }
        Setting setting{lower(section_text), std::string(section_text), lower(name), name, value, line_};
        (*sink_)(setting);
    }

    std::string path_;
    const Warn &warn_;
    std::string_view text_;
    size_t position_ = 0;
    int line_ = 0;
    bool in_broken_section_ = false;
    const Sink *sink_ = nullptr;
    std::set<std::string> reported_;
    std::map<std::string, int> first_line_;
};

template <class Field, class Parser>
void assign(Field &field, const Setting &s, IniFile &file, Parser parse)
{
    if (auto parsed = parse(s.value))
        field = static_cast<Field>(*parsed);
    else
        file.invalid(s, show(field));
}

// The canonical name of a [global] key of ebpf.d.conf that every ebpf.d/<module>.conf may override,
// or "" when `key` is none of them.
std::string_view tunable_name(std::string_view key)
{
    if (key == "load")
        return "ebpf load mode";
    if (key == "disable apps")
        return "apps";
    static constexpr std::string_view names[] = {"ebpf load mode", "apps", "cgroups", "update every",
                                                 "pid table size", "ebpf type format", "ebpf co-re tracing",
                                                 "maps per core"};
    for (std::string_view name : names)
        if (name == key)
            return name;
    return {};
}

template <class Target>
bool apply_tunable(Target &target, const Setting &s, IniFile &file)
{
    std::string_view name = tunable_name(s.key);
    if (name.empty())
        return false;
    file.note_repeat(s, name);
    auto at_most = [](long long max) { return [max](std::string_view v) { return parse_integer(v, 1, max); }; };

    if (name == "ebpf load mode")
        assign(target.load_mode, s, file, parse_load_mode);
    else if (s.key == "apps")
        assign(target.apps, s, file, parse_bool);
    else if (s.key == "disable apps") {
        if (auto disabled = parse_bool(s.value))
            target.apps = !*disabled;
        else
            file.invalid(s, show(!target.apps));
    } else if (name == "cgroups")
        assign(target.cgroups, s, file, parse_bool);
    else if (name == "update every")
        assign(target.update_every, s, file, at_most(86400));
    else if (name == "pid table size")
        assign(target.pid_table_size, s, file, at_most(4194304));   // PID_MAX_LIMIT on 64-bit kernels
    else if (name == "ebpf type format")
        assign(target.type_format, s, file, parse_type_format);
    else if (name == "ebpf co-re tracing")
        assign(target.attach, s, file, parse_attach);
    else
        assign(target.maps_per_core, s, file, parse_bool);
    return true;
}

// ---------------------------------------------------------------------------------------------
// ebpf.d.conf

ModuleConfig *find_module(PluginConfig &config, std::string_view name)
{
    for (auto &module : config.modules)
        if (module.name == name)
            return &module;
    return nullptr;
}

// network_connections: upstream's connection viewer; here the flows (net/flow_source.h) and their charts.
void apply_program_switch(PluginConfig &config, bool &network_connections, const Setting &s, IniFile &file)
{
    // Legacy aliases as upstream: "network viewer" = socket, "network connection monitoring" = network connections.
    std::string_view name = s.key;
    if (name == "network viewer")
        name = "socket";
    if (name == "network connection monitoring")
        name = "network connections";

    if (name == "network connections") {
        file.note_repeat(s, name);
        assign(network_connections, s, file, parse_bool);
    } else if (ModuleConfig *module = find_module(config, name)) {
        file.note_repeat(s, name);
        assign(module->enabled, s, file, parse_bool);
    } else {
        file.unsupported_key(s);
    }
}

// `lifetime` (upstream 1.41+) stops a module started by a Netdata function
// after that many seconds; modules started with the plugin run until it stops.
void name_lifetime(const Setting &s, IniFile &file)
{
    file.warn_once("key\n" + s.section + "\n" + s.key,
                   "option '" + printable(s.key_text) + "' is not supported (it limits modules started by Netdata "
                   "functions, which this plugin does not offer); ignored");
}

void apply_global_setting(PluginConfig &config, bool &network_connections, const Setting &s, IniFile &file)
{
    if (s.section == "global") {
        if (apply_tunable(config, s, file))
            return;
        if (s.key == "lifetime") {
            name_lifetime(s, file);
        } else if (s.key == "btf path") {
            file.note_repeat(s, s.key);
            assign(config.btf_path, s, file, parse_btf_path);
        } else if (LimitKey limit = limit_key(s.key); limit == LimitKey::RecordStream) {
            file.warn_at(s.line, "option '" + printable(s.key_text) + "' does not apply yet: no module emits "
                                 "records; ignored");
        } else if (limit != LimitKey::None) {
            file.note_repeat(s, s.key);
            std::string kept;
            if (!set_limit(config.limits, limit, s.value, kept))
                file.invalid(s, kept);
        } else {
            file.unsupported_key(s);
        }
    } else if (s.section == "ebpf programs") {
        apply_program_switch(config, network_connections, s, file);
    } else if (contains(socket_module().own_sections, s.section)) {
        file.network_viewer_sections_here();
    } else {
        file.unsupported_section(s);
    }
}

// ---------------------------------------------------------------------------------------------
// ebpf.d/<module>.conf

// filesystem.conf [filesystem]: `<name>dist = yes|no` for each filesystem upstream monitors.
void apply_filesystem_setting(ModuleConfig &module, const Setting &s, IniFile &file)
{
    static const std::set<std::string> names = {"ext4", "xfs", "nfs", "zfs", "btrfs"};
    std::string name = s.key.ends_with("dist") ? s.key.substr(0, s.key.size() - 4) : "";
    if (!names.contains(name))
        return file.unsupported_key(s);
    file.note_repeat(s, s.key);
    bool enabled = !module.disabled_filesystems.contains(name);
    assign(enabled, s, file, parse_bool);
    if (enabled)
        module.disabled_filesystems.erase(name);
    else
        module.disabled_filesystems.insert(name);
}

// [syscalls] of sync.conf and shm.conf: `<syscall> = yes|no` for the syscalls that module counts.
void apply_syscall_switch(ModuleConfig &module, const KnownModule &known, const Setting &s, IniFile &file)
{
    const std::vector<std::string_view> &syscalls = known.name == "sync" ? sync_syscalls : shm_syscalls;
    if (!contains(syscalls, s.key)) {
        file.unsupported_key(s);
        return;
    }
    file.note_repeat(s, s.key);
    bool on = !module.disabled_syscalls.contains(s.key);
    assign(on, s, file, parse_bool);
    if (on)
        module.disabled_syscalls.erase(s.key);
    else
        module.disabled_syscalls.insert(s.key);
}

void apply_module_setting(ModuleConfig &module, const KnownModule &known, const Setting &s, IniFile &file)
{
    if (s.section == "global") {
        if (apply_tunable(module, s, file))
            return;
        if (s.key == "lifetime") {
            name_lifetime(s, file);
        } else if (s.key == "collect pid") {
            file.note_repeat(s, s.key);
            assign(module.collect_pid, s, file, parse_collect_pid);
            // Each process is counted as itself and grouped by its own name or its
            // parents' (apps.plugin's way): what upstream calls `real parent`.
            if (module.collect_pid != CollectPid::RealParent) {
                file.warn_once("key\n" + s.section + "\n" + s.key,
                               "'collect pid = " + show(module.collect_pid) + "' is not supported; using real parent");
                module.collect_pid = CollectPid::RealParent;
            }
        } else if (known.name == "socket" && s.key == "bandwidth table size") {
            // 1.37.1's per-process table of the socket module: our pid table
            file.note_repeat(s, "pid table size");
            assign(module.pid_table_size, s, file, [](std::string_view v) { return parse_integer(v, 1, 4194304); });
        } else if (known.name == "socket" && contains(known.own_global_keys, s.key)) {
            // the connection table sizes: the flows' table (net/flows_config.cpp)
        } else if (contains(known.own_global_keys, s.key)) {
            file.module_options(known.name);
        } else {
            file.unsupported_key(s);
        }
    } else if (known.name == "filesystem" && s.section == "filesystem") {
        apply_filesystem_setting(module, s, file);
    } else if (s.section == "syscalls" && known.supported && contains(known.own_sections, s.section)) {
        apply_syscall_switch(module, known, s, file);
    } else if (known.name == "socket" && s.section == "service name") {
        // net/flows_config.cpp reads it, for the network viewer
    } else if (known.name == "socket" && s.section == "network connections") {
        // the flows' and the network viewer's keys: net/flows_config.cpp reads them
        static const std::vector<std::string_view> keys = {
            "maximum number of connections", "netlog filter", "ephemeral port", "maximum dimensions",
            "resolve hostnames", "resolve hostname ips", "resolve service names", "ports", "ips", "hostnames"};
        if (!contains(keys, s.key))
            file.unsupported_key(s);
    } else if (known.name == "socket" && s.section == "http flows") {
        // net/http_config.cpp reads them
    } else if (known.name == "socket" && s.section == "dns flows") {
        // net/flows_config.cpp reads it
    } else if (contains(known.own_sections, s.section)) {
        file.module_options(known.name);
    } else {
        file.unsupported_section(s);
    }
}

void inherit_global(ModuleConfig &module, const PluginConfig &config)
{
    module.load_mode = config.load_mode;
    module.apps = config.apps;
    module.cgroups = config.cgroups;
    module.update_every = config.update_every;
    module.pid_table_size = config.pid_table_size;
    module.attach = config.attach;
    module.type_format = config.type_format;
    module.maps_per_core = config.maps_per_core;
}

// ---------------------------------------------------------------------------------------------
// Files

// The first of `names` under the user dir, then under the stock dir, that can be used.
std::optional<std::string> first_usable(const ConfigDirs &dirs, const std::vector<std::string> &names,
                                        std::string &text, const Warn &warn)
{
    for (const std::string *dir : {&dirs.user, &dirs.stock}) {
        if (dir->empty())
            continue;
        for (const auto &name : names) {
            std::string path = config_path(*dir, name);
            if (read_text_file(path, text, warn) == FileStatus::Loaded)
                return path;
        }
    }
    return std::nullopt;
}

struct FileDescriptor {
    int fd;
    ~FileDescriptor() { if (fd >= 0) close(fd); }
};

std::string error_text(int error) { return std::error_code(error, std::generic_category()).message(); }

} // namespace

std::string config_path(const std::string &dir, std::string_view name)
{
    std::string path = dir;
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    if (path != "/")
        path += '/';
    return path + std::string(name);
}

FileStatus read_text_file(const std::string &path, std::string &text, const Warn &warn, size_t max_bytes)
{
    text.clear();
    // O_NONBLOCK: opening a FIFO planted under the config name must not hang the plugin.
    FileDescriptor file{open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
    if (file.fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return FileStatus::Missing;
        warn("ebpf.plugin: " + path + ": cannot open (" + error_text(errno) + "); ignored");
        return FileStatus::Unusable;
    }
    struct stat status {};
    if (fstat(file.fd, &status) != 0 || !S_ISREG(status.st_mode)) {
        warn("ebpf.plugin: " + path + ": not a regular file; ignored");
        return FileStatus::Unusable;
    }
    char chunk[65536];
    for (;;) {
        ssize_t got = read(file.fd, chunk, sizeof chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            warn("ebpf.plugin: " + path + ": cannot read (" + error_text(errno) + "); ignored");
            return FileStatus::Unusable;
        }
        if (got == 0)
            break;
        text.append(chunk, static_cast<size_t>(got));
        if (text.size() > max_bytes) {
            warn("ebpf.plugin: " + path + ": larger than " + std::to_string(max_bytes) + " bytes; ignored");
            text.clear();
            return FileStatus::Unusable;
        }
    }
    if (text.find('\0') != std::string::npos) {
        warn("ebpf.plugin: " + path + ": contains a NUL byte, not a text file; ignored");
        text.clear();
        return FileStatus::Unusable;
    }
    return FileStatus::Loaded;
}

const ModuleConfig *PluginConfig::module(std::string_view name) const
{
    for (const auto &m : modules)
        if (m.name == name)
            return &m;
    return nullptr;
}

PluginConfig load_config(const ConfigDirs &dirs, int argv_update_every, const Warn &warn)
{
    PluginConfig config;
    config.update_every = argv_update_every;
    for (const auto &known : known_modules()) {
        ModuleConfig module{};   // {}: the fields without initializers start at zero, not garbage
        module.name = known.name;
        module.supported = known.supported;
        config.modules.push_back(std::move(module));
    }

    bool network_connections = false;
    std::string text;
    if (auto path = first_usable(dirs, {"ebpf.d.conf", "ebpf.conf"}, text, warn)) {
        for (size_t i = 0; i < config.modules.size(); ++i)
            config.modules[i].enabled = known_modules()[i].enabled_by_default;
        IniFile file(*path, warn);
        file.parse(text, [&](const Setting &s) { apply_global_setting(config, network_connections, s, file); });
    } else {
        // No file at all: run what this plugin implements.
        for (auto &module : config.modules)
            module.enabled = module.supported;
    }

    for (const auto &module : config.modules)
        if (module.enabled && !module.supported)
            warn("ebpf.plugin: module '" + module.name + "' is not implemented by this plugin; ignored");
    config.network_connections = network_connections;

    for (size_t i = 0; i < config.modules.size(); ++i) {
        const KnownModule &known = known_modules()[i];
        ModuleConfig &module = config.modules[i];
        inherit_global(module, config);
        // A module that will not run is read for completeness, but its file's
        // problems are not worth a line in the agent's log each start.
        static const Warn quiet = [](const std::string &) {};
        const Warn &module_warn = module.enabled && module.supported ? warn : quiet;
        if (auto path = first_usable(dirs, {"ebpf.d/" + std::string(known.file)}, text, module_warn)) {
            IniFile file(*path, module_warn);
            file.parse(text, [&](const Setting &s) { apply_module_setting(module, known, s, file); });
        }
    }
    return config;
}
