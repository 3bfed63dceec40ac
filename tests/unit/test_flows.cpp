#include "net/flow_records.h"
#include "net/flows_config.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

flow_value tcp_flow(const char *source, uint16_t sport, const char *destination, uint16_t dport, uint8_t direction)
{
    flow_value flow{};
    bool v6 = strchr(source, ':') != nullptr;
    flow.family = v6 ? AF_INET6 : AF_INET;
    inet_pton(flow.family, source, flow.saddr);
    inet_pton(flow.family, destination, flow.daddr);
    flow.sport = sport;
    flow.dport = dport;
    flow.protocol = IPPROTO_TCP;
    flow.direction = direction;
    flow.pid = 42;
    strcpy(flow.comm, "curl");
    return flow;
}

const Field *field(const Record &record, const std::string &name)
{
    for (const Field &f : record.fields)
        if (f.name == name)
            return &f;
    return nullptr;
}

std::string text(const Record &record, const std::string &name)
{
    const Field *f = field(record, name);
    return f ? std::get<std::string>(f->value) : "<missing>";
}

uint64_t number(const Record &record, const std::string &name)
{
    const Field *f = field(record, name);
    return f ? std::get<uint64_t>(f->value) : ~0ull;
}

} // namespace

TEST_CASE("flows: ip types as DataKit names them")
{
    CHECK(ip_type("10.1.2.3") == "private");
    CHECK(ip_type("172.16.0.1") == "private");
    CHECK(ip_type("172.32.0.1") == "other");
    CHECK(ip_type("192.168.1.1") == "private");
    CHECK(ip_type("127.0.0.1") == "private");
    CHECK(ip_type("224.0.0.251") == "multicast");
    CHECK(ip_type("8.8.8.8") == "other");
    CHECK(ip_type("fd00::1") == "private");
    CHECK(ip_type("fe80::1") == "private");
    CHECK(ip_type("ff02::1") == "multicast");
    CHECK(ip_type("2001:db8::1") == "other");
    CHECK(ip_type("not an address") == "other");
}

TEST_CASE("flows: an IPv4-mapped IPv6 address is written as IPv4")
{
    uint8_t address[16];
    inet_pton(AF_INET6, "::ffff:10.0.0.7", address);
    CHECK(flow_ip_text(AF_INET6, address) == "10.0.0.7");
    inet_pton(AF_INET6, "2001:db8::7", address);
    CHECK(flow_ip_text(AF_INET6, address) == "2001:db8::7");
}

TEST_CASE("flows: a record carries deltas, the client's ephemeral port folded")
{
    PortRange ephemeral{32768, 60999};
    flow_value flow = tcp_flow("10.0.0.1", 40000, "93.184.216.34", 443, FLOW_DIRECTION_OUTGOING);
    flow.bytes_read = 5000;
    flow.bytes_written = 700;
    flow.retransmits = 3;
    flow.srtt_us = 1200;
    flow.mdev_us = 300;
    flow.established = 1;
    FlowCounts before{4000, 500, 1, 1, 0};
    Record record = flow_record(flow, before, {"docker_abc", "", "web"}, ephemeral, 1);
    CHECK(record.source == "netflow");
    CHECK(text(record, "src_ip") == "10.0.0.1");
    CHECK(text(record, "src_port") == "*");
    CHECK(text(record, "dst_port") == "443");
    CHECK(text(record, "src_ip_type") == "private");
    CHECK(text(record, "dst_ip_type") == "other");
    CHECK(text(record, "family") == "IPv4");
    CHECK(text(record, "transport") == "tcp");
    CHECK(text(record, "direction") == "outgoing");
    CHECK(text(record, "pid") == "42");
    CHECK(text(record, "process_name") == "curl");
    CHECK(text(record, "cgroup") == "docker_abc");
    CHECK(text(record, "app_group") == "web");
    CHECK(number(record, "bytes_read") == 1000);
    CHECK(number(record, "bytes_written") == 200);
    CHECK(number(record, "retransmits") == 2);
    CHECK(number(record, "rtt") == 1200);
    CHECK(number(record, "rtt_var") == 300);
    CHECK(number(record, "tcp_established") == 0);
    CHECK(number(record, "tcp_closed") == 0);
    CHECK(field(record, "src_ip")->tag);
    CHECK_FALSE(field(record, "bytes_read")->tag);
}

