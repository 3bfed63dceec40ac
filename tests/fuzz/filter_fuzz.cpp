// libFuzzer target: the flow filter's lexer, parser and evaluator on any text.
// Built by `make fuzz` (clang, -fsanitize=fuzzer,address,undefined); run by
// tests/fuzz/run.sh. The first byte picks a flow's facts, the rest is the rules.
#include <cstddef>
#include <cstdint>
#include <string>

#include "net/filter.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FlowFacts flow;
    uint8_t pick = data[0];
    flow.tcp = pick & 1;
    flow.udp = !flow.tcp;
    flow.ipv6 = pick & 2;
    flow.ipv4 = !flow.ipv6;
    flow.src_port = pick * 257;
    flow.dst_port = pick & 4 ? 80 : 53;
    if (flow.ipv4) {
        flow.ip_saddr = "10.0.0." + std::to_string(pick);
        flow.ip_daddr = "127.0.0.1";
    } else {
        flow.ip6_saddr = "fe80::" + std::to_string(pick);
        flow.ip6_daddr = "::1";
    }
    flow.process = "curl";
    flow.cgroup = "system.slice/a.service";
    flow.service = "a";
    flow.app_group = pick & 8 ? "web" : "";

    std::string_view text(reinterpret_cast<const char *>(data + 1), size - 1);
    size_t errors = 0;
    FlowFilter filter = FlowFilter::parse(text, [&](const std::string &) { ++errors; });
    (void)filter.excludes(flow);
    (void)filter.excludes(FlowFacts{});
    // Every rule is either kept or reported.
    if (errors == 0 && filter.rule_count() == 0 && text.find_first_not_of(" \t\r\n;") != std::string_view::npos &&
        text.find('#') == std::string_view::npos)
        __builtin_trap();
    return 0;
}
