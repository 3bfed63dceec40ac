#include "net/http_source.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <unistd.h>

#include "core/log.h"
#include "httpflow.h"
#include "httpflow.skel.h"
#include "net/flow_records.h"

namespace {

constexpr const char *syscalls[] = {"read", "write", "recvfrom", "sendto", "readv", "writev", "recvmsg", "sendmsg"};

LoadPlan http_plan(const KernelSymbols &kernel)
{
    if (!kernel.has_raw_tracepoint("inet_sock_set_state"))
        return {{}, "kernel has no BTF tracepoint inet_sock_set_state"};
    LoadPlan plan;
    plan.programs.push_back({"tp_http_set_state"});
    for (const char *syscall : syscalls)
        for (const char *side : {"enter", "exit"}) {
            std::string event = std::string("sys_") + side + "_" + syscall;
            if (!kernel.has_syscall_tracepoint(event))
                return {{}, "no syscall tracepoint " + event + " (tracefs, CONFIG_FTRACE_SYSCALLS)"};
            plan.programs.push_back({std::string("tp_http_") + side + "_" + syscall});
        }
    return plan;
}

// OpenSSL 3 and 1.1 where Debian and most distributions put them; the first
// found is probed (an uprobe covers every process that maps that file).
constexpr const char *libssl_paths[] = {"/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib64/libssl.so.3",
                                        "/usr/lib/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so.1.1",
                                        "/usr/lib64/libssl.so.1.1"};
constexpr const char *ssl_programs[][2] = {{"up_ssl_write", "SSL_write"},       {"up_ssl_read", "SSL_read"},
                                           {"up_ssl_write_ex", "SSL_write_ex"}, {"up_ssl_read_ex", "SSL_read_ex"}};

int status_class(int status)
{
    return status >= 100 && status < 600 ? status / 100 : 0;
}

} // namespace

HttpFlowSource::HttpFlowSource(const HttpFlowsConfig &config, const ProcessGroups &groups)
    : config_(config), owners_(groups)
{
}

HttpFlowSource::~HttpFlowSource()
{
    if (ring_)
        ring_buffer__free(ring_);
    links_.clear();
    if (skeleton_)
        httpflow_bpf::destroy(skeleton_);
}

std::unique_ptr<HttpFlowSource> HttpFlowSource::start(const KernelSymbols &kernel, const HttpFlowsConfig &config,
                                                      const ProcessGroups &groups, std::string &error)
{
    std::unique_ptr<HttpFlowSource> source(new HttpFlowSource(config, groups));
    LoadPlan plan = http_plan(kernel);
    if (!plan.not_applicable.empty()) {
        error = plan.not_applicable;
        return nullptr;
    }
    source->skeleton_ = httpflow_bpf::open();
    if (!source->skeleton_) {
        error = "cannot open the BPF object: " + errno_text(-errno);
        return nullptr;
    }
    if (bpf_map__set_max_entries(source->skeleton_->maps.http_sockets, config.max_connections)) {
        error = "cannot size the connection table";
        return nullptr;
    }
    LoadPlan with_tls = plan;
    for (const auto &program : ssl_programs)
        with_tls.programs.push_back({program[0]});
    with_tls.programs.push_back({"up_ssl_return"});
    error = load_plan(source->skeleton_->obj, with_tls);
    if (error.empty())
        error = attach_plan(source->skeleton_->obj, plan, source->links_);
    if (!error.empty())
        return nullptr;
    source->attach_libssl();
    source->ring_ = ring_buffer__new(bpf_map__fd(source->skeleton_->maps.events), on_event, source.get(), nullptr);
    if (!source->ring_) {
        error = "cannot map the ring buffer: " + errno_text(-errno);
        return nullptr;
    }
    return source;
}

