#include "net/http_config.h"

#include "core/config_values.h"
#include "core/ini_text.h"

HttpFlowsConfig parse_http_flows_config(const std::string &path, const std::string &text, const Warn &warn)
{
    HttpFlowsConfig config;
    read_netdata_ini(text, [&](const std::string &section, const std::string &key, const std::string &value, int line) {
        if (section != "http flows")
            return;
        auto invalid = [&](const std::string &kept) {
            warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": invalid value '" + value + "' for '" + key +
                 "'; using " + kept);
        };
        if (key == "enabled") {
            if (auto on = config_values::parse_bool(value))
                config.enabled = *on;
            else
                invalid("no");
        } else if (key == "path length") {
            if (auto n = parse_count(value, 1, HTTP_CAPTURE_BYTES))
                config.path_length = *n;
            else
                invalid(std::to_string(config.path_length) + " (1 to " + std::to_string(HTTP_CAPTURE_BYTES) + ")");
        } else if (key == "maximum connections") {
            if (auto n = parse_count(value, 16, 1048576))
                config.max_connections = *n;
            else
                invalid(std::to_string(config.max_connections) + " (16 to 1048576)");
        } else {
            warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": unknown key '" + key +
                 "' in [http flows]; ignored");
        }
    });
    return config;
}

HttpFlowsConfig load_http_flows_config(const ConfigDirs &dirs, const Warn &warn)
{
    auto file = first_config_file(dirs, "ebpf.d/network.conf", warn);
    return file ? parse_http_flows_config(file->first, file->second, warn) : HttpFlowsConfig{};
}
