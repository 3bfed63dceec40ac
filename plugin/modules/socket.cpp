// socket module: TCP and UDP calls, bytes, connections, closes and
// retransmits (kernel-collector/socket.bpf.c).
#include "modules/module.h"
#include "modules/registry.h"
#include "socket.h"
#include "socket.skel.h"

namespace {

using Kind = ProgramSpec::Kind;

struct SocketTraits {
    static constexpr const char *name = "socket";
    static constexpr unsigned counter_bytes = sizeof(socket_value::counters[0]);

    static const std::vector<std::string> &counter_names()
    {
        // order of enum socket_counter
        static const std::vector<std::string> names = {
            "tcp_connect_v4", "tcp_connect_v6", "tcp_accept",
            "tcp_send_call", "tcp_send_error", "tcp_send_bytes",
            "tcp_recv_call", "tcp_recv_error", "tcp_recv_bytes",
            "tcp_close", "tcp_retransmit",
            "udp_send_call", "udp_send_error", "udp_send_bytes",
            "udp_recv_call", "udp_recv_error", "udp_recv_bytes"};
        return names;
    }

    static LoadPlan plan(const KernelSymbols &kernel, AttachPath path, bool /*return_mode: same programs*/)
    {
        LoadPlan plan;
        // retransmits: the tracepoint on every path (socket.bpf.c says why)
        if (!kernel.has_raw_tracepoint("tcp_retransmit_skb"))
            return {{}, "kernel has no BTF tracepoint tcp_retransmit_skb"};
        bool reports_errors = kernel.raw_tracepoint_arg_count("tcp_retransmit_skb") >= 3;
        plan.programs.push_back({reports_errors ? "tp_tcp_retransmit_skb_err" : "tp_tcp_retransmit_skb"});
        switch (path) {
        case AttachPath::Trampoline:
            return trampoline_plan(kernel, plan);
        case AttachPath::Kprobe:
            return kprobe_plan(kernel, plan);
        case AttachPath::Tracepoint:
            return tracepoint_plan(kernel, plan);
        case AttachPath::Auto:
            break;
        }
        return {{}, "internal error: no attach path chosen"};
    }

    static void set_read_only_data(socket_bpf::socket_bpf__rodata &, const KernelSymbols &) {}

private:
    // Functions both probe paths need; "" when the kernel has them all.
    static std::string missing_functions(const KernelSymbols &kernel)
    {
        for (const char *function : {"tcp_sendmsg", "tcp_recvmsg", "udp_sendmsg", "udp_recvmsg", "tcp_v4_connect",
                                     "inet_csk_accept", "tcp_close"})
            if (!kernel.has_function(function))
                return std::string("kernel BTF has no ") + function;
        return "";
    }

    // IPv6 functions live in a module when IPv6 is not built in: IPv6 is then
    // not counted on the probe paths.
    static bool has_ipv6(const KernelSymbols &kernel)
    {
        return kernel.has_function("tcp_v6_connect") && kernel.has_function("udpv6_sendmsg") &&
               kernel.has_function("udpv6_recvmsg");
    }

    // fexit programs name every parameter before the return value: one
    // variant per parameter count.
    static std::string arity_variant(const KernelSymbols &kernel, const std::string &function,
                                     std::initializer_list<int> known, std::string &program)
    {
        int count = kernel.function_arg_count(function);
        for (int arity : known)
            if (count == arity) {
                program = "fexit_" + function + std::to_string(arity);
                return "";
            }
        return function + " has " + std::to_string(count) + " parameters, a form this plugin does not know";
    }

    static LoadPlan trampoline_plan(const KernelSymbols &kernel, LoadPlan plan)
    {
        std::string error = missing_functions(kernel);
        std::string tcp_recv, udp_recv, udpv6_recv, accept;
        if (error.empty())
            error = arity_variant(kernel, "tcp_recvmsg", {4, 5, 6}, tcp_recv);
        if (error.empty())
            error = arity_variant(kernel, "udp_recvmsg", {4, 5, 6}, udp_recv);
        if (error.empty())
            error = arity_variant(kernel, "inet_csk_accept", {2, 4}, accept);
        bool ipv6 = has_ipv6(kernel);
        if (error.empty() && ipv6)
            error = arity_variant(kernel, "udpv6_recvmsg", {4, 5, 6}, udpv6_recv);
        if (!error.empty())
            return {{}, error};
        for (const std::string &program : {std::string("fexit_tcp_sendmsg"), tcp_recv, std::string("fexit_udp_sendmsg"),
                                           udp_recv, std::string("fentry_tcp_v4_connect"), accept,
                                           std::string("fentry_tcp_close")})
            plan.programs.push_back({program});
        if (ipv6)
            for (const std::string &program : {std::string("fexit_udpv6_sendmsg"), udpv6_recv,
                                               std::string("fentry_tcp_v6_connect")})
                plan.programs.push_back({program});
        return plan;
    }

