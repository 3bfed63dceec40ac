// Test helper: a ProtocolWriter whose output stays in memory.
#pragma once

#include <doctest/doctest.h>
#include <regex>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

#include "core/protocol.h"

// Protocol output kept in memory.
class Capture {
public:
    Capture() : fd_(memfd_create("protocol", 0)), writer(fd_) {}
    ~Capture() { close(fd_); }
    // Everything written since the previous take().
    std::string take() {
        REQUIRE(writer.flush());
        std::string text(size_t(lseek(fd_, 0, SEEK_END)), '\0');
        REQUIRE(pread(fd_, text.data(), text.size(), 0) == ssize_t(text.size()));
        REQUIRE(ftruncate(fd_, 0) == 0);
        lseek(fd_, 0, SEEK_SET);
        return text;
    }

private:
    int fd_;

public:
    ProtocolWriter writer;
};

// Log text with each line's "<date>: ebpf.plugin ERROR : MAIN : " header removed.
inline std::string log_messages(const std::string &log) {
    static const std::regex header(R"((^|\n)\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: ebpf\.plugin (ERROR|INFO ) : MAIN : )");
    return std::regex_replace(log, header, "$1");
}
