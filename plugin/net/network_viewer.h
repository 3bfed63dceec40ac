// 1.37.1's network viewer, from the flows (net/flow_records.h): per
// destination the bytes and send/receive calls each way and the
// retransmits, in ebpf.outbound_bytes, outbound_packets,
// outbound_retransmit, inbound_bytes and inbound_packets
// (charts/network_viewer.conf). An outbound destination is the remote
// address (and port when `ports` is given), an inbound one the local port;
// both per protocol. The first `maximum dimensions` - 1 destinations get
// dimensions of their own for good, the rest count in `other`.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/chart_data.h"
#include "core/chart_registry.h"
#include "flows.h"
#include "net/flow_records.h"
#include "net/viewer_config.h"

struct ViewerDestination {
    uint8_t protocol = 0;
    uint16_t port = 0;  // outbound: the remote port when `ports` is given, else 0; inbound: the local port
    bool ipv6 = false;
    std::array<uint8_t, 16> address{};  // outbound: the remote address (IPv4-mapped as IPv4); inbound: none
    auto operator<=>(const ViewerDestination &) const = default;
};

// The host name of an address ("" when none): getnameinfo(NI_NAMEREQD) unless replaced.
using HostResolver = std::function<std::string(bool ipv6, const std::array<uint8_t, 16> &address)>;
std::string resolve_host(bool ipv6, const std::array<uint8_t, 16> &address);

class NetworkViewer {
public:
    // charts: those of charts/network_viewer.conf, with their update_every.
    NetworkViewer(NetworkViewerConfig config, PortRange ephemeral, std::vector<ChartDef> charts,
                  HostResolver resolver = resolve_host);

    // A flow that changed since `before` (FlowReporter's observer).
    void observe(const flow_value &flow, const FlowCounts &before);
    // Declares what is new (CHART and every DIMENSION again), then sends the
    // totals. A dimension first sent carries 0: the agent's baseline.
    void publish(ChartRegistry &registry, uint64_t now_usec);

private:
    struct Totals {
        int64_t bytes_sent = 0, bytes_received = 0, calls_sent = 0, calls_received = 0, retransmits = 0;
    };
    struct Entry {
        std::string name;  // "<service>:<TCP|UDP>:<host>", as 1.37.1 named it; "_sent"/"_recv" added
        std::string id;    // its dimension ids' stem, unique
        Totals totals;
        bool shown = false;  // a value was sent
    };
    struct Side {
        std::vector<Entry> entries;  // in order of arrival, `other` first
        std::map<ViewerDestination, size_t> index;
        std::set<ViewerDestination> refused;  // their host names do not match `hostnames`
        std::set<std::string> ids;
    };

    Entry *entry_for(Side &side, bool inbound, const flow_value &flow);
    void add_entry(Side &side, const std::string &name);
    void publish_chart(ChartRegistry &registry, const ChartDef &def, Side &side, uint64_t now_usec);

    NetworkViewerConfig config_;
    PortRange ephemeral_;
    std::vector<ChartDef> charts_;
    HostResolver resolver_;
    Side outbound_, inbound_;
};
