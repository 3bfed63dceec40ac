// What 1.37.1's network viewer read from ebpf.d/network.conf: which
// connections its charts show ([network connections] ports, ips, hostnames,
// maximum dimensions) and how they are named (resolve hostnames, resolve
// service names, [service name], /etc/services). net/network_viewer.h uses it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"

// Netdata's simple patterns: words separated by blanks, '*' in a word matching
// any run of characters, '!' before a word excluding what it matches. As the
// 1.37.1 viewer checked its hostnames: an excluding word that matches wins
// wherever it stands, else an including word must match. Case-insensitive
// (host names are).
class SimplePattern {
public:
    static SimplePattern parse(std::string_view text);
    bool matches(std::string_view text) const;

private:
    std::vector<std::string> include_, exclude_;
};
// `pattern` with '*' for any run of characters; ASCII case ignored.
bool glob_matches(std::string_view pattern, std::string_view text);

// /etc/services: "name port/protocol aliases... # comment" lines.
class ServiceNames {
public:
    static ServiceNames parse(std::string_view text);
    // The port of a service name or alias, of any protocol.
    std::optional<uint16_t> port_of(std::string_view name) const;
    // The first name given to port/protocol ("tcp", "udp"); "" when none.
    std::string name_of(uint16_t port, std::string_view protocol) const;

private:
    std::map<std::string, uint16_t> ports_;
    std::map<std::pair<uint16_t, std::string>, std::string> names_;
};

struct PortSpan {
    uint16_t first, last;
    bool operator==(const PortSpan &) const = default;
};
// An address range: IPv4 in the first 4 bytes, network order.
struct AddressSpan {
    bool ipv6;
    std::array<uint8_t, 16> first{}, last{};
    bool operator==(const AddressSpan &) const = default;
};

struct NetworkViewerConfig {
    unsigned maximum_dimensions = 50;  // destinations per chart, `other` included
    bool resolve_hostnames = false, resolve_service_names = false;
    bool ports_given = false;  // names then carry the service, as 1.37.1's did
    std::vector<PortSpan> ports, excluded_ports;
    std::vector<AddressSpan> ips, excluded_ips;
    SimplePattern hostnames = SimplePattern::parse("*");
    std::map<uint16_t, std::string> service_names;  // [service name]
    ServiceNames services;                          // /etc/services

    // With neither list everything is allowed; an exclusion wins; else an inclusion must match.
    bool port_allowed(uint16_t port) const;
    bool address_allowed(bool ipv6, const uint8_t address[16]) const;
    // [service name], then /etc/services with `resolve service names`, else the number.
    std::string service_name(uint16_t port, bool udp) const;
};

// 1.37.1's default of `ips`: private networks but loopback.
inline constexpr std::string_view kDefaultViewerIps = "!127.0.0.1/8 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 "
                                                      "fc00::/7 !::1/128";

// One key of [network connections] or [service name] (lower-cased section and
// key, trimmed value); false when it is none of the viewer's. Problems: one
// `warn` line each ("ebpf.plugin: <where>: ..."), the word or value left out.
bool apply_viewer_setting(NetworkViewerConfig &config, const std::string &section, const std::string &key,
                          const std::string &value, const std::string &where, const Warn &warn);
// `ports` and `ips` values: each word a rule, '!' an exclusion.
void parse_viewer_ports(NetworkViewerConfig &config, std::string_view text, const std::string &where,
                        const Warn &warn);
void parse_viewer_ips(NetworkViewerConfig &config, std::string_view text, const std::string &where,
                      const Warn &warn);
