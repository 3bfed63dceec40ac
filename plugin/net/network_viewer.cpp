#include "net/network_viewer.h"

#include <arpa/inet.h>
#include <cstring>
#include <netdb.h>
#include <netinet/in.h>

#include "core/protocol.h"

namespace {

const size_t kMaxRefused = 4096;  // host names that did not match, remembered (then forgotten, to bound memory)

ViewerDestination remote_of(const flow_value &flow)
{
    static const uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    ViewerDestination destination;
    destination.protocol = flow.protocol;
    if (flow.family == AF_INET) {
        memcpy(destination.address.data(), flow.daddr, 4);
    } else if (memcmp(flow.daddr, mapped_prefix, sizeof(mapped_prefix)) == 0) {
        memcpy(destination.address.data(), flow.daddr + 12, 4);
    } else {
        destination.ipv6 = true;
        memcpy(destination.address.data(), flow.daddr, 16);
    }
    return destination;
}

std::string address_text(const ViewerDestination &destination)
{
    char text[INET6_ADDRSTRLEN] = "";
    inet_ntop(destination.ipv6 ? AF_INET6 : AF_INET, destination.address.data(), text, sizeof(text));
    return text;
}

} // namespace

std::string resolve_host(bool ipv6, const std::array<uint8_t, 16> &address)
{
    sockaddr_storage storage{};
    socklen_t size;
    if (ipv6) {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(&storage);
        in6->sin6_family = AF_INET6;
        memcpy(&in6->sin6_addr, address.data(), 16);
        size = sizeof(*in6);
    } else {
        auto *in4 = reinterpret_cast<sockaddr_in *>(&storage);
        in4->sin_family = AF_INET;
        memcpy(&in4->sin_addr, address.data(), 4);
        size = sizeof(*in4);
    }
    char host[NI_MAXHOST];
    if (getnameinfo(reinterpret_cast<sockaddr *>(&storage), size, host, sizeof(host), nullptr, 0, NI_NAMEREQD) != 0)
        return "";
    return host;
}

NetworkViewer::NetworkViewer(NetworkViewerConfig config, PortRange ephemeral, std::vector<ChartDef> charts,
                             HostResolver resolver)
    : config_(std::move(config)), ephemeral_(ephemeral), charts_(std::move(charts)), resolver_(std::move(resolver))
{
    // 1.37.1's names of the rest: protocol 255 ("ALL"), host and service "other"
    add_entry(outbound_, config_.ports_given ? "other:ALL:other" : "ALL:other");
    add_entry(inbound_, "other:ALL");
}

void NetworkViewer::add_entry(Side &side, const std::string &name)
{
    // ':' is no id character: two names may make one id
    std::string id = ProtocolWriter::id(name);
    for (int n = 2; side.ids.contains(id); ++n)
        id = ProtocolWriter::id(name) + "_" + std::to_string(n);
    side.ids.insert(id);
    side.entries.push_back({.name = name, .id = id, .totals = {}});
}

NetworkViewer::Entry *NetworkViewer::entry_for(Side &side, bool inbound, const flow_value &flow)
{
    ViewerDestination remote = remote_of(flow);
    uint16_t port = inbound ? flow.sport : flow.dport;
    if (!config_.port_allowed(port) || !config_.address_allowed(remote.ipv6, remote.address.data()))
        return nullptr;
    ViewerDestination key = inbound ? ViewerDestination{.protocol = flow.protocol, .port = port} : remote;
    if (!inbound && config_.ports_given)
        key.port = port;
    if (auto known = side.index.find(key); known != side.index.end())
        return &side.entries[known->second];
    if (side.refused.contains(key))
        return nullptr;
    if (side.entries.size() >= config_.maximum_dimensions)
        return &side.entries.front();  // other
    std::string protocol = flow.protocol == IPPROTO_UDP ? "UDP" : "TCP";
    std::string service = config_.service_name(port, flow.protocol == IPPROTO_UDP);
    std::string name;
    if (inbound) {
        name = service + ":" + protocol;
    } else {
        std::string host = config_.resolve_hostnames ? resolver_(remote.ipv6, remote.address) : "";
        if (!host.empty() && !config_.hostnames.matches(host)) {
            if (side.refused.size() >= kMaxRefused)
                side.refused.clear();
            side.refused.insert(key);
            return nullptr;
        }
        if (host.empty())
            host = remote.ipv6 ? "[" + address_text(remote) + "]" : address_text(remote);
        name = (config_.ports_given ? service + ":" : "") + protocol + ":" + host;
    }
    side.index.emplace(key, side.entries.size());
    add_entry(side, name);
    return &side.entries.back();
}

