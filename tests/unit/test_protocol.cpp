// ProtocolWriter (quoting, ids, numbers, write errors) and ChartRegistry
// (what may be emitted when).
#include "core/chart_registry.h"
#include "core/protocol.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdint>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "capture.h"

namespace {

// What the code under test writes to stderr while this object lives.
class StderrCapture {
public:
    StderrCapture() : saved_(dup(2)), fd_(memfd_create("stderr", 0)) { dup2(fd_, 2); }
    ~StderrCapture() {
        dup2(saved_, 2);
        close(saved_);
        close(fd_);
    }
    std::string text() const {
        std::string text(size_t(lseek(fd_, 0, SEEK_END)), '\0');
        REQUIRE(pread(fd_, text.data(), text.size(), 0) == ssize_t(text.size()));
        return text;
    }

private:
    int saved_, fd_;
};

ChartDef fixture_chart() {
    ChartDef def;
    def.module = "process";
    def.type = "system";
    def.id = "process_thread";
    def.title = "Start process";
    def.units = "calls/s";
    def.family = "processes";
    def.context = "system.process_thread";
    def.chart_type = "line";
    def.priority = 21002;
    def.dimensions = {{"process", "process", "incremental", 1, 1, "create_process"},
                      {"thread", "thread", "incremental", 1, 1, "create_thread"}};
    return def;
}

const std::string fixture_chart_line =
    "CHART system.process_thread '' 'Start process' 'calls/s' 'processes' 'system.process_thread' line 21002 5 '' "
    "'ebpf.plugin' 'process'\n";

}  // namespace

TEST_CASE("text fields are single-quoted without quotes, backslashes or control characters") {
    CHECK(ProtocolWriter::text("hello world") == "'hello world'");
    CHECK(ProtocolWriter::text("it's \"quoted\"") == "'its quoted'");
    CHECK(ProtocolWriter::text("a = b") == "'a = b'");
    CHECK(ProtocolWriter::text("C:\\path\\") == "'C:path'");
    CHECK(ProtocolWriter::text("line1\nline2\tx\r\x7f\x01") == "'line1line2x'");
    CHECK(ProtocolWriter::text("") == "''");
    CHECK(ProtocolWriter::text("'\"\\") == "''");
    CHECK(ProtocolWriter::text("café ☕ über") == "'café ☕ über'");
}

TEST_CASE("text fields stop at 200 bytes, never inside a UTF-8 character") {
    CHECK(ProtocolWriter::text(std::string(300, 'a')) == "'" + std::string(200, 'a') + "'");
    // "é" is 2 bytes at offsets 199-200: keeping it would need 201 bytes.
    CHECK(ProtocolWriter::text(std::string(199, 'a') + "é") == "'" + std::string(199, 'a') + "'");
    CHECK(ProtocolWriter::text(std::string(198, 'a') + "é") == "'" + std::string(198, 'a') + "é'");
    // "☕" is 3 bytes at offsets 198-200.
    CHECK(ProtocolWriter::text(std::string(198, 'a') + "☕z") == "'" + std::string(198, 'a') + "'");
    // Characters are removed before the length is counted.
    CHECK(ProtocolWriter::text(std::string(10, '\'') + std::string(200, 'b')) == "'" + std::string(200, 'b') + "'");
}

TEST_CASE("ids keep [A-Za-z0-9_.-] and replace anything else") {
    CHECK(ProtocolWriter::id("apps.process_create-2") == "apps.process_create-2");
    CHECK(ProtocolWriter::id("my app") == "my_app");
    CHECK(ProtocolWriter::id("a=b'c\"d\\e\nf") == "a_b_c_d_e_f");
    CHECK(ProtocolWriter::id("café") == "caf__");
    CHECK(ProtocolWriter::id("") == "unnamed");
    CHECK(ProtocolWriter::id(std::string(150, 'x')) == std::string(100, 'x'));
    CHECK(ProtocolWriter::is_id("system.exit"));
    CHECK_FALSE(ProtocolWriter::is_id(""));
    CHECK_FALSE(ProtocolWriter::is_id("a b"));
}

