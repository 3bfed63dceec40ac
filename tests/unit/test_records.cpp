#include "records/record.h"
#include "records/records_config.h"
#include "records/sinks.h"
#include "records/sources.h"
#include "records/stream.h"

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdlib.h>
#include <thread>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// 2026-12-01T14:00:00.000123Z
constexpr uint64_t kTime = 1796133600000123ull;

// A sink that holds every write until released, and counts what it got.
class GateSink : public RecordSink {
public:
    const char *name() const override { return "gate"; }
    bool write(const Record &record) override
    {
        std::unique_lock lock(mutex);
        ++entered;
        entered_cv.notify_all();
        while (!open && !abandoned_)  // as a real sink: a stop is seen within a slice
            open_cv.wait_for(lock, std::chrono::milliseconds(10));
        if (abandoned_)
            return fail(ECANCELED);
        sequences.push_back(std::get<uint64_t>(record.fields.at(0).value));
        return true;
    }
    void wait_entered(int n)
    {
        std::unique_lock lock(mutex);
        entered_cv.wait(lock, [&] { return entered >= n; });
    }
    void release()
    {
        std::lock_guard lock(mutex);
        open = true;
        open_cv.notify_all();
    }
    std::mutex mutex;
    std::condition_variable entered_cv, open_cv;
    int entered = 0;
    bool open = false;
    std::vector<uint64_t> sequences;
};

Record numbered(uint64_t n)
{
    Record record("test", kTime);
    record.add("sequence", n);
    return record;
}

struct TempDir {
    fs::path path;
    TempDir()
    {
        char name[] = "/tmp/test_records.XXXXXX";
        path = mkdtemp(name);
    }
    ~TempDir() { fs::remove_all(path); }
};

std::vector<std::string> lines_of(const fs::path &file)
{
    std::ifstream in(file);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

} // namespace

TEST_CASE("records: JSON has timestamp, host, source, then the fields in order, typed")
{
    Record record("netflow", kTime);
    record.host = "web-1";
    record.add("src_ip", "10.0.0.1").add("src_port", uint16_t(443)).add("bytes_read", uint64_t(18446744073709551615ull))
        .add("rcode", -1).add("rtt", 1.5).add("truncated", true);
    CHECK(record_json(record) ==
          R"({"timestamp":"2026-12-01T14:00:00.000123Z","host":"web-1","source":"netflow","src_ip":"10.0.0.1",)"
          R"("src_port":443,"bytes_read":18446744073709551615,"rcode":-1,"rtt":1.5,"truncated":true})");
}

TEST_CASE("records: strings are escaped by the JSON library; bytes that are not UTF-8 become U+FFFD")
{
    Record record("bash", kTime);
    record.add("cmd", "echo \"a\\b\"\n\t\x01 caf\xc3\xa9 \xff end");
    json parsed = json::parse(record_json(record));
    CHECK(parsed["cmd"] == "echo \"a\\b\"\n\t\x01 caf\xc3\xa9 \xef\xbf\xbd end");
    CHECK(record_json(record).find('\n') == std::string::npos);
}

TEST_CASE("records: a field named like the stream's own is prefixed")
{
    Record record("exec", kTime);
    record.host = "h";
    record.add("host", "other").add("source", "x").add("timestamp", 5);
    json parsed = json::parse(record_json(record));
    CHECK(parsed["host"] == "h");
    CHECK(parsed["source"] == "exec");
    CHECK(parsed["field_host"] == "other");
    CHECK(parsed["field_source"] == "x");
    CHECK(parsed["field_timestamp"] == 5);
}

TEST_CASE("records: journal field names are upper-cased and cleaned as journald wants")
{
    CHECK(journal_field_name("src_ip") == "SRC_IP");
    CHECK(journal_field_name("argv-1.x") == "ARGV_1_X");
    CHECK(journal_field_name("_private") == "F_PRIVATE");
    CHECK(journal_field_name("1st") == "F1ST");
    CHECK(journal_field_name("") == "F");
    CHECK(journal_field_name(std::string(100, 'a')) == std::string(64, 'A'));

    Record record("dnsflow", kTime);
    record.host = "h";
    record.add("rcode", 3).add("timeout", false).add("message", "m").add("latency", 0.25);
    std::vector<std::string> fields = record_journal_fields(record);
    std::vector<std::string> expected = {"MESSAGE=dnsflow rcode=3 timeout=false message=m latency=0.25",
                                         "PRIORITY=6",
                                         "SYSLOG_IDENTIFIER=ebpf.plugin",
                                         "TIMESTAMP=2026-12-01T14:00:00.000123Z",
                                         "HOST=h",
                                         "SOURCE=dnsflow",
                                         "RCODE=3",
                                         "TIMEOUT=false",
                                         "FIELD_MESSAGE=m",
                                         "LATENCY=0.25"};
    CHECK(fields == expected);
}

