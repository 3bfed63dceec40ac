#include "core/log.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <poll.h>
#include <unistd.h>

namespace {

constexpr std::string_view plugin_prefix = "ebpf.plugin: ";
constexpr size_t max_kind_bytes = 200;

void append_hex(std::string &out, unsigned char byte)
{
    static const char digits[] = "0123456789abcdef";
    out += "\\x";
    out += digits[byte >> 4];
    out += digits[byte & 15];
}

// Length of the well-formed UTF-8 sequence starting at s[0] and its code
// point; 0 when the bytes there are not one (overlong, surrogate, cut short).
size_t utf8_sequence(std::string_view s, char32_t &code_point)
{
    unsigned char first = s[0];
    size_t length = 0;
    if (first >= 0xC2 && first <= 0xDF)
        length = 2;
    else if (first >= 0xE0 && first <= 0xEF)
        length = 3;
    else if (first >= 0xF0 && first <= 0xF4)
        length = 4;
    if (length == 0 || s.size() < length)
        return 0;
    code_point = first & (0x7F >> length);
    for (size_t i = 1; i < length; i++) {
        unsigned char next = s[i];
        if ((next & 0xC0) != 0x80)
            return 0;
        code_point = code_point << 6 | (next & 0x3F);
    }
    bool shortest = length == 2 || (length == 3 && code_point >= 0x800) || (length == 4 && code_point >= 0x10000);
    bool surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
    return shortest && !surrogate && code_point <= 0x10FFFF ? length : 0;
}

// C1 controls, and characters that end a line or reorder text in a viewer.
bool is_hidden_control(char32_t c)
{
    return (c >= 0x80 && c <= 0x9F) || c == 0x061C || c == 0x200E || c == 0x200F || (c >= 0x2028 && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069);
}

std::string format_message(const char *format, va_list args)
{
    va_list copy;
    va_copy(copy, args);
    int length = vsnprintf(nullptr, 0, format, copy);
    va_end(copy);
    if (length < 0)
        return format;
    std::string message(size_t(length) + 1, '\0');
    vsnprintf(message.data(), message.size(), format, args);
    message.resize(size_t(length));
    return message;
}

} // namespace

std::string Logger::escape(std::string_view message, size_t max_bytes)
{
    std::string out, piece;
    while (!message.empty()) {
        unsigned char byte = message[0];
        size_t used = 1;
        piece.clear();
        if (byte == '\\')
            piece = "\\\\";
        else if (byte < 0x20 || byte == 0x7F)
            append_hex(piece, byte);
        else if (byte < 0x80)
            piece = char(byte);
        else {
            char32_t code_point = 0;
            size_t length = utf8_sequence(message, code_point);
            used = std::max<size_t>(length, 1);
            if (length == 0 || is_hidden_control(code_point))
                for (size_t i = 0; i < used; i++)
                    append_hex(piece, message[i]);
            else
                piece = message.substr(0, length);
        }
        if (out.size() + piece.size() > max_bytes) {
            out += "...";
            break;
        }
        out += piece;
        message.remove_prefix(used);
    }
    return out;
}

std::string Logger::kind(std::string_view message)
{
    std::string out;
    for (size_t i = 0; i < message.size() && out.size() < max_kind_bytes; i++) {
        char c = message[i];
        if (c >= '0' && c <= '9') {
            while (i + 1 < message.size() && message[i + 1] >= '0' && message[i + 1] <= '9')
                i++;
            out += '#';
        } else if (size_t close = c == '\'' ? message.find('\'', i + 1) : std::string_view::npos;
                   close != std::string_view::npos) {
            out += "'*'";
            i = close;
        } else {
            out += c;
        }
    }
    return out;
}

void Logger::write(LogLevel level, std::string_view message)
{
    if (message.starts_with(plugin_prefix))
        message.remove_prefix(plugin_prefix.size());
    if (message.ends_with('\n'))
        message.remove_suffix(1);
    std::string key = kind(message);
    if (kinds_.size() >= max_kinds && !kinds_.count(key))
        key.clear();  // the shared count of kinds beyond max_kinds
    Seen &seen = kinds_[key];
    if (seen.written >= lines_per_kind) {
        seen.cut++;
        return;
    }
    seen.written++;
    write_line(level, message);
}

void Logger::summarize()
{
    for (auto &[key, seen] : kinds_) {
        if (seen.cut == 0)
            continue;
        std::string count = std::to_string(seen.cut);
        write_line(LogLevel::Error, key.empty() ? count + " more messages of other kinds were not logged"
                                                : count + " more messages like this were not logged: " + key);
        seen.cut = 0;
    }
}

void Logger::write_line(LogLevel level, std::string_view message)
{
    char date[32] = "";
    time_t now = time(nullptr);
    struct tm local;
    if (localtime_r(&now, &local))
        strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &local);
    std::string line = std::string(date) + (level == LogLevel::Error ? ": ebpf.plugin ERROR : MAIN : "
                                                                     : ": ebpf.plugin INFO  : MAIN : ");
    line += escape(message, max_message_bytes);
    line += '\n';
    // One write of less than PIPE_BUF, so lines of several writers never
    // interleave and, once poll says a pipe has room, the write cannot block.
    // A reader that does not read for 100 ms loses the line rather than
    // holding up the plugin (stop signals are blocked while it collects).
    pollfd output{fd_, POLLOUT, 0};
    if (poll(&output, 1, 100) != 1)
        return;
    for (size_t written = 0; written < line.size();) {
        ssize_t n = ::write(fd_, line.data() + written, line.size() - written);
        if (n <= 0)
            return;
        written += size_t(n);
    }
}

Logger &plugin_logger()
{
    static Logger logger(STDERR_FILENO);
    return logger;
}

void log_error(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    std::string message = format_message(format, args);
    va_end(args);
    plugin_logger().write(LogLevel::Error, message);
}

void log_info(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    std::string message = format_message(format, args);
    va_end(args);
    plugin_logger().write(LogLevel::Info, message);
}

void log_summarize() { plugin_logger().summarize(); }

void log_error_line(const std::string &line) { log_error("%s", line.c_str()); }
