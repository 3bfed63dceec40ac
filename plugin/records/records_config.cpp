#include "records/records_config.h"

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

std::optional<bool> parse_yes_no(const std::string &value)
{
    std::string v = lower(value);
    if (v == "yes" || v == "true" || v == "on")
        return true;
    if (v == "no" || v == "false" || v == "off")
        return false;
    return std::nullopt;
}

std::optional<unsigned> parse_count(const std::string &value, unsigned min, unsigned max)
{
    unsigned n = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (error != std::errc() || end != value.data() + value.size() || n < min || n > max)
        return std::nullopt;
    return n;
}

struct Reader {
    const std::string &path;
    const Warn &warn;
    RecordsConfig config;

    void invalid(int line, const std::string &key, const std::string &value, const std::string &kept)
    {
        warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": invalid value '" + value + "' for '" + key +
             "'; using " + kept);
    }

    void set(const std::string &section, const std::string &key, const std::string &value, int line)
    {
        if (section != "records") {
            warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": section [" + section +
                 "] is not supported; ignored");
            return;
        }
        if (key == "journal") {
            if (auto v = parse_yes_no(value))
                config.journal = *v;
            else
                invalid(line, key, value, config.journal ? "yes" : "no");
        } else if (key == "file") {
            if (value.empty() || value[0] == '/')
                config.file = value;
            else
                invalid(line, key, value, "no file (give an absolute path)");
        } else if (key == "file max size") {
            if (auto v = parse_byte_size(value))
                config.file_max_bytes = *v;
            else
                invalid(line, key, value, std::to_string(config.file_max_bytes));
        } else if (key == "file rotations kept") {
            if (auto v = parse_count(value, 1, 1000))
                config.file_keep = *v;
            else
                invalid(line, key, value, std::to_string(config.file_keep) + " (1 to 1000)");
        } else if (key == "file format") {
            if (lower(value) == "json")
                config.file_format = FileFormat::Json;
            else if (lower(value) == "influx")
                config.file_format = FileFormat::LineProtocol;
            else
                invalid(line, key, value, config.file_format == FileFormat::Json ? "json" : "influx");
        } else if (key == "queue size") {
            if (auto v = parse_count(value, 1, 1000000))
                config.queue = *v;
            else
                invalid(line, key, value, std::to_string(config.queue) + " (1 to 1000000)");
        } else if (key == "hostname") {
            config.hostname = value;
        } else {
            warn("ebpf.plugin: " + path + ":" + std::to_string(line) + ": option '" + key +
                 "' in [records] is not supported; ignored");
        }
    }

    // inih as Debian builds it passes no line number: the reader counts lines.
    std::string_view rest;
    int line = 0;

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
        self->set(lower(trim(section)), lower(trim(name)), trim(value ? value : ""), self->line);
        return 1;
    }
};

} // namespace

std::optional<uint64_t> parse_byte_size(std::string_view text)
{
    uint64_t n = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (error != std::errc() || n == 0)
        return std::nullopt;
    std::string suffix = lower(trim(std::string_view(end, text.data() + text.size() - end)));
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
    // Netdata's format, as config.cpp reads it: indented keys, ';' kept in values.
    ini_allow_multiline = false;
    ini_allow_inline_comments = false;
    ini_allow_no_value = true;
    ini_stop_on_first_error = false;
    Reader reader{path, warn, {}, text, 0};
    ini_parse_stream(&Reader::read_line, &reader, &Reader::on_pair, &reader);
    return reader.config;
}

RecordsConfig load_records_config(const ConfigDirs &dirs, const Warn &warn)
{
    for (const std::string *dir : {&dirs.user, &dirs.stock}) {
        if (dir->empty())
            continue;
        std::string path = config_path(*dir, "ebpf.d/records.conf");
        std::string text;
        if (read_text_file(path, text, warn) == FileStatus::Loaded)
            return parse_records_config(path, text, warn);
    }
    return {};
}
