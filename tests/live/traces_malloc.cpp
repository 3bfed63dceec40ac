// The malloc workload of tests/live/traces_test.py: dynamically linked (the
// trace probes the libc a process maps). Prints "ready", then on each line of
// stdin: "alloc N BASE" makes N malloc(BASE + i) and frees each, printing
// "malloc ADDRESS SIZE" per allocation; "storm N" makes N malloc(8)/free
// pairs; "exit" ends. Output goes through write(2), never stdio's buffer,
// and the lines are built on the stack, so the only allocations are those asked for.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace {

void say(const char *text)
{
    size_t length = strlen(text);
    while (length > 0) {
        ssize_t written = write(STDOUT_FILENO, text, length);
        if (written <= 0)
            return;
        text += written;
        length -= static_cast<size_t>(written);
    }
}

bool read_line(char *line, size_t size)
{
    size_t used = 0;
    while (used + 1 < size) {
        char c;
        if (read(STDIN_FILENO, &c, 1) != 1)
            return false;
        if (c == '\n')
            break;
        line[used++] = c;
    }
    line[used] = '\0';
    return true;
}

} // namespace

int main()
{
    char line[128], out[128];
    say("ready\n");
    while (read_line(line, sizeof(line))) {
        unsigned long count = 0, base = 0;
        if (sscanf(line, "alloc %lu %lu", &count, &base) == 2) {
            for (unsigned long i = 0; i < count; ++i) {
                void *volatile block = malloc(base + i);
                snprintf(out, sizeof(out), "malloc %lu %lu\n", reinterpret_cast<unsigned long>(block), base + i);
                free(block);
                say(out);
            }
        } else if (sscanf(line, "storm %lu", &count) == 1) {
            for (unsigned long i = 0; i < count; ++i) {
                void *volatile block = malloc(8);  // volatile: the pair is not optimized away
                free(block);
            }
        } else if (strcmp(line, "exit") == 0) {
            break;
        }
        say("done\n");
    }
    return 0;
}
