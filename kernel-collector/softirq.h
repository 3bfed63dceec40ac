/* softirq module: shared between softirq.bpf.c and plugin/modules/softirq.cpp */
#ifndef EBPF_PLUGIN_SOFTIRQ_H
#define EBPF_PLUGIN_SOFTIRQ_H

/* HI, TIMER, NET_TX, NET_RX, BLOCK, IRQ_POLL, TASKLET, SCHED, HRTIMER, RCU */
#define SOFTIRQ_VECTORS 10

#endif
