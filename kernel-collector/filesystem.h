/* filesystem module: shared between filesystem.bpf.c and plugin/modules/filesystem.cpp */
#ifndef EBPF_PLUGIN_FILESYSTEM_H
#define EBPF_PLUGIN_FILESYSTEM_H

#include "lib/latency.h"

/* upstream's order */
enum fs_kind { FS_EXT4, FS_XFS, FS_NFS, FS_ZFS, FS_BTRFS, FS_KINDS };
/* sync is nfs's getattr (upstream's "attribute" chart) */
enum fs_operation { FS_READ, FS_WRITE, FS_OPEN, FS_SYNC, FS_OPERATIONS };

#define FS_SLOTS (FS_KINDS * FS_OPERATIONS * LATENCY_BINS)

#endif
