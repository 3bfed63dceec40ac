// The httpflow record source: kernel-collector/httpflow.bpf.c on syscall
// tracepoints, its ring buffer read each interval into HTTP exchanges
// (net/http_exchanges.h), one record per request with its owner (process,
// app group, cgroup, service), and the charts' counters (charts/httpflow.conf).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "accounting/owner_resolver.h"
#include "core/publisher.h"
#include "kernel/attach.h"
#include "kernel/bpf_loader.h"
#include "net/domain_names.h"
#include "net/http_config.h"
#include "net/http_exchanges.h"
#include "records/stream.h"

struct httpflow_bpf;
struct ring_buffer;
struct http_event;

class HttpFlowSource {
public:
    // Loads and attaches the programs (needs the privileges still held);
    // nullptr and a one-line `error` when it cannot.
    static std::unique_ptr<HttpFlowSource> start(const KernelSymbols &kernel, const HttpFlowsConfig &config,
                                                 const ProcessGroups &groups, std::string &error);
    ~HttpFlowSource();
    HttpFlowSource(const HttpFlowSource &) = delete;
    HttpFlowSource &operator=(const HttpFlowSource &) = delete;

    // Reads what the programs sent since the last call; emits a record per
    // finished exchange when there is a stream, and counts it for the charts.
    void report(RecordStream *stream, uint64_t time_usec);
    // Requests per status class since the start, and the mean time to first
    // byte of the last report's, per app group, cgroup and service.
    void add_counters(Snapshot &snapshot);
    const bpf_object *object() const;
    // The DNS flows' names of destinations (dst_domain); null: none.
    void set_domain_names(const DomainNames *names) { names_ = names; }

private:
    struct Connection {
        HttpConnection http;
        uint32_t pid = 0;
        uint64_t cgroup_id = 0;
        std::string comm, local_ip, remote_ip;
        uint16_t local_port = 0, remote_port = 0;
        bool ipv6 = false;
        bool tls = false;     // seen through libssl
        bool active = false;  // a call since the last report
        explicit Connection(size_t max_path) : http(max_path) {}
    };
    struct Totals {
        uint64_t by_class[6] = {};  // none (0), 1xx .. 5xx
        uint64_t latency_sum = 0, latency_samples = 0;  // the last report's, ns
        uint64_t cgroup_id = 0;
    };

    HttpFlowSource(const HttpFlowsConfig &config, const ProcessGroups &groups);
    // uprobes on libssl's SSL_read/SSL_write (and _ex); without, no HTTPS (said on stderr)
    void attach_libssl();
    static int on_event(void *self, void *data, size_t size);
    void handle(const http_event &event, size_t size);
    void finish(const Connection &connection, std::vector<HttpExchange> exchanges);
    void emit(const Connection &connection, const HttpExchange &exchange);

    HttpFlowsConfig config_;
    OwnerResolver owners_;
    httpflow_bpf *skeleton_ = nullptr;
    LinkSet links_;
    ring_buffer *ring_ = nullptr;
    const DomainNames *names_ = nullptr;
    RecordStream *stream_ = nullptr;  // during report()
    uint64_t report_usec_ = 0;
    uint64_t lost_said_ = 0, evicted_ = 0, evicted_said_ = 0;
    std::unordered_map<uint64_t, Connection> connections_;  // by struct sock address
    std::map<std::string, Totals> app_totals_, cgroup_totals_, service_totals_;
};
