#include "net/dns_parser.h"
#include "net/dns_tracker.h"
#include "net/flows_config.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <cstring>
#include <netinet/in.h>
#include <random>
#include <sys/socket.h>
#include <vector>

namespace {

// A DNS message: header, then one question for `name` (dotted) unless it is null.
std::vector<uint8_t> dns_message(uint16_t id, uint16_t flags, const char *name, uint16_t qtype = 1)
{
    std::vector<uint8_t> bytes = {static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), static_cast<uint8_t>(flags >> 8),
                                  static_cast<uint8_t>(flags), 0, static_cast<uint8_t>(name ? 1 : 0), 0, 0, 0, 0, 0, 0};
    if (!name)
        return bytes;
    std::string text(name);
    size_t start = 0;
    while (start < text.size()) {
        size_t dot = text.find('.', start);
        std::string label = text.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        bytes.push_back(static_cast<uint8_t>(label.size()));
        bytes.insert(bytes.end(), label.begin(), label.end());
        start = dot == std::string::npos ? text.size() : dot + 1;
    }
    bytes.push_back(0);
    for (uint8_t b : {static_cast<uint8_t>(qtype >> 8), static_cast<uint8_t>(qtype), uint8_t{0}, uint8_t{1}})
        bytes.push_back(b);
    return bytes;
}

dns_event packet(const char *source, uint16_t sport, const char *destination, uint16_t dport, bool egress,
                 const std::vector<uint8_t> &payload, uint64_t time_ns, uint8_t protocol = IPPROTO_UDP)
{
    dns_event event{};
    event.packet.family = strchr(source, ':') ? AF_INET6 : AF_INET;
    inet_pton(event.packet.family, source, event.packet.saddr);
    inet_pton(event.packet.family, destination, event.packet.daddr);
    event.packet.sport = sport;
    event.packet.dport = dport;
    event.packet.protocol = protocol;
    event.packet.egress = egress;
    event.packet.time_ns = time_ns;
    event.packet.cgroup_id = 7;
    event.packet.pid = egress ? 42 : 0;
    strcpy(event.packet.comm, egress ? "resolver" : "");
    size_t size = std::min(payload.size(), sizeof(event.payload));
    memcpy(event.payload, payload.data(), size);
    event.packet.captured = static_cast<uint16_t>(size);
    return event;
}

template <typename Value>
Value value_of(const Record &record, const std::string &name)
{
    for (const Field &f : record.fields)
        if (f.name == name)
            return std::get<Value>(f.value);
    FAIL("no field " << name);
    return Value{};
}

std::vector<Record> records_of(DnsTracker &tracker)
{
    std::vector<Record> records;
    tracker.report(1, [](uint32_t, uint64_t, std::string_view) { return FlowOwner{"cg", "", "app"}; },
                   [&](Record record, uint64_t) { records.push_back(std::move(record)); });
    return records;
}

} // namespace

TEST_CASE("dns parser: a query and a response")
{
    auto query = dns_message(0x1234, 0x0100, "WWW.Example.com", 28);
    auto message = parse_dns_message(query.data(), query.size());
    REQUIRE(message);
    CHECK(message->id == 0x1234);
    CHECK_FALSE(message->response);
    CHECK(message->qname == "www.example.com");
    CHECK(message->qtype == 28);
    auto answer = dns_message(0x1234, 0x8183, "www.example.com");
    message = parse_dns_message(answer.data(), answer.size());
    REQUIRE(message);
    CHECK(message->response);
    CHECK(message->rcode == 3);
    auto bare = dns_message(7, 0x8001, nullptr);  // FORMERR without a question
    message = parse_dns_message(bare.data(), bare.size());
    REQUIRE(message);
    CHECK(message->qname.empty());
}

TEST_CASE("dns parser: odd label bytes are escaped, the root is '.'")
{
    auto query = dns_message(1, 0x0100, "a b.x\x01y");
    auto message = parse_dns_message(query.data(), query.size());
    REQUIRE(message);
    CHECK(message->qname == "a\\032b.x\\001y");
    auto root = dns_message(1, 0x0100, "");
    message = parse_dns_message(root.data(), root.size());
    REQUIRE(message);
    CHECK(message->qname == ".");
}

