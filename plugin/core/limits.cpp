#include "core/limits.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace {

std::string_view trim(std::string_view text)
{
    const char *blanks = " \t\r\f\v";
    size_t first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos)
        return {};
    return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

std::string lower(std::string_view text)
{
    std::string out(text);
    for (char &c : out)
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c + 32);
    return out;
}

// A leading decimal number and the rest of the text after it.
std::optional<double> leading_number(std::string_view text, std::string_view &rest)
{
    double number = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number, std::chars_format::fixed);
    if (error != std::errc() || !std::isfinite(number))
        return std::nullopt;
    rest = trim(std::string_view(end, text.data() + text.size() - end));
    return number;
}

bool means_no_limit(std::string_view value)
{
    std::string v = lower(trim(value));
    return v == "no" || v == "none" || v == "0";
}

std::string show_cores(double cores)
{
    char text[64];
    snprintf(text, sizeof(text), "%.3g cores", cores);
    return text;
}

} // namespace

LimitKey limit_key(std::string_view key)
{
    if (key == "cpu limit")
        return LimitKey::Cpu;
    if (key == "cpu limit window")
        return LimitKey::CpuWindow;
    if (key == "memory limit")
        return LimitKey::Memory;
    if (key == "kernel memory limit")
        return LimitKey::KernelMemory;
    if (key == "record stream limit")
        return LimitKey::RecordStream;
    return LimitKey::None;
}

std::optional<uint64_t> parse_size(std::string_view value)
{
    std::string_view unit;
    auto number = leading_number(trim(value), unit);
    if (!number || *number <= 0)
        return std::nullopt;
    static const std::pair<std::string_view, int> units[] = {
        {"", 20}, {"b", 0}, {"k", 10}, {"kb", 10}, {"kib", 10}, {"m", 20}, {"mb", 20},
        {"mib", 20}, {"g", 30}, {"gb", 30}, {"gib", 30}, {"t", 40}, {"tb", 40}, {"tib", 40}};
    std::string u = lower(unit);
    for (const auto &[name, shift] : units) {
        if (u != name)
            continue;
        double bytes = std::ceil(std::ldexp(*number, shift));
        if (bytes > std::ldexp(1.0, 50))
            return std::nullopt;  // a PiB of RSS is a typo, not a limit
        return static_cast<uint64_t>(bytes);
    }
    return std::nullopt;
}

std::optional<double> parse_cores(std::string_view value)
{
    std::string_view rest;
    auto number = leading_number(trim(value), rest);
    if (!number)
        return std::nullopt;
    double cores = *number;
    if (rest == "%")
        cores /= 100;
    else if (!rest.empty())
        return std::nullopt;
    if (!(cores > 0) || cores > 4096)
        return std::nullopt;
    return cores;
}

std::string show_size(uint64_t bytes)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    size_t unit = 0;
    while (value >= 1024 && unit + 1 < std::size(units)) {
        value /= 1024;
        ++unit;
    }
    char text[64];
    snprintf(text, sizeof(text), unit ? "%.1f %s" : "%.0f %s", value, units[unit]);
    return text;
}

bool set_limit(ResourceLimits &limits, LimitKey key, std::string_view value, std::string &kept)
{
    auto no_limit_or = [&](auto &field, auto parsed, auto shown) {
        if (means_no_limit(value)) {
            field.reset();
            return true;
        }
        if (parsed) {
            field = *parsed;
            return true;
        }
        kept = field ? shown(*field) : "no limit";
        return false;
    };
    switch (key) {
    case LimitKey::Cpu:
        return no_limit_or(limits.cpu_cores, parse_cores(value), show_cores);
    case LimitKey::Memory:
        return no_limit_or(limits.memory_bytes, parse_size(value), show_size);
    case LimitKey::KernelMemory:
        return no_limit_or(limits.kernel_memory_bytes, parse_size(value), show_size);
    case LimitKey::CpuWindow: {
        int seconds = 0;
        std::string_view v = trim(value);
        auto [end, error] = std::from_chars(v.data(), v.data() + v.size(), seconds);
        if (v.empty() || error != std::errc() || end != v.data() + v.size() || seconds < 1 || seconds > 86400) {
            kept = std::to_string(limits.cpu_window_seconds) + " s";
            return false;
        }
        limits.cpu_window_seconds = seconds;
        return true;
    }
    case LimitKey::RecordStream:
    case LimitKey::None:
        break;
    }
    kept = "nothing";
    return false;
}

