#include "net/dns_source.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "net/flow_source.h"
#include "net/http_source.h"
#include "dns.skel.h"

namespace {

// A sender's name from /proc where the kernel cannot give it (can_read_comm off)
void name_from_proc(dns_event &event)
{
    if (event.packet.comm[0] || !event.packet.egress || !event.packet.pid)
        return;
    char path[32];
    snprintf(path, sizeof(path), "/proc/%u/comm", event.packet.pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t got = read(fd, event.packet.comm, sizeof(event.packet.comm) - 1);
    close(fd);
    size_t length = got > 0 ? static_cast<size_t>(got) : 0;
    if (length && event.packet.comm[length - 1] == '\n')
        --length;
    memset(event.packet.comm + length, 0, sizeof(event.packet.comm) - length);
}

int take_event(void *tracker, void *data, size_t size)
{
    if (size >= sizeof(dns_event)) {
        dns_event event;  // a copy: the ring buffer is mapped read-only
        memcpy(&event, data, sizeof(event));
        name_from_proc(event);
        static_cast<DnsTracker *>(tracker)->add(event);
    }
    return 0;
}

uint64_t monotonic_ns()
{
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);  // bpf_ktime_get_ns's clock
    return static_cast<uint64_t>(now.tv_sec) * 1000000000ULL + static_cast<uint64_t>(now.tv_nsec);
}

} // namespace

DnsSource::DnsSource(const FlowsConfig &config, const ProcessGroups &groups)
    : tracker_(static_cast<uint64_t>(config.dns_timeout_ms) * 1000000ULL,
               config.ephemeral_port ? PortRange{static_cast<uint16_t>(config.ephemeral_port), 65535}
                                     : read_port_range("/proc/sys/net/ipv4/ip_local_port_range")),
      owners_(groups)
{
}

DnsSource::~DnsSource()
{
    if (ring_)
        ring_buffer__free(ring_);
    links_.clear();
    if (skeleton_)
        dns_bpf::destroy(skeleton_);
}

std::string DnsSource::load(unsigned ring_kib)
{
    std::string root = find_cgroup2_root("/proc/self/mounts");
    if (root.empty())
        return "no cgroup2 mount (the programs attach to its root)";
    // Some kernels (Debian's 6.12) refuse bpf_get_current_comm in an egress
    // program although libbpf's helper probe (no attach type) finds it: then
    // once more without it, the name read from /proc
    for (bool can_read_comm : {true, false}) {
        if (skeleton_)
            dns_bpf::destroy(skeleton_);
        skeleton_ = dns_bpf::open();
        if (!skeleton_)
            return "cannot open the BPF object: " + errno_text(-errno);
        if (bpf_map__set_max_entries(skeleton_->maps.dns_events, ring_kib * 1024))
            return "cannot size the ring buffer";
        skeleton_->rodata->can_read_comm = can_read_comm;
        int err = dns_bpf::load(skeleton_);
        names_from_proc_ = !can_read_comm;
        if (!err)
            break;
        if (!can_read_comm)
            return "cannot load the programs: " + errno_text(err);
    }
    int cgroup_fd = open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cgroup_fd < 0)
        return "cannot open " + root + ": " + errno_text(-errno);
    for (bpf_program *program : {skeleton_->progs.dns_egress, skeleton_->progs.dns_ingress}) {
        bpf_link *link = bpf_program__attach_cgroup(program, cgroup_fd);
        if (!link) {
            int error = -errno;
            close(cgroup_fd);
            return std::string("cannot attach ") + bpf_program__name(program) + " to " + root + ": " +
                   errno_text(error);
        }
        links_.add(link);
    }
    close(cgroup_fd);
    return "";
}

std::string DnsSource::not_applicable()
{
    // the verifier's own words would be "unknown func": say which helper
    if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_get_current_pid_tgid, nullptr) == 0)
        return "this kernel's cgroup_skb programs cannot call bpf_get_current_pid_tgid, which names the process";
    return "";
}

