#include "net/flows_config.h"

#include "core/ini_text.h"

FlowsConfig parse_flows_config(const std::string &path, const std::string &text, const Warn &warn)
{
    FlowsConfig config;
    read_netdata_ini(text, [&](const std::string &section, const std::string &key, const std::string &value, int line) {
        if (section != "network connections")
            return;  // core/config.cpp speaks for the other sections
        auto invalid = [&](const std::string &kept) {
            warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": invalid value '" + value + "' for '" + key +
                 "'; using " + kept);
        };
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
