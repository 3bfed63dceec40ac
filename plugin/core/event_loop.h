// The plugin's only loop: wakes on update_every boundaries, and leaves when
// the agent goes away (stdin EOF or a failed write) or a signal asks it to.
#pragma once

#include <cstdint>
#include <functional>

// Runs `tick(now_usec)` at every multiple of update_every seconds of the
// realtime clock until it returns false, stdin reaches EOF, or SIGTERM/SIGINT.
void run_event_loop(int update_every, const std::function<bool(uint64_t now_usec)> &tick);
