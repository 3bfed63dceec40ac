#include "net/conntrack.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace {

// Events read per call at most: a host opening connections faster than we
// read cannot hold the loop; what stays queued is read next time.
constexpr int events_per_read = 20000;
// A burst of connections between two reads fits (each event is ~300 bytes).
constexpr int receive_buffer_bytes = 4 << 20;

std::string address_text(const struct nf_conntrack *ct, bool ipv4, nf_conntrack_attr v4_attr,
                         nf_conntrack_attr v6_attr)
{
    char text[INET6_ADDRSTRLEN] = "";
    if (ipv4) {
        uint32_t address = nfct_get_attr_u32(ct, v4_attr);
        inet_ntop(AF_INET, &address, text, sizeof(text));
    } else if (const void *address = nfct_get_attr(ct, v6_attr)) {
        inet_ntop(AF_INET6, address, text, sizeof(text));
    }
    return text;
}

struct ReadState {
    ConntrackNat *nat;
    int events = 0;
};

int on_event(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
    auto *state = static_cast<ReadState *>(data);
    uint8_t family = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
    uint8_t protocol = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
    if ((family == AF_INET || family == AF_INET6) && (protocol == IPPROTO_TCP || protocol == IPPROTO_UDP)) {
        bool ipv4 = family == AF_INET;
        std::string dst = address_text(ct, ipv4, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST);
        uint16_t dst_port = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
        std::string key = nat_key(protocol, address_text(ct, ipv4, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC),
                                  ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC)), dst, dst_port);
        if (type == NFCT_T_DESTROY) {
            state->nat->destroyed(std::move(key));
        } else {
            // the reply comes from where the connection really went
            NatDestination reply{address_text(ct, ipv4, ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV6_SRC),
                                 ntohs(nfct_get_attr_u16(ct, ATTR_REPL_PORT_SRC))};
            if (reply.ip != dst || reply.port != dst_port)
                state->nat->added(std::move(key), std::move(reply));
        }
    }
    return ++state->events < events_per_read ? NFCT_CB_CONTINUE : NFCT_CB_STOP;
}

} // namespace

std::string nat_key(uint8_t protocol, const std::string &src_ip, uint16_t src_port, const std::string &dst_ip,
                    uint16_t dst_port)
{
    return std::to_string(protocol) + ' ' + src_ip + ' ' + std::to_string(src_port) + ' ' + dst_ip + ' ' +
           std::to_string(dst_port);
}

std::unique_ptr<ConntrackNat> ConntrackNat::open(std::string &error)
{
    std::ifstream events("/proc/sys/net/netfilter/nf_conntrack_events");
    int setting = -1;
    if (events >> setting && setting == 0) {
        error = "conntrack events are off (net.netfilter.nf_conntrack_events = 0)";
        return nullptr;
    }
    std::unique_ptr<ConntrackNat> nat(new ConntrackNat());
    nat->handle_ = nfct_open(CONNTRACK, NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_DESTROY);
    if (!nat->handle_) {
        error = std::string("cannot join conntrack's event groups: ") + strerror(errno);
        return nullptr;
    }
    int fd = nfct_fd(nat->handle_);
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        error = std::string("cannot make the conntrack socket non-blocking: ") + strerror(errno);
        return nullptr;
    }
    // above the rmem_max a caller could have lowered: still CAP_NET_ADMIN here
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer_bytes, sizeof(receive_buffer_bytes));
    return nat;
}

ConntrackNat::~ConntrackNat()
{
    if (handle_)
        nfct_close(handle_);
}

void ConntrackNat::read_events()
{
    for (const std::string &key : destroyed_)
        entries_.erase(key);
    destroyed_.clear();
    ReadState state{this};
    nfct_callback_register(handle_, static_cast<nf_conntrack_msg_type>(NFCT_T_NEW | NFCT_T_DESTROY), on_event,
                           &state);
    while (state.events < events_per_read) {
        if (nfct_catch(handle_) >= 0)
            continue;
        if (errno != ENOBUFS)
            break;  // EAGAIN: all read
        ++lost_;  // the kernel dropped events; the socket still works
    }
    nfct_callback_unregister(handle_);
}

const NatDestination *ConntrackNat::find(const std::string &key) const
{
    auto found = entries_.find(key);
    return found == entries_.end() ? nullptr : &found->second;
}

void ConntrackNat::added(std::string key, NatDestination nat)
{
    if (entries_.size() >= max_entries && !entries_.contains(key)) {
        ++lost_;
        return;
    }
    destroyed_.erase(key);  // a new entry with the tuple of one just gone
    entries_[std::move(key)] = std::move(nat);
}

void ConntrackNat::destroyed(std::string key)
{
    if (entries_.contains(key))  // most entries were never DNAT'd
        destroyed_.insert(std::move(key));
}

std::string conntrack_verdict()
{
    std::string error;
    return ConntrackNat::open(error) ? "ok" : "refused: " + error;
}