TEST_CASE("every line has its exact format") {
    Capture out;
    out.writer.chart({.full_id = "system.process_thread",
                      .title = "Start 'process'",
                      .units = "calls/s",
                      .family = "processes",
                      .context = "system.process_thread",
                      .chart_type = "line",
                      .priority = 21002,
                      .update_every = 5,
                      .options = "",
                      .module = "process"});
    out.writer.dimension("process", "process = new", "incremental", -1, 1000);
    out.writer.clabel("cgroup_name", "docker a", 1);
    out.writer.clabel_commit();
    out.writer.begin("system.process_thread", 0);
    out.writer.begin("system.process_thread", 1000123);
    out.writer.set("process", 7);
    out.writer.set_empty("thread");
    out.writer.end();
    out.writer.disable();
    CHECK(out.take() ==
          "CHART system.process_thread '' 'Start process' 'calls/s' 'processes' 'system.process_thread' line 21002 5 "
          "'' 'ebpf.plugin' 'process'\n"
          "DIMENSION process 'process = new' incremental -1 1000 ''\n"
          "CLABEL 'cgroup_name' 'docker a' 1\n"
          "CLABEL_COMMIT\n"
          "BEGIN system.process_thread\n"
          "BEGIN system.process_thread 1000123\n"
          "SET process = 7\n"
          "SET thread =\n"
          "END\n"
          "DISABLE\n");
}

TEST_CASE("unquoted words can not split a line") {
    Capture out;
    out.writer.chart({.full_id = "bad id.x y", .chart_type = "stacked area", .module = "m"});
    out.writer.begin("", 0);
    out.writer.set("a b", 1);
    CHECK(out.take() == "CHART bad_id.x_y '' '' '' '' '' stacked_area 1000 1 '' 'ebpf.plugin' 'm'\n"
                        "BEGIN unnamed\n"
                        "SET a_b = 1\n");
}

TEST_CASE("numbers are plain decimal") {
    Capture out;
    out.writer.set("d", 0);
    out.writer.set("d", -1);
    out.writer.set("d", 10);
    out.writer.set("d", INT64_MAX);
    out.writer.set("d", INT64_MIN);
    out.writer.begin("a.b", UINT64_MAX);
    CHECK(out.take() == "SET d = 0\n"
                        "SET d = -1\n"
                        "SET d = 10\n"
                        "SET d = 9223372036854775807\n"
                        "SET d = -9223372036854775808\n"
                        "BEGIN a.b 18446744073709551615\n");
}

TEST_CASE("flush writes everything through a pipe") {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    std::string received;
    std::thread reader([&] {
        char chunk[4096];
        for (ssize_t n; (n = read(fds[0], chunk, sizeof chunk)) > 0;)
            received.append(chunk, size_t(n));
    });
    {
        ProtocolWriter writer(fds[1]);
        for (int i = 0; i < 20000; i++)  // 20000 * 15 bytes: more than a pipe holds
            writer.set("dim", 1000 + i % 9000);
        CHECK(writer.flush());
        CHECK_FALSE(writer.failed());
    }
    close(fds[1]);
    reader.join();
    close(fds[0]);
    REQUIRE(received.size() == 20000 * 15);
    CHECK(received.substr(0, 30) == "SET dim = 1000\nSET dim = 1001\n");
    CHECK(received.substr(received.size() - 15) == "SET dim = 2999\n");
}

TEST_CASE("flush to a pipe whose reader is gone fails and stays failed") {
    struct sigaction ignore = {}, previous = {};
    ignore.sa_handler = SIG_IGN;
    REQUIRE(sigaction(SIGPIPE, &ignore, &previous) == 0);  // as the agent starts plugins
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    close(fds[0]);

    ProtocolWriter writer(fds[1]);
    writer.end();
    CHECK_FALSE(writer.flush());
    CHECK(writer.failed());
    CHECK(writer.error() == EPIPE);
    writer.end();
    CHECK_FALSE(writer.flush());
    CHECK(writer.failed());

    close(fds[1]);
    sigaction(SIGPIPE, &previous, nullptr);
}

