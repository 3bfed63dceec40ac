// cachestat module: page cache hits, misses and dirtied pages (kernel-collector/cachestat.bpf.c).
#include "modules/function_hooks.h"
#include "modules/interval_counters.h"
#include "modules/registry.h"
#include "cachestat.h"
#include "cachestat.skel.h"

namespace {

// Order of enum cachestat_counter; newest function names first: 5.16+ work on folios
// and keep the page functions as wrappers that call them (counting both would count twice).
const std::vector<FunctionHook> hooks = {
    {"page_added", {"filemap_add_folio", "add_to_page_cache_lru"}},
    {"page_accessed", {"folio_mark_accessed", "mark_page_accessed"}},
    {"page_dirtied", {"__folio_mark_dirty", "folio_account_dirtied", "__set_page_dirty", "account_page_dirtied"}},
    {"buffer_dirty", {"mark_buffer_dirty"}},
};

struct CachestatTraits {
    static constexpr const char *name = "cachestat";

    static const std::vector<std::string> &counter_names()
    {
        static const std::vector<std::string> names = {"cachestat_page_added", "cachestat_page_accessed",
                                                       "cachestat_page_dirtied", "cachestat_buffer_dirty"};
        return names;
    }

    static LoadPlan plan(const KernelSymbols &kernel, AttachPath path, bool)
    {
        return function_hooks_plan(kernel, path, hooks,
                                   "folio_mark_accessed (page cache accesses) has no tracepoint; "
                                   "cachestat needs trampolines or kprobes");
    }

    static void set_read_only_data(cachestat_bpf::cachestat_bpf__rodata &, const KernelSymbols &) {}
};

} // namespace

// Upstream's formula (from bcc's cachestat), per interval: accesses that did not
// dirty a buffer are the total, pages added that were not dirtied are the misses,
// the rest are hits. A page is added before it is accessed: when a read spans the
// end of an interval, its last pages are added in one interval and accessed in
// the next, where upstream counts them as hits (and the interval before has more
// adds than accesses). So adds not matched by an access are carried one interval
// (then dropped: read-ahead that is never read); the next interval's accesses
// match them first, as misses. The count no longer depends on when the tables
// are read: a process and its cgroup, read a moment apart, agree. Hits and misses
// are kept as running totals (charted as rates), the ratio is the interval's.
void add_cachestat_interval_counters(Counters &counters, const Counters &previous)
{
    if (!counters.contains("cachestat_page_accessed"))
        return;
    auto delta = [&](const char *name) { return counter_value(counters, name) - counter_value(previous, name); };
    int64_t total = std::max<int64_t>(delta("cachestat_page_accessed") - delta("cachestat_buffer_dirty"), 0);
    int64_t added = std::max<int64_t>(delta("cachestat_page_added") - delta("cachestat_page_dirtied"), 0);
    int64_t carried = std::min(counter_value(previous, "cachestat_unaccessed_adds"), total);
    int64_t added_now = std::min(added, total - carried);
    int64_t misses = carried + added_now;
    int64_t hits = total - misses;
    counters["cachestat_unaccessed_adds"] = added - added_now;
    counters["cachestat_hits"] = counter_value(previous, "cachestat_hits") + hits;
    counters["cachestat_misses"] = counter_value(previous, "cachestat_misses") + misses;
    counters["cachestat_ratio"] = total > 0 ? hits * 100 / total : 100;
}

namespace {
std::unique_ptr<CountingModule> make_module(const KernelSymbols &kernel)
{
    return std::make_unique<SkeletonModule<cachestat_bpf, CachestatTraits>>(kernel);
}

const bool registered = register_module({.name = "cachestat", .order = 40, .make_counting = make_module,
                                         .per_interval = add_cachestat_interval_counters});
} // namespace