TEST_CASE("flows: NAT tags are the conntrack entry's reply source, keyed by the original tuple")
{
    PortRange ephemeral{32768, 60999};
    flow_value flow = tcp_flow("10.0.0.1", 40000, "10.9.0.1", 80, FLOW_DIRECTION_OUTGOING);
    CHECK(flow_nat_key(flow) == "6 10.0.0.1 40000 10.9.0.1 80");
    CHECK(flow_nat_key(flow) == nat_key(IPPROTO_TCP, "10.0.0.1", 40000, "10.9.0.1", 80));
    NatDestination nat{"192.168.1.5", 8080};
    Record record = flow_record(flow, {}, {}, ephemeral, 1, &nat);
    CHECK(text(record, "dst_ip") == "10.9.0.1");
    CHECK(text(record, "dst_nat_ip") == "192.168.1.5");
    CHECK(text(record, "dst_nat_port") == "8080");
    Record plain = flow_record(flow, {}, {}, ephemeral, 1);
    CHECK(text(plain, "dst_nat_ip").empty());
    CHECK(text(plain, "dst_nat_port").empty());
}

TEST_CASE("flows: an incoming flow folds the remote port; unknown directions are guessed from the ports")
{
    PortRange ephemeral{32768, 60999};
    flow_value incoming = tcp_flow("fd00::1", 8080, "fd00::2", 50000, FLOW_DIRECTION_INCOMING);
    Record record = flow_record(incoming, {}, {}, ephemeral, 1);
    CHECK(text(record, "src_port") == "8080");
    CHECK(text(record, "dst_port") == "*");
    CHECK(text(record, "family") == "IPv6");
    CHECK(flow_direction(tcp_flow("10.0.0.1", 45000, "10.0.0.2", 22, FLOW_DIRECTION_UNKNOWN), ephemeral) ==
          "outgoing");
    CHECK(flow_direction(tcp_flow("10.0.0.1", 22, "10.0.0.2", 45000, FLOW_DIRECTION_UNKNOWN), ephemeral) ==
          "incoming");
}

TEST_CASE("flows: facts for the filter")
{
    flow_value flow = tcp_flow("10.0.0.1", 40000, "10.0.0.2", 5001, FLOW_DIRECTION_OUTGOING);
    FlowFacts facts = flow_facts(flow, {"cg", "svc", "app"});
    CHECK(facts.tcp);
    CHECK(facts.ipv4);
    CHECK(facts.dst_port == 5001);
    CHECK(facts.ip_daddr == "10.0.0.2");
    CHECK(facts.ip6_daddr.empty());
    CHECK(facts.process == "curl");
    FlowFilter filter = FlowFilter::parse("dst_port == 5001 && app_group == \"app\"", [](const std::string &) {});
    CHECK(filter.excludes(facts));
    facts.app_group = "other";
    CHECK_FALSE(filter.excludes(facts));
}

TEST_CASE("flows: ip_local_port_range read, Linux's default when unusable")
{
    std::filesystem::path path = std::filesystem::temp_directory_path() / "flows-port-range";
    std::ofstream(path) << "10000\t20000\n";
    PortRange range = read_port_range(path.string());
    CHECK(range.low == 10000);
    CHECK(range.high == 20000);
    std::ofstream(path) << "garbage\n";
    CHECK(read_port_range(path.string()).low == 32768);
    std::filesystem::remove(path);
    CHECK(read_port_range(path.string()).high == 60999);
}

