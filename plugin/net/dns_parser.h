// The header and question of a DNS message (RFC 1035 4.1), from the first
// bytes of a UDP payload or a TCP segment, with every read bounds-checked:
// what is not a well-formed query or response is refused, never guessed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// An address a response's answer section gives (an A or AAAA record of class IN).
struct DnsAddress {
    uint16_t family = 0;              // AF_INET (4 bytes used) or AF_INET6
    std::array<uint8_t, 16> bytes{};  // network order
};

struct DnsMessage {
    uint16_t id = 0;
    bool response = false;  // QR
    uint8_t rcode = 0;      // RCODE of a response (0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ...)
    std::string qname;      // lower case, dotted, no final dot ("." for the root); "" without a question
    uint16_t qtype = 0;
    // Of a NOERROR response: its answers' A and AAAA addresses (whatever names
    // they carry: a CNAME chain's end answers the question), as far as the
    // captured bytes hold whole records.
    std::vector<DnsAddress> addresses;
};

// A DNS message that starts at `data` (UDP). Needs the 12-byte header and,
// for a query, its one question in `size` bytes; a response may have none
// (some servers' FORMERR). Opcode QUERY only. Names: labels of 1 to 63 bytes,
// 255 in all, no compression (a question's name is the message's first);
// bytes outside [a-z0-9-_] are written \DDD, as dig does. The answer
// section's names may use compression: they are skipped, never followed.
std::optional<DnsMessage> parse_dns_message(const uint8_t *data, size_t size);
// The same after DNS over TCP's two-byte length, which must cover the header.
std::optional<DnsMessage> parse_dns_tcp_message(const uint8_t *data, size_t size);
