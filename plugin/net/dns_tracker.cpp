#include "net/dns_tracker.h"

#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net/dns_parser.h"

void DnsTracker::add(const dns_event &event)
{
    const dns_packet &packet = event.packet;
    size_t captured = packet.captured < sizeof(event.payload) ? packet.captured : sizeof(event.payload);
    bool tcp = packet.protocol == IPPROTO_TCP;
    bool ipv4 = packet.family == AF_INET;
    auto message = tcp ? parse_dns_tcp_message(event.payload, captured) : parse_dns_message(event.payload, captured);
    if (!message || (!ipv4 && packet.family != AF_INET6) || (!tcp && packet.protocol != IPPROTO_UDP)) {
        ++losses_.unparsed;
        return;
    }
    std::string source = flow_ip_text(packet.family, packet.saddr);
    std::string destination = flow_ip_text(packet.family, packet.daddr);
    bool from_client = !message->response;
    Ends ends{.outgoing = from_client == static_cast<bool>(packet.egress),
              .tcp = tcp,
              .ipv6 = source.find(':') != std::string::npos,
              .client_ip = from_client ? source : destination,
              .server_ip = from_client ? destination : source,
              .client_port = from_client ? packet.sport : packet.dport,
              .server_port = from_client ? packet.dport : packet.sport};
    auto key = std::make_pair(ends, message->id);
    std::string comm(packet.comm, strnlen(packet.comm, sizeof(packet.comm)));
    if (from_client) {
        // The same query again before an answer (a resend): the first one timed out.
        auto earlier = pending_.find(key);
        if (earlier != pending_.end()) {
            end(ends, earlier->second, -1, 0);
            pending_.erase(earlier);
        }
        if (pending_.size() >= max_pending) {
            ++losses_.table_full;
            return;
        }
        pending_[key] = Query{packet.time_ns, message->qname, packet.pid, comm, packet.cgroup_id};
        return;
    }
    auto query = pending_.find(key);
    if (query == pending_.end()) {
        ++losses_.unmatched;
        return;
    }
    // Only an answer to a query seen (same ends, same id) names addresses: a
    // datagram from port 53 that answers nothing names none.
    if (names_ && message->qname == query->second.qname)
        for (const DnsAddress &address : message->addresses)
            names_->learn(flow_ip_text(address.family, address.bytes.data()), message->qname);
    if (!ends.outgoing) {  // the server's process sent the answer
        query->second.pid = packet.pid;
        query->second.comm = comm;
    }
    uint64_t latency = packet.time_ns > query->second.time_ns ? packet.time_ns - query->second.time_ns : 0;
    end(ends, query->second, message->rcode, latency);
    pending_.erase(query);
}

void DnsTracker::expire(uint64_t now_ns)
{
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (now_ns == UINT64_MAX || (now_ns > it->second.time_ns && now_ns - it->second.time_ns >= timeout_ns_)) {
            end(it->first.first, it->second, -1, 0);
            it = pending_.erase(it);
        } else {
            ++it;
        }
    }
}

void DnsTracker::end(const Ends &ends, const Query &query, int rcode, uint64_t latency_ns)
{
    Aggregate &aggregate = aggregates_[{ends, query.pid, query.comm, query.qname, rcode}];
    ++aggregate.count;
    aggregate.cgroup_id = query.cgroup_id;
    if (rcode >= 0) {
        ++aggregate.answered;
        aggregate.latency_sum_ns += latency_ns;
        aggregate.latency_max_ns = std::max(aggregate.latency_max_ns, latency_ns);
    }
    if (!ends.outgoing)
        return;
    if (rcode < 0) {
        ++client_counts_.timeouts;
        return;
    }
    ++client_counts_.by_rcode[rcode < 6 ? rcode : 6];
    DnsServerLatency &server = server_latency_[ends.server_ip];
    ++server.answered;
    server.latency_sum_ns += latency_ns;
}

void DnsTracker::report(uint64_t time_usec, const FlowOwnerLookup &owner,
                        const std::function<void(Record, uint64_t cgroup_id)> &emit)
{
    for (const auto &[key, aggregate] : aggregates_) {
        const auto &[ends, pid, comm, qname, rcode] = key;
        // src is the local end: the client when outgoing, the server when incoming
        std::string local_ip = ends.outgoing ? ends.client_ip : ends.server_ip;
        std::string remote_ip = ends.outgoing ? ends.server_ip : ends.client_ip;
        uint16_t local_port = ends.outgoing ? ends.client_port : ends.server_port;
        uint16_t remote_port = ends.outgoing ? ends.server_port : ends.client_port;
        auto port_text = [&](uint16_t port, bool client) {
            return client && ephemeral_.contains(port) ? std::string("*") : std::to_string(port);
        };
        FlowOwner who = owner(pid, aggregate.cgroup_id, comm);
        Record record("dnsflow", time_usec);
        record.tag("src_ip", local_ip)
            .tag("src_port", port_text(local_port, ends.outgoing))
            .tag("dst_ip", remote_ip)
            .tag("dst_port", port_text(remote_port, !ends.outgoing))
            .tag("dst_domain", names_ ? names_->find(remote_ip) : "")
            .tag("family", ends.ipv6 ? "IPv6" : "IPv4")
            .tag("transport", ends.tcp ? "tcp" : "udp")
            .tag("direction", ends.outgoing ? "outgoing" : "incoming")
            .tag("pid", std::to_string(pid))
            .tag("process_name", comm)
            .tag("cgroup", who.cgroup)
            .tag("service", who.service)
            .tag("app_group", who.app_group);
        record.add("domain", qname)
            .add("rcode", static_cast<int64_t>(rcode))
            .add("count", aggregate.count)
            .add("latency", aggregate.answered ? aggregate.latency_sum_ns / aggregate.answered : 0)
            .add("latency_max", aggregate.latency_max_ns);
        emit(std::move(record), aggregate.cgroup_id);
    }
    aggregates_.clear();
}
