#include "net/flows_config.h"

#include <algorithm>
#include <charconv>
#include <ini.h>

namespace {

std::string trim(std::string_view text)
{
    size_t begin = text.find_first_not_of(" \t\r");
    size_t end = text.find_last_not_of(" \t\r");
    return begin == std::string_view::npos ? std::string() : std::string(text.substr(begin, end - begin + 1));
}

std::string lower(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return text;
}

struct Reader {
    const std::string &path;
    const Warn &warn;
    FlowsConfig config;
    std::string_view rest;
    int line = 0;

    void set(const std::string &section, const std::string &key, const std::string &value)
    {
        if (section != "network connections")
            return;  // core/config.cpp speaks for the other sections
        if (key == "maximum number of connections") {
            unsigned n = 0;
            auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (error == std::errc() && end == value.data() + value.size() && n >= 16 && n <= 4194304)
                config.max_connections = n;
            else
                warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": invalid value '" + value +
                     "' for '" + key + "'; using " + std::to_string(config.max_connections) + " (16 to 4194304)");
        } else if (key == "netlog filter") {
            config.filter = value;
        } else if (key == "ephemeral port") {
            unsigned n = 0;
            auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), n);
            if (error == std::errc() && end == value.data() + value.size() && n >= 1 && n <= 65535)
                config.ephemeral_port = n;
            else
                warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": invalid value '" + value +
                     "' for '" + key + "'; using the kernel's ip_local_port_range (give 1 to 65535)");
        }
    }

    // inih as Debian builds it passes no line number: the reader counts lines.
    static char *read_line(char *buffer, int size, void *self_pointer)
    {
        auto *self = static_cast<Reader *>(self_pointer);
        if (self->rest.empty() || size < 2)
            return nullptr;
        size_t end = self->rest.find('\n');
        size_t take = std::min(end == std::string_view::npos ? self->rest.size() : end + 1, size_t(size - 1));
        self->rest.copy(buffer, take);
        buffer[take] = '\0';
        self->rest.remove_prefix(take);
        ++self->line;
        return buffer;
    }

    static int on_pair(void *self_pointer, const char *section, const char *name, const char *value)
    {
        auto *self = static_cast<Reader *>(self_pointer);
        self->set(lower(trim(section)), lower(trim(name)), trim(value ? value : ""));
        return 1;
    }
};

} // namespace

FlowsConfig parse_flows_config(const std::string &path, const std::string &text, const Warn &warn)
{
    // Netdata's format: ';' is part of a value (the filter's rule separator).
    ini_allow_multiline = false;
    ini_allow_inline_comments = false;
    ini_allow_no_value = true;
    ini_stop_on_first_error = false;
    Reader reader{path, warn, {}, text, 0};
    ini_parse_stream(&Reader::read_line, &reader, &Reader::on_pair, &reader);
    return reader.config;
}

FlowsConfig load_flows_config(const ConfigDirs &dirs, const Warn &warn)
{
    for (const std::string *dir : {&dirs.user, &dirs.stock}) {
        if (dir->empty())
            continue;
        std::string path = config_path(*dir, "ebpf.d/network.conf");
        std::string text;
        if (read_text_file(path, text, warn) == FileStatus::Loaded)
            return parse_flows_config(path, text, warn);
    }
    return {};
}
