#include "core/event_loop.h"

#include <cerrno>
#include <csignal>
#include <poll.h>
#include <time.h>
#include <unistd.h>

namespace {
volatile sig_atomic_t stop_requested = 0;

void request_stop(int) { stop_requested = 1; }

uint64_t realtime_usec()
{
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<uint64_t>(now.tv_sec) * 1000000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
}

// stdin is the agent's pipe: anything it sends is drained (this plugin offers
// no functions); EOF means the agent is gone.
bool stdin_closed()
{
    char buffer[4096];
    ssize_t length = read(STDIN_FILENO, buffer, sizeof(buffer));
    return length == 0 || (length < 0 && errno != EINTR && errno != EAGAIN);
}
} // namespace

void run_event_loop(int update_every, const std::function<bool(uint64_t)> &tick)
{
    struct sigaction action {};
    action.sa_handler = request_stop;
    sigaction(SIGTERM, &action, nullptr);
    sigaction(SIGINT, &action, nullptr);

    const uint64_t step = static_cast<uint64_t>(update_every) * 1000000;
    uint64_t next = realtime_usec() / step * step + step;
    bool watch_stdin = true;
    while (!stop_requested) {
        uint64_t now = realtime_usec();
        if (now >= next) {
            if (!tick(now))
                return;
            next = now / step * step + step;
            continue;
        }
        pollfd input{STDIN_FILENO, POLLIN, 0};
        int timeout_ms = static_cast<int>((next - now + 999) / 1000);
        int ready = poll(&input, watch_stdin ? 1 : 0, timeout_ms);
        if (ready > 0 && (input.revents & (POLLIN | POLLHUP)) && stdin_closed())
            return;
        if (ready > 0 && (input.revents & POLLNVAL))
            watch_stdin = false; // started without stdin
    }
}
