// How ebpf.d.conf values are read (nullopt: not a valid value), and shown back
// in a warning's "using <value>".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"

namespace config_values {

std::string lower(std::string_view text);
std::string_view trim(std::string_view text);
// For quoting file content in a warning: control bytes would break the one-line message.
std::string printable(std::string_view text);

std::optional<bool> parse_bool(std::string_view value);
std::optional<long long> parse_integer(std::string_view value, long long min, long long max);
std::optional<LoadMode> parse_load_mode(std::string_view value);
std::optional<TypeFormat> parse_type_format(std::string_view value);
std::optional<AttachPath> parse_attach(std::string_view value);
std::optional<CollectPid> parse_collect_pid(std::string_view value);
// Only stored: the BTF loader appends "/vmlinux". Absolute, so it never depends on the working directory.
std::optional<std::string> parse_btf_path(std::string_view value);

std::string show(bool value);
std::string show(int value);
std::string show(unsigned value);
std::string show(const std::string &value);
std::string show(LoadMode value);
std::string show(TypeFormat value);
std::string show(AttachPath value);
std::string show(CollectPid value);

} // namespace config_values
