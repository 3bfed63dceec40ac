// HTTP exchanges (a request and its response) of one TCP connection, from the
// reads and writes of kernel-collector/httpflow.bpf.c: the host as client
// (it writes requests) or as server (it reads them), keep-alive and pipelined
// requests answered in order. Exchanges come out in request order once
// answered, or when the connection closes or goes quiet.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_parser.h"

struct HttpExchange {
    std::string method, path, version;
    bool truncated = false;
    int status = 0;                    // 0: no response seen
    uint64_t request_ns = 0;           // when its first byte was read or written
    uint64_t response_ns = 0;          // when the response's first byte was
    uint64_t request_bytes = 0, response_bytes = 0;
    bool response_done = false;        // its body is complete
};

class HttpConnection {
public:
    enum class Role { Unknown, Client, Server };

    explicit HttpConnection(size_t max_path) : requests_(max_path), responses_(max_path) {}

    // One call: `written` true for a write; `data` its captured first bytes.
    void on_call(bool written, std::string_view data, uint64_t length, uint64_t time_ns);
    enum class Flush {
        Complete,  // exchanges whose response body is complete
        Answered,  // and those whose response began (the connection went quiet)
        All,       // every one (it closed): an unanswered request has status 0
    };
    // Exchanges, in request order, finished since the last call.
    std::vector<HttpExchange> take_finished(Flush flush);
    Role role() const { return role_; }

    // Requests kept waiting for their answers at most; the oldest goes out
    // unanswered to make room.
    static constexpr size_t max_waiting = 64;

private:
    HttpExchange *find(uint64_t id);
    void on_request_bytes(std::string_view data, uint64_t length, uint64_t time_ns);
    void on_response_bytes(std::string_view data, uint64_t length, uint64_t time_ns);

    Role role_ = Role::Unknown;
    HttpStream requests_, responses_;
    std::deque<HttpExchange> exchanges_;  // exchanges_[i] has id first_id_ + i
    uint64_t first_id_ = 0, next_id_ = 0;
    uint64_t next_to_answer_ = 0;         // id of the request the next response answers
    uint64_t requesting_ = UINT64_MAX;    // id of the request whose bytes are going on
    uint64_t responding_ = UINT64_MAX;    // id of the response going on
    std::vector<HttpExchange> overflow_;  // pushed out by max_waiting
};
