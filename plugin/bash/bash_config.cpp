#include "bash/bash_config.h"

#include <sstream>

#include "core/config_values.h"
#include "core/ini_text.h"
#include "records/records_config.h"

namespace {

constexpr uint64_t min_ring_bytes = 4096, max_ring_bytes = 256ull << 20;

uint64_t power_of_two_at_least(uint64_t n)
{
    uint64_t size = min_ring_bytes;
    while (size < n)
        size <<= 1;
    return size;
}

} // namespace

BashConfig parse_bash_config(const std::string &path, const std::string &text, const Warn &warn)
{
    BashConfig config;
    read_netdata_ini(text, [&](const std::string &section, const std::string &key, const std::string &value, int line) {
        auto say = [&](const std::string &what) { warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": " + what); };
        auto invalid = [&](const std::string &kept) { say("invalid value '" + value + "' for '" + key + "'; using " + kept); };
        if (section != "bash") {
            say("unknown section [" + section + "]; ignored");
            return;
        }
        if (key == "enabled") {
            if (auto on = config_values::parse_bool(value))
                config.enabled = *on;
            else
                invalid("no");
        } else if (key == "binaries") {
            std::vector<std::string> binaries;
            std::istringstream words(value);
            for (std::string word; words >> word;) {
                if (word.starts_with('/'))
                    binaries.push_back(word);
                else
                    say("'" + word + "' in 'binaries' is not an absolute path; left out");
            }
            config.binaries = std::move(binaries);
        } else if (key == "ring buffer size") {
            auto bytes = parse_byte_size(value);
            if (bytes && *bytes <= max_ring_bytes)
                config.ring_buffer_bytes = power_of_two_at_least(*bytes);
            else
                invalid("512k (4k to 256M)");
        } else if (key == "rate limit") {
            if (auto n = parse_count(value, 0, 1000000))
                config.rate_limit = *n;
            else
                invalid("100 (0 to 1000000 lines a second)");
        } else {
            say("unknown key '" + key + "' in [bash]; ignored");
        }
    });
    return config;
}

BashConfig load_bash_config(const ConfigDirs &dirs, const Warn &warn)
{
    auto file = first_config_file(dirs, "ebpf.d/bash.conf", warn);
    return file ? parse_bash_config(file->first, file->second, warn) : BashConfig{};
}
