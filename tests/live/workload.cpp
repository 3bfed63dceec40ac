// ebpf-workload: does an exact, known amount of process and file-descriptor
// work, so tests can compare what the plugin reports with what happened.
// Linked statically: no dynamic loader opens files before main().
//
//   ebpf-workload --forks N --threads N --opens N --failed-opens M --failed-closes K
//                 [--tcp C --tcp-bytes B --udp D --udp-size S --socket-errors E --netns PATH]
//
// Over its lifetime, in its own tgid and cgroup, it causes exactly:
//   create_process N, create_thread T, exit_task N+T+1, release_task N+T+1
//   (the last two once its parent has reaped it), open_call N_open+M,
//   open_error M, close_call N_open+K, close_error K; the socket work is
//   described in workload_socket.cpp (and counted in live_test.py).
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <pthread.h>
#include <string_view>
#include <sys/wait.h>
#include <unistd.h>

#include "workload_socket.h"

namespace {

struct Work {
    long forks = 0, threads = 0, opens = 0, failed_opens = 0, failed_closes = 0;
    SocketWork socket;
};

[[noreturn]] void usage()
{
    fputs("usage: ebpf-workload [--forks N] [--threads N] [--opens N] [--failed-opens N] [--failed-closes N]\n"
          "       [--tcp N] [--tcp-bytes N] [--udp N] [--udp-size N] [--socket-errors N] [--netns PATH]\n",
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
    printf("{\"pid\":%d,\"forks\":%ld,\"threads\":%ld,\"opens\":%ld,\"failed_opens\":%ld,\"failed_closes\":%ld,"
           "\"tcp_retransmits\":%ld}\n",
           getpid(), work.forks, work.threads, work.opens, work.failed_opens, work.failed_closes, retransmits);
    return 0;
}
