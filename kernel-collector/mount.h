/* mount module: shared between mount.bpf.c and plugin/modules/mount.cpp */
#ifndef EBPF_PLUGIN_MOUNT_H
#define EBPF_PLUGIN_MOUNT_H

#include "lib/table_value.h"

/* the order of upstream's mount_counters */
enum mount_counter {
	MOUNT_MOUNT_CALL,   /* mount(2) */
	MOUNT_UMOUNT_CALL,  /* umount2(2) (the kernel's sys_umount) */
	MOUNT_MOUNT_ERROR,  /* ... that failed */
	MOUNT_UMOUNT_ERROR,
	MOUNT_COUNTERS
};

DEFINE_TABLE_VALUES(mount, MOUNT_COUNTERS);

#endif
