#include "records/record.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "core/log.h"

namespace {

const char *const reserved_names[] = {"timestamp", "host", "source"};

std::string field_name(const std::string &name)
{
    return is_reserved_field_name(name) ? "field_" + name : name;
}

std::string value_text(const FieldValue &value)
{
    return std::visit(
        [](const auto &v) -> std::string {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>)
                return v;
            else if constexpr (std::is_same_v<T, bool>)
                return v ? "true" : "false";
            else {
                char buffer[32];
                auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, v);
                return error == std::errc() ? std::string(buffer, end) : std::string();
            }
        },
        value);
}

// The journal's MESSAGE: "source k=v k=v", for `journalctl` without -o json,
// with control bytes escaped so it stays one line of text (the fields keep them).
std::string message_of(const Record &record)
{
    std::string message = record.source;
    for (const Field &field : record.fields) {
        message += ' ';
        message += field.name;
        message += '=';
        message += value_text(field.value);
    }
    return Logger::escape(message, 4096);
}

} // namespace

Record &Record::add(std::string name, std::string value)
{
    fields.push_back({std::move(name), std::move(value)});
    return *this;
}

Record &Record::tag(std::string name, std::string value)
{
    fields.push_back({std::move(name), std::move(value), true});
    return *this;
}

Record &Record::add(std::string name, double value)
{
    fields.push_back({std::move(name), value});
    return *this;
}

Record &Record::add(std::string name, bool value)
{
    fields.push_back({std::move(name), value});
    return *this;
}

bool is_reserved_field_name(std::string_view name)
{
    for (const char *reserved : reserved_names)
        if (name == reserved)
            return true;
    return false;
}

uint64_t realtime_usec()
{
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return static_cast<uint64_t>(now.tv_sec) * 1000000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
}

std::string local_host_name()
{
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0 || !name[0])
        return "localhost";
    return name;
}

std::string rfc3339_utc(uint64_t time_usec)
{
    time_t seconds = static_cast<time_t>(time_usec / 1000000);
    tm utc;
    gmtime_r(&seconds, &utc);
    char text[40];
    size_t length = strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(text + length, sizeof text - length, ".%06uZ", static_cast<unsigned>(time_usec % 1000000));
    return text;
}

std::string record_json(const Record &record)
{
    nlohmann::ordered_json object;
    object["timestamp"] = rfc3339_utc(record.time_usec);
    object["host"] = record.host;
    object["source"] = record.source;
    for (const Field &field : record.fields)
        std::visit([&](const auto &v) { object[field_name(field.name)] = v; }, field.value);
    return object.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

namespace {

// Line protocol escapes: a backslash before each byte of `special`; a
// control byte (a newline would end the record) becomes a space.
std::string escape_bytes(std::string_view text, std::string_view special)
{
    std::string out;
    for (char c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = ' ';
        else if (special.find(c) != std::string_view::npos)
            out += '\\';
        out += c;
    }
    return out;
}

std::string line_key(std::string_view text) { return escape_bytes(text, ",= "); }

std::string line_field_value(const FieldValue &value)
{
    if (const auto *text = std::get_if<std::string>(&value))
        return '"' + escape_bytes(*text, "\"\\") + '"';
    if (const auto *number = std::get_if<int64_t>(&value))
        return std::to_string(*number) + "i";
    if (const auto *number = std::get_if<uint64_t>(&value))
        return std::to_string(*number) + (*number > uint64_t(INT64_MAX) ? "u" : "i");
    return value_text(value);
}

} // namespace

std::string record_line_protocol(const Record &record)
{
    std::string line = escape_bytes(record.source, ", ");
    auto add_tag = [&](std::string_view name, std::string_view value) {
        if (!value.empty())
            line += "," + line_key(name) + "=" + line_key(value);
    };
    add_tag("host", record.host);
    for (const Field &field : record.fields)
        if (field.tag)
            add_tag(field_name(field.name), value_text(field.value));
    char separator = ' ';
    for (const Field &field : record.fields) {
        if (field.tag)
            continue;
        if (const auto *number = std::get_if<double>(&field.value); number && !std::isfinite(*number))
            continue;  // line protocol has no NaN or infinity
        line += separator + line_key(field_name(field.name)) + "=" + line_field_value(field.value);
        separator = ',';
    }
    if (separator == ' ')
        return "";
    return line + " " + std::to_string(record.time_usec * 1000);
}

std::string journal_field_name(std::string_view name)
{
    std::string out;
    for (char c : name) {
        if (c >= 'a' && c <= 'z')
            c = static_cast<char>(c - 'a' + 'A');
        else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            c = '_';
        out += c;
    }
    if (out.empty() || out[0] == '_' || (out[0] >= '0' && out[0] <= '9'))
        out.insert(0, "F");
    if (out.size() > 64)
        out.resize(64);
    return out;
}

std::vector<std::string> record_journal_fields(const Record &record)
{
    std::vector<std::string> fields;
    fields.push_back("MESSAGE=" + message_of(record));
    fields.push_back("PRIORITY=6");
    fields.push_back("SYSLOG_IDENTIFIER=ebpf.plugin");
    fields.push_back("TIMESTAMP=" + rfc3339_utc(record.time_usec));
    fields.push_back("HOST=" + record.host);
    fields.push_back("SOURCE=" + record.source);
    for (const Field &field : record.fields) {
        std::string name = journal_field_name(field_name(field.name));
        if (name == "MESSAGE" || name == "PRIORITY" || name == "SYSLOG_IDENTIFIER")
            name.insert(0, "FIELD_");
        fields.push_back(name + "=" + value_text(field.value));
    }
    return fields;
}
