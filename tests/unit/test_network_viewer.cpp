#include "capture.h"
#include "core/chart_registry.h"
#include "net/flows_config.h"
#include "net/network_viewer.h"
#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>

namespace {

const char *kServices = "# Network services, Internet style\n"
                        "tcpmux          1/tcp                           # TCP port service multiplexer\n"
                        "domain          53/tcp                          # Domain Name Server\n"
                        "domain          53/udp\n"
                        "http            80/tcp          www             # WorldWideWeb HTTP\n"
                        "https           443/tcp\n"
                        "broken          x/tcp\n"
                        "alone\n";

std::vector<std::string> warnings;
Warn warn = [](const std::string &line) { warnings.push_back(line); };

flow_value flow_to(const char *source, uint16_t sport, const char *destination, uint16_t dport, uint8_t direction,
                   uint8_t protocol = IPPROTO_TCP)
{
    flow_value flow{};
    flow.family = strchr(source, ':') ? AF_INET6 : AF_INET;
    inet_pton(flow.family, source, flow.saddr);
    inet_pton(flow.family, destination, flow.daddr);
    flow.sport = sport;
    flow.dport = dport;
    flow.protocol = protocol;
    flow.direction = direction;
    flow.pid = 1;
    return flow;
}

std::vector<ChartDef> viewer_charts()
{
    std::vector<ChartDef> charts = embedded_chart_definitions();
    std::erase_if(charts, [](const ChartDef &chart) { return chart.module != "network_viewer"; });
    return charts;
}

// chart -> dimension id -> last value set, from protocol text
std::map<std::string, std::map<std::string, long long>> values_of(const std::string &text)
{
    std::map<std::string, std::map<std::string, long long>> values;
    std::istringstream in(text);
    std::string chart;
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string verb, id, equals, value;
        words >> verb >> id >> equals >> value;
        if (verb == "BEGIN")
            chart = id;
        else if (verb == "SET" && !value.empty())
            values[chart][id] = std::stoll(value);
    }
    return values;
}

} // namespace

TEST_CASE("network viewer: simple patterns as 1.37.1's hostnames")
{
    CHECK(glob_matches("*", ""));
    CHECK(glob_matches("*.example.com", "www.Example.COM"));
    CHECK_FALSE(glob_matches("*.example.com", "example.com"));
    CHECK(glob_matches("a*b*c", "aXXbYYc"));
    CHECK_FALSE(glob_matches("a*b*c", "aXXbYY"));
    CHECK(glob_matches("db?", "db?"));  // only '*' is special
    SimplePattern pattern = SimplePattern::parse("  *.lan !printer.lan  ");
    CHECK(pattern.matches("nas.lan"));
    CHECK_FALSE(pattern.matches("printer.lan"));  // an exclusion wins wherever it stands
    CHECK_FALSE(pattern.matches("example.com"));
    CHECK_FALSE(SimplePattern::parse("!example.com").matches("other.org"));  // nothing included
    CHECK_FALSE(SimplePattern::parse("").matches("x"));
}

TEST_CASE("network viewer: /etc/services names and ports")
{
    ServiceNames services = ServiceNames::parse(kServices);
    CHECK(services.port_of("domain") == 53);
    CHECK(services.port_of("www") == 80);  // an alias
    CHECK_FALSE(services.port_of("broken"));
    CHECK_FALSE(services.port_of("alone"));
    CHECK(services.name_of(443, "tcp") == "https");
    CHECK(services.name_of(53, "udp") == "domain");
    CHECK(services.name_of(443, "udp") == "");
    CHECK(services.name_of(1, "tcp") == "tcpmux");
}

