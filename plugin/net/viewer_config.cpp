#include "net/viewer_config.h"

#include <arpa/inet.h>
#include <cctype>
#include <cstring>
#include <sstream>

#include "core/config_values.h"
#include "core/ini_text.h"

namespace {

std::vector<std::string> words(std::string_view text)
{
    std::vector<std::string> out;
    std::istringstream in{std::string(text)};
    for (std::string word; in >> word;)
        out.push_back(word);
    return out;
}

char folded(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// An address in our layout; nullopt when `text` is none.
std::optional<AddressSpan> single_address(const std::string &text)
{
    AddressSpan span{};
    if (inet_pton(AF_INET, text.c_str(), span.first.data()) == 1) {
        span.ipv6 = false;
    } else if (inet_pton(AF_INET6, text.c_str(), span.first.data()) == 1) {
        span.ipv6 = true;
    } else {
        return std::nullopt;
    }
    span.last = span.first;
    return span;
}

std::optional<AddressSpan> address_span(const std::string &word)
{
    if (word == "*")
        return std::nullopt;  // the caller adds both families
    if (size_t slash = word.find('/'); slash != std::string::npos) {
        auto span = single_address(word.substr(0, slash));
        if (!span)
            return std::nullopt;
        unsigned bits = span->ipv6 ? 128 : 32;
        auto prefix = parse_count(word.substr(slash + 1), 0, bits);
        if (!prefix)
            return std::nullopt;
        for (unsigned bit = *prefix; bit < bits; ++bit) {
            uint8_t mask = static_cast<uint8_t>(0x80u >> (bit % 8));
            span->first[bit / 8] &= static_cast<uint8_t>(~mask);
            span->last[bit / 8] |= mask;
        }
        return span;
    }
    if (size_t dash = word.find('-'); dash != std::string::npos) {
        auto first = single_address(word.substr(0, dash)), last = single_address(word.substr(dash + 1));
        size_t size = first && first->ipv6 ? 16 : 4;
        if (!first || !last || first->ipv6 != last->ipv6 || memcmp(first->first.data(), last->first.data(), size) > 0)
            return std::nullopt;
        first->last = last->first;
        return first;
    }
    return single_address(word);
}

std::optional<PortSpan> port_span(const std::string &word, const ServiceNames &services)
{
    if (word == "*")
        return PortSpan{1, 65535};
    if (std::isalpha(static_cast<unsigned char>(word[0]))) {
        auto port = services.port_of(word);
        return port ? std::optional<PortSpan>(PortSpan{*port, *port}) : std::nullopt;
    }
    size_t separator = word.find_first_of("-:");
    auto first = parse_count(word.substr(0, separator), 1, 65535);
    auto last = separator == std::string::npos ? first : parse_count(word.substr(separator + 1), 1, 65535);
    if (!first || !last || *first > *last)
        return std::nullopt;
    return PortSpan{static_cast<uint16_t>(*first), static_cast<uint16_t>(*last)};
}

void warn_word(const Warn &warn, const std::string &where, const std::string &key, const std::string &word,
               const std::string &expected)
{
    warn("ebpf.plugin: " + where + ": '" + word + "' in '" + key + "' is not " + expected + "; left out");
}

} // namespace

bool glob_matches(std::string_view pattern, std::string_view text)
{
    size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            resume = t;
        } else if (p < pattern.size() && folded(pattern[p]) == folded(text[t])) {
            ++p;
            ++t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*')
        ++p;
    return p == pattern.size();
}

SimplePattern SimplePattern::parse(std::string_view text)
{
    SimplePattern pattern;
    for (const std::string &word : words(text)) {
        if (word[0] == '!') {
            if (word.size() > 1)
                pattern.exclude_.push_back(word.substr(1));
        } else {
            pattern.include_.push_back(word);
        }
    }
    return pattern;
}

bool SimplePattern::matches(std::string_view text) const
{
    for (const std::string &word : exclude_)
        if (glob_matches(word, text))
            return false;
    for (const std::string &word : include_)
        if (glob_matches(word, text))
            return true;
    return false;
}

ServiceNames ServiceNames::parse(std::string_view text)
{
    ServiceNames services;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        line = line.substr(0, line.find('#'));
        std::vector<std::string> fields = words(line);
        if (fields.size() < 2)
            continue;
        size_t slash = fields[1].find('/');
        auto port = parse_count(fields[1].substr(0, slash), 1, 65535);
        if (!port || slash == std::string::npos)
            continue;
        std::string protocol = lower_case(fields[1].substr(slash + 1));
        services.names_.try_emplace({static_cast<uint16_t>(*port), protocol}, fields[0]);
        for (size_t i = 0; i < fields.size(); ++i)
            if (i != 1)
                services.ports_.try_emplace(fields[i], static_cast<uint16_t>(*port));
    }
    return services;
}

