// ebpf-bench: the processes tools/bench/bench.py measures the plugin with.
// Static, so forks and execs carry no dynamic loader work.
//
//   ebpf-bench hold N              fork N children that each open+close /dev/null
//                                  once, start and join one thread, then pause();
//                                  print "ready" once all did, and on stdin EOF
//                                  kill them by PID and reap them
//   ebpf-bench syscalls O F E      O open+close of /dev/null, F fork+wait, E
//                                  fork+exec+wait; print "<phase> <ns>" per phase
//   ebpf-bench io P R              P pwrite+pread pairs of 4 KiB on a temporary
//                                  file, R sends of 4 KiB over loopback TCP each
//                                  received whole; print "<phase> <ns>" per phase
//   ebpf-bench baseline            attach the empty programs of baseline.bpf.c,
//                                  print "ready", detach on stdin EOF
//   ebpf-bench exit                return at once (the exec target)
#include <cerrno>
#include <charconv>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pthread.h>
#include <string_view>
#include <utility>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <bpf/libbpf.h>

#include "baseline.skel.h"

namespace {

[[noreturn]] void usage()
{
    fputs("usage: ebpf-bench hold N | syscalls OPENS FORKS EXECS | io PAIRS ROUNDS | baseline | exit\n", stderr);
    exit(2);
}

[[noreturn]] void fail(const char *what)
{
    fprintf(stderr, "ebpf-bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

long count_argument(const char *text)
{
    std::string_view view = text;
    long value = -1;
    auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
    if (error != std::errc() || end != view.data() + view.size() || value < 0)
        usage();
    return value;
}

void wait_for_stdin_eof()
{
    char buffer[256];
    for (;;) {
        ssize_t length = read(STDIN_FILENO, buffer, sizeof(buffer));
        if (length == 0 || (length < 0 && errno != EINTR))
            return;
    }
}

void open_and_close_null()
{
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        fail("open /dev/null");
    close(fd);
}

void *thread_body(void *) { return nullptr; }

// A child's one open gives it an fd-table entry; process creations are counted
// for the caller, so its one thread gives it a process-table entry.
[[noreturn]] void held_child(pid_t parent, int ready_fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlive the holder
    if (getppid() != parent)
        _exit(0);
    open_and_close_null();
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, PTHREAD_STACK_MIN);
    pthread_t thread;
    if (pthread_create(&thread, &attributes, thread_body, nullptr) == 0)
        pthread_join(thread, nullptr);
    if (write(ready_fd, "x", 1) != 1)
        _exit(1);
    close(ready_fd);
    for (;;)
        pause();
}

void kill_and_reap(const std::vector<pid_t> &children)
{
    for (pid_t child : children)
        kill(child, SIGKILL);
    for (pid_t child : children)
        while (waitpid(child, nullptr, 0) < 0 && errno == EINTR) {
        }
}

int hold(long count)
{
    int ready[2];
    if (pipe2(ready, O_CLOEXEC))
        fail("pipe");
    pid_t self = getpid();
    std::vector<pid_t> children;
    children.reserve(static_cast<size_t>(count));
    for (long i = 0; i < count; ++i) {
        pid_t child = fork();
        if (child == 0) {
            close(ready[0]);
            held_child(self, ready[1]);
        }
        if (child < 0) {
            int error = errno;
            kill_and_reap(children);
            errno = error;
            fail("fork");
        }
        children.push_back(child);
    }
    close(ready[1]);
    char buffer[4096];
    long confirmed = 0;
    while (confirmed < count) {
        ssize_t length = read(ready[0], buffer, sizeof(buffer));
        if (length > 0)
            confirmed += length;
        else if (length == 0 || errno != EINTR)
            break; // every child is ready or gone
    }
    if (confirmed == count) {
        printf("ready %ld\n", count);
        fflush(stdout);
        wait_for_stdin_eof();
    } else {
        fprintf(stderr, "ebpf-bench: only %ld of %ld children got ready\n", confirmed, count);
    }
    kill_and_reap(children);
    return confirmed == count ? 0 : 1;
}

long long monotonic_ns()
{
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000000000LL + now.tv_nsec;
}

void run_child(const char *exec_path)
{
    pid_t child = fork();
    if (child < 0)
        fail("fork");
    if (child == 0) {
        if (exec_path)
            execl(exec_path, "ebpf-bench", "exit", static_cast<char *>(nullptr));
        _exit(exec_path ? 127 : 0);
    }
    int status;
    while (waitpid(child, &status, 0) < 0)
        if (errno != EINTR)
            fail("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "ebpf-bench: child failed (status %d)\n", status);
        exit(1);
    }
}

int syscalls(long opens, long forks, long execs)
{
    char self[PATH_MAX];
    ssize_t length = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (length <= 0)
        fail("readlink /proc/self/exe");
    self[length] = '\0';

    long long start = monotonic_ns();
    for (long i = 0; i < opens; ++i)
        open_and_close_null();
    long long opened = monotonic_ns();
    for (long i = 0; i < forks; ++i)
        run_child(nullptr);
    long long forked = monotonic_ns();
    for (long i = 0; i < execs; ++i)
        run_child(self);
    long long executed = monotonic_ns();
    printf("open_close %lld\nfork_wait %lld\nfork_exec_wait %lld\n", opened - start, forked - opened,
           executed - forked);
    return 0;
}

// A connected loopback TCP pair: {client, server}.
std::pair<int, int> tcp_pair()
{
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof(address);
    if (listener < 0 || bind(listener, reinterpret_cast<sockaddr *>(&address), size) != 0 ||
        listen(listener, 1) != 0 || getsockname(listener, reinterpret_cast<sockaddr *>(&address), &size) != 0)
        fail("listen on loopback");
    int client = socket(AF_INET, SOCK_STREAM, 0);
    if (client < 0 || connect(client, reinterpret_cast<sockaddr *>(&address), size) != 0)
        fail("connect over loopback");
    int server = accept(listener, nullptr, nullptr);
    if (server < 0)
        fail("accept");
    close(listener);
    return {client, server};
}

int io(long pairs, long rounds)
{
    char block[4096];
    memset(block, 'b', sizeof(block));
    int file = open("/tmp", O_TMPFILE | O_RDWR, 0600);
    if (file < 0)
        fail("open a temporary file in /tmp");
    long long start = monotonic_ns();
    for (long i = 0; i < pairs; ++i)
        if (pwrite(file, block, sizeof(block), 0) != sizeof(block) || pread(file, block, sizeof(block), 0) != sizeof(block))
            fail("pwrite/pread");
    long long written = monotonic_ns();
    close(file);
    auto [client, server] = tcp_pair();
    long long connected = monotonic_ns();
    for (long i = 0; i < rounds; ++i) {
        if (send(client, block, sizeof(block), 0) != sizeof(block))
            fail("send");
        for (size_t got = 0; got < sizeof(block);) {
            ssize_t length = recv(server, block + got, sizeof(block) - got, 0);
            if (length <= 0)
                fail("recv");
            got += size_t(length);
        }
    }
    long long sent = monotonic_ns();
    close(client);
    close(server);
    printf("pwrite_pread_4k %lld\ntcp_send_recv_4k %lld\n", written - start, sent - connected);
    return 0;
}

int baseline()
{
    baseline_bpf *skeleton = baseline_bpf::open_and_load();
    if (!skeleton)
        fail("load baseline programs");
    int err = baseline_bpf::attach(skeleton);
    if (err) {
        errno = -err;
        baseline_bpf::destroy(skeleton);
        fail("attach baseline programs");
    }
    printf("ready\n");
    fflush(stdout);
    wait_for_stdin_eof();
    baseline_bpf::destroy(skeleton);
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    std::string_view command = argc > 1 ? argv[1] : "";
    if (command == "hold" && argc == 3)
        return hold(count_argument(argv[2]));
    if (command == "syscalls" && argc == 5)
        return syscalls(count_argument(argv[2]), count_argument(argv[3]), count_argument(argv[4]));
    if (command == "io" && argc == 4)
        return io(count_argument(argv[2]), count_argument(argv[3]));
    if (command == "baseline" && argc == 2)
        return baseline();
    if (command == "exit" && argc == 2)
        return 0;
    usage();
}
