// ebpf.d/records.conf: where the record stream goes (docs/RECORDS.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/config.h"
#include "records/sinks.h"

struct RecordsConfig {
    bool journal = false;            // journal = yes
    std::string file;                // file = /var/log/netdata/ebpf-records.json (empty: no file sink)
    uint64_t file_max_bytes = 10 << 20;  // file max size = 10M (bytes, or with a k, M or G suffix)
    unsigned file_keep = 5;          // file rotations kept = 5 (path.1 .. path.5)
    FileFormat file_format = FileFormat::Json;  // file format = json | influx (line protocol)
    unsigned queue = 10000;          // queue size = 10000 (records waiting per sink)
    std::string hostname;            // hostname = (empty: this machine's name)
};

// The user's ebpf.d/records.conf, else the stock one; neither: no sink. Every
// problem is one `warn` line and the default is kept.
RecordsConfig load_records_config(const ConfigDirs &dirs, const Warn &warn);
RecordsConfig parse_records_config(const std::string &path, const std::string &text, const Warn &warn);

// "4096", "64k", "10M", "1G" (1024-based); nullopt when malformed or 0.
std::optional<uint64_t> parse_byte_size(std::string_view text);
