#include "net/dns_parser.h"

#include <algorithm>
#include <cstring>
#include <sys/socket.h>

namespace {

constexpr size_t header_size = 12;
constexpr size_t max_label = 63, max_name = 255;

uint16_t read16(const uint8_t *at)
{
    return static_cast<uint16_t>(at[0] << 8 | at[1]);
}

void append_label_byte(std::string &name, uint8_t byte)
{
    if (byte >= 'A' && byte <= 'Z')
        byte = static_cast<uint8_t>(byte - 'A' + 'a');
    bool plain = (byte >= 'a' && byte <= 'z') || (byte >= '0' && byte <= '9') || byte == '-' || byte == '_';
    if (plain) {
        name += static_cast<char>(byte);
        return;
    }
    char escaped[5] = {'\\', static_cast<char>('0' + byte / 100), static_cast<char>('0' + byte / 10 % 10),
                       static_cast<char>('0' + byte % 10), 0};
    name += escaped;
}

// The name at data[offset]; offset moves past it. nullopt when it runs past
// `size`, uses a pointer or a reserved label type, or is too long.
std::optional<std::string> read_name(const uint8_t *data, size_t size, size_t &offset)
{
    std::string name;
    size_t wire_length = 0;
    while (true) {
        if (offset >= size)
            return std::nullopt;
        uint8_t length = data[offset++];
        wire_length += 1 + length;
        if (wire_length > max_name)
            return std::nullopt;
        if (length == 0)
            break;
        if (length > max_label || size - offset < length)  // the top two bits: a pointer or reserved
            return std::nullopt;
        if (!name.empty())
            name += '.';
        for (size_t i = 0; i < length; ++i)
            append_label_byte(name, data[offset + i]);
        offset += length;
    }
    return name.empty() ? std::string(".") : name;
}

// Moves offset past the (possibly compressed) name at data[offset]; false
// when it runs past `size` or uses a reserved label type.
bool skip_name(const uint8_t *data, size_t size, size_t &offset)
{
    while (offset < size) {
        uint8_t length = data[offset];
        if ((length & 0xc0) == 0xc0) {  // a pointer ends the name
            offset += 2;
            return offset <= size;
        }
        if (length > max_label)
            return false;
        offset += 1 + length;
        if (length == 0)
            return true;
    }
    return false;
}

// The A and AAAA records of the answer section that starts at `offset`,
// until `answers` records are read or one is cut by the end of the capture.
void read_addresses(const uint8_t *data, size_t size, size_t offset, uint16_t answers,
                    std::vector<DnsAddress> &addresses)
{
    constexpr uint16_t type_a = 1, type_aaaa = 28, class_in = 1;
    for (uint16_t i = 0; i < answers; ++i) {
        if (!skip_name(data, size, offset) || size - offset < 10)
            return;
        uint16_t type = read16(data + offset), rclass = read16(data + offset + 2);
        uint16_t length = read16(data + offset + 8);
        offset += 10;
        if (size - offset < length)
            return;
        bool a = type == type_a && length == 4, aaaa = type == type_aaaa && length == 16;
        if (rclass == class_in && (a || aaaa)) {
            DnsAddress address;
            address.family = a ? AF_INET : AF_INET6;
            std::memcpy(address.bytes.data(), data + offset, length);
            addresses.push_back(address);
        }
        offset += length;
    }
}

} // namespace

std::optional<DnsMessage> parse_dns_message(const uint8_t *data, size_t size)
{
    if (!data || size < header_size)
        return std::nullopt;
    DnsMessage message;
    message.id = read16(data);
    uint16_t flags = read16(data + 2);
    message.response = flags & 0x8000;
    uint8_t opcode = (flags >> 11) & 0xf;
    message.rcode = flags & 0xf;
    uint16_t questions = read16(data + 4);
    if (opcode != 0 || (flags & 0x0040))  // QUERY only; the Z bit is zero in every real message
        return std::nullopt;
    if (!message.response && message.rcode != 0)
        return std::nullopt;
    if (questions == 0 && message.response)
        return message;
    if (questions != 1)
        return std::nullopt;
    size_t offset = header_size;
    std::optional<std::string> name = read_name(data, size, offset);
    if (!name || size - offset < 4)
        return std::nullopt;
    message.qname = std::move(*name);
    message.qtype = read16(data + offset);
    if (message.response && message.rcode == 0)
        read_addresses(data, size, offset + 4, read16(data + 6), message.addresses);
    return message;
}

std::optional<DnsMessage> parse_dns_tcp_message(const uint8_t *data, size_t size)
{
    if (!data || size < 2 || read16(data) < header_size)
        return std::nullopt;
    // the bytes after this message (the next one of a pipelined stream) are not its answers
    return parse_dns_message(data + 2, std::min<size_t>(size - 2, read16(data)));
}
