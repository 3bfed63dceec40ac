#include "traces/trace_records.h"

#include <cstring>
#include <netinet/in.h>

#include "net/flow_records.h"
#include "traces/traces_config.h"

namespace {

size_t size_of_kind(uint32_t kind)
{
    switch (kind) {
    case TRACE_EXEC: return TRACE_HEADER_SIZE + sizeof(trace_exec);
    case TRACE_SIGNAL: return TRACE_HEADER_SIZE + sizeof(trace_signal);
    case TRACE_BIND: return TRACE_HEADER_SIZE + sizeof(trace_bind);
    case TRACE_TCP: return TRACE_HEADER_SIZE + sizeof(trace_tcp);
    case TRACE_VFS: return TRACE_HEADER_SIZE + sizeof(trace_vfs);
    case TRACE_MALLOC: return TRACE_HEADER_SIZE + sizeof(trace_malloc);
    default: return 0;
    }
}

// A C string of at most `size` bytes (the kernel may have filled them all).
std::string bounded(const char *text, size_t size)
{
    return std::string(text, strnlen(text, size));
}

const char *tcp_event_type(uint8_t op)
{
    switch (op) {
    case TRACE_TCP_LISTEN: return "listen";
    case TRACE_TCP_ACCEPT: return "accept";
    default: return "connect";
    }
}

void add_exec(Record &record, const trace_exec &exec)
{
    // Fluent Bit's stages: a record when execve is called (error_raw 0), one when it returns
    record.add("stage", exec.stage == TRACE_EXEC_ENTER ? "enter" : "exit")
        .add("ppid", exec.ppid)
        .add("filename", bounded(exec.filename, sizeof(exec.filename)))
        .add("argv", bounded(exec.argv[0], TRACE_ARG_LEN))
        .add("argv1", bounded(exec.argv[1], TRACE_ARG_LEN))
        .add("argv2", bounded(exec.argv[2], TRACE_ARG_LEN))
        .add("argv_last", bounded(exec.argv[3], TRACE_ARG_LEN))
        .add("argc", exec.argc)
        .add("error_raw", exec.error);
}

void add_tcp(Record &record, const trace_tcp &tcp)
{
    record.add("fd", tcp.fd);
    if (tcp.op == TRACE_TCP_LISTEN) {
        record.add("backlog", tcp.backlog);
    } else if (tcp.op == TRACE_TCP_ACCEPT) {
        record.add("new_fd", tcp.new_fd);
        if (tcp.peer.family)
            record.add("peer_port", tcp.peer.port).add("peer_addr", trace_addr_text(tcp.peer));
    } else {
        record.add("remote_port", tcp.peer.port).add("remote_addr", trace_addr_text(tcp.peer));
    }
    record.add("error_raw", tcp.error);
}

} // namespace

std::string trace_addr_text(const trace_addr &addr)
{
    return addr.family ? flow_ip_text(addr.family, addr.addr) : "";
}

std::optional<traced_event> decode_trace_event(const void *data, size_t size)
{
    if (size < TRACE_HEADER_SIZE)
        return std::nullopt;
    traced_event event{};
    memcpy(&event, data, TRACE_HEADER_SIZE);
    size_t needed = size_of_kind(event.kind);
    if (!needed || size < needed)
        return std::nullopt;
    memcpy(&event, data, needed);
    return event;
}

Record trace_record(const traced_event &event, const TraceOwner &owner, int64_t realtime_offset_ns)
{
    int64_t realtime_ns = static_cast<int64_t>(event.time_ns) + realtime_offset_ns;
    Record record(trace_name(event.kind), static_cast<uint64_t>(realtime_ns > 0 ? realtime_ns / 1000 : 0));
    record.add("event_type", event.kind == TRACE_TCP ? tcp_event_type(event.tcp.op) : trace_name(event.kind))
        .add("pid", event.pid)
        .add("tid", event.tid)
        .add("comm", bounded(event.comm, sizeof(event.comm)));
    switch (event.kind) {
    case TRACE_EXEC:
        add_exec(record, event.exec);
        break;
    case TRACE_SIGNAL:
        record.add("signal", event.signal.signal).add("tpid", event.signal.tpid).add("error_raw", event.signal.error);
        break;
    case TRACE_BIND:
        record.add("gid", event.gid)
            .add("port", event.bind.local.port)
            .add("bound_dev_if", event.bind.bound_dev_if)
            .add("error_raw", event.bind.error)
            .add("addr", trace_addr_text(event.bind.local))
            .add("fd", event.bind.fd);
        break;
    case TRACE_TCP:
        add_tcp(record, event.tcp);
        break;
    case TRACE_VFS:
        record.add("operation", event.vfs.op)
            .add("path", bounded(event.vfs.path, sizeof(event.vfs.path)))
            .add("flags", event.vfs.flags)
            .add("mode", event.vfs.mode)
            .add("fd", event.vfs.fd)
            .add("error_raw", event.vfs.error);
        break;
    case TRACE_MALLOC:
        record.add("operation", event.malloc.op).add("address", event.malloc.address).add("size", event.malloc.size);
        break;
    default:
        break;
    }
    record.add("uid", event.uid);
    record.tag("cgroup", owner.cgroup);
    record.tag("service", owner.service);
    record.tag("app_group", owner.app_group);
    return record;
}
