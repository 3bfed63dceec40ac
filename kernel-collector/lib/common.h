/* Includes and constants every BPF object of the plugin needs. */
#ifndef EBPF_PLUGIN_COMMON_H
#define EBPF_PLUGIN_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

/* a store the compiler keeps, in order with the other volatile ones */
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

#ifndef CLONE_THREAD
#define CLONE_THREAD 0x00010000
#endif
#ifndef EEXIST
#define EEXIST 17
#endif

#endif