void HttpFlowSource::attach_libssl()
{
    const char *path = nullptr;
    for (const char *candidate : libssl_paths)
        if (access(candidate, R_OK) == 0) {
            path = candidate;
            break;
        }
    if (!path) {
        log_info("httpflow: no libssl found: no HTTPS");
        return;
    }
    std::vector<bpf_link *> links;
    for (const auto &program : ssl_programs)
        for (bool returns : {false, true}) {
            LIBBPF_OPTS(bpf_uprobe_opts, options, .retprobe = returns, .func_name = program[1]);
            bpf_program *entry = bpf_object__find_program_by_name(skeleton_->obj, program[0]);
            bpf_program *exit = bpf_object__find_program_by_name(skeleton_->obj, "up_ssl_return");
            bpf_link *link = bpf_program__attach_uprobe_opts(returns ? exit : entry, -1, path, 0, &options);
            if (int err = libbpf_get_error(link)) {
                log_info("httpflow: no HTTPS: uprobe on %s in %s: %s", program[1], path,
                         errno_text(static_cast<int>(err)).c_str());
                for (bpf_link *attached : links)
                    bpf_link__destroy(attached);
                return;
            }
            links.push_back(link);
        }
    for (bpf_link *link : links)
        links_.add(link);
    log_info("httpflow: HTTPS through %s", path);
}

const bpf_object *HttpFlowSource::object() const
{
    return skeleton_ ? skeleton_->obj : nullptr;
}

int HttpFlowSource::on_event(void *self, void *data, size_t size)
{
    if (size >= HTTP_EVENT_HEADER_BYTES)
        static_cast<HttpFlowSource *>(self)->handle(*static_cast<const http_event *>(data), size);
    return 0;
}

void HttpFlowSource::handle(const http_event &event, size_t size)
{
    auto found = connections_.find(event.socket);
    if (event.kind == HTTP_EVENT_CLOSE) {
        if (found != connections_.end()) {
            finish(found->second, found->second.http.take_finished(HttpConnection::Flush::All));
            connections_.erase(found);
        }
        return;
    }
    if (event.kind != HTTP_EVENT_READ && event.kind != HTTP_EVENT_WRITE)
        return;
    if (found == connections_.end()) {
        Connection connection(config_.path_length);
        connection.pid = event.pid;
        connection.cgroup_id = event.cgroup_id;
        connection.comm.assign(event.comm, strnlen(event.comm, sizeof(event.comm)));
        connection.local_ip = flow_ip_text(event.family, event.saddr);
        connection.remote_ip = flow_ip_text(event.family, event.daddr);
        connection.ipv6 = connection.local_ip.find(':') != std::string::npos;
        connection.tls = event.tls;
        connection.local_port = event.sport;
        connection.remote_port = event.dport;
        found = connections_.emplace(event.socket, std::move(connection)).first;
    }
    Connection &connection = found->second;
    connection.active = true;
    // what the kernel says it copied, and never more than arrived
    size_t captured = std::min<size_t>({event.captured, size - HTTP_EVENT_HEADER_BYTES, HTTP_CAPTURE_BYTES});
    std::string_view data(reinterpret_cast<const char *>(event.data), captured);
    connection.http.on_call(event.kind == HTTP_EVENT_WRITE, data, event.length, event.time_ns);
    finish(connection, connection.http.take_finished(HttpConnection::Flush::Complete));
}

void HttpFlowSource::finish(const Connection &connection, std::vector<HttpExchange> exchanges)
{
    for (const HttpExchange &exchange : exchanges)
        emit(connection, exchange);
}

void HttpFlowSource::emit(const Connection &connection, const HttpExchange &exchange)
{
    bool client = connection.http.role() == HttpConnection::Role::Client;
    ProcessOwner owner = owners_.owner(connection.pid, connection.cgroup_id, connection.comm);
    const std::string &cgroup = owner.cgroup, &service = owner.service, &app_group = owner.app_group;
    uint64_t latency = exchange.status && exchange.response_ns >= exchange.request_ns
                           ? exchange.response_ns - exchange.request_ns : 0;

    auto add = [&](std::map<std::string, Totals> &scope, const std::string &name) {
        if (name.empty())
            return;
        Totals &totals = scope[name];
        ++totals.by_class[status_class(exchange.status)];
        if (latency) {
            totals.latency_sum += latency;
            ++totals.latency_samples;
        }
        totals.cgroup_id = connection.cgroup_id;
    };
    if (!app_group.starts_with('-'))  // a hidden group has no chart
        add(app_totals_, app_group);
    add(service.empty() ? cgroup_totals_ : service_totals_, service.empty() ? cgroup : service);
    if (!stream_)
        return;

    Record record("httpflow", report_usec_);
    record.tag("src_ip", connection.local_ip)
        .tag("src_port", std::to_string(connection.local_port))
        .tag("dst_ip", connection.remote_ip)
        .tag("dst_port", std::to_string(connection.remote_port))
        .tag("dst_domain", names_ ? names_->find(connection.remote_ip) : "")
        .tag("family", connection.ipv6 ? "IPv6" : "IPv4")
        .tag("transport", "tcp")
        .tag("direction", client ? "outgoing" : "incoming")
        .tag("pid", std::to_string(connection.pid))
        .tag("process_name", connection.comm)
        .tag("cgroup", cgroup)
        .tag("service", service)
        .tag("app_group", app_group);
    record.add("method", exchange.method)
        .add("path", exchange.path)
        .add("status_code", static_cast<int64_t>(exchange.status))
        .add("http_version", exchange.version)
        .add("latency", latency)
        .add("bytes_read", client ? exchange.response_bytes : exchange.request_bytes)
        .add("bytes_written", client ? exchange.request_bytes : exchange.response_bytes)
        .add("count", uint64_t{1})
        .add("truncated", exchange.truncated)
        .add("tls", connection.tls);
    stream_->emit(std::move(record));
}

