#include "net/flow_records.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <cstring>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unordered_set>
#include <vector>

PortRange read_port_range(const std::string &path)
{
    std::ifstream file(path);
    unsigned low = 0, high = 0;
    if (file >> low >> high && low > 0 && low <= high && high <= 65535)
        return {static_cast<uint16_t>(low), static_cast<uint16_t>(high)};
    return {};
}

std::string flow_ip_text(uint16_t family, const uint8_t address[16])
{
    static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    char text[INET6_ADDRSTRLEN] = "";
    if (family == AF_INET)
        inet_ntop(AF_INET, address, text, sizeof(text));
    else if (memcmp(address, mapped_prefix, sizeof(mapped_prefix)) == 0)
        inet_ntop(AF_INET, address + 12, text, sizeof(text));
    else
        inet_ntop(AF_INET6, address, text, sizeof(text));
    return text;
}

std::string ip_type(std::string_view ip)
{
    std::string text(ip);
    uint8_t bytes[16];
    if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
        if (bytes[0] >= 224 && bytes[0] <= 239)
            return "multicast";
        bool is_private = bytes[0] == 10 || bytes[0] == 127 || (bytes[0] == 172 && (bytes[1] & 0xf0) == 16) ||
                          (bytes[0] == 192 && bytes[1] == 168) || (bytes[0] == 169 && bytes[1] == 254);
        return is_private ? "private" : "other";
    }
    if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
        if (bytes[0] == 0xff)
            return "multicast";
        static const uint8_t loopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        bool is_private = (bytes[0] & 0xfe) == 0xfc || (bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80) ||
                          memcmp(bytes, loopback, 16) == 0;
        return is_private ? "private" : "other";
    }
    return "other";
}

FlowCounts flow_counts(const flow_value &flow)
{
    return {flow.bytes_read, flow.bytes_written, flow.retransmits, flow.established, flow.closed, flow.calls_read,
            flow.calls_written};
}

std::string flow_direction(const flow_value &flow, const PortRange &ephemeral)
{
    if (flow.direction == FLOW_DIRECTION_OUTGOING)
        return "outgoing";
    if (flow.direction == FLOW_DIRECTION_INCOMING)
        return "incoming";
    return ephemeral.contains(flow.sport) && !ephemeral.contains(flow.dport) ? "outgoing" : "incoming";
}

FlowFacts flow_facts(const flow_value &flow, const FlowOwner &owner)
{
    FlowFacts facts;
    facts.tcp = flow.protocol == IPPROTO_TCP;
    facts.udp = flow.protocol == IPPROTO_UDP;
    std::string source = flow_ip_text(flow.family, flow.saddr);
    std::string destination = flow_ip_text(flow.family, flow.daddr);
    facts.ipv4 = source.find(':') == std::string::npos;
    facts.ipv6 = !facts.ipv4;
    facts.src_port = flow.sport;
    facts.dst_port = flow.dport;
    (facts.ipv4 ? facts.ip_saddr : facts.ip6_saddr) = source;
    (facts.ipv4 ? facts.ip_daddr : facts.ip6_daddr) = destination;
    facts.process = std::string(flow.comm, strnlen(flow.comm, sizeof(flow.comm)));
    facts.cgroup = owner.cgroup;
    facts.service = owner.service;
    facts.app_group = owner.app_group;
    return facts;
}

Record flow_record(const flow_value &flow, const FlowCounts &before, const FlowOwner &owner,
                   const PortRange &ephemeral, uint64_t time_usec, const NatDestination *nat,
                   std::string_view domain)
{
    std::string direction = flow_direction(flow, ephemeral);
    // The client's port is the ephemeral one: the local port of an outgoing
    // flow, the remote one of an incoming flow.
    bool outgoing = direction == "outgoing";
    auto port_text = [&](uint16_t port, bool client) {
        return client && ephemeral.contains(port) ? std::string("*") : std::to_string(port);
    };
    std::string source = flow_ip_text(flow.family, flow.saddr);
    std::string destination = flow_ip_text(flow.family, flow.daddr);
    bool tcp = flow.protocol == IPPROTO_TCP;
    Record record("netflow", time_usec);
    record.tag("src_ip", source)
        .tag("src_port", port_text(flow.sport, outgoing))
        .tag("dst_ip", destination)
        .tag("dst_port", port_text(flow.dport, !outgoing))
        .tag("dst_domain", std::string(domain))
        .tag("src_ip_type", ip_type(source))
        .tag("dst_ip_type", ip_type(destination))
        .tag("family", source.find(':') == std::string::npos ? "IPv4" : "IPv6")
        .tag("transport", tcp ? "tcp" : "udp")
        .tag("direction", direction)
        .tag("pid", std::to_string(flow.pid))
        .tag("process_name", std::string(flow.comm, strnlen(flow.comm, sizeof(flow.comm))))
        .tag("dst_nat_ip", nat ? nat->ip : "")
        .tag("dst_nat_port", nat ? std::to_string(nat->port) : "")
        .tag("cgroup", owner.cgroup)
        .tag("service", owner.service)
        .tag("app_group", owner.app_group);
    record.add("bytes_read", flow.bytes_read - before.bytes_read)
        .add("bytes_written", flow.bytes_written - before.bytes_written)
        .add("retransmits", static_cast<uint64_t>(flow.retransmits - before.retransmits))
        .add("rtt", static_cast<uint64_t>(flow.srtt_us))
        .add("rtt_var", static_cast<uint64_t>(flow.mdev_us))
        .add("tcp_established", static_cast<uint64_t>(flow.established - before.established))
        .add("tcp_closed", static_cast<uint64_t>(flow.closed - before.closed));
    return record;
}

