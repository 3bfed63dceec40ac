#include "net/http_parser.h"

#include <algorithm>
#include <array>

namespace {

constexpr std::array<std::string_view, 9> methods = {"GET",   "POST",    "PUT",     "HEAD",  "DELETE",
                                                     "PATCH", "OPTIONS", "CONNECT", "TRACE"};

bool is_token_char(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_value_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

bool equals_lower(std::string_view text, std::string_view lower)
{
    return text.size() == lower.size() &&
           std::equal(text.begin(), text.end(), lower.begin(),
                      [](char a, char b) { return (a >= 'A' && a <= 'Z' ? a - 'A' + 'a' : a) == b; });
}

std::string_view trim(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

// "HTTP/1.0" or "HTTP/1.1" at the start of `text`: "1.0", "1.1", "" (not yet
// known: text too short but matching so far) or nullopt (not a version).
std::optional<std::string> version_at(std::string_view text)
{
    constexpr std::string_view prefix = "HTTP/1.";
    size_t n = std::min(text.size(), prefix.size());
    if (text.substr(0, n) != prefix.substr(0, n))
        return std::nullopt;
    if (text.size() <= prefix.size())
        return "";
    char minor = text[prefix.size()];
    if (minor != '0' && minor != '1')
        return std::nullopt;
    return std::string("1.") + minor;
}

// The request line; `end` is where its CRLF starts (npos: not in `text`).
HeadParse parse_request_line(std::string_view text, size_t end, size_t max_path, HttpHead &head)
{
    head.request = true;
    size_t space = text.find(' ');
    if (space == std::string_view::npos || space > end) {
        // still reading the method?
        std::string_view so_far = text.substr(0, std::min(text.size(), end));
        bool prefix = end == std::string_view::npos &&
                      std::any_of(methods.begin(), methods.end(),
                                  [&](std::string_view m) { return m.starts_with(so_far); });
        return prefix ? HeadParse::NeedMore : HeadParse::Invalid;
    }
    std::string_view method = text.substr(0, space);
    if (std::find(methods.begin(), methods.end(), method) == methods.end())
        return HeadParse::Invalid;
    head.method = method;
    size_t target_start = space + 1, target_end = target_start;
    while (target_end < text.size() && target_end != end && text[target_end] != ' ') {
        unsigned char c = static_cast<unsigned char>(text[target_end]);
        if (c < 0x21 || c > 0x7e)
            return HeadParse::Invalid;
        ++target_end;
    }
    std::string_view target = text.substr(target_start, target_end - target_start);
    head.path = target.substr(0, max_path);
    head.truncated = target.size() > max_path;
    if (target_end == text.size()) {  // cut inside the path
        head.truncated = true;
        return HeadParse::NeedMore;
    }
    if (target.empty() || target_end == end)
        return HeadParse::Invalid;  // no path, or no version
    std::string_view rest = text.substr(target_end + 1, end == std::string_view::npos ? std::string_view::npos
                                                                                         : end - target_end - 1);
    std::optional<std::string> version = version_at(rest);
    if (!version)
        return HeadParse::Invalid;
    if (end == std::string_view::npos)
        return rest.size() > 8 ? HeadParse::Invalid : HeadParse::NeedMore;
    if (rest.size() != 8)
        return HeadParse::Invalid;
    head.version = *version;
    return HeadParse::Complete;
}

// "HTTP/1.x DDD[ reason]".
HeadParse parse_status_line(std::string_view text, size_t end, HttpHead &head)
{
    std::string_view line = text.substr(0, end);
    std::optional<std::string> version = version_at(line);
    if (!version)
        return HeadParse::Invalid;
    if (line.size() < 12)
        return end == std::string_view::npos ? HeadParse::NeedMore : HeadParse::Invalid;
    if (line[8] != ' ' || (line.size() > 12 && line[12] != ' '))
        return HeadParse::Invalid;
    int status = 0;
    for (size_t i = 9; i < 12; ++i) {
        if (line[i] < '0' || line[i] > '9')
            return HeadParse::Invalid;
        status = status * 10 + (line[i] - '0');
    }
    if (status < 100)
        return HeadParse::Invalid;
    for (char c : line.substr(std::min<size_t>(line.size(), 13)))
        if (!is_value_char(static_cast<unsigned char>(c)))
            return HeadParse::Invalid;
    head.version = *version;
    head.status = status;
    return end == std::string_view::npos ? HeadParse::NeedMore : HeadParse::Complete;
}

// One header line (without its CRLF).
bool parse_header(std::string_view line, HttpHead &head)
{
    size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos)
        return false;
    std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), [](char c) { return is_token_char(static_cast<unsigned char>(c)); }))
        return false;
    std::string_view value = line.substr(colon + 1);
    if (!std::all_of(value.begin(), value.end(), [](char c) { return is_value_char(static_cast<unsigned char>(c)); }))
        return false;
    value = trim(value);
    if (equals_lower(name, "content-length")) {
        if (value.empty() || value.size() > 18 ||
            !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return false;
        uint64_t length = 0;
        for (char c : value)
            length = length * 10 + static_cast<uint64_t>(c - '0');
        if (head.content_length && *head.content_length != length)
            return false;  // two lengths: no way to know where the body ends
        head.content_length = length;
    } else if (equals_lower(name, "transfer-encoding")) {
        std::string lower(value);
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
        head.chunked = head.chunked || lower.find("chunked") != std::string::npos;
    }
    return true;
}

} // namespace

