// Which domain an address was last given for: learned from the A and AAAA
// answers the DNS flows capture (net/dns_tracker.h), read by the netflow,
// httpflow and dnsflow records for their `dst_domain` tag (DataKit's
// dnsrecord cache). Bounded: the address named longest ago goes first.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>

class DomainNames {
public:
    explicit DomainNames(size_t capacity = 65536) : capacity_(capacity ? capacity : 1) {}

    // `domain` answered the question for `ip`: the latest answer wins (a CDN's
    // address shared by several names takes the last one asked).
    void learn(const std::string &ip, const std::string &domain);
    // The domain of `ip`, "" when no answer named it.
    std::string find(const std::string &ip) const;
    size_t size() const { return by_ip_.size(); }

private:
    struct Entry {
        std::string domain;
        std::list<std::string>::iterator age;
    };
    size_t capacity_;
    std::list<std::string> oldest_first_;  // addresses, by when they were last learned
    std::unordered_map<std::string, Entry> by_ip_;
};