const ResourceUsage *LimitGuard::window_start() const
{
    return samples_.empty() ? nullptr : &samples_.front();
}

std::string LimitGuard::over_limit() const
{
    const ResourceUsage &now = samples_.back();
    char text[256];
    if (limits_.memory_bytes && now.rss_bytes > *limits_.memory_bytes) {
        snprintf(text, sizeof(text), "memory limit %s exceeded (resident %s)", show_size(*limits_.memory_bytes).c_str(),
                 show_size(now.rss_bytes).c_str());
        return text;
    }
    if (limits_.kernel_memory_bytes && now.kernel_memory_bytes > *limits_.kernel_memory_bytes) {
        snprintf(text, sizeof(text), "kernel memory limit %s exceeded (its maps lock %s)",
                 show_size(*limits_.kernel_memory_bytes).c_str(), show_size(now.kernel_memory_bytes).c_str());
        return text;
    }
    const ResourceUsage &start = *window_start();
    double span = now.now_seconds - start.now_seconds;
    // Cycles land on update_every boundaries give or take scheduling delays.
    if (limits_.cpu_cores && span > 0 && span >= limits_.cpu_window_seconds * 0.95) {
        double cores = (now.cpu_seconds - start.cpu_seconds) / span;
        if (cores > *limits_.cpu_cores) {
            snprintf(text, sizeof(text), "cpu limit %s exceeded (%s over the last %.0f s)",
                     show_cores(*limits_.cpu_cores).c_str(), show_cores(cores).c_str(), span);
            return text;
        }
    }
    return "";
}

LimitAction LimitGuard::check(const ResourceUsage &usage)
{
    if (!limits_.any())
        return {};
    // At most about 32 samples a window: a sample closer than window/32 to the
    // one before the newest replaces the newest.
    double spacing = limits_.cpu_window_seconds / 32.0;
    if (samples_.size() >= 2 && usage.now_seconds - samples_[samples_.size() - 2].now_seconds < spacing)
        samples_.back() = usage;
    else
        samples_.push_back(usage);
    while (samples_.size() >= 2 && usage.now_seconds - samples_[1].now_seconds >= limits_.cpu_window_seconds)
        samples_.pop_front();
    std::string reason = over_limit();
    if (reason.empty())
        return {};
    if (usage.modules.size() <= 1) {
        std::string last = usage.modules.empty() ? "no module" : "'" + usage.modules[0].module + "'";
        return {LimitAction::Kind::Exit, "",
                reason + " and shedding cannot bring it under: " + last + " is the last module running; exiting"};
    }

    // The most expensive module over the window (or since it was loaded, when
    // the window has a single sample): the first one of equals.
    const ResourceUsage &start = *window_start();
    const ModuleCost *costliest = nullptr;
    uint64_t most = 0;
    for (const ModuleCost &module : usage.modules) {
        uint64_t before = 0;
        if (&start != &samples_.back())
            for (const ModuleCost &old : start.modules)
                if (old.module == module.module)
                    before = old.bpf_time_ns;
        uint64_t spent = module.bpf_time_ns - std::min(before, module.bpf_time_ns);
        if (!costliest || spent > most) {
            costliest = &module;
            most = spent;
        }
    }
    char spent[96];
    double span = usage.now_seconds - start.now_seconds;
    if (span > 0)
        snprintf(spent, sizeof(spent), "%.1f ms of BPF time over the last %.0f s", most / 1e6, span);
    else
        snprintf(spent, sizeof(spent), "%.1f ms of BPF time since it was loaded", most / 1e6);
    LimitAction action{LimitAction::Kind::Shed, costliest->module,
                       reason + ": shedding module '" + costliest->module + "', the most expensive (" + spent +
                           "); its programs are detached"};
    samples_.clear();  // what follows is measured without it
    return action;
}