std::optional<uint16_t> ServiceNames::port_of(std::string_view name) const
{
    auto found = ports_.find(std::string(name));
    return found == ports_.end() ? std::nullopt : std::optional<uint16_t>(found->second);
}

std::string ServiceNames::name_of(uint16_t port, std::string_view protocol) const
{
    auto found = names_.find({port, std::string(protocol)});
    return found == names_.end() ? "" : found->second;
}

bool NetworkViewerConfig::port_allowed(uint16_t port) const
{
    if (ports.empty() && excluded_ports.empty())
        return true;
    for (const PortSpan &span : excluded_ports)
        if (span.first <= port && port <= span.last)
            return false;
    for (const PortSpan &span : ports)
        if (span.first <= port && port <= span.last)
            return true;
    return false;
}

bool NetworkViewerConfig::address_allowed(bool ipv6, const uint8_t address[16]) const
{
    if (ips.empty() && excluded_ips.empty())
        return true;
    size_t size = ipv6 ? 16 : 4;
    auto inside = [&](const AddressSpan &span) {
        return span.ipv6 == ipv6 && memcmp(span.first.data(), address, size) <= 0 &&
               memcmp(address, span.last.data(), size) <= 0;
    };
    for (const AddressSpan &span : excluded_ips)
        if (inside(span))
            return false;
    for (const AddressSpan &span : ips)
        if (inside(span))
            return true;
    return false;
}

std::string NetworkViewerConfig::service_name(uint16_t port, bool udp) const
{
    if (auto named = service_names.find(port); named != service_names.end())
        return named->second;
    if (resolve_service_names) {
        std::string name = services.name_of(port, udp ? "udp" : "tcp");
        if (!name.empty())
            return name;
    }
    return std::to_string(port);
}

void parse_viewer_ports(NetworkViewerConfig &config, std::string_view text, const std::string &where,
                        const Warn &warn)
{
    config.ports.clear();
    config.excluded_ports.clear();
    for (const std::string &word : words(text)) {
        bool excluded = word[0] == '!';
        std::string rule = excluded ? word.substr(1) : word;
        auto span = rule.empty() ? std::nullopt : port_span(rule, config.services);
        if (span)
            (excluded ? config.excluded_ports : config.ports).push_back(*span);
        else
            warn_word(warn, where, "ports", word, "a port, a range (first-last) or a service of /etc/services");
    }
    config.ports_given = !config.ports.empty() || !config.excluded_ports.empty();
}

void parse_viewer_ips(NetworkViewerConfig &config, std::string_view text, const std::string &where,
                      const Warn &warn)
{
    config.ips.clear();
    config.excluded_ips.clear();
    for (const std::string &word : words(text)) {
        bool excluded = word[0] == '!';
        std::string rule = excluded ? word.substr(1) : word;
        auto &into = excluded ? config.excluded_ips : config.ips;
        if (rule == "*") {
            into.push_back(*address_span("0.0.0.0/0"));
            into.push_back(*address_span("::/0"));
        } else if (auto span = address_span(rule)) {
            into.push_back(*span);
        } else {
            warn_word(warn, where, "ips", word, "an address, a network (address/bits) or a range (first-last)");
        }
    }
}

bool apply_viewer_setting(NetworkViewerConfig &config, const std::string &section, const std::string &key,
                          const std::string &value, const std::string &where, const Warn &warn)
{
    auto invalid = [&](const std::string &kept) {
        warn("ebpf.plugin: " + where + ": invalid value '" + value + "' for '" + key + "'; using " + kept);
    };
    if (section == "service name") {
        auto port = parse_count(key, 1, 65535);
        if (port && !value.empty())
            config.service_names[static_cast<uint16_t>(*port)] = value;
        else
            warn("ebpf.plugin: " + where + ": '" + key + " = " + value + "' in [service name] is not "
                 "'<port 1-65535> = <name>'; left out");
        return true;
    }
    if (section != "network connections")
        return false;
    if (key == "maximum dimensions") {
        if (auto n = parse_count(value, 1, 10000))
            config.maximum_dimensions = *n;
        else
            invalid(std::to_string(config.maximum_dimensions) + " (1 to 10000)");
    } else if (key == "resolve hostnames" || key == "resolve hostname ips" || key == "resolve service names") {
        bool &flag = key == "resolve service names" ? config.resolve_service_names : config.resolve_hostnames;
        if (auto on = config_values::parse_bool(value))
            flag = *on;
        else
            invalid(flag ? "yes" : "no");
    } else if (key == "ports") {
        parse_viewer_ports(config, value, where, warn);
    } else if (key == "ips") {
        parse_viewer_ips(config, value, where, warn);
    } else if (key == "hostnames") {
        config.hostnames = SimplePattern::parse(value);
    } else {
        return false;
    }
    return true;
}
