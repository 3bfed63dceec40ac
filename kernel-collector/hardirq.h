/* hardirq module: shared between hardirq.bpf.c and plugin/modules/hardirq.cpp */
#ifndef EBPF_PLUGIN_HARDIRQ_H
#define EBPF_PLUGIN_HARDIRQ_H

#define HARDIRQ_MAX_IRQS 1024

/* The x86 interrupt vectors that have their own tracepoints (irq_vectors:*),
 * in upstream's order; the names are upstream's dimensions. */
enum hardirq_vector {
	HARDIRQ_APIC_THERMAL,
	HARDIRQ_APIC_THRESHOLD,
	HARDIRQ_APIC_ERROR,
	HARDIRQ_APIC_DEFERRED_ERROR,
	HARDIRQ_APIC_SPURIOUS,
	HARDIRQ_FUNC_CALL,
	HARDIRQ_FUNC_CALL_SINGLE,
	HARDIRQ_RESCHEDULE,
	HARDIRQ_LOCAL_TIMER,
	HARDIRQ_IRQ_WORK,
	HARDIRQ_X86_PLATFORM_IPI,
	HARDIRQ_VECTORS
};

#endif
