// Where records go. Each sink is written by its own writer thread (stream.h),
// so a slow sink holds up nothing but its own queue. Sinks never log (the
// logger is the main thread's): a failure is kept in last_error for the stream
// to report.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "records/record.h"

class RecordSink {
public:
    virtual ~RecordSink() = default;
    virtual const char *name() const = 0;
    // False when the record is lost; last_error() then says why.
    virtual bool write(const Record &record) = 0;
    // Set when stopping: a sink waiting for room gives up.
    void abandon() { abandoned_ = true; }
    // 0, or the errno of the latest failed write.
    int last_error() const { return last_error_; }
    // True once the sink can never write again (stdout closed by its reader).
    bool broken() const { return broken_; }

protected:
    bool fail(int error, bool for_good = false)
    {
        last_error_ = error;
        if (for_good)
            broken_ = true;
        return false;
    }
    std::atomic<bool> abandoned_{false};

private:
    std::atomic<int> last_error_{0};
    std::atomic<bool> broken_{false};
};

// The systemd journal, through libsystemd's sd_journal_sendv.
std::unique_ptr<RecordSink> make_journal_sink();

enum class FileFormat { Json, LineProtocol };

// JSON lines (or InfluxDB line protocol) appended to `path`. Before a line would take the file past
// max_bytes, path.1 .. path.keep-1 move up one, path becomes path.1 and a new
// path starts: a line is never split or lost by a rotation. A line cut short by
// a failed write (disk full) is taken back out. Opened now, with the current
// rights: nullptr and `error` set when it cannot be.
std::unique_ptr<RecordSink> make_file_sink(const std::string &path, uint64_t max_bytes, unsigned keep,
                                           FileFormat format, std::string &error);

// JSON lines on a descriptor (stdout in `--records` mode). A closed reader
// (EPIPE) breaks the sink.
std::unique_ptr<RecordSink> make_fd_sink(int fd);