TEST_CASE("network viewer: ports, ips and names from network.conf")
{
    warnings.clear();
    FlowsConfig config = parse_flows_config("network.conf",
                                            "[global]\n"
                                            "    ipv4 connection table size = 1000\n"
                                            "    ipv6 connection table size = 2000\n"
                                            "[network connections]\n"
                                            "    maximum dimensions = 3\n"
                                            "    resolve hostnames = yes\n"
                                            "    resolve service names = yes\n"
                                            "    ports = 1-1024 !145 !domain 5000:5010 http nosuch 70000 !\n"
                                            "    ips = 10.0.0.0/8 !10.1.0.0/16 192.168.1.5-192.168.1.9 fd00::/8 bad\n"
                                            "    hostnames = *.lan\n"
                                            "[service name]\n"
                                            "    19999 = Netdata\n"
                                            "    0 = zero\n",
                                            warn, ServiceNames::parse(kServices));
    const NetworkViewerConfig &v = config.viewer;
    CHECK(config.max_connections == 3000);  // 1.37.1's per-kind tables: one table here
    CHECK(v.maximum_dimensions == 3);
    CHECK(v.resolve_hostnames);
    CHECK(v.resolve_service_names);
    CHECK(v.ports_given);
    CHECK(v.ports == std::vector<PortSpan>{{1, 1024}, {5000, 5010}, {80, 80}});
    CHECK(v.excluded_ports == std::vector<PortSpan>{{145, 145}, {53, 53}});
    CHECK(v.port_allowed(22));
    CHECK_FALSE(v.port_allowed(53));
    CHECK_FALSE(v.port_allowed(145));
    CHECK(v.port_allowed(5010));
    CHECK_FALSE(v.port_allowed(5011));
    uint8_t a[16] = {};
    auto allowed = [&](const char *text) {
        bool ipv6 = strchr(text, ':');
        memset(a, 0, sizeof(a));
        inet_pton(ipv6 ? AF_INET6 : AF_INET, text, a);
        return v.address_allowed(ipv6, a);
    };
    CHECK(allowed("10.2.3.4"));
    CHECK_FALSE(allowed("10.1.3.4"));
    CHECK(allowed("192.168.1.9"));
    CHECK_FALSE(allowed("192.168.1.10"));
    CHECK(allowed("fd12::1"));
    CHECK_FALSE(allowed("fe80::1"));
    CHECK_FALSE(allowed("8.8.8.8"));
    CHECK(v.service_name(19999, false) == "Netdata");
    CHECK(v.service_name(443, false) == "https");
    CHECK(v.service_name(443, true) == "443");
    REQUIRE(warnings.size() == 5);
    CHECK(warnings[0] == "ebpf.plugin: network.conf:8: 'nosuch' in 'ports' is not a port, a range (first-last) or "
                         "a service of /etc/services; left out");
    CHECK(warnings[1].find("'70000' in 'ports'") != std::string::npos);
    CHECK(warnings[2].find("'!' in 'ports'") != std::string::npos);
    CHECK(warnings[3] == "ebpf.plugin: network.conf:9: 'bad' in 'ips' is not an address, a network (address/bits) "
                         "or a range (first-last); left out");
    CHECK(warnings[4] == "ebpf.plugin: network.conf:13: '0 = zero' in [service name] is not "
                         "'<port 1-65535> = <name>'; left out");
}

TEST_CASE("network viewer: Debian's stock network.conf, quietly")
{
    std::ifstream file(std::filesystem::path(__FILE__).parent_path() / "data" / "stock" / "ebpf.d" / "network.conf");
    std::stringstream text;
    text << file.rdbuf();
    REQUIRE_FALSE(text.str().empty());
    warnings.clear();
    FlowsConfig config = parse_flows_config("network.conf", text.str(), warn);
    CHECK(warnings.empty());
    const NetworkViewerConfig &v = config.viewer;
    CHECK(v.maximum_dimensions == 50);
    CHECK_FALSE(v.resolve_hostnames);
    CHECK(v.ports_given);  // ports = *
    CHECK(v.service_name(19999, false) == "Netdata");
    CHECK(config.max_connections == 16384 + 16384 + 4096);
    uint8_t loopback[16] = {127, 0, 0, 1}, lan[16] = {192, 168, 0, 7}, public_ip[16] = {1, 1, 1, 1};
    CHECK_FALSE(v.address_allowed(false, loopback));
    CHECK(v.address_allowed(false, lan));
    CHECK_FALSE(v.address_allowed(false, public_ip));
    // without the key: the same default
    CHECK(parse_flows_config("n", "", warn).viewer.ips == v.ips);
}