TEST_CASE("dns parser: truncated, malformed and garbage input is refused")
{
    auto query = dns_message(1, 0x0100, "known.test");
    for (size_t size = 0; size < query.size(); ++size)
        CHECK_FALSE(parse_dns_message(query.data(), size));  // every cut short of the question's end
    CHECK(parse_dns_message(query.data(), query.size()));
    CHECK_FALSE(parse_dns_message(nullptr, 100));
    auto pointer = query;
    pointer[12] = 0xc0;  // a compression pointer in the question
    CHECK_FALSE(parse_dns_message(pointer.data(), pointer.size()));
    auto two = query;
    two[5] = 2;  // two questions
    CHECK_FALSE(parse_dns_message(two.data(), two.size()));
    auto opcode = dns_message(1, 0x2800, "known.test");  // UPDATE
    CHECK_FALSE(parse_dns_message(opcode.data(), opcode.size()));
    auto query_rcode = dns_message(1, 0x0103, "known.test");
    CHECK_FALSE(parse_dns_message(query_rcode.data(), query_rcode.size()));
    std::vector<uint8_t> long_name = dns_message(1, 0x0100, nullptr);
    long_name[5] = 1;
    for (int i = 0; i < 5; ++i) {  // 5 labels of 63: 320 bytes, past 255
        long_name.push_back(63);
        long_name.insert(long_name.end(), 63, 'a');
    }
    long_name.insert(long_name.end(), {0, 0, 1, 0, 1});
    CHECK_FALSE(parse_dns_message(long_name.data(), long_name.size()));
    std::mt19937 random(10);
    for (int i = 0; i < 20000; ++i) {  // random bytes: no crash, and what parses is within bounds
        std::vector<uint8_t> garbage(random() % 80);
        for (uint8_t &b : garbage)
            b = static_cast<uint8_t>(random());
        auto parsed = parse_dns_message(garbage.data(), garbage.size());
        if (parsed)
            CHECK(parsed->qname.size() <= 255 * 4);
        parse_dns_tcp_message(garbage.data(), garbage.size());
    }
}

TEST_CASE("dns parser: DNS over TCP has a two-byte length first")
{
    auto query = dns_message(9, 0x0100, "known.test");
    std::vector<uint8_t> tcp = {0, static_cast<uint8_t>(query.size())};
    tcp.insert(tcp.end(), query.begin(), query.end());
    auto message = parse_dns_tcp_message(tcp.data(), tcp.size());
    REQUIRE(message);
    CHECK(message->id == 9);
    CHECK_FALSE(parse_dns_tcp_message(tcp.data(), 1));
    tcp[1] = 5;  // a length shorter than a header
    CHECK_FALSE(parse_dns_tcp_message(tcp.data(), tcp.size()));
}

TEST_CASE("dns tracker: queries matched to answers, sendmmsg's pair counted twice, timeouts rcode -1")
{
    DnsTracker tracker(1000000000, PortRange{32768, 60999});
    // glibc's A and AAAA from one socket, then their answers
    tracker.add(packet("10.0.0.2", 40000, "10.0.0.1", 53, true, dns_message(1, 0x0100, "known.test", 1), 1000));
    tracker.add(packet("10.0.0.2", 40000, "10.0.0.1", 53, true, dns_message(2, 0x0100, "known.test", 28), 1100));
    tracker.add(packet("10.0.0.1", 53, "10.0.0.2", 40000, false, dns_message(2, 0x8180, "known.test", 28), 5100));
    tracker.add(packet("10.0.0.1", 53, "10.0.0.2", 40000, false, dns_message(1, 0x8180, "known.test", 1), 3000));
    // an answer with another id, and one from another port: no query of theirs
    tracker.add(packet("10.0.0.1", 53, "10.0.0.2", 40000, false, dns_message(3, 0x8180, "known.test"), 6000));
    tracker.add(packet("10.0.0.1", 5353, "10.0.0.2", 40000, false, dns_message(1, 0x8180, "known.test"), 6000));
    // a query never answered
    tracker.add(packet("10.0.0.2", 40001, "10.0.0.9", 53, true, dns_message(4, 0x0100, "silent.test"), 2000));
    tracker.add(packet("10.0.0.2", 40001, "10.0.0.9", 53, true, {1, 2, 3}, 2000));
    CHECK(tracker.losses().unmatched == 2);
    CHECK(tracker.losses().unparsed == 1);
    tracker.expire(1000000000);  // the silent one is 999998000 ns old: not yet
    CHECK(tracker.pending() == 1);
    tracker.expire(1000002000);
    CHECK(tracker.pending() == 0);
    auto records = records_of(tracker);
    REQUIRE(records.size() == 2);
    const Record &known = records[0];
    CHECK(value_of<std::string>(known, "domain") == "known.test");
    CHECK(value_of<uint64_t>(known, "count") == 2);
    CHECK(value_of<int64_t>(known, "rcode") == 0);
    CHECK(value_of<uint64_t>(known, "latency") == (2000 + 4000) / 2);
    CHECK(value_of<uint64_t>(known, "latency_max") == 4000);
    CHECK(value_of<std::string>(known, "src_port") == "*");
    CHECK(value_of<std::string>(known, "dst_port") == "53");
    CHECK(value_of<std::string>(known, "direction") == "outgoing");
    CHECK(value_of<std::string>(known, "pid") == "42");
    CHECK(value_of<std::string>(known, "process_name") == "resolver");
    CHECK(value_of<std::string>(known, "app_group") == "app");
    const Record &silent = records[1];
    CHECK(value_of<int64_t>(silent, "rcode") == -1);
    CHECK(value_of<uint64_t>(silent, "count") == 1);
    CHECK(value_of<uint64_t>(silent, "latency") == 0);
    CHECK(tracker.client_counts().by_rcode[0] == 2);
    CHECK(tracker.client_counts().timeouts == 1);
    auto latency = tracker.take_server_latency();
    CHECK(latency["10.0.0.1"].answered == 2);
    CHECK(records_of(tracker).empty());  // reported once
}