std::string DnsSource::verdict()
{
    ProcessGroups groups(AppsGroups{}, "/proc");
    DnsSource probe(FlowsConfig{}, groups);
    return probe.load(64);
}

std::unique_ptr<DnsSource> DnsSource::start(const FlowsConfig &config, const ProcessGroups &groups,
                                            std::string &error)
{
    std::unique_ptr<DnsSource> source(new DnsSource(config, groups));
    std::string root = find_cgroup2_root("/proc/self/mounts");
    if (std::string missing = not_applicable(); !missing.empty()) {
        error = "this kernel cannot: " + missing;
        return nullptr;
    }
    error = source->load(config.dns_ring_kib);
    if (!error.empty())
        return nullptr;
    source->ring_ = ring_buffer__new(bpf_map__fd(source->skeleton_->maps.dns_events), take_event,
                                     &source->tracker_, nullptr);
    if (!source->ring_) {
        error = "cannot map the ring buffer: " + errno_text(-errno);
        return nullptr;
    }
    log_info("dns flows: cgroup_skb programs on %s, %u KiB ring buffer, %.1f s timeout%s", root.c_str(),
             config.dns_ring_kib, config.dns_timeout_ms / 1000.0,
             source->names_from_proc_ ? "; process names from /proc (this kernel's programs cannot read them)" : "");
    return source;
}

void DnsSource::share_domain_names(DomainNames &names, FlowSource *flows, HttpFlowSource *http)
{
    tracker_.set_domain_names(&names);
    if (flows)
        flows->set_domain_names(&names);
    if (http)
        http->set_domain_names(&names);
}

void DnsSource::report(RecordStream *stream, uint64_t time_usec, bool final)
{
    ring_buffer__consume(ring_);
    if (final)
        tracker_.expire_all();
    else
        tracker_.expire(monotonic_ns());
    owners_.begin_report();
    tracker_.report(time_usec,
                    [this](uint32_t pid, uint64_t cgroup_id, std::string_view comm) {
                        return owners_.owner(pid, cgroup_id, comm);
                    },
                    [&](Record record, uint64_t) {
                        if (stream)
                            stream->emit(std::move(record));
                    });
    last_latency_ = tracker_.take_server_latency();
}

uint64_t DnsSource::ring_full() const
{
    int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0)
        return 0;
    std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
    uint32_t key = DNS_DROP_RING_FULL;
    if (bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.dns_drops), &key, per_cpu.data()) != 0)
        return 0;
    uint64_t sum = 0;
    for (uint64_t count : per_cpu)
        sum += count;
    return sum;
}

void DnsSource::add_counters(Snapshot &snapshot)
{
    static const char *const rcode_names[] = {"noerror", "formerr", "servfail", "nxdomain",
                                              "notimp",  "refused", "other"};
    const DnsClientCounts &counts = tracker_.client_counts();
    for (size_t i = 0; i < counts.by_rcode.size(); ++i)
        snapshot.system[std::string("dns_") + rcode_names[i]] = static_cast<int64_t>(counts.by_rcode[i]);
    snapshot.system["dns_timeout"] = static_cast<int64_t>(counts.timeouts);
    snapshot.system["dns_ring_full"] = static_cast<int64_t>(ring_full());
    snapshot.system["dns_unparsed"] = static_cast<int64_t>(tracker_.losses().unparsed);
    snapshot.system["dns_unmatched"] = static_cast<int64_t>(tracker_.losses().unmatched);
    snapshot.system["dns_table_full"] = static_cast<int64_t>(tracker_.losses().table_full);
    KeyedChartValues latency{.chart = "ip.ebpf_dns_KEY", .key = "latency", .dimensions = {}};
    for (const auto &[server, answered] : last_latency_)
        latency.dimensions.emplace_back(server, answered.latency_sum_ns / answered.answered / 1000);
    snapshot.keyed.push_back(std::move(latency));
    snapshot.keyed_modules.insert("dns");
}

const bpf_object *DnsSource::object() const
{
    return skeleton_ ? skeleton_->obj : nullptr;
}
