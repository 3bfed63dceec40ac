#include "accounting/active_pids.h"

#include <cstdio>

#include "lib/table_value.h"

bool ActivePids::take(std::vector<uint64_t> &pids)
{
    bool beyond = false;
    for (uint32_t index = 0; index < words_.count(); ++index) {
        if (!__atomic_load_n(word(index), __ATOMIC_RELAXED))
            continue;
        // acquire: the entry changes made before the mark are visible to our lookups
        uint64_t marks = __atomic_exchange_n(word(index), 0, __ATOMIC_ACQUIRE);
        for (unsigned byte = 0; byte < ACTIVE_PIDS_PER_WORD; ++byte) {
            if (!((marks >> (8 * byte)) & 0xff))
                continue;
            uint64_t pid = static_cast<uint64_t>(index) * ACTIVE_PIDS_PER_WORD + byte;
            if (pid == 0)
                beyond = true;
            else
                pids.push_back(pid);
        }
    }
    return beyond;
}

uint32_t active_pid_words(const char *pid_max_file)
{
    unsigned long pid_max = 32768;
    if (FILE *file = fopen(pid_max_file, "re")) {
        if (fscanf(file, "%lu", &pid_max) != 1 || pid_max == 0 || pid_max > (1UL << 22))
            pid_max = 1UL << 22; // PID_MAX_LIMIT
        fclose(file);
    }
    return static_cast<uint32_t>((pid_max + ACTIVE_PIDS_PER_WORD - 1) / ACTIVE_PIDS_PER_WORD);
}
