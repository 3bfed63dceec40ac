#include "core/protocol.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <unistd.h>

namespace {

bool is_id_char(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

// Removed from text because the agent's tokenizer treats them as quotes or
// escapes, or because they end a line.
bool is_dropped_from_text(unsigned char c) {
    return c == '\'' || c == '"' || c == '\\' || c < 0x20 || c == 0x7f;
}

bool is_utf8_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// An unquoted word: id characters only, so it can never split or merge words.
std::string word(std::string_view s) {
    std::string out;
    for (unsigned char c : s)
        out += is_id_char(c) ? char(c) : '_';
    return out.empty() ? "unnamed" : out;
}

std::string number(long long value) {
    char digits[24];
    int length = snprintf(digits, sizeof digits, "%lld", value);
    return std::string(digits, size_t(length));
}

std::string unsigned_number(unsigned long long value) {
    char digits[24];
    int length = snprintf(digits, sizeof digits, "%llu", value);
    return std::string(digits, size_t(length));
}

}  // namespace

ProtocolWriter::ProtocolWriter(int fd, WaitWritable wait) : fd_(fd), wait_(wait) {}

std::string ProtocolWriter::text(std::string_view s) {
    std::string kept;
    for (unsigned char c : s)
        if (!is_dropped_from_text(c))
            kept += char(c);
    if (kept.size() > max_text_bytes) {
        size_t cut = max_text_bytes;
        while (cut > 0 && is_utf8_continuation(kept[cut]))
            cut--;
        kept.resize(cut);
    }
    return "'" + kept + "'";
}

std::string ProtocolWriter::id(std::string_view s) {
    std::string out = word(s);
    if (out.size() > max_id_bytes)
        out.resize(max_id_bytes);
    return out;
}

bool ProtocolWriter::is_id(std::string_view s) {
    if (s.empty())
        return false;
    for (unsigned char c : s)
        if (!is_id_char(c))
            return false;
    return true;
}

void ProtocolWriter::chart(const ChartLine &line) {
    append("CHART " + word(line.full_id) + " '' " + text(line.title) + " " + text(line.units) + " " +
           text(line.family) + " " + text(line.context) + " " + word(line.chart_type) + " " +
           number(line.priority) + " " + number(line.update_every) + " " + text(line.options) +
           " 'ebpf.plugin' " + text(line.module) + "\n");
}

void ProtocolWriter::dimension(std::string_view dim_id, std::string_view name, std::string_view algorithm,
                               long long multiplier, long long divisor, std::string_view options) {
    append("DIMENSION " + word(dim_id) + " " + text(name) + " " + word(algorithm) + " " + number(multiplier) +
           " " + number(divisor) + " " + text(options) + "\n");
}

void ProtocolWriter::clabel(std::string_view name, std::string_view value, int source) {
    append("CLABEL " + text(name) + " " + text(value) + " " + number(source) + "\n");
}

void ProtocolWriter::clabel_commit() { append("CLABEL_COMMIT\n"); }

void ProtocolWriter::begin(std::string_view full_id, uint64_t usec_since_last) {
    if (usec_since_last == 0)
        append("BEGIN " + word(full_id) + "\n");
    else
        append("BEGIN " + word(full_id) + " " + unsigned_number(usec_since_last) + "\n");
}

void ProtocolWriter::set(std::string_view dim_id, int64_t value) {
    append("SET " + word(dim_id) + " = " + number(value) + "\n");
}

void ProtocolWriter::set_empty(std::string_view dim_id) { append("SET " + word(dim_id) + " =\n"); }

void ProtocolWriter::end() { append("END\n"); }

void ProtocolWriter::disable() { append("DISABLE\n"); }

bool ProtocolWriter::flush() {
    size_t written = 0;
    while (!failed_ && written < buffer_.size()) {
        if (wait_ && !wait_(fd_)) {
            failed_ = true;
            break;
        }
        ssize_t n = write(fd_, buffer_.data() + written, std::min<size_t>(buffer_.size() - written, PIPE_BUF));
        if (n > 0)
            written += size_t(n);
        else if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        else {
            failed_ = true;
            error_ = n < 0 ? errno : EIO;
        }
    }
    buffer_.clear();
    return !failed_;
}