TEST_CASE("flows: [network connections] keys of network.conf")
{
    std::vector<std::string> warnings;
    Warn warn = [&](const std::string &line) { warnings.push_back(line); };
    FlowsConfig config = parse_flows_config("network.conf",
                                            "[network connections]\n"
                                            "    maximum number of connections = 4096\n"
                                            "    netlog filter = udp; dst_port == 53\n"
                                            "    ephemeral port = 10001\n"
                                            "    ports = *\n",
                                            warn);
    CHECK(config.max_connections == 4096);
    CHECK(config.filter == "udp; dst_port == 53");
    CHECK(config.ephemeral_port == 10001);
    CHECK(warnings.empty());
    config = parse_flows_config("network.conf",
                                "[network connections]\nmaximum number of connections = lots\nephemeral port = 0\n",
                                warn);
    CHECK(config.max_connections == 16384);
    CHECK(config.ephemeral_port == 0);
    REQUIRE(warnings.size() == 2);
    CHECK(warnings[1] == "ebpf.plugin: network.conf:3: invalid value '0' for 'ephemeral port'; using the kernel's "
                         "ip_local_port_range (give 1 to 65535)");
    CHECK(warnings[0] == "ebpf.plugin: network.conf:2: invalid value 'lots' for 'maximum number of connections'; "
                         "using 16384 (16 to 4194304)");
}

// The reporter over a real BPF hash map, as the kernel side fills it (needs root).
TEST_CASE("flows: the reporter sends deltas once, waits for a process, deletes closed (a report later) and idle UDP entries")
{
    int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "flows_test", sizeof(uint64_t), sizeof(flow_value), 64, nullptr);
    if (fd < 0) {
        MESSAGE("cannot create a BPF map (not root?): reporter test skipped");
        return;
    }
    std::vector<Record> got;
    auto emit = [&](Record record, uint64_t) { got.push_back(std::move(record)); };
    FlowFilter filter = FlowFilter::parse("dst_port == 9", [](const std::string &) {});
    FlowReporter reporter(fd, std::move(filter), PortRange{32768, 60999},
                          [](uint32_t, uint64_t, std::string_view) { return FlowOwner{"cg", "", "app"}; });
    auto put = [&](uint64_t cookie, const flow_value &flow) { bpf_map_update_elem(fd, &cookie, &flow, BPF_ANY); };
    auto present = [&](uint64_t cookie) {
        flow_value flow;
        return bpf_map_lookup_elem(fd, &cookie, &flow) == 0;
    };

    flow_value accepted = tcp_flow("10.0.0.1", 80, "10.0.0.2", 40000, FLOW_DIRECTION_INCOMING);
    accepted.pid = 0;  // no send or receive yet
    accepted.established = 1;
    put(1, accepted);
    CHECK(reporter.report(1, emit) == 0);

    accepted.pid = 7;
    accepted.bytes_read = 100;
    put(1, accepted);
    REQUIRE(reporter.report(2, emit) == 1);
    CHECK(number(got.back(), "bytes_read") == 100);
    CHECK(number(got.back(), "tcp_established") == 1);
    CHECK(reporter.report(3, emit) == 0);  // nothing changed

    accepted.bytes_read = 150;
    accepted.bytes_written = 10;
    accepted.closed = 1;
    put(1, accepted);
    REQUIRE(reporter.report(4, emit) == 1);
    CHECK(number(got.back(), "bytes_read") == 50);
    CHECK(number(got.back(), "bytes_written") == 10);
    CHECK(number(got.back(), "tcp_established") == 0);
    CHECK(number(got.back(), "tcp_closed") == 1);
    CHECK(present(1));  // kept a report longer: receives may still return after CLOSE
    accepted.bytes_read = 170;
    put(1, accepted);
    REQUIRE(reporter.report(5, emit) == 1);
    CHECK(number(got.back(), "bytes_read") == 20);
    CHECK(number(got.back(), "tcp_closed") == 0);
    CHECK_FALSE(present(1));

    flow_value udp = tcp_flow("10.0.0.1", 5353, "10.0.0.3", 53, FLOW_DIRECTION_OUTGOING);
    udp.protocol = IPPROTO_UDP;
    udp.bytes_written = 40;
    put(2, udp);
    CHECK(reporter.report(5, emit) == 1);
    CHECK(present(2));
    CHECK(reporter.report(6, emit) == 0);
    CHECK_FALSE(present(2));  // idle: deleted

    flow_value filtered = tcp_flow("10.0.0.1", 45000, "10.0.0.4", 9, FLOW_DIRECTION_OUTGOING);
    filtered.bytes_written = 5;
    filtered.closed = 1;
    put(3, filtered);
    CHECK(reporter.report(7, emit) == 0);
    CHECK(present(3));
    CHECK(reporter.report(8, emit) == 0);
    CHECK_FALSE(present(3));
    close(fd);
}
