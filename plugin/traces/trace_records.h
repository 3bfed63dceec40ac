// The records of Fluent Bit's in_ebpf traces, from the events of
// traces.bpf.c: its common fields event_type, pid, tid, comm, then each
// trace's own with its names and meanings (docs/RECORDS.md), then who the
// process belongs to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "accounting/owner_resolver.h"
#include "records/record.h"
#include "traces.h"

using TraceOwner = ProcessOwner;

// The event in `data` (as the ring gave it, `size` bytes), or nullopt when
// it is shorter than its kind needs or of no kind known.
std::optional<traced_event> decode_trace_event(const void *data, size_t size);

// The record: source = the trace's name; time = the event's CLOCK_MONOTONIC
// time plus `realtime_offset_ns` (CLOCK_REALTIME minus CLOCK_MONOTONIC).
Record trace_record(const traced_event &event, const TraceOwner &owner, int64_t realtime_offset_ns);

// The address text of a traced socket address ("" when it has none).
std::string trace_addr_text(const trace_addr &addr);
