#include "records/standalone.h"

#include <cstring>
#include <unistd.h>

#include "core/event_loop.h"
#include "core/log.h"
#include "core/privileges.h"
#include "records/sources.h"
#include "records/stream.h"

namespace {

// Records of the test source per tick: enough to see numbering and order.
constexpr int test_records_per_tick = 3;

void log_counts(const RecordStream &stream)
{
    for (const SinkCounts &sink : stream.counts())
        log_info("records: %llu emitted, %llu written to %s, %llu dropped",
                 static_cast<unsigned long long>(stream.emitted()), static_cast<unsigned long long>(sink.written),
                 sink.sink.c_str(), static_cast<unsigned long long>(sink.dropped));
}

} // namespace

int run_records_mode(const std::string &names, int update_every)
{
    std::vector<std::string> errors;
    std::set<std::string> selected = parse_record_names(names, errors);
    for (const std::string &error : errors)
        log_error("%s", error.c_str());
    bool test = selected.erase("test") > 0;
    for (const std::string &source : selected)
        log_error("--records: '%s' records are not produced by this build yet", source.c_str());
    if (!test) {
        log_error("--records: nothing to print; exiting");
        return 1;
    }
    std::string drop_error = drop_privileges(false);  // the test source needs no privilege at all
    if (!drop_error.empty()) {
        log_error("cannot drop privileges (%s); exiting", drop_error.c_str());
        return 1;
    }

    RecordStream stream(local_host_name(), 10000);
    stream.add_sink(make_fd_sink(STDOUT_FILENO));
    TestRecordSource source;
    ignore_stdin();
    log_summarize();
    Stop stop = run_event_loop(update_every, [&](uint64_t) {
        for (int i = 0; i < test_records_per_tick; ++i)
            stream.emit(source.next());
        for (const std::string &line : stream.new_errors())
            log_error("%s", line.c_str());
        return !stream.any_broken();
    });
    if (stop.cause == StopCause::Signal)
        log_info("received SIG%s; stopping", sigabbrev_np(stop.signal));
    else
        log_info("stdout's reader went away; stopping");
    stream.stop(500);
    log_counts(stream);
    log_summarize();
    return 0;
}