TEST_CASE("dns tracker: the server side is incoming and named by the process that answers")
{
    DnsTracker tracker(1000000000, PortRange{32768, 60999});
    dns_event query = packet("fd00::2", 1234, "fd00::1", 53, false, dns_message(5, 0x0100, "nx.test"), 10);
    tracker.add(query);
    dns_event answer = packet("fd00::1", 53, "fd00::2", 1234, true, dns_message(5, 0x8183, "nx.test"), 60);
    strcpy(answer.packet.comm, "dnsmasq");
    answer.packet.pid = 99;
    tracker.add(answer);
    auto records = records_of(tracker);
    REQUIRE(records.size() == 1);
    CHECK(value_of<std::string>(records[0], "direction") == "incoming");
    CHECK(value_of<std::string>(records[0], "src_ip") == "fd00::1");
    CHECK(value_of<std::string>(records[0], "src_port") == "53");
    CHECK(value_of<std::string>(records[0], "dst_port") == "1234");
    CHECK(value_of<std::string>(records[0], "family") == "IPv6");
    CHECK(value_of<std::string>(records[0], "process_name") == "dnsmasq");
    CHECK(value_of<int64_t>(records[0], "rcode") == 3);
    CHECK(value_of<uint64_t>(records[0], "latency") == 50);
    CHECK(tracker.client_counts().by_rcode[3] == 0);  // the charts count the host's own queries
}

TEST_CASE("dns tracker: a resend before the answer ends the first as timed out; TCP is read after its length")
{
    DnsTracker tracker(1000000000, PortRange{32768, 60999});
    auto query = dns_message(6, 0x0100, "again.test");
    tracker.add(packet("10.0.0.2", 2000, "10.0.0.1", 53, true, query, 10));
    tracker.add(packet("10.0.0.2", 2000, "10.0.0.1", 53, true, query, 20));
    tracker.add(packet("10.0.0.1", 53, "10.0.0.2", 2000, false, dns_message(6, 0x8182, "again.test"), 30));
    std::vector<uint8_t> tcp = {0, static_cast<uint8_t>(query.size())};
    tcp.insert(tcp.end(), query.begin(), query.end());
    tracker.add(packet("10.0.0.2", 2001, "10.0.0.1", 53, true, tcp, 40, IPPROTO_TCP));
    tracker.expire_all();
    auto records = records_of(tracker);
    REQUIRE(records.size() == 3);
    int64_t timeouts = 0, servfails = 0, tcp_records = 0;
    for (const Record &record : records) {
        int64_t rcode = value_of<int64_t>(record, "rcode");
        timeouts += rcode == -1 ? static_cast<int64_t>(value_of<uint64_t>(record, "count")) : 0;
        servfails += rcode == 2;
        tcp_records += value_of<std::string>(record, "transport") == "tcp";
    }
    CHECK(timeouts == 2);
    CHECK(servfails == 1);
    CHECK(tcp_records == 1);
}

