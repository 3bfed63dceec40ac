#include "core/event_loop.h"

#include <cerrno>
#include <csignal>
#include <poll.h>
#include <time.h>
#include <unistd.h>

namespace {

constexpr int stop_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM};

volatile sig_atomic_t loop_running = 0;
volatile sig_atomic_t stop_signal = 0;
bool input_closed = false;
bool watch_stdin = true;
// The signal mask while waiting: stop signals are blocked everywhere else in
// the loop, so one that comes between a check and a wait is not missed.
sigset_t waiting_mask;

void request_stop(int signal)
{
    if (!loop_running)
        _exit(0);
    stop_signal = signal;
}

bool stop_requested() { return stop_signal != 0 || input_closed; }

} // namespace

void ignore_stdin() { watch_stdin = false; }

namespace {

uint64_t clock_usec(clockid_t clock)
{
    timespec now;
    clock_gettime(clock, &now);
    return static_cast<uint64_t>(now.tv_sec) * 1000000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
}

// stdin is the agent's pipe: anything it sends is drained (this plugin offers
// no functions); EOF means the agent is gone.
void read_input(short revents)
{
    if (revents & POLLNVAL) {
        watch_stdin = false;
        return;
    }
    char buffer[4096];
    ssize_t length = read(STDIN_FILENO, buffer, sizeof(buffer));
    if (length == 0 || (length < 0 && errno != EINTR && errno != EAGAIN))
        input_closed = true;
}

// Waits on stdin, and on `out` for POLLOUT when out >= 0. True when `out` is ready.
bool wait_for(int out, const timespec *timeout)
{
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {out, POLLOUT, 0}};
    int ready = ppoll(watch_stdin ? fds : fds + 1, (watch_stdin ? 1 : 0) + (out >= 0 ? 1 : 0), timeout,
                      loop_running ? &waiting_mask : nullptr);
    if (ready < 0 && errno != EINTR)
        return out >= 0;  // let the write say what is wrong
    if (ready <= 0)
        return false;
    if (watch_stdin && fds[0].revents)
        read_input(fds[0].revents);
    return out >= 0 && fds[1].revents;
}

} // namespace

void install_stop_handlers()
{
    struct sigaction action {};
    action.sa_handler = request_stop;
    sigset_t stops;
    sigemptyset(&stops);
    for (int signal : stop_signals)
        sigaddset(&stops, signal);
    action.sa_mask = stops;
    for (int signal : stop_signals)
        sigaction(signal, &action, nullptr);
    sigprocmask(SIG_UNBLOCK, &stops, nullptr);  // a caller may have blocked them for us
}

Stop run_event_loop(int update_every, const std::function<bool(uint64_t)> &tick)
{
    sigset_t stops;
    sigemptyset(&stops);
    for (int signal : stop_signals)
        sigaddset(&stops, signal);
    sigprocmask(SIG_BLOCK, &stops, &waiting_mask);
    for (int signal : stop_signals)
        sigdelset(&waiting_mask, signal);
    loop_running = 1;

    const uint64_t step = static_cast<uint64_t>(update_every) * 1000000;
    uint64_t next = clock_usec(CLOCK_MONOTONIC) + step - clock_usec(CLOCK_REALTIME) % step;
    bool output_ok = true;
    while (output_ok && !stop_requested()) {
        uint64_t now = clock_usec(CLOCK_MONOTONIC);
        if (now < next) {
            uint64_t wait = next - now;
            timespec timeout{static_cast<time_t>(wait / 1000000), static_cast<long>(wait % 1000000) * 1000};
            wait_for(-1, &timeout);
            continue;
        }
        output_ok = tick(now);
        next += step;
        if (next <= now)  // a tick took longer than a step: skip to the next boundary of the same grid
            next += (now - next) / step * step + step;
    }
    if (stop_signal)
        return {StopCause::Signal, stop_signal};
    return {input_closed ? StopCause::InputClosed : StopCause::OutputFailed};
}

bool wait_writable(int fd)
{
    while (!stop_requested())
        if (wait_for(fd, nullptr))
            return true;
    // Stopping: what is being written may still go out to a reader slower than us (half a chart
    // is a protocol error), for 300 ms at most over all writes, so a stop stays under a second.
    static const uint64_t deadline = clock_usec(CLOCK_MONOTONIC) + 300000;
    uint64_t now = clock_usec(CLOCK_MONOTONIC);
    pollfd out{fd, POLLOUT, 0};
    return now < deadline && poll(&out, 1, static_cast<int>((deadline - now + 999) / 1000)) > 0 &&
           (out.revents & POLLOUT);
}