std::string flow_nat_key(const flow_value &flow)
{
    return nat_key(flow.protocol, flow_ip_text(flow.family, flow.saddr), flow.sport,
                   flow_ip_text(flow.family, flow.daddr), flow.dport);
}

FlowReporter::FlowReporter(int table_fd, FlowFilter filter, PortRange ephemeral, FlowOwnerLookup owner,
                           ConntrackNat *nat)
    : table_fd_(table_fd), filter_(std::move(filter)), ephemeral_(ephemeral), owner_(std::move(owner)), nat_(nat)
{
}

size_t FlowReporter::report(uint64_t time_usec, const std::function<void(Record, uint64_t cgroup_id)> &emit)
{
    std::vector<uint64_t> finished;
    std::unordered_set<uint64_t> present;
    changed_.clear();
    uint64_t key = 0, next = 0;
    bool first = true;
    while (bpf_map_get_next_key(table_fd_, first ? nullptr : &key, &next) == 0) {
        first = false;
        key = next;
        flow_value flow;
        // a key evicted under the walk restarts it: each flow is read once
        if (present.contains(key) || bpf_map_lookup_elem(table_fd_, &key, &flow) != 0)
            continue;
        present.insert(key);
        // An accepted socket is named by its owner's first send or receive:
        // until then its record would have no process.
        if (flow.pid == 0 && !flow.closed)
            continue;
        auto known = reported_.find(key);
        FlowCounts before = known == reported_.end() ? FlowCounts{} : known->second;
        FlowCounts now = flow_counts(flow);
        bool changed = !(now == before);
        if (changed)
            changed_.push_back({key, flow, before});
        // Closed: deleted at the report after the one that saw it closed. The
        // active closer's socket reaches CLOSE when the peer's FIN arrives, its
        // data maybe still unread: the receives that return after CLOSE add to
        // the entry while it stays (the kernel adds no entry for a closed
        // socket), and make one more record. UDP has no close: an idle one is
        // deleted, and comes back with its next datagram.
        bool idle_udp = flow.protocol == IPPROTO_UDP && !changed && known != reported_.end();
        bool closed_before = known != reported_.end() && before.closed;
        if ((flow.closed && closed_before) || idle_udp) {
            finished.push_back(key);
            reported_.erase(key);
        } else {
            reported_[key] = now;
        }
    }
    // Conntrack's events are read after the walk: a connection seen with
    // traffic had its event queued before (its first packet went through
    // conntrack before any answer came), so no NAT tag is missed for a
    // connection made while the table was walked.
    if (nat_)
        nat_->read_events();
    size_t made = 0;
    for (const ChangedFlow &changed : changed_)
        made += emit_changed(changed, time_usec, emit);
    for (uint64_t cookie : finished) {
        bpf_map_delete_elem(table_fd_, &cookie);
        nat_of_.erase(cookie);
        domain_of_.erase(cookie);
    }
    std::erase_if(reported_, [&](const auto &entry) { return !present.contains(entry.first); });
    std::erase_if(nat_of_, [&](const auto &entry) { return !present.contains(entry.first); });
    std::erase_if(domain_of_, [&](const auto &entry) { return !present.contains(entry.first); });
    return made;
}

bool FlowReporter::emit_changed(const ChangedFlow &changed, uint64_t time_usec,
                                const std::function<void(Record, uint64_t cgroup_id)> &emit)
{
    const flow_value &flow = changed.flow;
    auto nat = nat_of_.find(changed.key);
    if (nat == nat_of_.end() && nat_ && !nat_->empty() && flow_direction(flow, ephemeral_) == "outgoing")
        if (const NatDestination *found = nat_->find(flow_nat_key(flow)))
            nat = nat_of_.emplace(changed.key, *found).first;
    auto domain = domain_of_.find(changed.key);
    if (domain == domain_of_.end() && names_)
        if (std::string found = names_->find(flow_ip_text(flow.family, flow.daddr)); !found.empty())
            domain = domain_of_.emplace(changed.key, std::move(found)).first;
    std::string_view comm(flow.comm, strnlen(flow.comm, sizeof(flow.comm)));
    FlowOwner owner = owner_(flow.pid, flow.cgroup_id, comm);
    if (filter_.rule_count() && filter_.excludes(flow_facts(flow, owner)))
        return false;
    emit(flow_record(flow, changed.before, owner, ephemeral_, time_usec,
                     nat == nat_of_.end() ? nullptr : &nat->second,
                     domain == domain_of_.end() ? std::string_view() : domain->second),
         flow.cgroup_id);
    if (observe_)
        observe_(flow, changed.before);
    return true;
}