TEST_CASE("dns flows configuration: [dns flows] of network.conf")
{
    std::vector<std::string> warnings;
    auto warn = [&](const std::string &line) { warnings.push_back(line); };
    FlowsConfig config = parse_flows_config("network.conf", "[dns flows]\nenabled = yes\ntimeout = 0.5\nring buffer size = 4096\n", warn);
    CHECK(config.dns_enabled);
    CHECK(config.dns_timeout_ms == 500);
    CHECK(config.dns_ring_kib == 4096);
    CHECK(warnings.empty());
    config = parse_flows_config("network.conf", "[dns flows]\nenabled = maybe\ntimeout = 0\nring buffer size = 100\n", warn);
    CHECK_FALSE(config.dns_enabled);
    CHECK(config.dns_timeout_ms == 5000);
    CHECK(config.dns_ring_kib == 1024);
    CHECK(warnings.size() == 3);
    CHECK_FALSE(parse_flows_config("network.conf", "", warn).dns_enabled);
}

TEST_CASE("dns tracker: a flood of unanswered queries is bounded and counted")
{
    DnsTracker tracker(1000000000, PortRange{32768, 60999});
    size_t flood = DnsTracker::max_pending + 10;
    for (size_t i = 0; i < flood; ++i)
        tracker.add(packet("10.0.0.2", static_cast<uint16_t>(1024 + i / 65536), "10.0.0.1", 53, true,
                           dns_message(static_cast<uint16_t>(i), 0x0100, "flood.test"), 10));
    CHECK(tracker.pending() == DnsTracker::max_pending);
    CHECK(tracker.losses().table_full == 10);
    tracker.expire_all();
    auto records = records_of(tracker);
    uint64_t counted = 0;
    for (const Record &record : records)
        counted += value_of<uint64_t>(record, "count");
    CHECK(counted == DnsTracker::max_pending);
}

namespace {

// `message` with its answer count set and `records` appended: each a name
// (a pointer to the question's name, 0xc00c, unless `name` is given), a type,
// class IN unless said, a TTL of 60 and the data.
struct AnswerRecord {
    uint16_t type;
    std::vector<uint8_t> data;
    uint16_t rclass = 1;
    std::vector<uint8_t> name = {0xc0, 0x0c};
};
std::vector<uint8_t> with_answers(std::vector<uint8_t> message, const std::vector<AnswerRecord> &records)
{
    message[7] = static_cast<uint8_t>(records.size());
    for (const AnswerRecord &record : records) {
        message.insert(message.end(), record.name.begin(), record.name.end());
        for (uint16_t word : {record.type, record.rclass, uint16_t{0}, uint16_t{60},
                              static_cast<uint16_t>(record.data.size())}) {
            message.push_back(static_cast<uint8_t>(word >> 8));
            message.push_back(static_cast<uint8_t>(word));
        }
        message.insert(message.end(), record.data.begin(), record.data.end());
    }
    return message;
}

std::vector<uint8_t> ipv6_bytes(const char *text)
{
    std::vector<uint8_t> bytes(16);
    inet_pton(AF_INET6, text, bytes.data());
    return bytes;
}

std::string address_text(const DnsAddress &address)
{
    return flow_ip_text(address.family, address.bytes.data());
}

} // namespace

