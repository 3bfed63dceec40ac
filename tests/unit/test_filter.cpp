#include "net/filter.h"

#include <doctest/doctest.h>

#include <string>
#include <sys/mman.h>
#include <unistd.h>

#include "capture.h"
#include <vector>

namespace {

struct Parsed {
    FlowFilter filter;
    std::vector<std::string> errors;
};

Parsed parse(const std::string &text)
{
    Parsed parsed;
    parsed.filter = FlowFilter::parse(text, [&](const std::string &e) { parsed.errors.push_back(e); });
    return parsed;
}

// A rule set that must read cleanly; true when it leaves `flow` out.
bool drops(const std::string &text, const FlowFacts &flow)
{
    Parsed parsed = parse(text);
    INFO(text);
    REQUIRE(parsed.errors.empty());
    return parsed.filter.excludes(flow);
}

// The one error a single bad rule gives.
std::string error_of(const std::string &text)
{
    Parsed parsed = parse(text);
    INFO(text);
    REQUIRE(parsed.errors.size() == 1);
    CHECK(parsed.filter.rule_count() == 0);
    return parsed.errors[0];
}

FlowFacts tcp4()
{
    FlowFacts flow;
    flow.tcp = flow.ipv4 = true;
    flow.src_port = 43210;
    flow.dst_port = 80;
    flow.ip_saddr = "10.1.2.3";
    flow.ip_daddr = "1.1.1.1";
    flow.process = "curl";
    flow.cgroup = "system.slice/nginx.service";
    flow.service = "nginx";
    flow.app_group = "web";
    return flow;
}

FlowFacts udp6()
{
    FlowFacts flow;
    flow.udp = flow.ipv6 = true;
    flow.src_port = 53;
    flow.dst_port = 5353;
    flow.ip6_saddr = "fe80::1";
    flow.ip6_daddr = "2001:db8::42";
    return flow;
}

} // namespace

TEST_CASE("filter: every key reads its flow field")
{
    FlowFacts t = tcp4(), u = udp6();
    CHECK(drops("tcp", t));
    CHECK_FALSE(drops("tcp", u));
    CHECK(drops("udp", u));
    CHECK_FALSE(drops("udp", t));
    CHECK(drops("ipv4", t));
    CHECK_FALSE(drops("ipv4", u));
    CHECK(drops("ipv6", u));
    CHECK_FALSE(drops("ipv6", t));
    CHECK(drops("src_port == 43210", t));
    CHECK(drops("dst_port == 80", t));
    CHECK_FALSE(drops("dst_port == 81", t));
    CHECK(drops("ip_saddr == \"10.1.2.3\"", t));
    CHECK(drops("ip_daddr == '1.1.1.1'", t));
    CHECK(drops("ip6_saddr == \"fe80::1\"", u));
    CHECK(drops("ip6_daddr == \"2001:db8::42\"", u));
    CHECK(drops("ip_saddr == \"\"", u));  // the other family's address is empty
    CHECK(drops("process == \"curl\"", t));
    CHECK(drops("cgroup == \"system.slice/nginx.service\"", t));
    CHECK(drops("service == \"nginx\"", t));
    CHECK(drops("app_group == \"web\"", t));
    CHECK_FALSE(drops("app_group == \"db\"", t));
    CHECK(drops("true", u));
    CHECK_FALSE(drops("false", u));
}

TEST_CASE("filter: comparison operators on ints, equality on every type")
{
    FlowFacts t = tcp4();  // dst_port 80
    CHECK(drops("dst_port < 81", t));
    CHECK_FALSE(drops("dst_port < 80", t));
    CHECK(drops("dst_port <= 80", t));
    CHECK_FALSE(drops("dst_port <= 79", t));
    CHECK(drops("dst_port > 79", t));
    CHECK_FALSE(drops("dst_port > 80", t));
    CHECK(drops("dst_port >= 80", t));
    CHECK_FALSE(drops("dst_port >= 81", t));
    CHECK(drops("dst_port != 81", t));
    CHECK_FALSE(drops("dst_port != 80", t));
    CHECK(drops("process != \"wget\"", t));
    CHECK(drops("tcp == true", t));
    CHECK(drops("tcp != udp", t));
    CHECK(drops("80 == dst_port", t));
}

TEST_CASE("filter: precedence and binding are the seed's")
{
    FlowFacts t = tcp4();
    // && and || share one level, left to right: (true || true) && false.
    CHECK_FALSE(drops("true || true && false", t));
    CHECK(drops("false && false || true", t));
    CHECK(drops("true || (true && false)", t));
    // ! binds tighter than a comparison: (!tcp) == false.
    CHECK(drops("!tcp == false", t));
    CHECK(drops("!udp", t));
    CHECK(drops("!!tcp", t));
    CHECK(drops("!(dst_port == 81)", t));
    // Comparisons bind tighter than && ||.
    CHECK(drops("dst_port == 80 && src_port > 1024", t));
    // Comparisons chain left to right: (80 == 80) == true.
    CHECK(drops("dst_port == 80 == true", t));
    CHECK(drops("((((tcp))))", t));
}

