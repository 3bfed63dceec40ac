// How ebpf.d.conf values are read, and shown back in warnings (core/config_values.h).
#include "core/config_values.h"

#include <algorithm>
#include <charconv>

namespace config_values {

namespace {

// The words each enum option accepts, in one table per option: parsing and
// the "using <default>" of a warning read the same names.
template <class E>
struct Named {
    std::string_view name;
    E value;
};
constexpr Named<LoadMode> load_modes[] = {{"entry", LoadMode::Entry}, {"return", LoadMode::Return}};
constexpr Named<TypeFormat> type_formats[] = {
    {"auto", TypeFormat::Auto}, {"legacy", TypeFormat::Legacy}, {"co-re", TypeFormat::CoRe}};
constexpr Named<AttachPath> attach_paths[] = {{"auto", AttachPath::Auto},
                                              {"trampoline", AttachPath::Trampoline},
                                              {"probe", AttachPath::Kprobe},
                                              {"tracepoint", AttachPath::Tracepoint}};
constexpr Named<CollectPid> collect_pids[] = {
    {"real parent", CollectPid::RealParent}, {"parent", CollectPid::Parent}, {"all", CollectPid::All}};

template <class E, size_t N>
std::optional<E> parse_named(const Named<E> (&names)[N], std::string_view value)
{
    std::string v = lower(value);
    for (const Named<E> &named : names)
        if (v == named.name)
            return named.value;
    return std::nullopt;
}

template <class E, size_t N>
std::string show_named(const Named<E> (&names)[N], E value)
{
    for (const Named<E> &named : names)
        if (named.value == value)
            return std::string(named.name);
    return std::string(names[0].name);
}

} // namespace

std::string lower(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
    return out;
}

std::string_view trim(std::string_view text)
{
    const char *blanks = " \t\r\f\v";
    size_t first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos)
        return {};
    return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

// For quoting file content in a warning: control bytes would break the one-line message.
std::string printable(std::string_view text)
{
    std::string out(text);
    std::replace_if(out.begin(), out.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }, '?');
    return out;
}

std::optional<bool> parse_bool(std::string_view value)
{
    std::string v = lower(value);
    if (v == "yes" || v == "true" || v == "on" || v == "1")
        return true;
    if (v == "no" || v == "false" || v == "off" || v == "0")
        return false;
    return std::nullopt;
}

std::optional<long long> parse_integer(std::string_view value, long long min, long long max)
{
    long long number = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (value.empty() || error != std::errc() || end != value.data() + value.size() || number < min || number > max)
        return std::nullopt;
    return number;
}

std::optional<LoadMode> parse_load_mode(std::string_view value) { return parse_named(load_modes, value); }
std::optional<TypeFormat> parse_type_format(std::string_view value) { return parse_named(type_formats, value); }
std::optional<AttachPath> parse_attach(std::string_view value) { return parse_named(attach_paths, value); }
std::optional<CollectPid> parse_collect_pid(std::string_view value) { return parse_named(collect_pids, value); }

// Only stored: the BTF loader appends "/vmlinux". Absolute, so it never depends on the working directory.
std::optional<std::string> parse_btf_path(std::string_view value)
{
    if (value.empty() || value.front() != '/')
        return std::nullopt;
    while (value.size() > 1 && value.back() == '/')
        value.remove_suffix(1);
    return std::string(value);
}

std::string show(bool value) { return value ? "yes" : "no"; }
std::string show(int value) { return std::to_string(value); }
std::string show(unsigned value) { return std::to_string(value); }
std::string show(const std::string &value) { return value; }
std::string show(LoadMode value) { return show_named(load_modes, value); }
std::string show(TypeFormat value) { return show_named(type_formats, value); }
std::string show(AttachPath value) { return show_named(attach_paths, value); }
std::string show(CollectPid value) { return show_named(collect_pids, value); }

} // namespace config_values