void HttpFlowSource::report(RecordStream *stream, uint64_t time_usec)
{
    owners_.begin_report();
    for (auto *scope : {&app_totals_, &cgroup_totals_, &service_totals_})
        for (auto &[name, totals] : *scope)
            totals.latency_sum = totals.latency_samples = 0;
    stream_ = stream;
    report_usec_ = time_usec;
    ring_buffer__consume(ring_);
    // A connection quiet for a whole interval: a response of unknown length
    // (no Content-Length, chunked) is over. Too many connections: the quiet
    // ones go first.
    for (auto it = connections_.begin(); it != connections_.end();) {
        Connection &connection = it->second;
        bool evict = !connection.active && connections_.size() > config_.max_connections;
        finish(connection, connection.http.take_finished(evict ? HttpConnection::Flush::All
                                                               : connection.active ? HttpConnection::Flush::Complete
                                                                                   : HttpConnection::Flush::Answered));
        connection.active = false;
        if (evict) {
            ++evicted_;
            it = connections_.erase(it);
        } else {
            ++it;
        }
    }
    stream_ = nullptr;

    uint64_t lost = 0;
    uint32_t zero = 0;
    std::vector<uint64_t> per_cpu(libbpf_num_possible_cpus() > 0 ? libbpf_num_possible_cpus() : 1);
    if (bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.lost), &zero, per_cpu.data()) == 0)
        for (uint64_t count : per_cpu)
            lost += count;
    if (lost != lost_said_) {
        log_error("httpflow: %llu reads and writes lost so far (ring buffer full); some requests are not reported",
                  static_cast<unsigned long long>(lost));
        lost_said_ = lost;
    }
    if (evicted_ != evicted_said_) {
        log_error("httpflow: %llu connections dropped so far (over 'maximum connections' of [http flows])",
                  static_cast<unsigned long long>(evicted_));
        evicted_said_ = evicted_;
    }
}

void HttpFlowSource::add_counters(Snapshot &snapshot)
{
    for (auto *scope : {&cgroup_totals_, &service_totals_})
        std::erase_if(*scope, [&](const auto &entry) { return !owners_.cgroup(entry.second.cgroup_id); });
    // a final status is 200 or more (1xx answers are interim): no 1xx class
    static const char *class_counters[] = {"http_requests_other", nullptr, "http_requests_2xx",
                                           "http_requests_3xx",   "http_requests_4xx", "http_requests_5xx"};
    auto put = [](const std::map<std::string, Totals> &scope, std::map<std::string, Counters> &to) {
        for (const auto &[name, totals] : scope) {
            Counters &counters = to[name];
            for (int i = 0; i < 6; ++i)
                if (class_counters[i])
                    counters[class_counters[i]] = static_cast<int64_t>(totals.by_class[i]);
            if (totals.latency_samples)
                counters["http_latency"] = static_cast<int64_t>(totals.latency_sum / totals.latency_samples / 1000);
        }
    };
    put(app_totals_, snapshot.apps);
    put(cgroup_totals_, snapshot.cgroups);
    put(service_totals_, snapshot.services);
}
