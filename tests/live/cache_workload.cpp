// cache-workload: known page cache and directory cache work for
// tests/live/cache_test.py. It sets up, then moves itself into the cgroup
// given, so that cgroup sees only the measured part (and leaves it before it
// exits: unmapping its own pages at exit marks them accessed):
//   - the file read twice after dropping it from the page cache
//     (posix_fadvise DONTNEED), with a pause after each pass so the passes
//     fall in different collection intervals;
//   - N stats of an existing name and N of a missing one (lookup_fast each),
//     M creates of new names (d_lookup finds nothing) and M unlinks of them
//     (d_lookup finds them), in DIR.
// usage: cache-workload --cgroup DIR --leave-to DIR --file PATH --dir DIR --stats N --creates M [--pause MS]
// Prints {"pid": P, "pages": PAGES} at the end.
// With --swap PAGES alone, it writes PAGES anonymous pages (not zero-filled, no huge
// pages: one swap-out per page), then reads them all back, in the cgroup it was
// started in (whose memory limit makes them go to swap and come back).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

namespace {

[[noreturn]] void fail(const char *what)
{
    fprintf(stderr, "cache-workload: %s: %s\n", what, strerror(errno));
    exit(1);
}

void pause_ms(long ms)
{
    timespec t{ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

char buffer[1 << 16];

// Reads the whole file in 64 KiB preads.
void read_all(int fd, off_t size)
{
    for (off_t at = 0; at < size;) {
        ssize_t n = pread(fd, buffer, sizeof(buffer), at);
        if (n <= 0)
            fail("pread");
        at += n;
    }
}

// Writes `pages` pages, then reads them back: prints {"pid": P, "pages": PAGES, "sum": S}.
int swap_pages(long pages)
{
    const long page = sysconf(_SC_PAGESIZE);
    auto *memory = static_cast<unsigned char *>(
        mmap(nullptr, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (memory == MAP_FAILED)
        fail("mmap");
    if (madvise(memory, pages * page, MADV_NOHUGEPAGE) != 0)  // a huge page is one swap call for many pages
        fail("madvise");
    for (long i = 0; i < pages; i++)  // not zero-filled: 6.12+ keeps zero pages out of swap
        memset(memory + i * page, static_cast<int>(i % 255 + 1), static_cast<size_t>(page));
    long sum = 0;
    for (long i = 0; i < pages; i++)
        sum += memory[i * page];
    printf("{\"pid\": %d, \"pages\": %ld, \"sum\": %ld}\n", getpid(), pages, sum);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    const char *cgroup = nullptr, *leave_to = nullptr, *file = nullptr, *dir = nullptr;
    long stats = 0, creates = 0, pause = 1500, swap = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string key = argv[i];
        const char *value = argv[i + 1];
        if (key == "--cgroup")
            cgroup = value;
        else if (key == "--leave-to")
            leave_to = value;
        else if (key == "--file")
            file = value;
        else if (key == "--dir")
            dir = value;
        else if (key == "--stats")
            stats = atol(value);
        else if (key == "--creates")
            creates = atol(value);
        else if (key == "--pause")
            pause = atol(value);
        else if (key == "--swap")
            swap = atol(value);
    }
    if (swap > 0)
        return swap_pages(swap);
    if (!cgroup || !leave_to || !file || !dir) {
        fputs("usage: cache-workload --cgroup DIR --leave-to DIR --file PATH --dir DIR --stats N --creates M "
              "[--pause MS] | --swap PAGES\n",
              stderr);
        return 2;
    }

    // Setup, counted in the cgroup the workload started in.
    int data = open(file, O_RDONLY);
    struct stat st;
    if (data < 0 || fstat(data, &st) != 0)
        fail(file);
    if (chdir(dir) != 0)
        fail(dir);
    int existing = open("existing", O_CREAT | O_WRONLY, 0644);
    if (existing < 0)
        fail("existing");
    close(existing);
    std::string procs = std::string(cgroup) + "/cgroup.procs";
    std::string leave_procs = std::string(leave_to) + "/cgroup.procs";
    int move = open(procs.c_str(), O_WRONLY);
    int leave = open(leave_procs.c_str(), O_WRONLY);
    if (move < 0 || leave < 0)
        fail("cgroup.procs");
    std::string pid = std::to_string(getpid());
    char names[64];

    // Measured, in `cgroup` from here on.
    if (write(move, pid.data(), pid.size()) != static_cast<ssize_t>(pid.size()))
        fail("move into the cgroup");
    close(move);

    if (posix_fadvise(data, 0, 0, POSIX_FADV_DONTNEED) != 0)
        fail("posix_fadvise");
    read_all(data, st.st_size);  // misses
    pause_ms(pause);
    read_all(data, st.st_size);  // hits
    pause_ms(pause);

    struct stat ignored;
    for (long i = 0; i < stats; i++)
        if (stat("existing", &ignored) != 0)
            fail("stat existing");
    for (long i = 0; i < stats; i++)
        if (stat("missing", &ignored) == 0 || errno != ENOENT)
            fail("stat missing");
    for (long i = 0; i < creates; i++) {
        snprintf(names, sizeof(names), "new%ld", i);
        int fd = open(names, O_CREAT | O_EXCL | O_WRONLY, 0644);
        if (fd < 0)
            fail("create");
        close(fd);
    }
    for (long i = 0; i < creates; i++) {
        snprintf(names, sizeof(names), "new%ld", i);
        if (unlink(names) != 0)
            fail("unlink");
    }
    if (write(leave, pid.data(), pid.size()) != static_cast<ssize_t>(pid.size()))
        fail("leave the cgroup");
    close(leave);
    printf("{\"pid\": %d, \"pages\": %lld}\n", getpid(), static_cast<long long>((st.st_size + 4095) / 4096));
    return 0;
}