TEST_CASE("records: configuration")
{
    std::vector<std::string> warnings;
    Warn warn = [&](const std::string &line) { warnings.push_back(line); };
    RecordsConfig config = parse_records_config("r.conf",
                                                "[records]\n    journal = yes\n    file = /var/log/r.json\n"
                                                "    file max size = 64k\n    file rotations kept = 3\n"
                                                "    queue size = 100\n    hostname = box\n",
                                                warn);
    CHECK(warnings.empty());
    CHECK(config.journal);
    CHECK(config.file == "/var/log/r.json");
    CHECK(config.file_max_bytes == 65536);
    CHECK(config.file_keep == 3);
    CHECK(config.queue == 100);
    CHECK(config.hostname == "box");

    config = parse_records_config("r.conf",
                                  "[records]\njournal = maybe\nfile = relative.json\nfile max size = 0\n"
                                  "file rotations kept = 0\nqueue size = x\ncolour = red\n[other]\na = b\n",
                                  warn);
    std::vector<std::string> expected = {
        "ebpf.plugin: r.conf:2: invalid value 'maybe' for 'journal'; using no",
        "ebpf.plugin: r.conf:3: invalid value 'relative.json' for 'file'; using no file (give an absolute path)",
        "ebpf.plugin: r.conf:4: invalid value '0' for 'file max size'; using 10485760",
        "ebpf.plugin: r.conf:5: invalid value '0' for 'file rotations kept'; using 5 (1 to 1000)",
        "ebpf.plugin: r.conf:6: invalid value 'x' for 'queue size'; using 10000 (1 to 1000000)",
        "ebpf.plugin: r.conf:7: option 'colour' in [records] is not supported; ignored",
        "ebpf.plugin: r.conf:9: section [other] is not supported; ignored"};
    CHECK(warnings == expected);
    CHECK_FALSE(config.journal);
    CHECK(config.file.empty());

    CHECK(parse_byte_size("4096") == 4096u);
    CHECK(parse_byte_size("10M") == 10u << 20);
    CHECK(parse_byte_size("1 GiB") == 1u << 30);
    CHECK_FALSE(parse_byte_size("10X"));
    CHECK_FALSE(parse_byte_size("-1"));
    CHECK_FALSE(parse_byte_size("99999999999999G"));
}

TEST_CASE("records: --records names")
{
    std::vector<std::string> errors;
    CHECK(parse_record_names("flows,dnsflow,trace_exec,bash", errors) ==
          std::set<std::string>{"netflow", "dnsflow", "exec", "bash"});
    CHECK(parse_record_names("all", errors).size() == record_sources().size());
    CHECK(parse_record_names("test", errors) == std::set<std::string>{"test"});
    CHECK(errors.empty());
    CHECK(parse_record_names("flows,nope,", errors) == std::set<std::string>{"netflow"});
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].starts_with("--records: unknown name 'nope'"));
    CHECK(errors[1].starts_with("--records: unknown name ''"));
}

TEST_CASE("records: a full queue drops exactly what does not fit, and emit never waits")
{
    auto owned = std::make_unique<GateSink>();
    GateSink &gate = *owned;
    RecordStream stream("h", 5);
    stream.add_sink(std::move(owned));
    stream.emit(numbered(1));
    gate.wait_entered(1);  // record 1 is being written; the queue is empty
    auto start = std::chrono::steady_clock::now();
    for (uint64_t n = 2; n <= 12; ++n)
        stream.emit(numbered(n));
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
    std::vector<SinkCounts> counts = stream.counts();
    CHECK(counts.at(0).dropped == 6);  // 2..6 queued, 7..12 dropped
    gate.release();
    stream.stop(2000);
    counts = stream.counts();
    CHECK(stream.emitted() == 12);
    CHECK(counts.at(0).sink == "gate");
    CHECK(counts.at(0).written == 6);
    CHECK(counts.at(0).dropped == 6);
    CHECK(gate.sequences == std::vector<uint64_t>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("records: stop gives up on a stuck sink within its timeout and counts what is lost")
{
    auto owned = std::make_unique<GateSink>();
    GateSink &gate = *owned;
    RecordStream stream("h", 100);
    stream.add_sink(std::move(owned));
    for (uint64_t n = 1; n <= 10; ++n)
        stream.emit(numbered(n));
    gate.wait_entered(1);
    auto start = std::chrono::steady_clock::now();
    stream.stop(100);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500));
    CHECK(stream.counts().at(0).written == 0);
    CHECK(stream.counts().at(0).dropped == 10);
    stream.emit(numbered(11));  // after stop: dropped, not queued
    CHECK(stream.counts().at(0).dropped == 11);
}