    static LoadPlan kprobe_plan(const KernelSymbols &kernel, LoadPlan plan)
    {
        std::string error = missing_functions(kernel);
        if (!error.empty())
            return {{}, error};
        for (const char *function : {"tcp_sendmsg", "tcp_v4_connect", "tcp_close"})
            plan.programs.push_back({std::string("kprobe_") + function, function, Kind::Kprobe});
        for (const char *function : {"tcp_sendmsg", "tcp_recvmsg", "udp_sendmsg", "udp_recvmsg", "inet_csk_accept"})
            plan.programs.push_back({std::string("kretprobe_") + function, function, Kind::Kretprobe});
        if (has_ipv6(kernel)) {
            plan.programs.push_back({"kprobe_tcp_v6_connect", "tcp_v6_connect", Kind::Kprobe});
            for (const char *function : {"udpv6_sendmsg", "udpv6_recvmsg"})
                plan.programs.push_back({std::string("kretprobe_") + function, function, Kind::Kretprobe});
        }
        return plan;
    }

    static LoadPlan tracepoint_plan(const KernelSymbols &kernel, LoadPlan plan)
    {
        for (const char *tracepoint : {"sock_send_length", "sock_recv_length"})
            if (!kernel.has_raw_tracepoint(tracepoint))
                return {{}, std::string("kernel has no BTF tracepoint ") + tracepoint + " (Linux 6.3+)"};
        if (!kernel.has_raw_tracepoint("inet_sock_set_state"))
            return {{}, "kernel has no BTF tracepoint inet_sock_set_state"};
        if (!kernel.has_syscall_tracepoint("sys_enter_close") || !kernel.has_syscall_tracepoint("sys_exit_accept4"))
            return {{}, "no syscall tracepoints (tracefs is not mounted or CONFIG_FTRACE_SYSCALLS is off)"};
        for (const char *program : {"tp_sock_send_length", "tp_sock_recv_length", "tp_inet_sock_set_state",
                                    "tp_sys_exit_accept4", "tp_sys_enter_close"})
            plan.programs.push_back({program});
        if (kernel.has_syscall_tracepoint("sys_exit_accept"))
            plan.programs.push_back({"tp_sys_exit_accept"});
        return plan;
    }
};

} // namespace

const std::vector<std::string> &socket_path_differences()
{
    static const std::vector<std::string> lines = {
        "tracepoint: needs Linux 6.3+ (sock_send_length); connections counted when the SYN is sent "
        "(a connect() failing before is not); accepts and closes only through accept(2), accept4(2) and close(2) "
        "(not io_uring, close_range(2) or the closes at process exit)",
        "kprobe: an IPv6 UDP socket sending to an IPv4-mapped address is counted twice",
    };
    return lines;
}

namespace {
// 1.37.1's per-group bandwidth charts add TCP and UDP.
void add_total_bytes(Counters &counters, const Counters *)
{
    if (!counters.contains("tcp_send_bytes"))  // the scope has no socket counters
        return;
    counters["send_bytes"] = counter_value(counters, "tcp_send_bytes") + counter_value(counters, "udp_send_bytes");
    counters["recv_bytes"] = counter_value(counters, "tcp_recv_bytes") + counter_value(counters, "udp_recv_bytes");
}

std::unique_ptr<CountingModule> make_module(const KernelSymbols &kernel)
{
    return std::make_unique<SkeletonModule<socket_bpf, SocketTraits>>(kernel);
}

const bool registered = register_module({.name = "socket", .order = 70, .make_counting = make_module,
                                         .derive = add_total_bytes});
} // namespace
