#include "records/records_config.h"

#include "core/ini_text.h"

#include <charconv>

namespace {

std::optional<bool> parse_yes_no(const std::string &value)
{
    std::string v = lower_case(value);
    if (v == "yes" || v == "true" || v == "on")
        return true;
    if (v == "no" || v == "false" || v == "off")
        return false;
    return std::nullopt;
}

} // namespace

std::optional<uint64_t> parse_byte_size(std::string_view text)
{
    uint64_t n = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (error != std::errc() || n == 0)
        return std::nullopt;
    std::string suffix = lower_case(trimmed(std::string_view(end, text.data() + text.size() - end)));
    unsigned shift = suffix.empty() || suffix == "b" ? 0
                     : suffix == "k" || suffix == "kib" ? 10
                     : suffix == "m" || suffix == "mib" ? 20
                     : suffix == "g" || suffix == "gib" ? 30
                                                        : 99;
    if (shift == 99 || n > (UINT64_MAX >> shift))
        return std::nullopt;
    return n << shift;
}

RecordsConfig parse_records_config(const std::string &path, const std::string &text, const Warn &warn)
{
    RecordsConfig config;
    read_netdata_ini(text, [&](const std::string &section, const std::string &key, const std::string &value, int line) {
        auto invalid = [&](const std::string &kept) {
            warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": invalid value '" + value + "' for '" + key +
                 "'; using " + kept);
        };
        if (section != "records") {
            warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": section [" + section +
                 "] is not supported; ignored");
            return;
        }
        if (key == "journal") {
            if (auto v = parse_yes_no(value))
                config.journal = *v;
            else
                invalid(config.journal ? "yes" : "no");
        } else if (key == "file") {
            if (value.empty() || value[0] == '/')
                config.file = value;
            else
                invalid("no file (give an absolute path)");
        } else if (key == "file max size") {
            if (auto v = parse_byte_size(value))
                config.file_max_bytes = *v;
            else
                invalid(std::to_string(config.file_max_bytes));
        } else if (key == "file rotations kept") {
            if (auto v = parse_count(value, 1, 1000))
                config.file_keep = *v;
            else
                invalid(std::to_string(config.file_keep) + " (1 to 1000)");
        } else if (key == "file format") {
            if (lower_case(value) == "json")
                config.file_format = FileFormat::Json;
            else if (lower_case(value) == "influx")
                config.file_format = FileFormat::LineProtocol;
            else
                invalid(config.file_format == FileFormat::Json ? "json" : "influx");
        } else if (key == "queue size") {
            if (auto v = parse_count(value, 1, 1000000))
                config.queue = *v;
            else
                invalid(std::to_string(config.queue) + " (1 to 1000000)");
        } else if (key == "hostname") {
            config.hostname = value;
        } else {
            warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": option '" + key +
                 "' in [records] is not supported; ignored");
        }
    });
    return config;
}

RecordsConfig load_records_config(const ConfigDirs &dirs, const Warn &warn)
{
    auto file = first_config_file(dirs, "ebpf.d/records.conf", warn);
    return file ? parse_records_config(file->first, file->second, warn) : RecordsConfig{};
}
