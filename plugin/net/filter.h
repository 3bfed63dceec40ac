// The netlog filter language of DataKit (seed 000, "blacklist"): rules that
// leave flows out. A flow that matches any rule is dropped.
//
//   rules   := rule { (';' | newline) rule }     a newline right after an operator,
//                                                '(' or ',' continues the rule
//   expr    := compare { ('&&' | '||') compare } one level, left to right (seed: both priority 4)
//   compare := unary { ('==' | '!=' | '<' | '<=' | '>' | '>=') unary }
//   unary   := '!' unary | primary               '!' binds tighter than comparisons (priority 2)
//   primary := '(' expr ')' | NAME '(' expr {',' expr} ')' | NAME | STRING | INT | true | false
//
// Types are checked when a rule is read: a rule is a bool, && || ! take bools,
// == != take two values of one type, < <= > >= take ints.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// What a rule can ask about a flow. Addresses are text; the one of the other
// family is empty (an IPv6 flow has empty ip_saddr / ip_daddr).
struct FlowFacts {
    bool tcp = false, udp = false, ipv4 = false, ipv6 = false;
    int64_t src_port = 0, dst_port = 0;
    std::string ip_saddr, ip_daddr, ip6_saddr, ip6_daddr;
    // In place of DataKit's k8s pod keys: who owns the flow on this host.
    std::string process, cgroup, service, app_group;
};

namespace filter_detail {
struct Node;
}

class FlowFilter {
public:
    // Each malformed rule: one call of `error` with "line L, column C: why";
    // that rule is left out and the others apply.
    using ErrorSink = std::function<void(const std::string &)>;
    static FlowFilter parse(std::string_view text, const ErrorSink &error);

    FlowFilter();
    ~FlowFilter();
    FlowFilter(FlowFilter &&) noexcept;
    FlowFilter &operator=(FlowFilter &&) noexcept;

    // True when a rule matches: the flow is left out of records and charts.
    bool excludes(const FlowFacts &flow) const;
    size_t rule_count() const { return rules_.size(); }

    // Bounds that keep a hostile or mistyped rule from exhausting the stack.
    static constexpr unsigned max_depth = 200;

private:
    std::vector<std::unique_ptr<filter_detail::Node>> rules_;
};

// Parses with each error logged as one stderr line (log_error), e.g.
// "flow filter: line 2, column 7: unknown key 'src'; rule ignored".
FlowFilter parse_flow_filter_logged(std::string_view text);

// "10.0.0.0/8" or "fe80::/10" (a bare address is a /32 or /128) contains ip.
// False when either does not parse or the families differ.
bool ipnet_contains(std::string_view network, std::string_view ip);
