// The plugin's stderr, which the agent appends to its error.log. One line per
// message, in the format of Netdata 1.37.1's own plugins:
//   2026-12-01 14:00:00: ebpf.plugin ERROR : MAIN : fd: attached with tracepoint
// Bytes a caller controls (argv, configuration) are escaped so they can neither
// forge a line nor drive a terminal, and a flood of one kind of message is cut.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

enum class LogLevel { Info, Error };

// The whole API for the plugin's code: printf-like, one line each. A leading
// "ebpf.plugin: " and a trailing newline are dropped (the line already names
// the plugin and ends), so `fprintf(stderr, ...)` converts by its name alone.
void log_error(const char *format, ...) __attribute__((format(printf, 1, 2)));
// One line as it is: the Warn that configuration readers report to.
void log_error_line(const std::string &line);
void log_info(const char *format, ...) __attribute__((format(printf, 1, 2)));
// One line per kind of message that was cut since the previous call.
void log_summarize();

class Logger {
public:
    // Lines of one kind (the message with numbers and quoted words blanked)
    // written before the rest is only counted.
    static constexpr unsigned lines_per_kind = 10;
    // Kinds remembered; beyond that, new kinds share one count.
    static constexpr size_t max_kinds = 256;
    // Escaped message bytes per line: the whole line stays one atomic pipe write.
    static constexpr size_t max_message_bytes = 3800;

    explicit Logger(int fd) : fd_(fd) {}
    void write(LogLevel level, std::string_view message);
    void summarize();

    // \ is written \\; control bytes (C0, DEL, C1 raw or UTF-8 encoded),
    // bytes that are not UTF-8 and Unicode line separators or direction
    // overrides are written \xHH per byte. Everything else is kept. Longer
    // than max_bytes: cut between characters, and "..." added.
    static std::string escape(std::string_view message, size_t max_bytes = std::string::npos);
    // The message with every run of digits written # and every '...' as '*'.
    static std::string kind(std::string_view message);

private:
    void write_line(LogLevel level, std::string_view message);

    struct Seen {
        unsigned written = 0;
        uint64_t cut = 0;  // since the last summary
    };
    int fd_;
    std::map<std::string, Seen> kinds_;
};

Logger &plugin_logger();  // the one on stderr
