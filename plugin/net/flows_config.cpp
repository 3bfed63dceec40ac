#include "net/flows_config.h"

#include "core/config_values.h"
#include "core/ini_text.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

FlowsConfig parse_flows_config(const std::string &path, const std::string &text, const Warn &warn,
                               const ServiceNames &services)
{
    FlowsConfig config;
    config.viewer.services = services;
    parse_viewer_ips(config.viewer, kDefaultViewerIps, "built-in default", warn);
    bool max_given = false;
    unsigned long table_sizes = 0;  // 1.37.1's per-kind connection tables: one table here
    read_netdata_ini(text, [&](const std::string &section, const std::string &key, const std::string &value, int line) {
        std::string where = path + ":" + std::to_string(line);
        auto invalid = [&](const std::string &kept) {
            warn("ebpf.plugin: " + where + ": invalid value '" + value + "' for '" + key + "'; using " + kept);
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
        if (section == "global") {
            if (key == "ipv4 connection table size" || key == "ipv6 connection table size" ||
                key == "udp connection table size" || key == "socket monitoring table size") {
                if (auto n = parse_count(value, 1, 4194304))
                    table_sizes += *n;
                else
                    invalid("nothing from it (1 to 4194304)");
            }
            return;  // core/config.cpp speaks for the other keys
        }
        if (apply_viewer_setting(config.viewer, section, key, value, where, warn) || section != "network connections")
            return;
        if (key == "maximum number of connections") {
            if (auto n = parse_count(value, 16, 4194304)) {
                config.max_connections = *n;
                max_given = true;
            } else {
                invalid(std::to_string(config.max_connections) + " (16 to 4194304)");
            }
        } else if (key == "netlog filter") {
            config.filter = value;
        } else if (key == "ephemeral port") {
            if (auto n = parse_count(value, 1, 65535))
                config.ephemeral_port = *n;
            else
                invalid("the kernel's ip_local_port_range (give 1 to 65535)");
        }
    });
    if (!max_given && table_sizes)
        config.max_connections = static_cast<unsigned>(std::clamp(table_sizes, 16ul, 4194304ul));
    return config;
}

FlowsConfig load_flows_config(const ConfigDirs &dirs, const Warn &warn)
{
    // read as the caller, like the configuration: world-readable on every system
    std::ifstream file("/etc/services");
    std::stringstream text;
    text << file.rdbuf();
    ServiceNames services = ServiceNames::parse(text.str());
    auto found = first_config_file(dirs, "ebpf.d/network.conf", warn);
    if (found)
        return parse_flows_config(found->first, found->second, warn, services);
    return parse_flows_config("", "", warn, services);
}
