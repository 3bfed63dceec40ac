// Loads kernel-collector/bash.bpf.c as a uretprobe on readline() in each bash
// binary, and hands over the command lines its ring buffer holds.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kernel/bpf_loader.h"

struct bash_bpf;
struct bash_event;
struct ring_buffer;

// `--check`'s line: "bash (uretprobe on readline in /bin/bash): ok" or
// "...: refused: <why>", for the default binary (the check reads no
// configuration). `uprobe_error`: try_readline_uretprobe()'s verdict (taken
// while CAP_SYS_ADMIN was held); this loads the program, as the caller.
std::string bash_check_line(const std::string &uprobe_error);

class BashProbe {
public:
    BashProbe() = default;
    ~BashProbe();
    BashProbe(const BashProbe &) = delete;
    BashProbe &operator=(const BashProbe &) = delete;

    // Each binary is opened with the caller's rights (a setuid plugin probes
    // no file its caller could not read) and probed by that open file, so
    // the inode checked is the one probed; two paths of one file (/bin/bash
    // and /usr/bin/bash) are probed once. Needs the privileges still held.
    // "" when at least one binary is probed; else a one-line reason. What a
    // single binary refused is in warnings() either way.
    std::string start(const std::vector<std::string> &binaries, uint64_t ring_buffer_bytes);
    const std::vector<std::string> &warnings() const { return warnings_; }
    const std::vector<std::string> &probed() const { return probed_; }

    // Calls `line` for every event waiting in the ring buffer.
    void drain(const std::function<void(const bash_event &)> &line);
    // Lines let through per window (0: all); a new window starts at each call.
    void start_window(uint64_t limit);
    uint64_t rate_dropped() const;
    uint64_t ring_dropped() const;
    const bpf_object *object() const;

private:
    void stop();

    bash_bpf *skeleton_ = nullptr;
    ring_buffer *ring_ = nullptr;
    LinkSet links_;
    std::vector<std::string> warnings_, probed_;
    std::function<void(const bash_event &)> on_line_;
};
