#include "net/http_exchanges.h"

HttpExchange *HttpConnection::find(uint64_t id)
{
    if (id < first_id_ || id >= next_id_)
        return nullptr;
    return &exchanges_[id - first_id_];
}

void HttpConnection::on_call(bool written, std::string_view data, uint64_t length, uint64_t time_ns)
{
    if (role_ == Role::Unknown) {
        // The first head tells the role: a request written, or a response
        // read, is a client's.
        HttpHead head;
        if (parse_http_head(data, 0, head) == HeadParse::Invalid)
            return;
        role_ = (head.request == written) ? Role::Client : Role::Server;
    }
    bool request_direction = written == (role_ == Role::Client);
    if (request_direction)
        on_request_bytes(data, length, time_ns);
    else
        on_response_bytes(data, length, time_ns);
}

void HttpConnection::on_request_bytes(std::string_view data, uint64_t length, uint64_t time_ns)
{
    auto body = [](const HttpHead &head) -> std::optional<uint64_t> {
        if (head.chunked || !head.request)
            return std::nullopt;
        return head.content_length.value_or(0);  // a request without a length has no body
    };
    for (HttpPiece &piece : requests_.feed(data, length, body)) {
        if (piece.head && piece.head->request) {
            if (exchanges_.size() == max_waiting) {
                overflow_.push_back(std::move(exchanges_.front()));
                exchanges_.pop_front();
                ++first_id_;
                next_to_answer_ = std::max(next_to_answer_, first_id_);
            }
            HttpExchange exchange;
            exchange.method = std::move(piece.head->method);
            exchange.path = std::move(piece.head->path);
            exchange.version = std::move(piece.head->version);
            exchange.truncated = piece.head->truncated;
            exchange.request_ns = time_ns;
            exchange.request_bytes = piece.bytes;
            exchanges_.push_back(std::move(exchange));
            requesting_ = next_id_++;
        } else if (piece.head) {
            requesting_ = UINT64_MAX;  // a response where requests go: not ours to count
        } else if (HttpExchange *exchange = find(requesting_)) {
            exchange->request_bytes += piece.bytes;
        }
    }
}

void HttpConnection::on_response_bytes(std::string_view data, uint64_t length, uint64_t time_ns)
{
    // The parser asks for each whole head's body length before the pieces
    // come back: the request each final response answers is decided there,
    // in order.
    std::vector<uint64_t> answered;
    auto body = [&](const HttpHead &head) -> std::optional<uint64_t> {
        if (head.request)
            return std::nullopt;
        if (head.status < 200)
            return 0;  // 1xx: an interim answer, the final one follows
        HttpExchange *exchange = find(next_to_answer_);
        answered.push_back(exchange ? next_to_answer_++ : UINT64_MAX);
        if ((exchange && exchange->method == "HEAD") || head.status == 204 || head.status == 304)
            return 0;
        if (head.chunked)
            return std::nullopt;
        return head.content_length;  // none: until the connection closes
    };
    size_t next_answered = 0;
    for (HttpPiece &piece : responses_.feed(data, length, body)) {
        if (piece.head) {
            if (HttpExchange *before = find(responding_))
                before->response_done = true;  // a body of unknown length ends where the next answer starts
            responding_ = UINT64_MAX;
            if (piece.head->request || piece.head->status < 200)
                continue;
            if (piece.head->complete)
                responding_ = next_answered < answered.size() ? answered[next_answered++] : UINT64_MAX;
            else if (find(next_to_answer_))  // a head cut by the capture: no body length asked
                responding_ = next_to_answer_++;
            HttpExchange *exchange = find(responding_);
            if (!exchange)
                continue;  // an answer to a request from before the plugin started
            exchange->status = piece.head->status;
            exchange->response_ns = time_ns;
            exchange->response_bytes = piece.bytes;
            exchange->response_done = piece.ends_message;
        } else if (HttpExchange *exchange = find(responding_)) {
            exchange->response_bytes += piece.bytes;
            exchange->response_done = exchange->response_done || piece.ends_message;
        }
    }
}

std::vector<HttpExchange> HttpConnection::take_finished(Flush flush)
{
    std::vector<HttpExchange> finished = std::move(overflow_);
    overflow_.clear();
    auto ready = [&](const HttpExchange &exchange) {
        return exchange.response_done || flush == Flush::All || (flush == Flush::Answered && exchange.status);
    };
    while (!exchanges_.empty() && ready(exchanges_.front())) {
        finished.push_back(std::move(exchanges_.front()));
        exchanges_.pop_front();
        ++first_id_;
    }
    next_to_answer_ = std::max(next_to_answer_, first_id_);
    return finished;
}
