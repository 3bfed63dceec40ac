/* disk module: shared between disk.bpf.c and plugin/modules/disk.cpp */
#ifndef EBPF_PLUGIN_DISK_H
#define EBPF_PLUGIN_DISK_H

#include "lib/latency.h"

#define DISK_MAX 256

/* One histogram bin of one disk: the kernel's dev_t (major << 20 | minor). */
struct disk_bin_key {
	__u32 dev;
	__u32 bin;
};

#endif