TEST_CASE("filter: the seed's examples")
{
    FlowFacts t = tcp4();
    t.ip_saddr = "1.1.1.1";
    CHECK(drops("(ip_saddr == \"1.1.1.1\" || ip_saddr == \"1.1.1.1\") &&\n      (src_port == 80 || dst_port == 80)", t));
    std::string rules = "udp\nip_saddr == \"1.1.1.1\" && (src_port == 80 || dst_port == 80);\n"
                        "ip_saddr == \"10.10.0.1\" && (src_port == 80 || dst_port == 80)\n\n"
                        "ipnet_contains(\"127.0.0.0/8\", ip_saddr); ipv6";
    Parsed parsed = parse(rules);
    CHECK(parsed.errors.empty());
    CHECK(parsed.filter.rule_count() == 5);
    CHECK(parsed.filter.excludes(t));
    FlowFacts other = tcp4();
    CHECK_FALSE(parsed.filter.excludes(other));
    other.ip_saddr = "127.0.0.53";
    CHECK(parsed.filter.excludes(other));
    CHECK(parsed.filter.excludes(udp6()));
}

TEST_CASE("filter: ipnet_contains and has_prefix")
{
    CHECK(ipnet_contains("127.0.0.0/8", "127.255.0.1"));
    CHECK_FALSE(ipnet_contains("127.0.0.0/8", "128.0.0.1"));
    CHECK(ipnet_contains("10.1.2.3", "10.1.2.3"));  // a bare address is all its bits
    CHECK_FALSE(ipnet_contains("10.1.2.3", "10.1.2.4"));
    CHECK(ipnet_contains("0.0.0.0/0", "203.0.113.9"));
    CHECK(ipnet_contains("10.0.0.0/15", "10.1.255.255"));
    CHECK_FALSE(ipnet_contains("10.0.0.0/15", "10.2.0.0"));
    CHECK(ipnet_contains("fe80::/10", "fe80::1"));
    CHECK(ipnet_contains("fe80::/10", "febf::1"));
    CHECK_FALSE(ipnet_contains("fe80::/10", "fec0::1"));
    CHECK_FALSE(ipnet_contains("::/0", "10.0.0.1"));  // families differ
    CHECK_FALSE(ipnet_contains("10.0.0.0/33", "10.0.0.1"));
    CHECK_FALSE(ipnet_contains("10.0.0.0/", "10.0.0.1"));
    CHECK_FALSE(ipnet_contains("10.0.0.0/8", ""));
    CHECK_FALSE(ipnet_contains("10.0.0.0/8", "not an ip"));

    FlowFacts t = tcp4(), u = udp6();
    CHECK(drops("ipnet_contains(\"10.0.0.0/8\", ip_saddr)", t));
    CHECK_FALSE(drops("ipnet_contains(\"10.0.0.0/8\", ip_daddr)", t));
    CHECK(drops("ipnet_contains(\"2001:db8::/32\", ip6_daddr)", u));
    CHECK_FALSE(drops("ipnet_contains(\"10.0.0.0/8\", ip_saddr)", u));  // empty address
    CHECK(drops("has_prefix(cgroup, \"system.slice/\")", t));
    CHECK(drops("has_prefix(process, \"\")", t));
    CHECK_FALSE(drops("has_prefix(process, \"curlx\")", t));
    CHECK(drops("has_prefix(\"nginx-7f\", service)", t));
    CHECK(drops("!has_prefix(app_group, \"db\")", t));
}

TEST_CASE("filter: rules split by ';' and newlines; a newline after an operator continues")
{
    CHECK(parse("tcp; udp\nipv6").filter.rule_count() == 3);
    CHECK(parse(";;\n\n tcp ;\n").filter.rule_count() == 1);
    CHECK(parse("tcp &&\nudp").filter.rule_count() == 1);
    CHECK(parse("tcp ||\n\n udp").filter.rule_count() == 1);
    CHECK(parse("!\ntcp").filter.rule_count() == 1);
    CHECK(parse("(\ntcp)").filter.rule_count() == 1);
    CHECK(parse("has_prefix(process,\n\"c\")").filter.rule_count() == 1);
    CHECK(parse("dst_port ==\n80").filter.rule_count() == 1);
    CHECK(parse("# a comment\ntcp # another\n").filter.rule_count() == 1);
    CHECK_FALSE(drops("", tcp4()));
}

