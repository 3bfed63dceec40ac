/* Latency histograms of the table modules (disk, filesystem): upstream
 * 1.37.1's 24 bins, bin = floor(log2(microseconds)) capped at the last one
 * (0 and 1 us both land in bin 0). */
#ifndef EBPF_PLUGIN_LATENCY_H
#define EBPF_PLUGIN_LATENCY_H

#define LATENCY_BINS 24

#ifdef __BPF__
static __always_inline __u32 latency_bin(__u64 nanoseconds)
{
	__u64 us = nanoseconds / 1000;
	__u32 bin = 0;

	for (int i = 0; i < LATENCY_BINS - 1; i++) {
		if (us <= 1)
			break;
		us >>= 1;
		bin++;
	}
	return bin;
}
#endif

#endif
