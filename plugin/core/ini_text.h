// The plugin's own INI files (records.conf, network.conf's flow keys) in
// Netdata's format, read with inih: indented keys, ';' kept in values.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.h"

// section and key trimmed and lower-cased, value trimmed, line from 1.
using IniSetting = std::function<void(const std::string &section, const std::string &key,
                                      const std::string &value, int line)>;
void read_netdata_ini(std::string_view text, const IniSetting &on_setting);

// <user dir>/<name>, else <stock dir>/<name> (whole-file precedence, as core/config.cpp
// reads ebpf.d/*.conf): the path and text of the first that loads.
std::optional<std::pair<std::string, std::string>> first_config_file(const ConfigDirs &dirs, std::string_view name,
                                                                    const Warn &warn);

// A whole decimal number in [min, max].
std::optional<unsigned> parse_count(const std::string &value, unsigned min, unsigned max);
std::string lower_case(std::string text);
std::string trimmed(std::string_view text);  // without leading and trailing blanks
