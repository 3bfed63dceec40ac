// plugins.d writer for Netdata 1.37.1: the only code that formats protocol
// lines. Output is buffered; flush() hands it to the agent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

// The words of one CHART line; text fields are quoted by the writer.
struct ChartLine {
    std::string_view full_id{};  // type.id, already a valid id
    std::string_view title{}, units{}, family{}, context{};
    std::string_view chart_type{};  // line | area | stacked
    long long priority = 1000;
    int update_every = 1;
    std::string_view options{};  // "" or "obsolete"
    std::string_view module{};
};

class ProtocolWriter {
public:
    static constexpr size_t max_text_bytes = 200;
    static constexpr size_t max_id_bytes = 100;

    // Called before each write with the fd; false abandons the flush (a stop
    // was requested while the reader was not reading).
    using WaitWritable = bool (*)(int fd);

    explicit ProtocolWriter(int fd, WaitWritable wait = nullptr);

    // A text field, single-quoted: ' " \ and control characters removed,
    // at most max_text_bytes, never cut inside a UTF-8 sequence.
    static std::string text(std::string_view s);
    // Only [A-Za-z0-9_.-]; anything else becomes '_'; "unnamed" when empty;
    // at most max_id_bytes.
    static std::string id(std::string_view s);
    // True when s is non-empty and made only of id characters.
    static bool is_id(std::string_view s);

    void chart(const ChartLine &line);
    void dimension(std::string_view dim_id, std::string_view name, std::string_view algorithm,
                   long long multiplier, long long divisor, std::string_view options = "");
    // source 1 = automatic; the agent (1.37.1) crashes on a CLABEL without it.
    void clabel(std::string_view name, std::string_view value, int source);
    void clabel_commit();
    // usec_since_last == 0 omits the field (first update of a chart).
    void begin(std::string_view full_id, uint64_t usec_since_last);
    void set(std::string_view dim_id, int64_t value);
    void set_empty(std::string_view dim_id);
    void end();
    void disable();

    // Writes everything buffered, at most PIPE_BUF bytes per write (after
    // `wait`, a pipe write never blocks). False on any write error (EPIPE when
    // the agent is gone) or when `wait` gives up; after that the writer stays
    // failed and drops output.
    bool flush();
    bool failed() const { return failed_; }
    int error() const { return error_; }  // errno of the failed write; 0 if none

private:
    void append(std::string_view s) { if (!failed_) buffer_.append(s); }

    int fd_;
    WaitWritable wait_;
    bool failed_ = false;
    int error_ = 0;
    std::string buffer_;
};
