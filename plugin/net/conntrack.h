// DNAT'd destinations from netfilter's conntrack, for the netflow records'
// dst_nat_ip / dst_nat_port (libnetfilter_conntrack parses the netlink).
//
// Netfilter checks CAP_NET_ADMIN on the sender of every conntrack request,
// so a lookup (NFCT_Q_GET) after the plugin drops its capabilities gets
// EPERM. Instead the handle joins conntrack's new- and destroyed-entry event
// groups while the capability is held (joining is the checked step) and then
// reads the events without blocking: a mirror of the entries whose reply
// source differs from their original destination, by original tuple.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

struct NatDestination {
    std::string ip;
    uint16_t port = 0;
    bool operator==(const NatDestination &) const = default;
};

// The original tuple of a connection as text: "6 10.0.0.1 40000 10.9.0.1 80".
std::string nat_key(uint8_t protocol, const std::string &src_ip, uint16_t src_port, const std::string &dst_ip,
                    uint16_t dst_port);

// `--check`'s word on conntrack: "ok" or "refused: <why>". Needs CAP_NET_ADMIN.
std::string conntrack_verdict();

class ConntrackNat {
public:
    // Entries mirrored at most: beyond, new ones are counted as lost.
    static constexpr size_t max_entries = 65536;

    // Joins the event groups: needs CAP_NET_ADMIN, so before the drop.
    // nullptr and a one-line `error` when conntrack is absent or refuses.
    static std::unique_ptr<ConntrackNat> open(std::string &error);
    ~ConntrackNat();

    // Reads the events queued since the last call, without blocking. An
    // entry destroyed is forgotten only at the next call, so a flow closed
    // in between is still reported with its NAT destination.
    void read_events();
    // The DNAT destination of the entry with this original tuple (nat_key).
    const NatDestination *find(const std::string &key) const;
    bool empty() const { return entries_.empty(); }
    // Events the kernel dropped (our receive buffer was full) or entries not
    // kept (max_entries): their flows have no NAT tags.
    uint64_t lost() const { return lost_; }

    // For the event callback.
    void added(std::string key, NatDestination nat);
    void destroyed(std::string key);

private:
    ConntrackNat() = default;

    struct nfct_handle *handle_ = nullptr;
    std::unordered_map<std::string, NatDestination> entries_;
    std::unordered_set<std::string> destroyed_;  // forgotten at the next read
    uint64_t lost_ = 0;
};
