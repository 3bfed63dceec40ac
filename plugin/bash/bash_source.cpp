#include "bash/bash_source.h"

#include <cstring>
#include <ctime>
#include <pwd.h>
#include <vector>

#include "bash.h"
#include "core/log.h"

namespace {

// Users looked up are kept; a host with more than this many starts over.
constexpr size_t max_cached_users = 4096;

uint64_t monotonic_nsec()
{
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<uint64_t>(now.tv_sec) * 1000000000 + static_cast<uint64_t>(now.tv_nsec);
}

// Lines let through until the next report, `seconds` away (0: no limit).
uint64_t window_limit(unsigned per_second, int seconds)
{
    return static_cast<uint64_t>(per_second) * static_cast<uint64_t>(seconds > 0 ? seconds : 1);
}

} // namespace

BashSource::BashSource(const ProcessGroups &groups, unsigned rate_limit)
    : owners_(groups), rate_limit_(rate_limit)
{
}

std::unique_ptr<BashSource> BashSource::start(const BashConfig &config, const ProcessGroups &groups, int seconds,
                                              std::string &error)
{
    std::unique_ptr<BashSource> source(new BashSource(groups, config.rate_limit));
    error = source->probe_.start(config.binaries, config.ring_buffer_bytes);
    for (const std::string &warning : source->probe_.warnings())
        log_error("bash: %s; not probed", warning.c_str());
    if (!error.empty())
        return nullptr;
    std::string probed;
    for (const std::string &path : source->probe_.probed())
        probed += (probed.empty() ? "" : ", ") + path;
    log_info("bash: readline() probed in %s", probed.c_str());
    source->probe_.start_window(window_limit(config.rate_limit, seconds));
    return source;
}

const std::string &BashSource::user_name(uint32_t uid)
{
    auto found = users_.find(uid);
    if (found != users_.end())
        return found->second;
    if (users_.size() >= max_cached_users)
        users_.clear();
    std::string name = std::to_string(uid);  // no passwd entry: the number, as ls shows it
    passwd entry, *result = nullptr;
    std::vector<char> buffer(16384);
    if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &result) == 0 && result && result->pw_name)
        name = result->pw_name;
    return users_[uid] = name;
}

Record BashSource::make_record(const bash_event &event, uint64_t realtime_now, uint64_t monotonic_now)
{
    uint64_t age_usec = monotonic_now > event.time_ns ? (monotonic_now - event.time_ns) / 1000 : 0;
    uint64_t time_usec = realtime_now > age_usec ? realtime_now - age_usec : realtime_now;
    std::string cmd(event.line, strnlen(event.line, sizeof(event.line)));
    std::string pid = std::to_string(event.pid);
    const std::string &user = user_name(event.uid);
    ProcessOwner owner = owners_.owner(event.pid, event.cgroup_id);
    const std::string &cgroup = owner.cgroup, &service = owner.service, &app_group = owner.app_group;
    Record record("bash", time_usec);
    record.add("cmd", cmd)
        .add("pid", pid)
        .add("user", user)
        .add("message", rfc3339_utc(time_usec) + " pid:`" + pid + "` user:`" + user + "` cmd:`" + cmd + "`")
        .add("uid", event.uid)
        .add("truncated", event.truncated != 0)
        .tag("cgroup", cgroup)
        .tag("service", service)
        .tag("app_group", app_group);
    auto count = [&](std::map<std::string, Totals> &scope, const std::string &name) {
        if (name.empty())
            return;
        Totals &totals = scope[name];
        ++totals.commands;
        totals.cgroup_id = event.cgroup_id;
    };
    if (!app_group.starts_with('-'))  // a hidden group has no chart
        count(app_totals_, app_group);
    count(service.empty() ? cgroup_totals_ : service_totals_, service.empty() ? cgroup : service);
    return record;
}

void BashSource::report(RecordStream *stream, int seconds)
{
    owners_.begin_report();
    uint64_t realtime_now = realtime_usec(), monotonic_now = monotonic_nsec();
    probe_.drain([&](const bash_event &event) {
        ++lines_;
        Record record = make_record(event, realtime_now, monotonic_now);
        if (stream)
            stream->emit(std::move(record));
    });
    probe_.start_window(window_limit(rate_limit_, seconds));
}

void BashSource::add_counters(Snapshot &snapshot)
{
    snapshot.system["bash_lines"] = static_cast<int64_t>(lines_);
    snapshot.system["bash_rate_dropped"] = static_cast<int64_t>(probe_.rate_dropped());
    snapshot.system["bash_ring_dropped"] = static_cast<int64_t>(probe_.ring_dropped());
    // a removed cgroup's charts go: its totals with it
    for (auto *scope : {&cgroup_totals_, &service_totals_})
        std::erase_if(*scope, [&](const auto &entry) { return !owners_.cgroup(entry.second.cgroup_id); });
    auto put = [](const std::map<std::string, Totals> &scope, std::map<std::string, Counters> &to) {
        for (const auto &[name, totals] : scope)
            to[name]["bash_commands"] = static_cast<int64_t>(totals.commands);
    };
    put(app_totals_, snapshot.apps);
    put(cgroup_totals_, snapshot.cgroups);
    put(service_totals_, snapshot.services);
}
