#include "traces/traces_config.h"

#include <sstream>

#include "core/ini_text.h"
#include "records/records_config.h"

namespace {

constexpr const char *names[TRACE_KINDS] = {"exec", "signal", "bind", "tcp", "vfs", "malloc"};

// The ring holds whole pages, a power of 2 of them.
bool valid_ring_size(uint64_t bytes)
{
    return bytes >= 4096 && bytes <= (1ULL << 30) && (bytes & (bytes - 1)) == 0;
}

} // namespace

const char *trace_name(unsigned kind)
{
    return kind < TRACE_KINDS ? names[kind] : "unknown";
}

unsigned trace_kind_of(const std::string &name)
{
    std::string bare = name.starts_with("trace_") ? name.substr(6) : name;
    for (unsigned kind = 0; kind < TRACE_KINDS; ++kind)
        if (bare == names[kind])
            return kind;
    return TRACE_KINDS;
}

bool TracesConfig::any_enabled() const
{
    for (const TraceSettings &trace : traces)
        if (trace.enabled)
            return true;
    return false;
}

TracesConfig parse_traces_config(const std::string &path, const std::string &text, const Warn &warn)
{
    TracesConfig config;
    config.traces[TRACE_MALLOC].records_per_second = 100;
    read_netdata_ini(text, [&](const std::string &section, const std::string &key, const std::string &value, int line) {
        auto invalid = [&](const std::string &kept) {
            warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": invalid value '" + value + "' for '" + key +
                 "'; using " + kept);
        };
        if (section == "traces") {
            if (key == "ring buffer size") {
                auto bytes = parse_byte_size(value);
                if (bytes && valid_ring_size(*bytes))
                    config.ring_bytes = *bytes;
                else
                    invalid(std::to_string(config.ring_bytes) + " (a power of 2 from 4k to 1G)");
            } else if (key == "cgroup") {
                config.cgroup = value;
            } else {
                warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": unknown key '" + key + "' ignored");
            }
            return;
        }
        unsigned kind = trace_kind_of(section);
        if (!section.starts_with("trace_") || kind == TRACE_KINDS)
            return;
        TraceSettings &trace = config.traces[kind];
        if (key == "enabled") {
            if (value == "yes" || value == "no")
                trace.enabled = value == "yes";
            else
                invalid(trace.enabled ? "yes" : "no");
        } else if (key == "records per second") {
            if (auto n = parse_count(value, 0, 10000000))
                trace.records_per_second = *n;
            else
                invalid(std::to_string(trace.records_per_second) + " (0 to 10000000)");
        } else if (key == "pids" && kind == TRACE_MALLOC) {
            std::istringstream words(value);
            std::string word;
            while (words >> word) {
                if (auto pid = parse_count(word, 1, 4194304))
                    config.malloc_pids.push_back(*pid);
                else
                    invalid("the other pids");
            }
        } else {
            warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": unknown key '" + key + "' ignored");
        }
    });
    return config;
}

TracesConfig load_traces_config(const ConfigDirs &dirs, const Warn &warn)
{
    auto file = first_config_file(dirs, "ebpf.d/traces.conf", warn);
    if (file)
        return parse_traces_config(file->first, file->second, warn);
    return parse_traces_config("", "", warn);
}
