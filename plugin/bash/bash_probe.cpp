#include "bash/bash_probe.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

#include "bash.h"
#include "bash.skel.h"
#include "bash/bash_config.h"
#include "core/privileges.h"

namespace {

// Opened as the caller, read-only; -1 and `error` when it cannot be or is no regular file.
int open_as_caller(const std::string &path, std::string &error)
{
    int fd;
    {
        ActAsCaller caller;
        fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    }
    if (fd < 0) {
        error = strerror(errno);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        error = "not a regular file";
        close(fd);
        return -1;
    }
    return fd;
}

} // namespace

std::string bash_check_line(const std::string &uprobe_error)
{
    std::string error = uprobe_error;
    if (error.empty()) {
        bash_bpf *skeleton = bash_bpf::open();
        int load_error = skeleton ? bash_bpf::load(skeleton) : -errno;
        if (load_error)
            error = "cannot load the program: " + errno_text(load_error);
        if (skeleton)
            bash_bpf::destroy(skeleton);
    }
    return "bash (uretprobe on readline in " + BashConfig{}.binaries.front() + "): " +
           (error.empty() ? "ok" : "refused: " + error);
}

BashProbe::~BashProbe()
{
    stop();
}

void BashProbe::stop()
{
    if (ring_)
        ring_buffer__free(ring_);
    ring_ = nullptr;
    links_.clear();
    if (skeleton_)
        bash_bpf::destroy(skeleton_);
    skeleton_ = nullptr;
}

std::string BashProbe::start(const std::vector<std::string> &binaries, uint64_t ring_buffer_bytes)
{
    stop();
    warnings_.clear();
    probed_.clear();
    if (binaries.empty())
        return "no bash binary configured";
    skeleton_ = bash_bpf::open();
    if (!skeleton_)
        return "cannot open the BPF object: " + errno_text(-errno);
    if (bpf_map__set_max_entries(skeleton_->maps.bash_events, static_cast<uint32_t>(ring_buffer_bytes))) {
        stop();
        return "cannot size the ring buffer";
    }
    if (int error = bash_bpf::load(skeleton_)) {
        stop();
        return "cannot load the program: " + errno_text(error);
    }
    std::set<std::pair<dev_t, ino_t>> seen;
    for (const std::string &path : binaries) {
        std::string error;
        int fd = open_as_caller(path, error);
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0 && !seen.insert({st.st_dev, st.st_ino}).second) {
            close(fd);  // another name of a file already probed
            continue;
        }
        if (fd >= 0) {
            // the open file, not the path: what the caller could read is what is probed
            std::string by_fd = "/proc/self/fd/" + std::to_string(fd);
            LIBBPF_OPTS(bpf_uprobe_opts, options, .retprobe = true, .func_name = "readline");
            bpf_link *link = bpf_program__attach_uprobe_opts(skeleton_->progs.bash_readline, -1, by_fd.c_str(), 0,
                                                             &options);
            if (link) {
                links_.add(link);
                probed_.push_back(path);
            } else {
                error = "no readline() to probe (" + errno_text(-errno) + ")";
            }
            close(fd);
        }
        if (!error.empty())
            warnings_.push_back(path + ": " + error);
    }
    if (probed_.empty()) {
        std::string why = warnings_.empty() ? "nothing probed" : warnings_.front();
        stop();
        return why;
    }
    ring_ = ring_buffer__new(
        bpf_map__fd(skeleton_->maps.bash_events),
        [](void *context, void *data, size_t size) {
            auto *self = static_cast<BashProbe *>(context);
            if (size >= sizeof(bash_event) && self->on_line_)
                self->on_line_(*static_cast<const bash_event *>(data));
            return 0;
        },
        this, nullptr);
    if (!ring_) {
        std::string error = "cannot map the ring buffer: " + errno_text(-errno);
        stop();
        return error;
    }
    return "";
}

void BashProbe::drain(const std::function<void(const bash_event &)> &line)
{
    if (!ring_)
        return;
    on_line_ = line;
    ring_buffer__consume(ring_);
    on_line_ = nullptr;
}

void BashProbe::start_window(uint64_t limit)
{
    if (!skeleton_)
        return;
    __atomic_store_n(&skeleton_->bss->counters.window_limit, limit, __ATOMIC_RELAXED);
    __atomic_store_n(&skeleton_->bss->counters.window_lines, 0, __ATOMIC_RELAXED);
}

uint64_t BashProbe::rate_dropped() const
{
    return skeleton_ ? __atomic_load_n(&skeleton_->bss->counters.rate_dropped, __ATOMIC_RELAXED) : 0;
}

uint64_t BashProbe::ring_dropped() const
{
    return skeleton_ ? __atomic_load_n(&skeleton_->bss->counters.ring_dropped, __ATOMIC_RELAXED) : 0;
}

const bpf_object *BashProbe::object() const
{
    return skeleton_ ? skeleton_->obj : nullptr;
}
