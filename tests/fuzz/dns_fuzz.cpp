// libFuzzer target: the DNS parser (net/dns_parser.h) on any bytes, as UDP
// and as TCP. Built by `make fuzz`; run by tests/fuzz/run.sh. What parses
// must keep the parser's promises.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sys/socket.h>

#include "net/dns_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (bool tcp : {false, true}) {
        auto message = tcp ? parse_dns_tcp_message(data, size) : parse_dns_message(data, size);
        if (!message)
            continue;
        // 255 wire bytes at most, each written as at most 4 ("\DDD")
        if (message->qname.size() > 4 * 255 || message->rcode > 15 || (!message->response && message->rcode))
            abort();
        for (char c : message->qname)
            if (c >= 'A' && c <= 'Z')
                abort();
        // addresses only from a NOERROR response, each a whole record of 16 bytes or more
        if (!message->addresses.empty() && (!message->response || message->rcode))
            abort();
        if (message->addresses.size() * 16 > size)
            abort();
        for (const DnsAddress &address : message->addresses)
            if (address.family != AF_INET && address.family != AF_INET6)
                abort();
    }
    return 0;
}
