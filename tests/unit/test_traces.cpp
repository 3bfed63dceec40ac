#include "traces/trace_records.h"
#include "traces/traces_config.h"

#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <netinet/in.h>

namespace {

traced_event header(uint32_t kind)
{
    traced_event event{};
    event.time_ns = 5'000'000'000;
    event.kind = kind;
    event.pid = 100;
    event.tid = 101;
    event.uid = 1000;
    event.gid = 1001;
    strcpy(event.comm, "worker");
    return event;
}

template <typename Value>
Value field(const Record &record, const std::string &name)
{
    for (const Field &f : record.fields)
        if (f.name == name)
            return std::get<Value>(f.value);
    FAIL("no field " << name);
    return Value{};
}

bool has_field(const Record &record, const std::string &name)
{
    for (const Field &f : record.fields)
        if (f.name == name)
            return true;
    return false;
}

} // namespace

TEST_CASE("traces: traces.conf")
{
    std::vector<std::string> warnings;
    Warn warn = [&](const std::string &line) { warnings.push_back(line); };
    TracesConfig config = parse_traces_config("traces.conf",
                                              "[traces]\n"
                                              "    ring buffer size = 1M\n"
                                              "    cgroup = system.slice/x.service\n"
                                              "[trace_exec]\n"
                                              "    enabled = yes\n"
                                              "    records per second = 0\n"
                                              "[trace_malloc]\n"
                                              "    enabled = yes\n"
                                              "    pids = 12 34\n",
                                              warn);
    CHECK(warnings.empty());
    CHECK(config.ring_bytes == 1 << 20);
    CHECK(config.cgroup == "system.slice/x.service");
    CHECK(config.traces[TRACE_EXEC].enabled);
    CHECK(config.traces[TRACE_EXEC].records_per_second == 0);
    CHECK(!config.traces[TRACE_SIGNAL].enabled);
    CHECK(config.traces[TRACE_SIGNAL].records_per_second == 1000);
    CHECK(config.traces[TRACE_MALLOC].records_per_second == 100);
    CHECK(config.malloc_pids == std::vector<uint32_t>{12, 34});
    CHECK(config.any_enabled());

    config = parse_traces_config("traces.conf", "[traces]\nring buffer size = 3000\n[trace_vfs]\nenabled = maybe\n",
                                 warn);
    CHECK(config.ring_bytes == 4 << 20);
    CHECK(!config.any_enabled());
    REQUIRE(warnings.size() == 2);
    CHECK(warnings[0] == "ebpf.plugin: traces.conf:2: invalid value '3000' for 'ring buffer size'; using 4194304 "
                         "(a power of 2 from 4k to 1G)");
    CHECK(warnings[1] == "ebpf.plugin: traces.conf:4: invalid value 'maybe' for 'enabled'; using no");
    CHECK(trace_kind_of("trace_tcp") == TRACE_TCP);
    CHECK(trace_kind_of("tcp") == TRACE_TCP);
    CHECK(trace_kind_of("bash") == TRACE_KINDS);
}

