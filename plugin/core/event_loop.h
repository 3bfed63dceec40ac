// The plugin's only loop: ticks on the monotonic clock (a wall clock step
// changes nothing), and leaves when the agent goes away (stdin EOF or a failed
// write) or a signal asks it to, within a second whatever stdout does.
#pragma once

#include <cstdint>
#include <functional>

enum class StopCause { Signal, InputClosed, OutputFailed };
struct Stop {
    StopCause cause;
    int signal = 0;  // for StopCause::Signal
};

// SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGALRM ask for a stop
// (never a default action: no core file). Call first thing: until
// run_event_loop starts, a stop exits at once with code 0 (the kernel releases
// every BPF object with the process's descriptors).
void install_stop_handlers();

// Runs `tick(now_usec)` (monotonic clock) at every update_every boundary,
// aligned once on the wall clock, until it returns false or a stop comes.
Stop run_event_loop(int update_every, const std::function<bool(uint64_t now_usec)> &tick);

// Standalone modes (--records) have no agent on stdin: only signals stop them.
void ignore_stdin();

// For the protocol writer: waits until `fd` takes a write of PIPE_BUF bytes
// (stdin is still watched). False when a stop was requested meanwhile.
bool wait_writable(int fd);
