// A record producer beside the modules (flows, httpflow, bash, dns, traces) as
// the main loop drives it: its charts, its programs in the self charts, its
// records and counters each tick and what is left at stop.
#pragma once

#include <functional>
#include <set>
#include <string>

#include "kernel/attach.h"
#include "records/stream.h"

struct bpf_object;
struct Snapshot;

struct RecordProducer {
    std::string module;       // its charts' module (charts/*.conf) and its name in the self charts
    AttachPath path;          // its programs' path in the self charts (<module>_<path>)
    const bpf_object *object; // its programs, for their cost
    // records since the last call (stream may be null: no sink), and at stop (`final`)
    std::function<void(RecordStream *stream, bool final)> report;
    std::function<void(Snapshot &snapshot)> add_counters;
    std::set<std::string> hidden_counters = {};  // chart dimensions it never counts
};