TEST_CASE("network viewer: destinations, names, `other` past maximum dimensions, exact totals")
{
    warnings.clear();
    FlowsConfig config = parse_flows_config("n",
                                            "[network connections]\n maximum dimensions = 3\n ports = *\n"
                                            " ips = 10.0.0.0/8 fd00::/8\n resolve hostnames = yes\n"
                                            " hostnames = !*.hidden *\n[service name]\n 5001 = web\n",
                                            warn);
    REQUIRE(warnings.empty());
    std::vector<std::string> asked;
    NetworkViewer viewer(config.viewer, PortRange{}, viewer_charts(),
                         [&](bool, const std::array<uint8_t, 16> &address) -> std::string {
                             asked.push_back(std::to_string(address[3]));
                             return address[3] == 9 ? "db.hidden" : address[3] == 2 ? "two.lan" : "";
                         });
    Capture capture;
    ChartRegistry registry(capture.writer, 1);
    viewer.publish(registry, 1000000);
    std::string first = capture.take();
    CHECK(first.find("CHART ebpf.outbound_bytes '' 'Outbound connections (bytes)' 'bytes/s' 'network connections' "
                     "'ebpf.outbound_bytes' stacked 21080 1") != std::string::npos);
    CHECK(first.find("DIMENSION other_ALL_other_sent 'other:ALL:other_sent' incremental -1 1") != std::string::npos);
    CHECK(first.find("DIMENSION other_ALL_recv 'other:ALL_recv' incremental 1 1") != std::string::npos);
    CHECK(first.find("DIMENSION other_ALL_other 'other:ALL:other' incremental 1 1") != std::string::npos);

    FlowCounts none;
    auto send = [&](flow_value flow, uint64_t written, uint64_t read, uint32_t retransmits = 0) {
        flow.bytes_written = written;
        flow.bytes_read = read;
        flow.calls_written = 1;
        flow.calls_read = 2;
        flow.retransmits = retransmits;
        viewer.observe(flow, none);
    };
    send(flow_to("10.0.0.1", 40000, "10.0.0.2", 5001, FLOW_DIRECTION_OUTGOING), 100, 1000, 3);
    send(flow_to("10.0.0.1", 40001, "10.0.0.2", 5001, FLOW_DIRECTION_OUTGOING), 5, 7);  // same destination
    send(flow_to("10.0.0.1", 40002, "10.0.0.9", 5001, FLOW_DIRECTION_OUTGOING), 50, 50);  // a hidden host
    send(flow_to("::ffff:10.0.0.1", 40003, "::ffff:10.0.0.3", 22, FLOW_DIRECTION_OUTGOING), 10, 20);
    send(flow_to("10.0.0.1", 40004, "10.0.0.4", 22, FLOW_DIRECTION_OUTGOING), 1, 2);  // the third: other
    send(flow_to("fd00::1", 40005, "fd00::5", 22, FLOW_DIRECTION_OUTGOING), 3, 4);    // other
    send(flow_to("10.0.0.1", 40006, "8.8.8.8", 53, FLOW_DIRECTION_OUTGOING, IPPROTO_UDP), 9, 9);  // not in ips
    send(flow_to("10.0.0.1", 5001, "10.0.0.7", 40007, FLOW_DIRECTION_INCOMING), 30, 40);
    send(flow_to("10.0.0.1", 5001, "10.0.0.8", 40008, FLOW_DIRECTION_INCOMING), 3, 4);  // same local port
    CHECK(asked == std::vector<std::string>{"2", "9", "3"});  // once each; none for `other`
    viewer.publish(registry, 2000000);
    std::string second = capture.take();
    // new dimensions: CHART and every DIMENSION declared again before their first SET, which is 0
    CHECK(second.find("DIMENSION web_TCP_two.lan_sent 'web:TCP:two.lan_sent' incremental -1 1") <
          second.find("SET web_TCP_two.lan_sent = 0"));
    auto v = values_of(second);
    CHECK(v["ebpf.outbound_bytes"]["web_TCP_two.lan_sent"] == 0);
    CHECK(v["ebpf.outbound_bytes"]["other_ALL_other_sent"] == 4);  // its baseline went with the first update
    viewer.publish(registry, 3000000);
    v = values_of(capture.take());
    CHECK(v["ebpf.outbound_bytes"] == std::map<std::string, long long>{{"web_TCP_two.lan_sent", 105},
                                                                       {"web_TCP_two.lan_recv", 1007},
                                                                       {"22_TCP_10.0.0.3_sent", 10},
                                                                       {"22_TCP_10.0.0.3_recv", 20},
                                                                       {"other_ALL_other_sent", 4},
                                                                       {"other_ALL_other_recv", 6}});
    CHECK(v["ebpf.outbound_packets"]["web_TCP_two.lan_sent"] == 2);
    CHECK(v["ebpf.outbound_packets"]["other_ALL_other_recv"] == 4);
    CHECK(v["ebpf.outbound_retransmit"] ==
          std::map<std::string, long long>{{"web_TCP_two.lan", 3}, {"22_TCP_10.0.0.3", 0}, {"other_ALL_other", 0}});
    CHECK(v["ebpf.inbound_bytes"] == std::map<std::string, long long>{{"web_TCP_sent", 33},
                                                                      {"web_TCP_recv", 44},
                                                                      {"other_ALL_sent", 0},
                                                                      {"other_ALL_recv", 0}});

    // deltas from what was seen before
    flow_value again = flow_to("10.0.0.1", 40000, "10.0.0.2", 5001, FLOW_DIRECTION_OUTGOING);
    again.bytes_written = 160;
    FlowCounts before{.bytes_read = 1000, .bytes_written = 100};
    viewer.observe(again, before);
    viewer.publish(registry, 4000000);
    std::string fourth = capture.take();
    CHECK(fourth.find("CHART") == std::string::npos);  // nothing new to declare
    CHECK(values_of(fourth)["ebpf.outbound_bytes"]["web_TCP_two.lan_sent"] == 165);
}

TEST_CASE("network viewer: without `ports`, names carry no service and a destination no port")
{
    FlowsConfig config = parse_flows_config("n", "[network connections]\n ips = *\n", warn);
    NetworkViewer viewer(config.viewer, PortRange{}, viewer_charts());
    flow_value a = flow_to("fd00::1", 40000, "fd00::2", 80, FLOW_DIRECTION_OUTGOING);
    flow_value b = flow_to("fd00::1", 40001, "fd00::2", 443, FLOW_DIRECTION_OUTGOING);
    a.bytes_written = 1;
    b.bytes_written = 2;
    viewer.observe(a, {});
    viewer.observe(b, {});
    Capture capture;
    ChartRegistry registry(capture.writer, 1);
    viewer.publish(registry, 1000000);
    viewer.publish(registry, 2000000);
    auto v = values_of(capture.take());
    CHECK(v["ebpf.outbound_bytes"]["TCP__fd00__2__sent"] == 3);
    CHECK(v["ebpf.outbound_bytes"].contains("ALL_other_sent"));
}
