/* vfs module: shared between vfs.bpf.c and plugin/modules/vfs.cpp */
#ifndef EBPF_PLUGIN_VFS_H
#define EBPF_PLUGIN_VFS_H

#include "lib/table_value.h"

/* u64 counters: bytes would wrap a u32 within one cycle (a read from
 * /dev/zero moves gigabytes a second). */
enum vfs_counter {
	VFS_UNLINK_CALL,  /* vfs_unlink, vfs_rmdir (unlink, unlinkat, rmdir) */
	VFS_UNLINK_ERROR, /* ... that failed (return mode) */
	VFS_READ_CALL,    /* vfs_read, vfs_readv (read, pread64, readv, preadv, preadv2) */
	VFS_READ_ERROR,
	VFS_READ_BYTES,   /* bytes returned by those reads */
	VFS_WRITE_CALL,   /* vfs_write, vfs_writev (write, pwrite64, writev, pwritev, pwritev2) */
	VFS_WRITE_ERROR,
	VFS_WRITE_BYTES,  /* bytes those writes accepted */
	VFS_FSYNC_CALL,   /* fsync, fdatasync */
	VFS_FSYNC_ERROR,
	VFS_OPEN_CALL,    /* vfs_open (open, openat, openat2, creat) */
	VFS_OPEN_ERROR,
	VFS_CREATE_CALL,  /* vfs_create (mknod, mknodat of a regular file) */
	VFS_CREATE_ERROR,
	VFS_COUNTERS
};

DEFINE_TABLE_VALUES_OF(vfs, VFS_COUNTERS, __u64);

#endif