TEST_CASE("filter: a malformed rule gets one error with its position; the others apply")
{
    Parsed parsed = parse("tcp && udp\nsrc == 1\ndst_port == 80");
    REQUIRE(parsed.errors.size() == 1);
    CHECK(parsed.errors[0] == "line 2, column 1: unknown key 'src'");
    CHECK(parsed.filter.rule_count() == 2);
    CHECK(parsed.filter.excludes(tcp4()));

    // A rule continued over lines is skipped whole.
    parsed = parse("tcp &&\n udp $ x\ndst_port == 80");
    REQUIRE(parsed.errors.size() == 1);
    CHECK(parsed.errors[0] == "line 2, column 6: expected '&&', '||' or the end of the rule, found unexpected character '$'");
    CHECK(parsed.filter.rule_count() == 1);

    CHECK(error_of("dst_port") == "line 1, column 1: a rule must be true or false, this one is int");
    CHECK(error_of("  \"x\"") == "line 1, column 3: a rule must be true or false, this one is string");
    CHECK(error_of("dst_port == \"80\"") == "line 1, column 10: == compares values of one type, not int and string");
    CHECK(error_of("process < \"z\"") == "line 1, column 9: < takes int, not string");
    CHECK(error_of("tcp && 1") == "line 1, column 5: && takes bool, not int");
    CHECK(error_of("!dst_port") == "line 1, column 1: ! takes bool, not int");
    CHECK(error_of("(tcp") == "line 1, column 5: expected ')' to close '(', found the end of the text");
    CHECK(error_of("tcp)") == "line 1, column 4: expected '&&', '||' or the end of the rule, found ')'");
    CHECK(error_of("tcp &&") == "line 1, column 7: expected a key, a value, '!' or '(', found the end of the text");
    CHECK(error_of("tcp = udp") == "line 1, column 5: expected '&&', '||' or the end of the rule, found unexpected character '='");
    CHECK(error_of("process == \"curl") == "line 1, column 12: expected a key, a value, '!' or '(', found string not closed on its line");
    CHECK(error_of("dst_port == 99999999999999999999") == "line 1, column 13: number 99999999999999999999 is too large");
    CHECK(error_of("lower(process)") == "line 1, column 1: unknown function 'lower'");
    CHECK(error_of("has_prefix(process)") == "line 1, column 19: expected ',' between the arguments of has_prefix, found ')'");
    CHECK(error_of("has_prefix(process, \"a\", \"b\")") == "line 1, column 24: has_prefix takes two arguments");
    CHECK(error_of("has_prefix(src_port, \"8\")") == "line 1, column 12: has_prefix's first argument takes string, not int");
    CHECK(error_of("ipnet_contains(\"10.0.0.0/99\", ip_saddr)") == "line 1, column 16: '10.0.0.0/99' is not a network (e.g. 10.0.0.0/8 or fe80::/10)");
    CHECK(error_of("ipnet_contains(\"10.0.0.0/8\", 1)") == "line 1, column 30: ipnet_contains's second argument takes string, not int");
}

TEST_CASE("filter: depth is bounded, so no input exhausts the stack")
{
    std::string deep(FlowFilter::max_depth + 1, '(');
    deep += "tcp" + std::string(FlowFilter::max_depth + 1, ')');
    CHECK(error_of(deep).find("nested or chained deeper than 200") != std::string::npos);
    CHECK(error_of(std::string(100000, '!') + "tcp").find("deeper than 200") != std::string::npos);
    std::string chain = "tcp";
    for (int i = 0; i < 100000; ++i)
        chain += " || udp";
    CHECK(error_of(chain).find("deeper than 200") != std::string::npos);

    std::string fine = "dst_port == 1";
    for (int i = 2; i <= 150; ++i)
        fine += " || dst_port == " + std::to_string(i);
    FlowFacts t = tcp4();
    t.dst_port = 150;
    CHECK(drops(fine, t));
    t.dst_port = 151;
    CHECK_FALSE(drops(fine, t));
}

TEST_CASE("filter: parse_flow_filter_logged writes one stderr line per bad rule")
{
    int saved = dup(2), fd = memfd_create("stderr", 0);
    dup2(fd, 2);
    FlowFilter filter = parse_flow_filter_logged("tcp\nsrc_port == \"x\"\nudp &&\n  ipv5");
    dup2(saved, 2);
    close(saved);
    std::string text(size_t(lseek(fd, 0, SEEK_END)), '\0');
    REQUIRE(pread(fd, text.data(), text.size(), 0) == ssize_t(text.size()));
    close(fd);
    CHECK(filter.rule_count() == 1);
    CHECK(log_messages(text) ==
          "flow filter: line 2, column 10: == compares values of one type, not int and string; rule ignored\n"
          "flow filter: line 4, column 3: unknown key 'ipv5'; rule ignored\n");
}
