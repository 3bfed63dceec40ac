#include "records/stream.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <mutex>
#include <pthread.h>
#include <thread>

struct RecordStream::Lane {
    std::unique_ptr<RecordSink> sink;
    size_t capacity;
    std::mutex mutex;
    std::condition_variable wake, finished_cv;
    std::deque<std::shared_ptr<const Record>> queue;
    bool stopping = false, finished = false;
    std::atomic<uint64_t> written{0}, dropped{0};
    std::thread thread;

    void run()
    {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, nullptr);
        std::unique_lock lock(mutex);
        for (;;) {
            wake.wait(lock, [&] { return stopping || !queue.empty(); });
            if (queue.empty())
                break;
            // One at a time: what is still queued at a stop that runs out of time is counted there.
            std::shared_ptr<const Record> record = std::move(queue.front());
            queue.pop_front();
            lock.unlock();
            (sink->write(*record) ? written : dropped)++;
            lock.lock();
        }
        finished = true;
        finished_cv.notify_all();
    }
};

RecordStream::RecordStream(std::string host, size_t queue_capacity)
    : host_(std::move(host)), capacity_(queue_capacity ? queue_capacity : 1) {}

RecordStream::~RecordStream()
{
    stop(0);
}

void RecordStream::add_sink(std::unique_ptr<RecordSink> sink)
{
    auto lane = std::make_shared<Lane>();
    lane->sink = std::move(sink);
    lane->capacity = capacity_;
    // The thread holds the lane: a writer left behind at stop() keeps it alive.
    lane->thread = std::thread([lane] { lane->run(); });
    lanes_.push_back(std::move(lane));
}

void RecordStream::emit(Record record)
{
    ++emitted_;
    record.host = host_;
    auto shared = std::make_shared<const Record>(std::move(record));
    for (auto &lane : lanes_) {
        std::lock_guard lock(lane->mutex);
        if (lane->stopping || lane->queue.size() >= lane->capacity) {
            lane->dropped++;
            continue;
        }
        lane->queue.push_back(shared);
        lane->wake.notify_one();
    }
}

std::vector<SinkCounts> RecordStream::counts() const
{
    std::vector<SinkCounts> counts;
    for (const auto &lane : lanes_)
        counts.push_back({lane->sink->name(), lane->written, lane->dropped, lane->sink->last_error()});
    return counts;
}

std::vector<std::string> RecordStream::new_errors()
{
    std::vector<std::string> lines;
    reported_errors_.resize(lanes_.size());
    for (size_t i = 0; i < lanes_.size(); ++i) {
        int error = lanes_[i]->sink->last_error();
        if (error != reported_errors_[i] && error != 0)
            lines.push_back(std::string("records: ") + lanes_[i]->sink->name() + " sink: " + strerror(error) +
                            " (records dropped so far: " + std::to_string(lanes_[i]->dropped) + ")");
        reported_errors_[i] = error;
    }
    return lines;
}

bool RecordStream::any_broken() const
{
    for (const auto &lane : lanes_)
        if (lane->sink->broken())
            return true;
    return false;
}

void RecordStream::stop(int timeout_ms)
{
    if (stopped_)
        return;
    stopped_ = true;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (auto &lane : lanes_) {
        std::lock_guard lock(lane->mutex);
        lane->stopping = true;
        lane->wake.notify_one();
    }
    for (auto &lane : lanes_) {
        std::unique_lock lock(lane->mutex);
        if (!lane->finished_cv.wait_until(lock, deadline, [&] { return lane->finished; })) {
            // Out of time: what is still queued is dropped, and a sink waiting for room gives up.
            lane->dropped += lane->queue.size();
            lane->queue.clear();
            lane->sink->abandon();
            lane->finished_cv.wait_for(lock, std::chrono::milliseconds(200), [&] { return lane->finished; });
        }
        bool finished = lane->finished;
        lock.unlock();
        if (finished)
            lane->thread.join();
        else
            lane->thread.detach();
    }
}
