#include <doctest/doctest.h>

#include <regex>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

#include "core/log.h"

namespace {

// A Logger whose lines stay in memory.
struct LogCapture {
    LogCapture() : fd(memfd_create("log", 0)), logger(fd) {}
    ~LogCapture() { close(fd); }
    std::vector<std::string> lines() const {
        std::string text(size_t(lseek(fd, 0, SEEK_END)), '\0');
        REQUIRE(pread(fd, text.data(), text.size(), 0) == ssize_t(text.size()));
        std::vector<std::string> result;
        for (size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
            result.push_back(text.substr(start, end - start));
        return result;
    }
    int fd;
    Logger logger;
};

const std::regex netdata_line(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d: ebpf\.plugin (ERROR|INFO ) : MAIN : (.*))");

std::string message_of(const std::string &line) {
    std::smatch match;
    REQUIRE(std::regex_match(line, match, netdata_line));
    return match[2];
}

}  // namespace

TEST_CASE("a log line is written as Netdata 1.37.1's plugins write error.log") {
    LogCapture capture;
    capture.logger.write(LogLevel::Error, "ebpf.plugin: fd: cannot attach");
    capture.logger.write(LogLevel::Info, "kernel 6.1");
    auto lines = capture.lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find(": ebpf.plugin ERROR : MAIN : fd: cannot attach") == 19);
    CHECK(lines[1].find(": ebpf.plugin INFO  : MAIN : kernel 6.1") == 19);
    CHECK(message_of(lines[0]) == "fd: cannot attach");  // "ebpf.plugin: " is not repeated
}

TEST_CASE("a converted fprintf(stderr) keeps one line: its newline is the line's end") {
    LogCapture capture;
    capture.logger.write(LogLevel::Error, "ebpf.plugin: cut\n");
    capture.logger.write(LogLevel::Error, "two\n\n");
    auto lines = capture.lines();
    REQUIRE(lines.size() == 2);
    CHECK(message_of(lines[0]) == "cut");
    CHECK(message_of(lines[1]) == "two\\x0a");
}

TEST_CASE("bytes that could forge a line or drive a terminal are escaped") {
    CHECK(Logger::escape("a\nebpf.plugin: forged") == "a\\x0aebpf.plugin: forged");
    CHECK(Logger::escape("\x1b[2J\r\t\x7f") == "\\x1b[2J\\x0d\\x09\\x7f");
    CHECK(Logger::escape("\x9b" "31m") == "\\x9b31m");                   // raw C1 byte
    CHECK(Logger::escape("\xc2\x9b" "31m") == "\\xc2\\x9b31m");          // C1 as UTF-8
    CHECK(Logger::escape("\xe2\x80\xae" "cod") == "\\xe2\\x80\\xaecod");  // right-to-left override
    CHECK(Logger::escape("\xe2\x80\xa8") == "\\xe2\\x80\\xa8");           // line separator
    CHECK(Logger::escape("back\\slash") == "back\\\\slash");              // so an escape cannot be faked
    CHECK(Logger::escape("\xc0\xaf") == "\\xc0\\xaf");                    // overlong
    CHECK(Logger::escape("\xed\xa0\x80") == "\\xed\\xa0\\x80");           // surrogate
    CHECK(Logger::escape("cut \xe6\x97") == "cut \\xe6\\x97");            // sequence cut short
    CHECK(Logger::escape("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\x9d") ==
          "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\x9d");        // text is kept
    CHECK(Logger::escape("abc\ndef", 6) == "abc...");                    // never half an escape
    CHECK(Logger::escape("ab\xc3\xa9", 3) == "ab...");                   // never half a character
}

TEST_CASE("a long message stays one line shorter than an atomic pipe write") {
    LogCapture capture;
    capture.logger.write(LogLevel::Error, std::string(100000, '\n'));
    auto lines = capture.lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].size() < 4096);
    CHECK(lines[0].ends_with("\\x0a..."));
}

TEST_CASE("the kind of a message blanks numbers and quoted words") {
    CHECK(Logger::kind("/etc/netdata/apps_groups.conf:123: group 'g123' has no process names") ==
          "/etc/netdata/apps_groups.conf:#: group '*' has no process names");
    CHECK(Logger::kind("it's 10") == "it's #");  // a lone quote is kept
}

TEST_CASE("a kind of message is written lines_per_kind times, then one summary line") {
    LogCapture capture;
    for (int i = 0; i < 60000; i++)
        capture.logger.write(LogLevel::Error, "apps.conf:" + std::to_string(i) + ": group 'g" + std::to_string(i) +
                                                  "' has no process names; line ignored");
    capture.logger.write(LogLevel::Error, "another kind");
    capture.logger.summarize();
    capture.logger.summarize();  // nothing new to say
    auto lines = capture.lines();
    REQUIRE(lines.size() == Logger::lines_per_kind + 2);
    CHECK(message_of(lines[9]) == "apps.conf:9: group 'g9' has no process names; line ignored");
    CHECK(message_of(lines[10]) == "another kind");
    CHECK(message_of(lines[11]) ==
          "59990 more messages like this were not logged: apps.conf:#: group '*' has no process names; line ignored");

    capture.logger.write(LogLevel::Error, "apps.conf:1: group 'x' has no process names; line ignored");
    capture.logger.summarize();
    lines = capture.lines();
    REQUIRE(lines.size() == Logger::lines_per_kind + 3);
    CHECK(message_of(lines.back()).starts_with("1 more messages like this"));
}

TEST_CASE("kinds beyond max_kinds share one count") {
    LogCapture capture;
    for (size_t i = 0; i < Logger::max_kinds + 100; i++)
        capture.logger.write(LogLevel::Error, "kind " + std::string(1, char('a' + i % 26)) +
                                                  std::string(1, char('a' + i / 26 % 26)));
    capture.logger.summarize();
    auto lines = capture.lines();
    REQUIRE(lines.size() == Logger::max_kinds + Logger::lines_per_kind + 1);
    CHECK(message_of(lines.back()) == std::to_string(100 - Logger::lines_per_kind) +
                                          " more messages of other kinds were not logged");
}
