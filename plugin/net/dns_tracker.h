// DataKit's dnsflow from captured DNS packets (kernel-collector/dns.bpf.c):
// each query is matched to its answer by (transport, client and server
// address and port, id); a query unanswered after the timeout ends with
// rcode -1. Each report gives one record per (ends, process, domain, rcode)
// with the count, mean and worst latency of the exchanges that ended since
// the last report. Both sides are seen: the host as client ("outgoing": a
// query sent, its answer received) and as server ("incoming").
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "dns.h"
#include "net/domain_names.h"
#include "net/flow_records.h"
#include "records/record.h"

// What the plugin could not use, since the start.
struct DnsLosses {
    uint64_t unparsed = 0;   // not a DNS query or response (garbage, a TCP continuation, an opcode not QUERY)
    uint64_t unmatched = 0;  // an answer to no query seen (sent before the start, or answered twice)
    uint64_t table_full = 0; // a query while max_pending were already waiting (a flood): not tracked
};

// The charts' counts of outgoing queries (the host as client), since the start.
struct DnsClientCounts {
    std::array<uint64_t, 7> by_rcode{};  // noerror formerr servfail nxdomain notimp refused, then other
    uint64_t timeouts = 0;
};
// Outgoing exchanges answered since the last report, per server address.
struct DnsServerLatency {
    uint64_t answered = 0, latency_sum_ns = 0;
};

class DnsTracker {
public:
    // Queries waiting for their answer at most: bounds memory under a flood.
    static constexpr size_t max_pending = 65536;

    DnsTracker(uint64_t timeout_ns, PortRange ephemeral) : timeout_ns_(timeout_ns), ephemeral_(ephemeral) {}
    // Where the answers' addresses are named (may be null), and where the
    // records' dst_domain is read.
    void set_domain_names(DomainNames *names) { names_ = names; }

    // One captured packet. Bad input only counts in losses().
    void add(const dns_event &event);
    // Ends the queries older than the timeout at `now_ns` (bpf_ktime_get_ns's clock).
    void expire(uint64_t now_ns);
    // Every query still pending ends as timed out (at stop).
    void expire_all() { expire(UINT64_MAX); }
    // The records of what ended since the last call; `emit` gets each with
    // the cgroup id of its socket.
    void report(uint64_t time_usec, const FlowOwnerLookup &owner,
                const std::function<void(Record, uint64_t cgroup_id)> &emit);

    const DnsLosses &losses() const { return losses_; }
    const DnsClientCounts &client_counts() const { return client_counts_; }
    // Per server address: taken (cleared) by each call.
    std::map<std::string, DnsServerLatency> take_server_latency() { return std::move(server_latency_); }
    size_t pending() const { return pending_.size(); }

private:
    struct Ends {
        bool outgoing, tcp, ipv6;
        std::string client_ip, server_ip;
        uint16_t client_port, server_port;
        auto operator<=>(const Ends &) const = default;
    };
    struct Query {
        uint64_t time_ns;
        std::string qname;
        uint32_t pid;  // of the client's query when outgoing; the server's answer names it when incoming
        std::string comm;
        uint64_t cgroup_id;
    };
    struct Aggregate {
        uint64_t count = 0, latency_sum_ns = 0, latency_max_ns = 0, answered = 0, cgroup_id = 0;
    };
    // A record's identity: the ends, the process, the domain and the rcode.
    using AggregateKey = std::tuple<Ends, uint32_t, std::string, std::string, int>;

    void end(const Ends &ends, const Query &query, int rcode, uint64_t latency_ns);

    uint64_t timeout_ns_;
    PortRange ephemeral_;
    DomainNames *names_ = nullptr;
    std::map<std::pair<Ends, uint16_t>, Query> pending_;  // by ends and id
    std::map<AggregateKey, Aggregate> aggregates_;
    std::map<std::string, DnsServerLatency> server_latency_;
    DnsLosses losses_;
    DnsClientCounts client_counts_;
};
