/* The running task, on every kernel with BTF: bpf_get_current_task_btf()
 * needs 5.11 (5.10 refuses the program: "invalid func unknown#158"), while
 * bpf_get_current_task() exists everywhere. Its pointer is untrusted, so the
 * task is read only through BPF_CORE_READ (as accounting.h does anyway). */
#ifndef EBPF_PLUGIN_CURRENT_TASK_H
#define EBPF_PLUGIN_CURRENT_TASK_H

#include "lib/common.h"

static __always_inline struct task_struct *current_task(void)
{
	return (struct task_struct *)bpf_get_current_task();
}

#endif
