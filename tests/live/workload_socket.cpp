// The workload's socket part: TCP and UDP over loopback with exact, known
// calls and bytes, failing calls, and retransmits provoked in a private
// network namespace (tests/live/live_test.py lists what each step causes).
#include "workload_socket.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

// Packets carrying this mark are dropped on input by the namespace's nftables rule.
constexpr int drop_mark = 0x65627066;
constexpr size_t retransmit_bytes = 100;

[[noreturn]] void fail(const char *what)
{
    fprintf(stderr, "ebpf-workload: %s: %s\n", what, strerror(errno));
    exit(1);
}

struct Address {
    sockaddr_storage storage{};
    socklen_t length = sizeof(storage);
    sockaddr *get() { return reinterpret_cast<sockaddr *>(&storage); }
};

// A socket bound to the loopback address of `family` on a free port.
int bound_socket(int family, int type, Address &address)
{
    int fd = socket(family, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail("socket");
    Address loopback;
    if (family == AF_INET) {
        auto *in = reinterpret_cast<sockaddr_in *>(&loopback.storage);
        in->sin_family = AF_INET;
        in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        loopback.length = sizeof(*in);
    } else {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(&loopback.storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_addr = in6addr_loopback;
        loopback.length = sizeof(*in6);
    }
    if (bind(fd, loopback.get(), loopback.length) != 0 || getsockname(fd, address.get(), &address.length) != 0)
        fail("bind");
    return fd;
}

void send_once(int fd, const std::vector<char> &data)
{
    if (send(fd, data.data(), data.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(data.size()))
        fail("send");
}

void receive_once(int fd, std::vector<char> &data)
{
    if (recv(fd, data.data(), data.size(), MSG_WAITALL) != static_cast<ssize_t>(data.size()))
        fail("recv");
}

tcp_info info_of(int fd)
{
    tcp_info info{};
    socklen_t length = sizeof(info);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0)
        fail("TCP_INFO");
    return info;
}

void close_or_fail(int fd)
{
    if (close(fd) != 0)
        fail("close");
}

// A connected pair: the client, and the listener's accepted end.
std::pair<int, int> connect_pair(int family, int listener, Address &address)
{
    int client = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (client < 0 || connect(client, address.get(), address.length) != 0)
        fail("connect");
    int server = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (server < 0)
        fail("accept4");
    return {client, server};
}

// SYN-ACK retransmits (tcp:tcp_retransmit_synack) land in the accepted socket's total_retrans but
// are no tcp_retransmit_skb calls, which the plugin counts (as upstream). Right after the accept the
// server's socket has sent nothing else: its total_retrans is theirs (seen once on a stalled host).
long synack_retransmits(int server)
{
    return info_of(server).tcpi_total_retrans;
}

long tcp_exchange(int family, const SocketWork &work, long errors)
{
    Address address;
    int listener = bound_socket(family, SOCK_STREAM, address);
    if (listen(listener, 64) != 0)
        fail("listen");
    std::vector<char> out(work.tcp_bytes, 'x'), in(work.tcp_bytes);
    long retransmits = 0;
    for (long i = 0; i < work.tcp; ++i) {
        auto [client, server] = connect_pair(family, listener, address);
        retransmits -= synack_retransmits(server);
        send_once(client, out);
        receive_once(server, in);
        send_once(server, out);
        receive_once(client, in);
        if (i == 0) {
            char byte = 0;
            for (long e = 0; e < errors; ++e)
                if (recv(client, &byte, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN)
                    fail("recv on an empty socket did not fail with EAGAIN");
            if (errors && shutdown(client, SHUT_WR) != 0)
                fail("shutdown");
            for (long e = 0; e < errors; ++e)
                if (send(client, &byte, 1, MSG_NOSIGNAL) != -1 || errno != EPIPE)
                    fail("send after shutdown did not fail with EPIPE");
        }
        retransmits += info_of(client).tcpi_total_retrans + info_of(server).tcpi_total_retrans;
        close_or_fail(client);
        close_or_fail(server);
    }
    close_or_fail(listener);
    return retransmits;
}

void udp_exchange(int family, const SocketWork &work, long errors)
{
    Address a_address, b_address;
    int a = bound_socket(family, SOCK_DGRAM, a_address), b = bound_socket(family, SOCK_DGRAM, b_address);
    std::vector<char> data(work.udp_size, 'u');
    auto exchange = [&](int from, int to, Address &to_address) {
        if (sendto(from, data.data(), data.size(), 0, to_address.get(), to_address.length) !=
            static_cast<ssize_t>(data.size()))
            fail("sendto");
        if (recv(to, data.data(), data.size(), 0) != static_cast<ssize_t>(data.size()))
            fail("recv of a datagram");
    };
    for (long i = 0; i < work.udp; ++i) {
        exchange(a, b, b_address);
        exchange(b, a, a_address);
    }
    char byte = 0;
    for (long e = 0; e < errors; ++e) {
        if (recv(a, &byte, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN)
            fail("recv on an empty UDP socket did not fail with EAGAIN");
        if (send(a, &byte, 1, 0) != -1 || errno != EDESTADDRREQ)
            fail("send without a destination did not fail with EDESTADDRREQ");
    }
    close_or_fail(a);
    close_or_fail(b);
}

template <class Done>
void wait_for(Done done, const char *what)
{
    for (int i = 0; !done(); ++i) {
        if (i == 400)
            fail(what);
        usleep(25000);
    }
}

// In the namespace, a message sent while its packets are dropped is
// retransmitted until the drop ends. Returns the retransmits the kernel made.
long retransmit_exchange(const std::string &netns)
{
    int ns = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0 || setns(ns, CLONE_NEWNET) != 0)
        fail("setns");
    close_or_fail(ns);
    Address address;
    int listener = bound_socket(AF_INET, SOCK_STREAM, address);
    if (listen(listener, 1) != 0)
        fail("listen");
    auto [client, server] = connect_pair(AF_INET, listener, address);
    long synacks = synack_retransmits(server);
    std::vector<char> out(retransmit_bytes, 'r'), in(retransmit_bytes);
    int mark = drop_mark;
    if (setsockopt(client, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0)
        fail("SO_MARK");
    send_once(client, out);
    wait_for([&] { return info_of(client).tcpi_total_retrans >= 2; }, "no retransmits within 10 s");
    mark = 0;
    if (setsockopt(client, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0)
        fail("SO_MARK");
    receive_once(server, in);
    wait_for([&] { return info_of(client).tcpi_unacked == 0; }, "data not acknowledged within 10 s");
    long retransmits = info_of(client).tcpi_total_retrans + info_of(server).tcpi_total_retrans - synacks;
    close_or_fail(client);
    close_or_fail(server);
    close_or_fail(listener);
    return retransmits;
}

} // namespace

long run_socket_work(const SocketWork &work)
{
    long retransmits = 0;
    if (work.tcp) {
        retransmits += tcp_exchange(AF_INET, work, work.errors);
        retransmits += tcp_exchange(AF_INET6, work, 0);
    }
    if (work.udp) {
        udp_exchange(AF_INET, work, work.errors);
        udp_exchange(AF_INET6, work, 0);
    }
    if (!work.netns.empty())
        retransmits += retransmit_exchange(work.netns);
    return retransmits;
}
