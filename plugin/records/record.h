// One record of the record stream: what is not a chart (a flow, a DNS or HTTP
// exchange, a traced event, a bash command line). Producers name their fields
// with the peers' names (DataKit's netflow/dnsflow/httpflow/bash, Fluent Bit's
// in_ebpf traces); every sink writes the same fields:
//   timestamp  RFC 3339 UTC with microseconds, when the producer saw it
//   host       the host name (the stream sets it)
//   source     DataKit's measurement or Fluent Bit's trace: "netflow", "exec", ...
//   ...        the producer's fields, in the order added
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

using FieldValue = std::variant<std::string, int64_t, uint64_t, double, bool>;

struct Field {
    std::string name;
    FieldValue value;
    bool tag = false;  // DataKit's tag (an indexed string) rather than field: matters to line protocol only
};

struct Record {
    std::string source;
    uint64_t time_usec = 0;  // CLOCK_REALTIME
    std::string host;
    std::vector<Field> fields;

    Record() = default;
    Record(std::string source_name, uint64_t realtime_usec) : source(std::move(source_name)), time_usec(realtime_usec) {}

    // A string that DataKit lists as a tag (src_ip, direction, ...).
    Record &tag(std::string name, std::string value);
    // Typed adders: an int of any width is int64 or uint64 by its signedness.
    Record &add(std::string name, std::string value);
    Record &add(std::string name, const char *value) { return add(std::move(name), std::string(value)); }
    Record &add(std::string name, double value);
    Record &add(std::string name, bool value);
    template <typename Int>
        requires std::is_integral_v<Int> && (!std::is_same_v<Int, bool>)
    Record &add(std::string name, Int value)
    {
        if constexpr (std::is_signed_v<Int>)
            fields.push_back({std::move(name), static_cast<int64_t>(value)});
        else
            fields.push_back({std::move(name), static_cast<uint64_t>(value)});
        return *this;
    }
};

// Names every record has; a producer's field with one of them is written
// with a "field_" prefix so it cannot hide the stream's own.
bool is_reserved_field_name(std::string_view name);

uint64_t realtime_usec();
std::string local_host_name();  // gethostname(), "localhost" when it fails
std::string rfc3339_utc(uint64_t time_usec);  // 2026-12-01T14:00:00.000123Z

// One JSON object, no newline. Strings that are not UTF-8 get U+FFFD.
std::string record_json(const Record &record);

// InfluxDB line protocol, which DataKit ingests: measurement = source, tags
// host and the tag fields (an empty one left out), then the other fields
// (ints with i, or u above INT64_MAX; no NaN or infinity), then the time in
// ns. Control bytes in strings become spaces (a line is one record). "" when
// the record has no field (line protocol needs one).
std::string record_line_protocol(const Record &record);

// journald's form: NAME=value strings, names upper-cased with every byte
// outside [A-Z0-9_] written '_' (a leading '_' or digit gets an "F" before it,
// at most 64 bytes); MESSAGE, PRIORITY=6 and SYSLOG_IDENTIFIER=ebpf.plugin added.
std::vector<std::string> record_journal_fields(const Record &record);
std::string journal_field_name(std::string_view name);