TEST_CASE("traces: an exec record has Fluent Bit's fields and the owner")
{
    traced_event event = header(TRACE_EXEC);
    event.exec.ppid = 7;
    event.exec.argc = 5;
    event.exec.error = 2;
    strcpy(event.exec.filename, "/bin/true");
    strcpy(event.exec.argv[0], "true");
    strcpy(event.exec.argv[1], "a");
    strcpy(event.exec.argv[2], "b");
    memset(event.exec.argv[3], 'x', TRACE_ARG_LEN);  // not terminated: the kernel filled it
    Record record = trace_record(event, {"cg", "", "grp"}, 1'000'000'000);
    CHECK(record.source == "exec");
    CHECK(record.time_usec == 6'000'000);
    CHECK(field<std::string>(record, "event_type") == "exec");
    CHECK(field<uint64_t>(record, "pid") == 100);
    CHECK(field<uint64_t>(record, "tid") == 101);
    CHECK(field<std::string>(record, "comm") == "worker");
    CHECK(field<std::string>(record, "stage") == "exit");
    CHECK(field<uint64_t>(record, "ppid") == 7);
    CHECK(field<std::string>(record, "filename") == "/bin/true");
    CHECK(field<std::string>(record, "argv") == "true");
    CHECK(field<std::string>(record, "argv1") == "a");
    CHECK(field<std::string>(record, "argv2") == "b");
    CHECK(field<std::string>(record, "argv_last") == std::string(TRACE_ARG_LEN, 'x'));
    CHECK(field<uint64_t>(record, "argc") == 5);
    CHECK(field<int64_t>(record, "error_raw") == 2);
    CHECK(field<std::string>(record, "cgroup") == "cg");
    CHECK(field<std::string>(record, "app_group") == "grp");
    event.exec.stage = TRACE_EXEC_ENTER;
    CHECK(field<std::string>(trace_record(event, {}, 0), "stage") == "enter");
}

TEST_CASE("traces: tcp records are listen, accept or connect with their own fields")
{
    traced_event event = header(TRACE_TCP);
    event.tcp.op = TRACE_TCP_ACCEPT;
    event.tcp.fd = 3;
    event.tcp.new_fd = 4;
    event.tcp.peer.family = AF_INET6;
    const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 9};
    memcpy(event.tcp.peer.addr, mapped, 16);
    event.tcp.peer.port = 40000;
    Record accept = trace_record(event, {}, 0);
    CHECK(accept.source == "tcp");
    CHECK(field<std::string>(accept, "event_type") == "accept");
    CHECK(field<int64_t>(accept, "new_fd") == 4);
    CHECK(field<std::string>(accept, "peer_addr") == "10.0.0.9");
    CHECK(field<uint64_t>(accept, "peer_port") == 40000);
    CHECK(!has_field(accept, "backlog"));
    CHECK(!has_field(accept, "remote_addr"));

    event.tcp.op = TRACE_TCP_LISTEN;
    event.tcp.backlog = 128;
    Record listen = trace_record(event, {}, 0);
    CHECK(field<std::string>(listen, "event_type") == "listen");
    CHECK(field<int64_t>(listen, "backlog") == 128);
    CHECK(!has_field(listen, "peer_addr"));
}

TEST_CASE("traces: decoding refuses short or unknown events")
{
    traced_event event = header(TRACE_SIGNAL);
    event.signal.signal = 15;
    event.signal.tpid = -1;
    CHECK(!decode_trace_event(&event, TRACE_HEADER_SIZE));
    auto decoded = decode_trace_event(&event, TRACE_HEADER_SIZE + sizeof(trace_signal));
    REQUIRE(decoded);
    Record record = trace_record(*decoded, {}, 0);
    CHECK(field<int64_t>(record, "signal") == 15);
    CHECK(field<int64_t>(record, "tpid") == -1);
    event.kind = TRACE_KINDS;
    CHECK(!decode_trace_event(&event, sizeof(event)));
}

TEST_CASE("traces: the stock ebpf.d/traces.conf reads cleanly and turns every trace off")
{
    std::filesystem::path stock = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "conf.d";
    std::vector<std::string> warnings;
    TracesConfig config = load_traces_config({"", stock.string()}, [&](const std::string &w) { warnings.push_back(w); });
    CHECK(warnings.empty());
    CHECK(!config.any_enabled());
    CHECK(config.ring_bytes == 4u << 20);
    CHECK(config.cgroup.empty());
    CHECK(config.malloc_pids.empty());
    for (unsigned kind = 0; kind < TRACE_MALLOC; ++kind)
        CHECK(config.traces[kind].records_per_second == 1000);
    CHECK(config.traces[TRACE_MALLOC].records_per_second == 100);
}