TEST_CASE("registry: declare sends CHART, DIMENSIONs, CLABELs and CLABEL_COMMIT once") {
    Capture out;
    ChartRegistry registry(out.writer, 5);
    ChartDef def = fixture_chart();
    CHECK_FALSE(registry.declared("system.process_thread"));
    registry.declare("system.process_thread", def, def.dimensions, {{"cgroup_name", "web"}});
    CHECK(registry.declared("system.process_thread"));
    CHECK(out.take() == fixture_chart_line +
                            "DIMENSION process 'process' incremental 1 1 ''\n"
                            "DIMENSION thread 'thread' incremental 1 1 ''\n"
                            "CLABEL 'cgroup_name' 'web' 1\n"
                            "CLABEL_COMMIT\n");

    registry.declare("system.process_thread", def, def.dimensions, {{"cgroup_name", "web"}});
    CHECK(out.take() == "");

    std::vector<DimensionDef> more = def.dimensions;
    more.push_back({"zombie", "zombie", "absolute", 1, 1, "zombies"});
    registry.declare("system.process_thread", def, more);
    CHECK(out.take() == fixture_chart_line + "DIMENSION zombie 'zombie' absolute 1 1 ''\n");
}

TEST_CASE("registry: BEGIN carries the microseconds since the chart's previous BEGIN") {
    Capture out;
    ChartRegistry registry(out.writer, 5);
    ChartDef def = fixture_chart();
    registry.declare("system.process_thread", def, def.dimensions);
    registry.declare("system.other", def, def.dimensions);
    out.take();

    CHECK(registry.begin("system.process_thread", 1'000'000));
    registry.set("process", 1);
    registry.end();
    CHECK(registry.begin("system.process_thread", 2'000'250));
    registry.end();
    CHECK(registry.begin("system.other", 2'500'000));
    registry.end();
    CHECK(registry.begin("system.process_thread", 7'000'250));
    registry.end();
    CHECK(registry.begin("system.process_thread", 7'000'250));  // clock did not move
    registry.end();
    CHECK(out.take() == "BEGIN system.process_thread\n"
                        "SET process = 1\n"
                        "END\n"
                        "BEGIN system.process_thread 1000250\n"
                        "END\n"
                        "BEGIN system.other\n"
                        "END\n"
                        "BEGIN system.process_thread 5000000\n"
                        "END\n"
                        "BEGIN system.process_thread\n"
                        "END\n");
}

