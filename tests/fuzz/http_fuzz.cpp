// libFuzzer target: the HTTP parser and request/answer pairing on any bytes.
// Built by `make fuzz`; run by tests/fuzz/run.sh. The input is a series of
// calls: a flags byte (bit 0: a write; bits 1-3: bytes not captured, in KiB),
// a length byte n, then n captured bytes. Checked: the bytes given to
// exchanges never exceed the bytes fed, and every path respects its length.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/http_exchanges.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t max_path = 1 + data[0] % 64;
    HttpConnection connection(max_path);
    uint64_t fed = 0, counted = 0, time = 0;
    auto count = [&](const std::vector<HttpExchange> &done) {
        for (const HttpExchange &exchange : done) {
            counted += exchange.request_bytes + exchange.response_bytes;
            if (exchange.path.size() > max_path)
                abort();
        }
    };
    size_t at = 1;
    while (at + 2 <= size) {
        uint8_t flags = data[at], n = data[at + 1];
        at += 2;
        size_t captured = n < size - at ? n : size - at;
        uint64_t length = captured + ((flags >> 1) & 7) * 1024;
        connection.on_call(flags & 1, std::string_view(reinterpret_cast<const char *>(data + at), captured), length,
                           time += 1000);
        fed += length;
        at += captured;
        count(connection.take_finished(flags & 0x10 ? HttpConnection::Flush::Answered
                                                    : HttpConnection::Flush::Complete));
    }
    count(connection.take_finished(HttpConnection::Flush::All));
    if (counted > fed)
        abort();
    return 0;
}
