#include "core/ini_text.h"

#include <algorithm>
#include <charconv>
#include <ini.h>

std::string trimmed(std::string_view text)
{
    size_t begin = text.find_first_not_of(" \t\r");
    size_t end = text.find_last_not_of(" \t\r");
    return begin == std::string_view::npos ? std::string() : std::string(text.substr(begin, end - begin + 1));
}

namespace {

struct Reader {
    std::string_view rest;
    const IniSetting &on_setting;
    int line = 0;

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
        self->on_setting(lower_case(trimmed(section)), lower_case(trimmed(name)), trimmed(value ? value : ""), self->line);
        return 1;
    }
};

} // namespace

std::string lower_case(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return text;
}

void read_netdata_ini(std::string_view text, const IniSetting &on_setting)
{
    ini_allow_multiline = false;
    ini_allow_inline_comments = false;
    ini_allow_no_value = true;
    ini_stop_on_first_error = false;
    Reader reader{text, on_setting};
    ini_parse_stream(&Reader::read_line, &reader, &Reader::on_pair, &reader);
}

std::optional<std::pair<std::string, std::string>> first_config_file(const ConfigDirs &dirs, std::string_view name,
                                                                    const Warn &warn)
{
    for (const std::string *dir : {&dirs.user, &dirs.stock}) {
        if (dir->empty())
            continue;
        std::string path = config_path(*dir, name);
        std::string text;
        if (read_text_file(path, text, warn) == FileStatus::Loaded)
            return std::make_pair(path, text);
    }
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
