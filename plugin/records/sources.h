// What `--records NAME[,NAME...]` selects, and the stream's test source.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "records/stream.h"

// Names a user gives: flows (DataKit's netflow), dnsflow, httpflow, Fluent
// Bit's traces (exec, signal, bind, tcp, vfs, malloc, also as trace_exec ...),
// bash, all (every one of those), test. Returns the record sources selected
// ("netflow", "exec", ...); an unknown name is one line in `errors`.
std::set<std::string> parse_record_names(const std::string &list, std::vector<std::string> &errors);

// Every real record source, in the order `all` lists them.
const std::vector<std::string> &record_sources();

// Records of source "test" with a field of every type and a string that needs
// escaping everywhere, numbered from 1: for checking a pipeline end to end
// (`ebpf.plugin --records test | jq`) and the sinks in the tests.
class TestRecordSource {
public:
    explicit TestRecordSource(std::string run = "") : run_(std::move(run)) {}
    Record next();
    uint64_t produced() const { return sequence_; }

private:
    std::string run_;
    uint64_t sequence_ = 0;
};
