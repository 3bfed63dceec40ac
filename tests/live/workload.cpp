// ebpf-workload: does an exact, known amount of process, file-descriptor,
// socket and VFS work, so tests can compare what the plugin reports with what happened.
// Linked statically: no dynamic loader opens files before main().
//
//   ebpf-workload --forks N --threads N --opens N --failed-opens M --failed-closes K
//                 [--tcp C --tcp-bytes B --udp D --udp-size S --socket-errors E --netns PATH]
//                 [--vfs-dir DIR --io N --io-size S --creates C --fsyncs F --failed-io E]
//
// Over its lifetime, in its own tgid and cgroup, it causes exactly:
//   create_process N, create_thread T, exit_task N+T+1, release_task N+T+1
//   (the last two once its parent has reaped it), open_call N_open+M,
//   open_error M, close_call N_open+K, close_error K; the socket work is
//   described in workload_socket.cpp (and counted in live_test.py).
// With --vfs-dir, in DIR (see vfs_work): 4N reads and 4N writes of S bytes
// each (read/write, pread/pwrite, readv/writev, preadv/pwritev), E failing
// reads and E failing writes, C regular files made by mknod, C+1 unlinks,
// F fsyncs (half of them fdatasync) and one failing fsync (on a pipe), with 3
// more opens and 5 more closes. Its one line of output is one more write.
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <pthread.h>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "workload_socket.h"

namespace {

struct Work {
    long forks = 0, threads = 0, opens = 0, failed_opens = 0, failed_closes = 0;
    std::string vfs_dir;
    long io = 0, io_size = 0, creates = 0, fsyncs = 0, failed_io = 0;
    SocketWork socket;
};

[[noreturn]] void usage()
{
    fputs("usage: ebpf-workload [--forks N] [--threads N] [--opens N] [--failed-opens N] [--failed-closes N]\n"
          "                     [--tcp N] [--tcp-bytes N] [--udp N] [--udp-size N] [--socket-errors N] [--netns PATH]\n"
          "                     [--vfs-dir DIR --io N --io-size S --creates C --fsyncs F --failed-io E]\n",
          stderr);
    exit(2);
}

Work parse(int argc, char **argv)
{
    Work work;
    for (int i = 1; i + 1 < argc + 1; i += 2) {
        if (i + 1 >= argc)
            usage();
        std::string_view name = argv[i], text = argv[i + 1];
        if (name == "--netns") {
            work.socket.netns = text;
            continue;
        }
        if (name == "--vfs-dir") {
            work.vfs_dir = text;
            continue;
        }
        long value = -1;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc() || end != text.data() + text.size() || value < 0)
            usage();
        if (name == "--forks") work.forks = value;
        else if (name == "--threads") work.threads = value;
        else if (name == "--opens") work.opens = value;
        else if (name == "--failed-opens") work.failed_opens = value;
        else if (name == "--failed-closes") work.failed_closes = value;
        else if (name == "--tcp") work.socket.tcp = value;
        else if (name == "--tcp-bytes") work.socket.tcp_bytes = value;
        else if (name == "--udp") work.socket.udp = value;
        else if (name == "--udp-size") work.socket.udp_size = value;
        else if (name == "--socket-errors") work.socket.errors = value;
        else if (name == "--io") work.io = value;
        else if (name == "--io-size") work.io_size = value;
        else if (name == "--creates") work.creates = value;
        else if (name == "--fsyncs") work.fsyncs = value;
        else if (name == "--failed-io") work.failed_io = value;
        else usage();
    }
    return work;
}

void *thread_body(void *) { return nullptr; }

void fail(const char *what)
{
    fprintf(stderr, "ebpf-workload: %s: %s\n", what, strerror(errno));
    exit(1);
}

void check_bytes(ssize_t done, long expected, const char *what)
{
    if (done != expected)
        fail(what);
}