HeadParse parse_http_head(std::string_view text, size_t max_path, HttpHead &head)
{
    head = HttpHead{};
    size_t end = text.find("\r\n");
    // a start line cut between its CR and LF
    std::string_view start_text = end == std::string_view::npos && text.ends_with('\r') ? text.substr(0, text.size() - 1)
                                                                                      : text;
    HeadParse start = text.starts_with("HTTP/") || (text.size() < 5 && std::string_view("HTTP/").starts_with(text))
                          ? parse_status_line(start_text, end, head)
                          : parse_request_line(start_text, end, max_path, head);
    if (start != HeadParse::Complete)
        return start;
    size_t line_start = end + 2;
    while (true) {
        size_t line_end = text.find("\r\n", line_start);
        if (line_end == std::string_view::npos) {
            // a bare CR or LF where a line ends is not HTTP
            std::string_view rest = text.substr(line_start);
            return rest.find('\n') != std::string_view::npos ? HeadParse::Invalid : HeadParse::NeedMore;
        }
        std::string_view line = text.substr(line_start, line_end - line_start);
        line_start = line_end + 2;
        if (line.empty())
            break;
        if (!parse_header(line, head))
            return HeadParse::Invalid;
    }
    if (head.chunked)
        head.content_length.reset();
    head.complete = true;
    head.head_bytes = line_start;
    return HeadParse::Complete;
}

std::vector<HttpPiece> HttpStream::feed(std::string_view data, uint64_t length, const BodyLength &body_length)
{
    std::vector<HttpPiece> pieces;
    data = data.substr(0, std::min<uint64_t>(data.size(), length));
    auto rest_to_current = [&](uint64_t from) {
        if (from < length)
            pieces.push_back({std::nullopt, length - from, false});
    };
    uint64_t at = 0;
    if (state_ == State::Lost && !data.empty()) {
        HttpHead probe;
        if (parse_http_head(data, max_path_, probe) != HeadParse::Invalid)
            state_ = State::AtHead;  // a read that starts with a head: back in step
    }
    while (at < length) {
        if (state_ == State::Lost) {
            rest_to_current(at);
            break;
        }
        if (state_ == State::InBody) {
            uint64_t take = std::min(body_left_, length - at);
            body_left_ -= take;
            at += take;
            pieces.push_back({std::nullopt, take, body_left_ == 0});
            if (body_left_ == 0)
                state_ = State::AtHead;
            continue;
        }
        if (at >= data.size()) {  // a head begins in bytes not captured
            partial_.clear();
            state_ = State::Lost;
            continue;
        }
        std::string joined = partial_ + std::string(data.substr(at));
        HttpHead head;
        HeadParse result = parse_http_head(joined, max_path_, head);
        if (result == HeadParse::Invalid) {
            partial_.clear();
            state_ = State::Lost;
            continue;
        }
        if (result == HeadParse::NeedMore) {
            bool whole_call_seen = data.size() == length;
            if (whole_call_seen && joined.size() <= max_head_) {
                partial_ = std::move(joined);  // the head goes on in the next call
                break;
            }
            // The head is longer than what was captured: report what there
            // is, then wait for the next head.
            uint64_t bytes = length - at + partial_.size();
            partial_.clear();
            state_ = State::Lost;
            if (head.request ? !head.method.empty() : head.status != 0)
                pieces.push_back({std::move(head), bytes, false});
            else
                rest_to_current(at);
            break;
        }
        uint64_t in_this_call = head.head_bytes - partial_.size();
        uint64_t bytes = head.head_bytes;
        partial_.clear();
        at += in_this_call;
        std::optional<uint64_t> body = body_length(head);
        pieces.push_back({std::move(head), bytes, body && *body == 0});
        if (!body)
            state_ = State::Lost;
        else if (*body > 0) {
            state_ = State::InBody;
            body_left_ = *body;
        }
    }
    return pieces;
}
