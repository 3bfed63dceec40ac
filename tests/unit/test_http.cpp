#include "net/http_config.h"
#include "net/http_exchanges.h"
#include "net/http_parser.h"

#include <doctest/doctest.h>

#include <random>

namespace {

HeadParse parse(std::string_view text, HttpHead &head, size_t max_path = 256)
{
    return parse_http_head(text, max_path, head);
}

const std::string get_a = "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n";
const std::string ok_5 = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

} // namespace

TEST_CASE("http parser: request and status lines")
{
    HttpHead head;
    REQUIRE(parse(get_a, head) == HeadParse::Complete);
    CHECK(head.request);
    CHECK(head.method == "GET");
    CHECK(head.path == "/a?x=1");
    CHECK(head.version == "1.1");
    CHECK_FALSE(head.truncated);
    CHECK(head.head_bytes == get_a.size());
    CHECK_FALSE(head.content_length);

    REQUIRE(parse(ok_5, head) == HeadParse::Complete);
    CHECK_FALSE(head.request);
    CHECK(head.status == 200);
    CHECK(head.content_length == 5u);
    CHECK(head.head_bytes == ok_5.size() - 5);

    REQUIRE(parse("HTTP/1.0 404\r\n\r\n", head) == HeadParse::Complete);
    CHECK(head.status == 404);
    CHECK(head.version == "1.0");
    REQUIRE(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\nContent-Length: 9\r\n\r\n", head) ==
            HeadParse::Complete);
    CHECK(head.chunked);
    CHECK_FALSE(head.content_length);
}

TEST_CASE("http parser: the path is cut at the configured length")
{
    HttpHead head;
    REQUIRE(parse("POST /0123456789 HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc", head, 4) == HeadParse::Complete);
    CHECK(head.path == "/012");
    CHECK(head.truncated);
    CHECK(head.content_length == 3u);
    REQUIRE(parse("POST /012 HTTP/1.0\r\n\r\n", head, 4) == HeadParse::Complete);
    CHECK(head.path == "/012");
    CHECK_FALSE(head.truncated);
}

TEST_CASE("http parser: truncated input needs more, never more than it has")
{
    for (const std::string &whole : {get_a, ok_5.substr(0, ok_5.size() - 5)}) {
        for (size_t n = 0; n < whole.size(); ++n) {
            HttpHead head;
            std::string cut = whole.substr(0, n);  // its own buffer: ASan sees a read past it
            CHECK_MESSAGE(parse(cut, head) == HeadParse::NeedMore, cut);
        }
    }
    HttpHead head;
    REQUIRE(parse("GET /very/long/pa", head) == HeadParse::NeedMore);
    CHECK(head.method == "GET");
    CHECK(head.path == "/very/long/pa");
    CHECK(head.truncated);
    CHECK(head.version.empty());
}

TEST_CASE("http parser: garbage is invalid")
{
    for (std::string text : std::vector<std::string>{"GOT / HTTP/1.1\r\n\r\n", "GET  HTTP/1.1\r\n\r\n", "GET / HTTP/2.0\r\n\r\n",
                             "GET / HTTP/1.1\n\n", "GET / HTTP/1.1\r\nNo colon\r\n\r\n", "GET /\x01 HTTP/1.1\r\n\r\n",
                             "HTTP/1.1 20x OK\r\n\r\n", "HTTP/1.1 099 Low\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n",
                             "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                             "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
                             "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
                             "SSH-2.0-OpenSSH_9.2\r\n", std::string("\0\0\0\0", 4)}) {
        HttpHead head;
        CHECK_MESSAGE(parse(text, head) == HeadParse::Invalid, text);
    }
}

TEST_CASE("http parser: random bytes and random cuts never crash")
{
    std::mt19937 random(10);
    std::string alphabet = "GETPOSHTP/1. \r\n:0123456789abcContent-Length\x00\xff";
    for (int i = 0; i < 20000; ++i) {
        std::string text(random() % 200, ' ');
        for (char &c : text)
            c = alphabet[random() % alphabet.size()];
        if (i % 2)
            text = (i % 4 == 1 ? get_a : ok_5).substr(0, random() % 40) + text;
        HttpHead head;
        parse(text, head, 1 + random() % 300);
        HttpStream stream(64, 256);
        stream.feed(text, text.size() + random() % 3 * 1000, [](const HttpHead &) { return std::optional<uint64_t>(7); });
    }
}

TEST_CASE("http stream: pipelined heads and bodies in one call, a head over two calls")
{
    HttpStream stream(256);
    auto body = [](const HttpHead &head) { return std::optional<uint64_t>(head.content_length.value_or(0)); };
    std::string calls = ok_5 + ok_5 + ok_5.substr(0, 20);
    auto pieces = stream.feed(calls, calls.size(), body);
    REQUIRE(pieces.size() == 4);
    CHECK(pieces[0].head->status == 200);
    CHECK(pieces[0].bytes == ok_5.size() - 5);
    CHECK_FALSE(pieces[0].ends_message);
    CHECK(pieces[1].bytes == 5);
    CHECK(pieces[1].ends_message);
    CHECK(pieces[2].head);
    CHECK(pieces[3].ends_message);
    pieces = stream.feed(ok_5.substr(20), ok_5.size() - 20, body);
    REQUIRE(pieces.size() == 2);
    CHECK(pieces[0].head->status == 200);
    CHECK(pieces[0].bytes == ok_5.size() - 5);  // the part of the earlier call too
    CHECK(pieces[1].ends_message);
}

