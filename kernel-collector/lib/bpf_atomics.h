/* BPF atomics other than a plain add (or, and, xor, xchg, cmpxchg, fetch
 * variants) arrived in 5.12; older kernels refuse any program that contains
 * one, even unreachable ("BPF_STX uses reserved fields"). The build compiles
 * every module a second time with BPF_ATOMIC_ADD_ONLY defined, and the plugin
 * loads that object where a probe program with an atomic or is refused. Code
 * that needs such an atomic tests HAVE_BPF_ATOMICS and does without it
 * exactly, or says what is lost; __sync_fetch_and_add with its result unused
 * (BPF_XADD) is fine everywhere. */
#ifndef EBPF_PLUGIN_BPF_ATOMICS_H
#define EBPF_PLUGIN_BPF_ATOMICS_H

#ifdef BPF_ATOMIC_ADD_ONLY
#define HAVE_BPF_ATOMICS 0
#else
#define HAVE_BPF_ATOMICS 1
#endif

#endif
