// Test source for the record stream's real sinks: emits --count records of the
// test source (numbered from 1, tagged with --run) through a RecordStream with
// the sinks asked for, stops it, and prints its counts as one JSON object:
// (--influx: the file in line protocol)
//   {"emitted":N,"sinks":{"file":{"written":W,"dropped":D,"error":""}}}
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "records/sources.h"
#include "records/stream.h"

int main(int argc, char **argv)
{
    bool journal = false, influx = false;
    std::string file, run;
    uint64_t max_bytes = 10 << 20, count = 100;
    unsigned keep = 5, queue = 10000;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : "";
        if (arg == "--journal" || arg == "--influx") {
            (arg == "--journal" ? journal : influx) = true;
            continue;
        }
        ++i;
        if (arg == "--file")
            file = value;
        else if (arg == "--max-size")
            max_bytes = std::strtoull(value, nullptr, 10);
        else if (arg == "--keep")
            keep = static_cast<unsigned>(std::strtoul(value, nullptr, 10));
        else if (arg == "--count")
            count = std::strtoull(value, nullptr, 10);
        else if (arg == "--queue")
            queue = static_cast<unsigned>(std::strtoul(value, nullptr, 10));
        else if (arg == "--run")
            run = value;
        else {
            std::cerr << "records-emit: unknown argument " << arg << "\n";
            return 2;
        }
    }
    RecordStream stream(local_host_name(), queue);
    if (journal)
        stream.add_sink(make_journal_sink());
    if (!file.empty()) {
        std::string error;
        auto sink = make_file_sink(file, max_bytes, keep, influx ? FileFormat::LineProtocol : FileFormat::Json, error);
        if (!sink) {
            std::cerr << "records-emit: " << file << ": " << error << "\n";
            return 1;
        }
        stream.add_sink(std::move(sink));
    }
    TestRecordSource source(run);
    for (uint64_t i = 0; i < count; ++i)
        stream.emit(source.next());
    stream.stop(30000);
    nlohmann::json out;
    out["emitted"] = stream.emitted();
    out["sinks"] = nlohmann::json::object();
    for (const SinkCounts &sink : stream.counts())
        out["sinks"][sink.sink] = {{"written", sink.written},
                                   {"dropped", sink.dropped},
                                   {"error", sink.last_error ? strerror(sink.last_error) : ""}};
    std::cout << out.dump() << "\n";
    return 0;
}