TEST_CASE("dns parser: a response's A and AAAA answers, through a CNAME, as far as the capture holds them")
{
    // www.test CNAME (a name of its own labels, then a pointer), its A and AAAA, one of class CH, a
    // 5-byte "A" and an MX: only the IN addresses of the right size count
    std::vector<uint8_t> cname = {4, 'e', 'd', 'g', 'e', 0xc0, 0x0c};
    auto answer = with_answers(dns_message(9, 0x8180, "www.test"),
                               {{5, cname},
                                {1, {10, 9, 9, 9}, 1, {4, 'e', 'd', 'g', 'e', 0xc0, 0x0c}},
                                {28, ipv6_bytes("fd00::9")},
                                {1, {10, 1, 1, 1}, 3},
                                {1, {10, 1, 1, 1, 1}},
                                {15, {0, 10, 0}},
                                {1, {192, 0, 2, 7}}});
    auto message = parse_dns_message(answer.data(), answer.size());
    REQUIRE(message);
    REQUIRE(message->addresses.size() == 3);
    CHECK(address_text(message->addresses[0]) == "10.9.9.9");
    CHECK(address_text(message->addresses[1]) == "fd00::9");
    CHECK(address_text(message->addresses[2]) == "192.0.2.7");
    // cut inside the AAAA record: the A before it only, and the message still parses
    size_t after_aaaa = 16 + 17 + 15 + 16;  // the four records after it
    size_t cut = answer.size() - after_aaaa - 10;
    message = parse_dns_message(answer.data(), cut);
    REQUIRE(message);
    REQUIRE(message->addresses.size() == 1);
    CHECK(address_text(message->addresses[0]) == "10.9.9.9");
    // over TCP, after its length
    std::vector<uint8_t> tcp = {static_cast<uint8_t>(answer.size() >> 8), static_cast<uint8_t>(answer.size())};
    tcp.insert(tcp.end(), answer.begin(), answer.end());
    message = parse_dns_tcp_message(tcp.data(), tcp.size());
    REQUIRE(message);
    CHECK(message->addresses.size() == 3);
    // a length that ends the message before its last answer: the bytes after it are not its
    tcp[1] = static_cast<uint8_t>(tcp[1] - 1);
    message = parse_dns_tcp_message(tcp.data(), tcp.size());
    REQUIRE(message);
    CHECK(message->addresses.size() == 2);
    // an answer count larger than what is there, a reserved label type: what came before stays
    auto bad = with_answers(dns_message(9, 0x8180, "www.test"), {{1, {10, 0, 0, 1}}, {1, {10, 0, 0, 2}, 1, {0x80}}});
    message = parse_dns_message(bad.data(), bad.size());
    REQUIRE(message);
    CHECK(message->addresses.size() == 1);
    bad[7] = 200;
    CHECK(parse_dns_message(bad.data(), bad.size())->addresses.size() == 1);
    // no addresses from an error response or a query
    auto nx = with_answers(dns_message(9, 0x8183, "www.test"), {{1, {10, 0, 0, 1}}});
    CHECK(parse_dns_message(nx.data(), nx.size())->addresses.empty());
    auto query = with_answers(dns_message(9, 0x0100, "www.test"), {{1, {10, 0, 0, 1}}});
    CHECK(parse_dns_message(query.data(), query.size())->addresses.empty());
}

TEST_CASE("domain names: the latest answer names an address; the one named longest ago goes first")
{
    DomainNames names(2);
    CHECK(names.find("10.0.0.1").empty());
    names.learn("10.0.0.1", "a.test");
    names.learn("10.0.0.2", "b.test");
    names.learn("10.0.0.1", "c.test");  // renamed, and now the newest
    CHECK(names.find("10.0.0.1") == "c.test");
    names.learn("10.0.0.3", "d.test");  // full: 10.0.0.2 goes
    CHECK(names.size() == 2);
    CHECK(names.find("10.0.0.2").empty());
    CHECK(names.find("10.0.0.1") == "c.test");
    CHECK(names.find("10.0.0.3") == "d.test");
}

TEST_CASE("dns tracker: an answer to a query seen names its addresses for dst_domain; another names none")
{
    DnsTracker tracker(1000000000, PortRange{32768, 60999});
    DomainNames names;
    tracker.set_domain_names(&names);
    tracker.add(packet("10.0.0.2", 40000, "10.0.0.1", 53, true, dns_message(1, 0x0100, "web.test", 1), 1000));
    tracker.add(packet("10.0.0.1", 53, "10.0.0.2", 40000, false,
                       with_answers(dns_message(1, 0x8180, "web.test", 1), {{1, {10, 9, 9, 9}}}), 2000));
    // unsolicited: an answer to no query seen, and one whose question is not the query's
    tracker.add(packet("10.0.0.1", 53, "10.0.0.2", 40000, false,
                       with_answers(dns_message(5, 0x8180, "evil.test", 1), {{1, {10, 8, 8, 8}}}), 2000));
    tracker.add(packet("10.0.0.2", 40001, "10.0.0.1", 53, true, dns_message(2, 0x0100, "one.test", 1), 1000));
    tracker.add(packet("10.0.0.1", 53, "10.0.0.2", 40001, false,
                       with_answers(dns_message(2, 0x8180, "other.test", 1), {{1, {10, 7, 7, 7}}}), 2000));
    CHECK(names.find("10.9.9.9") == "web.test");
    CHECK(names.find("10.8.8.8").empty());
    CHECK(names.find("10.7.7.7").empty());
    names.learn("10.0.0.1", "ns.test");
    auto records = records_of(tracker);
    REQUIRE(records.size() == 2);
    CHECK(value_of<std::string>(records[0], "dst_domain") == "ns.test");  // the server's own address, named
}
