#include "net/flow_probe.h"

#include <bpf/libbpf.h>
#include <cerrno>

#include "flows.skel.h"

namespace {

// The programs of a path, or why it does not apply. Both need the state and
// retransmit tracepoints; they differ in where bytes are counted.
LoadPlan flow_plan(const KernelSymbols &kernel, AttachPath path)
{
    // flows are keyed by socket cookie; tracing programs may ask for it since 5.12
    if (!kernel.has_function("bpf_get_socket_ptr_cookie"))
        return {{}, "kernel has no bpf_get_socket_cookie for tracing programs (Linux 5.12+)"};
    for (const char *tracepoint : {"inet_sock_set_state", "tcp_retransmit_skb"})
        if (!kernel.has_raw_tracepoint(tracepoint))
            return {{}, std::string("kernel has no BTF tracepoint ") + tracepoint};
    LoadPlan plan;
    plan.programs.push_back({"tp_flow_set_state"});
    bool reports_errors = kernel.raw_tracepoint_arg_count("tcp_retransmit_skb") >= 3;
    plan.programs.push_back({reports_errors ? "tp_flow_retransmit_err" : "tp_flow_retransmit"});
    if (path == AttachPath::Tracepoint) {
        for (const char *tracepoint : {"sock_send_length", "sock_recv_length"})
            if (!kernel.has_raw_tracepoint(tracepoint))
                return {{}, std::string("kernel has no BTF tracepoint ") + tracepoint + " (Linux 6.3+)"};
        plan.programs.push_back({"tp_flow_send"});
        plan.programs.push_back({"tp_flow_recv"});
        return plan;
    }
    if (path != AttachPath::Trampoline)
        return {{}, "flows have no kprobe programs (tracepoints, or trampolines before Linux 6.3)"};
    std::string unavailable = kernel.path_unavailable(path);
    if (!unavailable.empty())
        return {{}, unavailable};
    int arity = kernel.function_arg_count("tcp_recvmsg");
    if (!kernel.has_function("tcp_sendmsg") || arity < 4 || arity > 6)
        return {{}, "kernel BTF has no tcp_sendmsg, or a tcp_recvmsg of a form this plugin does not know"};
    plan.programs.push_back({"fexit_flow_tcp_sendmsg"});
    plan.programs.push_back({"fexit_flow_tcp_recvmsg" + std::to_string(arity)});
    return plan;
}

} // namespace

std::string FlowProbe::not_applicable(const KernelSymbols &kernel, AttachPath path)
{
    return flow_plan(kernel, path).not_applicable;
}

FlowProbe::~FlowProbe()
{
    stop();
}

void FlowProbe::stop()
{
    links_.clear();
    if (skeleton_)
        flows_bpf::destroy(skeleton_);
    skeleton_ = nullptr;
}

std::string FlowProbe::start(const KernelSymbols &kernel, unsigned max_connections, AttachPath path)
{
    if (path != AttachPath::Auto)
        return start_on(kernel, max_connections, path);
    std::string error = start_on(kernel, max_connections, AttachPath::Tracepoint);
    if (error.empty())
        return "";
    std::string trampoline_error = start_on(kernel, max_connections, AttachPath::Trampoline);
    if (trampoline_error.empty() || trampoline_error == error)
        return trampoline_error;
    return "tracepoint: " + error + "; trampoline: " + trampoline_error;
}

std::string FlowProbe::start_on(const KernelSymbols &kernel, unsigned max_connections, AttachPath path)
{
    stop();
    LoadPlan plan = flow_plan(kernel, path);
    if (!plan.not_applicable.empty())
        return plan.not_applicable;
    skeleton_ = flows_bpf::open();
    if (!skeleton_)
        return "cannot open the BPF object: " + errno_text(-errno);
    std::string error;
    if (bpf_map__set_max_entries(skeleton_->maps.flows, max_connections))
        error = "cannot size the connection table";
    if (error.empty())
        error = load_and_attach_plan(skeleton_->obj, plan, links_);
    if (!error.empty())
        stop();
    path_ = error.empty() ? path : AttachPath::Auto;
    return error;
}

const bpf_object *FlowProbe::object() const
{
    return skeleton_ ? skeleton_->obj : nullptr;
}

int FlowProbe::table_fd() const
{
    return skeleton_ ? bpf_map__fd(skeleton_->maps.flows) : -1;
}