void NetworkViewer::observe(const flow_value &flow, const FlowCounts &before)
{
    bool inbound = flow_direction(flow, ephemeral_) == "incoming";
    Side &side = inbound ? inbound_ : outbound_;
    Entry *entry = entry_for(side, inbound, flow);
    if (!entry)
        return;
    Totals &totals = entry->totals;
    totals.bytes_sent += static_cast<int64_t>(flow.bytes_written - before.bytes_written);
    totals.bytes_received += static_cast<int64_t>(flow.bytes_read - before.bytes_read);
    totals.calls_sent += static_cast<uint32_t>(flow.calls_written - before.calls_written);
    totals.calls_received += static_cast<uint32_t>(flow.calls_read - before.calls_read);
    totals.retransmits += static_cast<uint32_t>(flow.retransmits - before.retransmits);
}

void NetworkViewer::publish_chart(ChartRegistry &registry, const ChartDef &def, Side &side, uint64_t now_usec)
{
    auto template_of = [&](const std::string &counter) -> const DimensionDef * {
        for (const DimensionDef &dim : def.dimensions)
            if (dim.counter == counter)
                return &dim;
        return nullptr;
    };
    bool bytes = def.id.ends_with("_bytes");
    // 1.37.1's order: the destinations, then other
    std::vector<const Entry *> order;
    for (size_t i = 1; i < side.entries.size(); ++i)
        order.push_back(&side.entries[i]);
    order.push_back(&side.entries.front());
    std::vector<DimensionDef> dims;
    std::vector<int64_t> values;
    bool new_dimension = false;
    for (const Entry *entry : order) {
        const Totals &t = entry->totals;
        auto add = [&](const char *counter, const std::string &suffix, int64_t value) {
            const DimensionDef *pattern = template_of(counter);
            if (!pattern)
                return;
            dims.push_back({.id = entry->id + (suffix.empty() ? "" : "_" + suffix),
                            .name = entry->name + (suffix.empty() ? "" : "_" + suffix),
                            .algorithm = pattern->algorithm, .multiplier = pattern->multiplier,
                            .divisor = pattern->divisor, .counter = counter});
            values.push_back(entry->shown ? value : 0);
            new_dimension |= !entry->shown;
        };
        add("sent", "sent", bytes ? t.bytes_sent : t.calls_sent);
        add("recv", "recv", bytes ? t.bytes_received : t.calls_received);
        add("retransmit", "", t.retransmits);
    }
    std::string full_id = def.type + "." + def.id;
    if (new_dimension || !registry.declared(full_id))
        registry.declare(full_id, def, dims);
    if (!registry.begin(full_id, now_usec))
        return;
    for (size_t i = 0; i < dims.size(); ++i)
        registry.set(dims[i].id, values[i]);
    registry.end();
}

void NetworkViewer::publish(ChartRegistry &registry, uint64_t now_usec)
{
    for (const ChartDef &def : charts_)
        publish_chart(registry, def, def.id.starts_with("inbound") ? inbound_ : outbound_, now_usec);
    for (Side *side : {&outbound_, &inbound_})
        for (Entry &entry : side->entries)
            entry.shown = true;
}
