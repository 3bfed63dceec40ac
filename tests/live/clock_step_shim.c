// LD_PRELOAD shim for the live stop test: steps CLOCK_REALTIME by
// CLOCK_STEP_SECONDS (negative: back) once CLOCK_STEP_AFTER seconds have
// passed since the process first read that clock. Other clocks are untouched.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

int clock_gettime(clockid_t clock, struct timespec *now)
{
    static int (*real)(clockid_t, struct timespec *);
    static long long first_ns = -1;
    if (!real)
        real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int result = real(clock, now);
    if (result != 0 || (clock != CLOCK_REALTIME && clock != CLOCK_REALTIME_COARSE))
        return result;
    struct timespec mono;
    real(CLOCK_MONOTONIC, &mono);
    long long mono_ns = mono.tv_sec * 1000000000LL + mono.tv_nsec;
    if (first_ns < 0)
        first_ns = mono_ns;
    const char *after = getenv("CLOCK_STEP_AFTER"), *step = getenv("CLOCK_STEP_SECONDS");
    if (after && step && mono_ns - first_ns >= atof(after) * 1e9)
        now->tv_sec += atoll(step);
    return result;
}
