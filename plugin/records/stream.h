// The record stream: producers emit records from the event loop; each sink has
// a bounded queue drained by its own writer thread, so emit() never waits for
// a sink. A record that finds its sink's queue full, or that the sink fails to
// write, is dropped and counted for that sink (self chart netdata.ebpf_records).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "records/sinks.h"

struct SinkCounts {
    std::string sink;
    uint64_t written = 0, dropped = 0;
    int last_error = 0;
};

class RecordStream {
public:
    // host: stamped on every record; queue_capacity: records waiting per sink.
    RecordStream(std::string host, size_t queue_capacity);
    ~RecordStream();
    RecordStream(const RecordStream &) = delete;
    RecordStream &operator=(const RecordStream &) = delete;

    // Starts the sink's writer thread (with every signal blocked: stop signals
    // reach the event loop's thread).
    void add_sink(std::unique_ptr<RecordSink> sink);
    bool has_sinks() const { return !lanes_.empty(); }

    void emit(Record record);
    uint64_t emitted() const { return emitted_; }
    std::vector<SinkCounts> counts() const;
    // True when a sink can never write again (stdout's reader went away).
    bool any_broken() const;

    // For the main thread to log: one line per sink whose write error changed
    // since the previous call, e.g. "records: journal sink: Connection refused".
    std::vector<std::string> new_errors();

    // Lets the queues drain for up to timeout_ms, then drops what is left
    // (counted). A writer stuck in a write is left behind, detached.
    void stop(int timeout_ms);

private:
    struct Lane;
    std::vector<std::shared_ptr<Lane>> lanes_;
    std::string host_;
    size_t capacity_;
    std::vector<int> reported_errors_;
    uint64_t emitted_ = 0;
    bool stopped_ = false;
};

// Adds the stream's counters to a self chart's: records_emitted and, per sink,
// records_written_<sink> and records_dropped_<sink>.
template <typename Counters>
void add_record_counters(const RecordStream &stream, Counters &counters)
{
    counters["records_emitted"] = static_cast<int64_t>(stream.emitted());
    for (const SinkCounts &sink : stream.counts()) {
        counters["records_written_" + sink.sink] = static_cast<int64_t>(sink.written);
        counters["records_dropped_" + sink.sink] = static_cast<int64_t>(sink.dropped);
    }
}