// The file grows to 2N*S bytes: write and writev append, pwrite and pwritev
// rewrite; then every read returns S bytes.
void vfs_io(int fd, const Work &work)
{
    std::string buffer(static_cast<size_t>(work.io_size), 'x');
    char *data = buffer.data();
    long size = work.io_size, half = size / 2;
    iovec two[2] = {{data, static_cast<size_t>(half)}, {data + half, static_cast<size_t>(size - half)}};
    for (long i = 0; i < work.io; ++i)
        check_bytes(write(fd, data, size), size, "write");
    for (long i = 0; i < work.io; ++i)
        check_bytes(writev(fd, two, 2), size, "writev");
    for (long i = 0; i < work.io; ++i)
        check_bytes(pwrite(fd, data, size, i * size), size, "pwrite");
    for (long i = 0; i < work.io; ++i)
        check_bytes(pwritev(fd, two, 2, i * size), size, "pwritev");
    if (lseek(fd, 0, SEEK_SET) != 0)
        fail("lseek");
    for (long i = 0; i < work.io; ++i)
        check_bytes(read(fd, data, size), size, "read");
    for (long i = 0; i < work.io; ++i)
        check_bytes(readv(fd, two, 2), size, "readv");
    for (long i = 0; i < work.io; ++i)
        check_bytes(pread(fd, data, size, i * size), size, "pread");
    for (long i = 0; i < work.io; ++i)
        check_bytes(preadv(fd, two, 2, i * size), size, "preadv");
}

// Every call here reaches the VFS function it is counted at, on every attach
// path (docs/CHARTS.md): failures come from the VFS function itself.
void vfs_work(const Work &work)
{
    std::string path = work.vfs_dir + "/data";
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        fail("open data file");
    vfs_io(fd, work);
    for (long i = 0; i < work.fsyncs; ++i)
        if ((i % 2 ? fdatasync(fd) : fsync(fd)) != 0)
            fail("fsync");
    close(fd);

    // vfs_read refuses a descriptor opened for writing only, vfs_write one for reading only
    int write_only = open(path.c_str(), O_WRONLY | O_CLOEXEC), read_only = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (write_only < 0 || read_only < 0)
        fail("open data file again");
    char byte = 0;
    for (long i = 0; i < work.failed_io; ++i)
        if (read(write_only, &byte, 1) != -1 || write(read_only, &byte, 1) != -1)
            fail("read/write on the wrong side succeeded");
    close(write_only);
    close(read_only);

    int pipe_fds[2];
    if (pipe(pipe_fds) != 0)
        fail("pipe");
    if (fsync(pipe_fds[0]) != -1) // vfs_fsync_range: a pipe has no fsync
        fail("fsync of a pipe succeeded");
    close(pipe_fds[0]);
    close(pipe_fds[1]);

    for (long i = 0; i < work.creates; ++i)
        if (mknod((path + std::to_string(i)).c_str(), S_IFREG | 0600, 0) != 0)
            fail("mknod");
    for (long i = 0; i < work.creates; ++i)
        if (unlink((path + std::to_string(i)).c_str()) != 0)
            fail("unlink");
    if (unlink(path.c_str()) != 0)
        fail("unlink data file");
}

} // namespace

int main(int argc, char **argv)
{
    Work work = parse(argc, argv);
    for (long i = 0; i < work.forks; ++i) {
        pid_t child = fork();
        if (child < 0)
            fail("fork");
        if (child == 0)
            _exit(0);
        if (waitpid(child, nullptr, 0) != child)
            fail("waitpid");
    }
    for (long i = 0; i < work.threads; ++i) {
        pthread_t thread;
        if (pthread_create(&thread, nullptr, thread_body, nullptr) != 0)
            fail("pthread_create");
        pthread_join(thread, nullptr);
    }
    for (long i = 0; i < work.opens; ++i) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || close(fd) != 0)
            fail("open/close /dev/null");
    }
    for (long i = 0; i < work.failed_opens; ++i)
        if (open("/nonexistent/ebpf-workload", O_RDONLY) >= 0)
            fail("open of a missing file succeeded");
    for (long i = 0; i < work.failed_closes; ++i)
        if (close(-1) == 0)
            fail("close(-1) succeeded");
    long retransmits = run_socket_work(work.socket);
    if (!work.vfs_dir.empty())
        vfs_work(work);
    // the pid padded to a fixed width: the line's length (one more write) does not vary
    printf("{\"pid\":%10d,\"forks\":%ld,\"threads\":%ld,\"opens\":%ld,\"failed_opens\":%ld,\"failed_closes\":%ld,"
           "\"tcp_retransmits\":%ld}\n",
           getpid(), work.forks, work.threads, work.opens, work.failed_opens, work.failed_closes, retransmits);
    return 0;
}
