// The dnsflow record source: kernel-collector/dns.bpf.c on the root cgroup,
// its ring buffer read each report into net/dns_tracker.h, and who a flow
// belongs to (app group, cgroup, service), for `--records dnsflow` and for
// the plugin's normal run ([dns flows] of ebpf.d/network.conf).
#pragma once

#include <memory>
#include <string>

#include "accounting/owner_resolver.h"
#include "core/publisher.h"
#include "kernel/bpf_loader.h"
#include "net/dns_tracker.h"
#include "net/flows_config.h"
#include "records/stream.h"

struct dns_bpf;
struct ring_buffer;
class FlowSource;
class HttpFlowSource;

class DnsSource {
public:
    // Loads and attaches the programs (needs the privileges still held);
    // nullptr and a one-line `error` when it cannot.
    static std::unique_ptr<DnsSource> start(const FlowsConfig &config, const ProcessGroups &groups,
                                            std::string &error);
    // Why this kernel can have no DNS flows ("" when it may): --check's "n/a".
    static std::string not_applicable();
    // Loads and attaches the programs and lets them go: "" or why not (--check).
    static std::string verdict();
    ~DnsSource();
    DnsSource(const DnsSource &) = delete;
    DnsSource &operator=(const DnsSource &) = delete;

    // Reads the captured packets, ends the queries past the timeout (all of
    // them when `final`, at stop), and emits the records when there is a stream.
    void report(RecordStream *stream, uint64_t time_usec, bool final = false);
    // The charts' counters (charts/dns.conf).
    void add_counters(Snapshot &snapshot);
    const bpf_object *object() const;
    // The answers name addresses in `names`, which the DNS records and those
    // of `flows` and `http` (either may be null) read for their dst_domain.
    void share_domain_names(DomainNames &names, FlowSource *flows, HttpFlowSource *http);

private:
    DnsSource(const FlowsConfig &config, const ProcessGroups &groups);
    std::string load(unsigned ring_kib);
    uint64_t ring_full() const;

    dns_bpf *skeleton_ = nullptr;
    bool names_from_proc_ = false;  // the kernel refused bpf_get_current_comm
    LinkSet links_;
    ring_buffer *ring_ = nullptr;
    DnsTracker tracker_;
    OwnerResolver owners_;
    std::map<std::string, DnsServerLatency> last_latency_;  // the last report's, per server
};
