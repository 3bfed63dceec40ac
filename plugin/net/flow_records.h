// DataKit's netflow records from the connection table of flows.bpf.c: each
// interval one record per flow that changed, with the bytes, retransmits and
// state changes since the last one (deltas) and the RTT last seen. A flow
// seen closed is reported, and deleted from the table a report later (its
// last receives may return after CLOSE), so a connection that opens and
// closes inside one interval is reported once, whole.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "accounting/owner_resolver.h"
#include "flows.h"
#include "net/conntrack.h"
#include "net/domain_names.h"
#include "net/filter.h"
#include "records/record.h"

using FlowOwner = ProcessOwner;
// Who a flow belongs to beyond its pid (`comm`: its process's name as the
// kernel saw it): filled per record.
using FlowOwnerLookup = std::function<FlowOwner(uint32_t pid, uint64_t cgroup_id, std::string_view comm)>;

// The kernel's ip_local_port_range: a client port in it is folded to "*".
struct PortRange {
    uint16_t low = 32768, high = 60999;
    bool contains(uint16_t port) const { return port >= low && port <= high; }
};
// From "/proc/sys/net/ipv4/ip_local_port_range"; Linux's default when unreadable.
PortRange read_port_range(const std::string &path);

// Text of a flow address; an IPv4-mapped IPv6 address is written as IPv4.
std::string flow_ip_text(uint16_t family, const uint8_t address[16]);
// DataKit's ip types: "multicast", "private" (RFC 1918, loopback, link-local,
// fc00::/7) or "other".
std::string ip_type(std::string_view ip);

// What a flow has been reported with so far.
struct FlowCounts {
    uint64_t bytes_read = 0, bytes_written = 0;
    uint32_t retransmits = 0;
    uint8_t established = 0, closed = 0;
    uint32_t calls_read = 0, calls_written = 0;  // the network viewer's, not in the records
    bool operator==(const FlowCounts &) const = default;
};
FlowCounts flow_counts(const flow_value &flow);

// "incoming" or "outgoing"; a socket open before the plugin started is
// outgoing when its local port is ephemeral and its remote one is not.
std::string flow_direction(const flow_value &flow, const PortRange &ephemeral);
// What a filter rule can ask about the flow.
FlowFacts flow_facts(const flow_value &flow, const FlowOwner &owner);
// The netflow record of the change from `before` to `flow`; `nat` fills
// dst_nat_ip and dst_nat_port (empty without), `domain` dst_domain.
Record flow_record(const flow_value &flow, const FlowCounts &before, const FlowOwner &owner,
                   const PortRange &ephemeral, uint64_t time_usec, const NatDestination *nat = nullptr,
                   std::string_view domain = {});
// The conntrack original tuple of the flow (nat_key).
std::string flow_nat_key(const flow_value &flow);

class FlowReporter {
public:
    // `nat` (may be null) gives outgoing flows their DNAT destination.
    FlowReporter(int table_fd, FlowFilter filter, PortRange ephemeral, FlowOwnerLookup owner,
                 ConntrackNat *nat = nullptr);

    // Reads the table and hands each record, with the owner's cgroup id, to
    // `emit`. Returns the records made.
    size_t report(uint64_t time_usec, const std::function<void(Record, uint64_t cgroup_id)> &emit);
    // Also hands each flow that changed (and that the filter keeps) with what
    // it was reported with before to `observe` (the network viewer).
    void set_observer(std::function<void(const flow_value &flow, const FlowCounts &before)> observe)
    {
        observe_ = std::move(observe);
    }
    // Names the flows' destinations (dst_domain): a flow keeps the first name
    // found for its destination while it lives.
    void set_domain_names(const DomainNames *names) { names_ = names; }

private:
    struct ChangedFlow {
        uint64_t key;
        flow_value flow;
        FlowCounts before;
    };
    // One record for a flow that changed; false when the filter drops it.
    bool emit_changed(const ChangedFlow &changed, uint64_t time_usec,
                      const std::function<void(Record, uint64_t cgroup_id)> &emit);

    int table_fd_;
    FlowFilter filter_;
    PortRange ephemeral_;
    FlowOwnerLookup owner_;
    ConntrackNat *nat_;
    std::function<void(const flow_value &, const FlowCounts &)> observe_;
    std::unordered_map<uint64_t, FlowCounts> reported_;  // by socket cookie
    std::unordered_map<uint64_t, NatDestination> nat_of_;  // by socket cookie, found once per flow
    const DomainNames *names_ = nullptr;
    std::unordered_map<uint64_t, std::string> domain_of_;  // by socket cookie, found once per flow
    std::vector<ChangedFlow> changed_;                      // this report's, emitted after the walk
};
