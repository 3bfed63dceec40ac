/* mdflush module: shared between mdflush.bpf.c and plugin/modules/mdflush.cpp */
#ifndef EBPF_PLUGIN_MDFLUSH_H
#define EBPF_PLUGIN_MDFLUSH_H

/* md devices counted (upstream's table size) */
#define MDFLUSH_MAX_DEVICES 1024

#endif
