#include "net/flow_probe.h"

#include <bpf/libbpf.h>
#include <cerrno>

#include "flows.skel.h"

FlowProbe::~FlowProbe()
{
    links_.clear();
    if (skeleton_)
        flows_bpf::destroy(skeleton_);
}

std::string FlowProbe::start(const KernelSymbols &kernel, unsigned max_connections)
{
    for (const char *tracepoint : {"inet_sock_set_state", "sock_send_length", "sock_recv_length", "tcp_retransmit_skb"})
        if (!kernel.has_raw_tracepoint(tracepoint))
            return std::string("kernel has no BTF tracepoint ") + tracepoint + " (flows need Linux 6.3+)";
    LoadPlan plan;
    for (const char *program : {"tp_flow_set_state", "tp_flow_send", "tp_flow_recv"})
        plan.programs.push_back({program});
    bool reports_errors = kernel.raw_tracepoint_arg_count("tcp_retransmit_skb") >= 3;
    plan.programs.push_back({reports_errors ? "tp_flow_retransmit_err" : "tp_flow_retransmit"});

    skeleton_ = flows_bpf::open();
    if (!skeleton_)
        return "cannot open the BPF object: " + errno_text(-errno);
    if (bpf_map__set_max_entries(skeleton_->maps.flows, max_connections))
        return "cannot size the connection table";
    std::string error = load_plan(skeleton_->obj, plan);
    if (error.empty())
        error = attach_plan(skeleton_->obj, plan, links_);
    return error;
}

int FlowProbe::table_fd() const
{
    return skeleton_ ? bpf_map__fd(skeleton_->maps.flows) : -1;
}
