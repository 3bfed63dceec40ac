#include "net/flows_config.h"

#include "core/config_values.h"
#include "core/ini_text.h"

#include <cstdlib>

FlowsConfig parse_flows_config(const std::string &path, const std::string &text, const Warn &warn)
{
    FlowsConfig config;
    read_netdata_ini(text, [&](const std::string &section, const std::string &key, const std::string &value, int line) {
        if (section != "network connections" && section != "dns flows")
            return;  // core/config.cpp speaks for the other sections
        auto invalid = [&](const std::string &kept) {
            warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": invalid value '" + value + "' for '" + key +
                 "'; using " + kept);
        };
        if (section == "dns flows") {
            if (key == "enabled") {
                if (auto yes = config_values::parse_bool(value))
                    config.dns_enabled = *yes;
                else
                    invalid("no (yes or no)");
            } else if (key == "timeout") {
                char *end = nullptr;
                double seconds = strtod(value.c_str(), &end);
                if (end != value.c_str() && *end == 0 && seconds >= 0.1 && seconds <= 300)
                    config.dns_timeout_ms = static_cast<unsigned>(seconds * 1000);
                else
                    invalid(std::to_string(config.dns_timeout_ms / 1000) + " (0.1 to 300 seconds)");
            } else if (key == "ring buffer size") {
                auto n = parse_count(value, 64, 65536);
                if (n && (*n & (*n - 1)) == 0)
                    config.dns_ring_kib = *n;
                else
                    invalid(std::to_string(config.dns_ring_kib) + " (KiB: a power of two, 64 to 65536)");
            } else {
                warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": unknown key '" + key +
                     "' in [dns flows] (enabled, timeout, ring buffer size); ignored");
            }
            return;
        }
        if (key == "maximum number of connections") {
            if (auto n = parse_count(value, 16, 4194304))
                config.max_connections = *n;
            else
                invalid(std::to_string(config.max_connections) + " (16 to 4194304)");
        } else if (key == "netlog filter") {
            config.filter = value;
        } else if (key == "ephemeral port") {
            if (auto n = parse_count(value, 1, 65535))
                config.ephemeral_port = *n;
            else
                invalid("the kernel's ip_local_port_range (give 1 to 65535)");
        }
    });
    return config;
}

FlowsConfig load_flows_config(const ConfigDirs &dirs, const Warn &warn)
{
    auto file = first_config_file(dirs, "ebpf.d/network.conf", warn);
    return file ? parse_flows_config(file->first, file->second, warn) : FlowsConfig{};
}
