// HTTP/1.0 and 1.1 message heads in the first bytes of the reads and writes
// that kernel-collector/httpflow.bpf.c captures. Strict (CRLF line ends, a
// known method, "HTTP/1.0" or "HTTP/1.1", three-digit status, one
// Content-Length) and bounded: it reads only the bytes it is given and keeps
// at most max_head_bytes of a head split across reads.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct HttpHead {
    bool request = false;
    std::string method, path;  // a request's
    int status = 0;            // a response's
    std::string version;       // "1.0" or "1.1"; "" when the request line was cut
    bool truncated = false;    // path cut at the configured length or by the capture
    std::optional<uint64_t> content_length;
    bool chunked = false;      // Transfer-Encoding: chunked
    bool complete = false;     // the whole head, up to its empty line, was parsed
    size_t head_bytes = 0;     // its length, empty line included (complete heads)
};

enum class HeadParse { Complete, NeedMore, Invalid };

// Parses the head at the start of `text`, cutting the path at `max_path`
// bytes. NeedMore: `text` ends inside it; `head` then has the start line when
// that was whole, or a request's method and the path so far (truncated).
HeadParse parse_http_head(std::string_view text, size_t max_path, HttpHead &head);

// Bytes of one read or write that belong to one message: a new one when
// `head` is set, else the message already going on.
struct HttpPiece {
    std::optional<HttpHead> head;
    uint64_t bytes = 0;
    bool ends_message = false;  // the message's body is complete with these bytes
};

// One direction of a connection, fed read by read (or write by write): where
// heads start and bodies end. When it loses track (garbage, a head longer
// than the capture, a body of unknown length) it waits for a read that starts
// with a head; the bytes in between go to the message before.
class HttpStream {
public:
    // The body length a head announces; nullopt: unknown (chunked, or until
    // the connection closes).
    using BodyLength = std::function<std::optional<uint64_t>(const HttpHead &)>;

    HttpStream(size_t max_path, size_t max_head_bytes = 16384) : max_path_(max_path), max_head_(max_head_bytes) {}

    // `data`: the captured first bytes of a call that moved `length` bytes.
    std::vector<HttpPiece> feed(std::string_view data, uint64_t length, const BodyLength &body_length);

private:
    enum class State { AtHead, InBody, Lost };
    State state_ = State::AtHead;
    uint64_t body_left_ = 0;
    std::string partial_;  // a head that goes on in the next read
    size_t max_path_, max_head_;
};