TEST_CASE("registry: undeclared charts and dimensions never reach the agent") {
    Capture out;
    StderrCapture errors;
    ChartRegistry registry(out.writer, 5);
    ChartDef def = fixture_chart();

    CHECK_FALSE(registry.begin("system.process_thread", 1));
    CHECK_FALSE(registry.begin("system.process_thread", 2));
    registry.set("process", 1);
    registry.set_empty("process");
    registry.end();
    registry.obsolete("system.process_thread");
    registry.declare("no_dot", def, def.dimensions);
    registry.declare("system.", def, def.dimensions);
    CHECK(out.take() == "");

    registry.declare("system.process_thread", def, {{"bad id", "x", "absolute", 1, 1, "c"}, def.dimensions[0]});
    CHECK(out.take() == fixture_chart_line + "DIMENSION process 'process' incremental 1 1 ''\n");
    CHECK(registry.begin("system.process_thread", 3));
    registry.set("thread", 5);
    registry.set("bad id", 5);
    registry.set("process", 5);
    CHECK_FALSE(registry.begin("system.process_thread", 4));  // still open
    registry.declare("system.new", def, def.dimensions);       // not between BEGIN and END
    registry.end();
    registry.end();
    CHECK(out.take() == "BEGIN system.process_thread\n"
                        "SET process = 5\n"
                        "END\n");
    CHECK(log_messages(errors.text()) ==
          "refused BEGIN of the undeclared chart system.process_thread (a bug; reported once)\n"
          "refused SET process outside BEGIN/END (a bug; reported once)\n"
          "refused END without BEGIN (a bug; reported once)\n"
          "refused obsoleting the undeclared chart system.process_thread (a bug; reported once)\n"
          "refused CHART with the invalid id 'no_dot' (a bug; reported once)\n"
          "refused CHART with the invalid id 'system.' (a bug; reported once)\n"
          "refused DIMENSION with the invalid id 'bad id' in system.process_thread (a bug; reported once)\n"
          "refused SET of the undeclared dimension thread in system.process_thread (a bug; reported once)\n"
          "refused SET of the undeclared dimension bad id in system.process_thread (a bug; reported once)\n"
          "refused BEGIN system.process_thread before END of system.process_thread (a bug; reported once)\n"
          "refused CHART system.new between BEGIN system.process_thread and END (a bug; reported once)\n");
}

TEST_CASE("registry: an obsolete chart is undeclared until declared again") {
    Capture out;
    ChartRegistry registry(out.writer, 5);
    ChartDef def = fixture_chart();
    registry.declare("cgroup_web.process_thread", def, {def.dimensions[0]}, {{"cgroup_name", "web"}});
    CHECK(registry.begin("cgroup_web.process_thread", 1'000'000));
    registry.end();
    out.take();

    registry.obsolete("cgroup_web.process_thread");
    CHECK_FALSE(registry.declared("cgroup_web.process_thread"));
    CHECK(out.take() == "CHART cgroup_web.process_thread '' 'Start process' 'calls/s' 'processes' "
                        "'system.process_thread' line 21002 5 'obsolete' 'ebpf.plugin' 'process'\n");

    registry.declare("cgroup_web.process_thread", def, {def.dimensions[0]}, {{"cgroup_name", "web"}});
    CHECK(registry.begin("cgroup_web.process_thread", 3'000'000));
    registry.end();
    CHECK(out.take() == "CHART cgroup_web.process_thread '' 'Start process' 'calls/s' 'processes' "
                        "'system.process_thread' line 21002 5 '' 'ebpf.plugin' 'process'\n"
                        "DIMENSION process 'process' incremental 1 1 ''\n"
                        "CLABEL 'cgroup_name' 'web' 1\n"
                        "CLABEL_COMMIT\n"
                        "BEGIN cgroup_web.process_thread\n"
                        "END\n");
}

namespace {
int waits = 0;
bool count_wait(int) { return ++waits, true; }
bool refuse_wait(int) { return ++waits, false; }
}  // namespace

TEST_CASE("flush waits before every write of at most PIPE_BUF bytes") {
    int fd = memfd_create("protocol", 0);
    REQUIRE(fd >= 0);
    ProtocolWriter writer(fd, count_wait);
    for (int i = 0; i < 20000; i++)
        writer.set("dim", 1000 + i % 9000);
    waits = 0;
    CHECK(writer.flush());
    CHECK(waits == (20000 * 15 + PIPE_BUF - 1) / PIPE_BUF);
    CHECK(lseek(fd, 0, SEEK_END) == 20000 * 15);
    close(fd);
}

TEST_CASE("flush gives up without writing when the wait says stop") {
    int fd = memfd_create("protocol", 0);
    REQUIRE(fd >= 0);
    ProtocolWriter writer(fd, refuse_wait);
    writer.end();
    waits = 0;
    CHECK_FALSE(writer.flush());
    CHECK(waits == 1);
    CHECK(writer.failed());
    CHECK(writer.error() == 0);
    CHECK(lseek(fd, 0, SEEK_END) == 0);
    close(fd);
}