TEST_CASE("http stream: a body beyond the capture is counted; garbage waits for the next head")
{
    HttpStream stream(256);
    auto body = [](const HttpHead &head) { return head.content_length; };
    std::string big = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
    auto pieces = stream.feed(big + "xxxx", big.size() + 100000, body);
    REQUIRE(pieces.size() == 2);
    CHECK(pieces[1].bytes == 100000);
    CHECK(pieces[1].ends_message);
    pieces = stream.feed("garbage", 7, body);
    REQUIRE(pieces.size() == 1);
    CHECK_FALSE(pieces[0].head);
    pieces = stream.feed("HTTP/1.1 200 OK\r\nContent-Length: 2", 40, body);  // more than captured
    REQUIRE(pieces.size() == 1);
    CHECK(pieces[0].head->status == 200);
    CHECK_FALSE(pieces[0].head->complete);
    CHECK(pieces[0].bytes == 40);
    pieces = stream.feed(ok_5, ok_5.size(), body);  // back in step
    REQUIRE(pieces.size() == 2);
    CHECK(pieces[0].head->status == 200);
}

TEST_CASE("http stream: a huge header is bounded")
{
    HttpStream stream(256, 1024);
    auto body = [](const HttpHead &) { return std::optional<uint64_t>(0); };
    std::string start = "GET /h HTTP/1.1\r\nX-Big: ";
    auto pieces = stream.feed(start, start.size(), body);
    CHECK(pieces.empty());
    std::string filler(900, 'a');
    pieces = stream.feed(filler, filler.size(), body);
    CHECK(pieces.empty());
    pieces = stream.feed(filler, filler.size(), body);  // over 1024: reported as it is
    REQUIRE(pieces.size() == 1);
    CHECK(pieces[0].head->path == "/h");
    CHECK(pieces[0].bytes == start.size() + 1800);
}

TEST_CASE("http connection: client, keep-alive and pipelined, HEAD, in order")
{
    HttpConnection connection(256);
    std::string requests = get_a + "HEAD /b HTTP/1.1\r\n\r\n" + "POST /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
    connection.on_call(true, requests, requests.size(), 1000);
    CHECK(connection.role() == HttpConnection::Role::Client);
    CHECK(connection.take_finished(HttpConnection::Flush::Complete).empty());
    std::string head_answer = "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n";  // no body: it answers HEAD
    std::string answers = ok_5 + head_answer + "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n";
    connection.on_call(false, answers, answers.size(), 3000);
    auto done = connection.take_finished(HttpConnection::Flush::Complete);
    REQUIRE(done.size() == 3);
    CHECK(done[0].path == "/a?x=1");
    CHECK(done[0].status == 200);
    CHECK(done[0].request_bytes == get_a.size());
    CHECK(done[0].response_bytes == ok_5.size());
    CHECK(done[0].response_ns - done[0].request_ns == 2000);
    CHECK(done[1].method == "HEAD");
    CHECK(done[1].response_bytes == head_answer.size());
    CHECK(done[2].method == "POST");
    CHECK(done[2].status == 201);
    CHECK(done[2].request_bytes == 39 + 3);
}

TEST_CASE("http connection: server, 100 Continue, unanswered at close")
{
    HttpConnection connection(256);
    std::string post = "POST /up HTTP/1.1\r\nContent-Length: 4\r\n\r\n";
    connection.on_call(false, post, post.size(), 10);
    CHECK(connection.role() == HttpConnection::Role::Server);
    connection.on_call(true, "HTTP/1.1 100 Continue\r\n\r\n", 25, 20);
    connection.on_call(false, "data", 4, 30);
    connection.on_call(true, "HTTP/1.1 500 Oops\r\nContent-Length: 2\r\n\r\n", 40, 40);
    CHECK(connection.take_finished(HttpConnection::Flush::Complete).empty());  // the body has not gone yet
    CHECK(connection.take_finished(HttpConnection::Flush::Answered).size() == 1);
    connection.on_call(false, get_a, get_a.size(), 50);
    auto left = connection.take_finished(HttpConnection::Flush::All);
    REQUIRE(left.size() == 1);
    CHECK(left[0].status == 0);
}

TEST_CASE("http connection: a chunked answer ends where the next one starts")
{
    HttpConnection connection(256);
    connection.on_call(true, get_a, get_a.size(), 1);
    std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    connection.on_call(false, chunked, chunked.size(), 2);
    connection.on_call(false, "5\r\nhello\r\n0\r\n\r\n", 15, 3);
    CHECK(connection.take_finished(HttpConnection::Flush::Complete).empty());
    connection.on_call(true, get_a, get_a.size(), 4);
    connection.on_call(false, ok_5, ok_5.size(), 5);
    auto done = connection.take_finished(HttpConnection::Flush::Complete);
    REQUIRE(done.size() == 2);
    CHECK(done[0].response_bytes == chunked.size() + 15);
    CHECK(done[1].response_bytes == ok_5.size());
}

TEST_CASE("http flows config")
{
    std::vector<std::string> warnings;
    Warn warn = [&](const std::string &line) { warnings.push_back(line); };
    HttpFlowsConfig config = parse_http_flows_config("n.conf", "[http flows]\nenabled = yes\npath length = 32\n", warn);
    CHECK(config.enabled);
    CHECK(config.path_length == 32);
    CHECK(warnings.empty());
    config = parse_http_flows_config("n.conf", "[http flows]\npath length = 99999\nenabled = maybe\nx = 1\n", warn);
    CHECK_FALSE(config.enabled);
    CHECK(config.path_length == 256);
    CHECK(warnings.size() == 3);
    CHECK(HttpFlowsConfig{}.enabled == false);
}