TEST_CASE("records: the file sink rotates before a line would pass the size, and loses no line")
{
    TempDir dir;
    fs::path path = dir.path / "records.json";
    std::string error;
    RecordStream stream("h", 1000);
    auto sink = make_file_sink(path.string(), 600, 1000, FileFormat::Json, error);
    REQUIRE(sink);
    stream.add_sink(std::move(sink));
    TestRecordSource source;
    for (int i = 0; i < 200; ++i)
        stream.emit(source.next());
    stream.stop(5000);
    CHECK(stream.counts().at(0).written == 200);
    CHECK(stream.counts().at(0).dropped == 0);

    std::vector<uint64_t> sequences;
    size_t files = 0;
    for (size_t n = 1000; n >= 1; --n) {  // oldest first
        fs::path rotated = path.string() + "." + std::to_string(n);
        if (!fs::exists(rotated))
            continue;
        ++files;
        CHECK(fs::file_size(rotated) <= 600);
        for (const std::string &line : lines_of(rotated))
            sequences.push_back(json::parse(line)["sequence"].get<uint64_t>());
    }
    for (const std::string &line : lines_of(path))
        sequences.push_back(json::parse(line)["sequence"].get<uint64_t>());
    CHECK(files > 10);
    REQUIRE(sequences.size() == 200);
    for (uint64_t i = 0; i < 200; ++i)
        CHECK(sequences[i] == i + 1);
}

TEST_CASE("records: the file sink keeps only the newest rotations")
{
    TempDir dir;
    fs::path path = dir.path / "r.json";
    std::string error;
    auto sink = make_file_sink(path.string(), 400, 2, FileFormat::Json, error);
    REQUIRE(sink);
    TestRecordSource source;
    for (int i = 0; i < 50; ++i)
        REQUIRE(sink->write(source.next()));
    CHECK(fs::exists(path.string() + ".1"));
    CHECK(fs::exists(path.string() + ".2"));
    CHECK_FALSE(fs::exists(path.string() + ".3"));
    std::vector<uint64_t> kept;
    for (const fs::path &file : {fs::path(path.string() + ".2"), fs::path(path.string() + ".1"), path})
        for (const std::string &line : lines_of(file))
            kept.push_back(json::parse(line)["sequence"].get<uint64_t>());
    REQUIRE(!kept.empty());
    CHECK(kept.back() == 50);
    for (size_t i = 1; i < kept.size(); ++i)
        CHECK(kept[i] == kept[i - 1] + 1);
}

TEST_CASE("records: the file sink refuses what is not a regular file")
{
    std::string error;
    CHECK_FALSE(make_file_sink("/dev/null", 100, 1, FileFormat::Json, error));
    CHECK(error == "Invalid argument");
    CHECK_FALSE(make_file_sink("/nonexistent/dir/r.json", 100, 1, FileFormat::Json, error));
    CHECK(error == "No such file or directory");
}

TEST_CASE("records: the stock ebpf.d/records.conf reads cleanly and turns every sink off")
{
    fs::path stock = fs::path(__FILE__).parent_path().parent_path().parent_path() / "conf.d";
    std::vector<std::string> warnings;
    RecordsConfig config = load_records_config({"", stock.string()}, [&](const std::string &w) { warnings.push_back(w); });
    CHECK(warnings.empty());
    CHECK_FALSE(config.journal);
    CHECK(config.file.empty());
    CHECK(config.file_max_bytes == 10u << 20);
    CHECK(config.file_keep == 5);
    CHECK(config.queue == 10000);
    CHECK(config.hostname.empty());
    CHECK(config.file_format == FileFormat::Json);
}

TEST_CASE("records: InfluxDB line protocol with DataKit's tags and fields")
{
    Record record("netflow", kTime);
    record.host = "web 1";
    record.tag("src_ip", "10.0.0.1").tag("direction", "outgoing").tag("dst_nat_ip", "")
        .add("bytes_read", uint64_t(512)).add("rtt", 1.5).add("retransmits", -0).add("big", uint64_t(1) << 63)
        .add("cmd", "a \"b\" c\\d\ne,f=g").add("ok", true);
    CHECK(record_line_protocol(record) ==
          "netflow,host=web\\ 1,src_ip=10.0.0.1,direction=outgoing bytes_read=512i,rtt=1.5,retransmits=0i,"
          "big=9223372036854775808u,cmd=\"a \\\"b\\\" c\\\\d e,f=g\",ok=true 1796133600000123000");
    Record tags_only("x,y", kTime);
    tags_only.tag("a", "b");
    CHECK(record_line_protocol(tags_only) == "");
    // JSON and the journal ignore the tag mark.
    CHECK(json::parse(record_json(record))["src_ip"] == "10.0.0.1");

    std::vector<std::string> warnings;
    RecordsConfig config = parse_records_config("r.conf", "[records]\nfile format = influx\n",
                                                [&](const std::string &w) { warnings.push_back(w); });
    CHECK(warnings.empty());
    CHECK(config.file_format == FileFormat::LineProtocol);
    parse_records_config("r.conf", "[records]\nfile format = csv\n", [&](const std::string &w) { warnings.push_back(w); });
    CHECK(warnings == std::vector<std::string>{"ebpf.plugin: r.conf:2: invalid value 'csv' for 'file format'; using json"});
}
