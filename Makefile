# ebpf.plugin: BPF objects -> skeletons -> plugin -> tests.
# Run ./configure first (tools/install-deps.sh does both).
-include config.mk

BUILD    ?= build
prefix   ?= /usr
DESTDIR  ?=
PLUGINS_DIR ?= $(prefix)/lib/netdata/plugins.d
STOCK_CONFIG_DIR ?= $(prefix)/lib/netdata/conf.d
SYSTEMD_DROPIN_DIR ?= /etc/systemd/system/netdata.service.d
VERSION  := $(shell git describe --always --dirty 2>/dev/null || echo 0.1.0)
ARCH     := x86

BPF_SRCS := $(wildcard kernel-collector/*.bpf.c)
BPF_OBJS := $(patsubst kernel-collector/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst kernel-collector/%.bpf.c,$(BUILD)/skel/%.skel.h,$(BPF_SRCS))
BPF_HDRS := $(wildcard kernel-collector/*.h kernel-collector/lib/*.h)

PLUGIN_SRCS := $(wildcard plugin/*/*.cpp)
PLUGIN_OBJS := $(patsubst %.cpp,$(BUILD)/obj/%.o,$(PLUGIN_SRCS)) $(BUILD)/obj/charts_data.o
LIB_OBJS    := $(filter-out $(BUILD)/obj/plugin/core/main.o,$(PLUGIN_OBJS))
UNIT_SRCS   := $(wildcard tests/unit/*.cpp)
UNIT_OBJS   := $(patsubst %.cpp,$(BUILD)/obj/%.o,$(UNIT_SRCS))
CHART_FILES := $(sort $(wildcard charts/*.conf))

CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++20 -Wall -Wextra -Werror=return-type -fstack-protector-strong \
            -D_FORTIFY_SOURCE=2 -fPIE -MMD -MP -Iplugin -Ikernel-collector -I$(BUILD)/skel -I$(BUILD) \
            $(DEPS_CFLAGS)
LDFLAGS  += -pie -Wl,-z,relro,-z,now
LDLIBS   += $(DEPS_LIBS)
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
              -I$(BUILD) -Ikernel-collector

.PHONY: all check test unit live e2e matrix bench fuzz install uninstall clean no-doctest
# BPF objects and skeletons are kept: make would delete them as intermediates,
# and the next make would regenerate them and rebuild everything that includes them.
.SECONDARY: $(BPF_OBJS) $(SKELS)
all: $(BUILD)/ebpf.plugin $(BUILD)/ebpf-workload $(BUILD)/cgroup-spawn $(BUILD)/records-emit $(BUILD)/cache-workload \
     $(BUILD)/syscall-workload $(BUILD)/traces-malloc

config.mk: configure.ac config.mk.in
	@echo "config.mk is missing or stale: run tools/install-deps.sh build (or autoconf && ./configure)" >&2; exit 1

$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

# The core claims process slots with a compare-and-swap (BPF v3 atomics).
$(BUILD)/bpf/core.bpf.o: BPF_CFLAGS += -mcpu=v3

# DWARF is dropped (BTF stays): the objects are embedded in the plugin.
$(BUILD)/bpf/%.bpf.o: kernel-collector/%.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h
	@mkdir -p $(@D)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(LLVM_STRIP) -g $@

$(BUILD)/skel/%.skel.h: $(BUILD)/bpf/%.bpf.o
	@mkdir -p $(@D)
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

# Chart definitions are data (charts/*.conf), compiled into the binary so a
# setuid plugin never reads them from a path a caller could influence.
$(BUILD)/charts_data.cpp: $(CHART_FILES) tools/embed-charts.sh
	@mkdir -p $(@D)
	tools/embed-charts.sh $(CHART_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/charts_data.o: $(BUILD)/charts_data.cpp
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c $< -o $@

# What --version prints. Written while the Makefile is read, and only when its
# text changes: a rule with a FORCE prerequisite would keep `make -q` from ever
# saying "up to date", and a new version rebuilds only what includes it.
BPF_COMPILER := $(shell $(CLANG) --version 2>/dev/null | sed -n '1s/.*clang version \([^ ]*\).*/clang \1/p')
$(shell mkdir -p $(BUILD) && \
	printf '#define EBPF_PLUGIN_VERSION "%s"\n#define EBPF_PLUGIN_BPF_COMPILER "%s"\n' \
		'$(VERSION)' '$(BPF_COMPILER)' > $(BUILD)/version.h.tmp && \
	{ cmp -s $(BUILD)/version.h.tmp $(BUILD)/version.h && rm -f $(BUILD)/version.h.tmp || \
	  mv $(BUILD)/version.h.tmp $(BUILD)/version.h; })

$(BUILD)/obj/plugin/core/main.o: $(BUILD)/version.h

# Skeletons must exist before the first compile; afterwards the -MMD files say
# which objects include them.
$(BUILD)/obj/%.o: %.cpp | $(SKELS)
	@mkdir -p $(@D)
	$(CXX) $(CXXFLAGS) -c $< -o $@

ifeq ($(HAVE_DOCTEST),no)
$(UNIT_OBJS): no-doctest
no-doctest:
	@echo "the unit tests need doctest-dev: run tools/install-deps.sh test (it configures again)" >&2; exit 1
endif

$(BUILD)/ebpf.plugin: $(PLUGIN_OBJS)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit-tests: $(UNIT_OBJS) $(LIB_OBJS)
	$(CXX) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Test programs are static: no dynamic loader opens files before main().
$(BUILD)/ebpf-workload: tests/live/workload.cpp tests/live/workload_socket.cpp tests/live/workload_socket.h
	@mkdir -p $(@D)
	$(CXX) -std=c++20 -O2 -Wall -Wextra -static -pthread -o $@ $(filter %.cpp,$^)

$(BUILD)/cache-workload: tests/live/cache_workload.cpp
	@mkdir -p $(@D)
	$(CXX) -std=c++20 -O2 -Wall -Wextra -static -o $@ $<

# Dynamically linked: trace_malloc probes the libc the process maps.
$(BUILD)/traces-malloc: tests/live/traces_malloc.cpp
	@mkdir -p $(@D)
	$(CXX) -std=c++20 -O2 -Wall -Wextra -o $@ $<

$(BUILD)/syscall-workload: tests/live/syscall-workload.cpp
	@mkdir -p $(@D)
	$(CXX) -std=c++20 -O2 -Wall -Wextra -static -o $@ $<

# The record stream's test source for the live suite (tests/live/records_test.py).
RECORDS_EMIT_OBJS := $(addprefix $(BUILD)/obj/plugin/,records/record.o records/sinks.o records/stream.o \
	records/sources.o core/log.o)
$(BUILD)/records-emit: $(BUILD)/obj/tests/live/records_emit.o $(RECORDS_EMIT_OBJS)
	$(CXX) $(LDFLAGS) -o $@ $^ -lsystemd

$(BUILD)/cgroup-spawn: tests/live/cgroup-spawn.cpp
	@mkdir -p $(@D)
	$(CXX) -std=c++20 -O2 -Wall -Wextra -static -o $@ $<

# libFuzzer targets (tests/fuzz/run.sh runs them): clang with ASan and UBSan.
CLANGXX := $(or $(CLANGXX),clang++)
FUZZ_FLAGS := -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Iplugin
fuzz: $(BUILD)/fuzz/filter-fuzz $(BUILD)/fuzz/http-fuzz $(BUILD)/fuzz/dns-fuzz
$(BUILD)/fuzz/filter-fuzz: tests/fuzz/filter_fuzz.cpp plugin/net/filter.cpp plugin/net/filter_lexer.cpp \
		plugin/core/log.cpp $(wildcard plugin/net/*.h) plugin/core/log.h
	@mkdir -p $(@D)
	$(CLANGXX) $(FUZZ_FLAGS) -o $@ $(filter %.cpp,$^)
$(BUILD)/fuzz/http-fuzz: tests/fuzz/http_fuzz.cpp plugin/net/http_exchanges.cpp plugin/net/http_parser.cpp \
		plugin/net/http_exchanges.h plugin/net/http_parser.h
	@mkdir -p $(@D)
	$(CLANGXX) $(FUZZ_FLAGS) -o $@ $(filter %.cpp,$^)
$(BUILD)/fuzz/dns-fuzz: tests/fuzz/dns_fuzz.cpp plugin/net/dns_parser.cpp plugin/net/dns_parser.h
	@mkdir -p $(@D)
	$(CLANGXX) $(FUZZ_FLAGS) -o $@ $(filter %.cpp,$^)

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

live: all
	tests/live/run.sh

e2e: all
	tests/e2e/run.sh

matrix: all
	tests/matrix/run.sh

check test:
	tools/test.sh

bench: all
	tools/bench/run.sh

# Benchmark helper (tools/bench): static like the test programs.
bench: $(BUILD)/ebpf-bench
$(BUILD)/ebpf-bench: tools/bench/ebpf-bench.cpp $(BUILD)/skel/baseline.skel.h
	$(CXX) -std=c++20 -O2 -Wall -Wextra -static -pthread -I$(BUILD)/skel -o $@ $< -lbpf -lelf -lz

install: all
	install -d $(DESTDIR)$(PLUGINS_DIR) $(DESTDIR)$(STOCK_CONFIG_DIR)/ebpf.d
	install -s -m 0750 $(BUILD)/ebpf.plugin $(DESTDIR)$(PLUGINS_DIR)/ebpf.plugin
	-chown root:netdata $(DESTDIR)$(PLUGINS_DIR)/ebpf.plugin
	chmod 4750 $(DESTDIR)$(PLUGINS_DIR)/ebpf.plugin
	# Debian's netdata package already owns these files (same content): keep its copies.
	for f in ebpf.d.conf $$(cd conf.d && ls ebpf.d/*.conf ebpf.d/*.txt); do \
		[ -e $(DESTDIR)$(STOCK_CONFIG_DIR)/$$f ] || install -m 0644 conf.d/$$f $(DESTDIR)$(STOCK_CONFIG_DIR)/$$f; \
	done
	install -d $(DESTDIR)$(SYSTEMD_DROPIN_DIR)
	install -m 0644 conf.d/systemd/ebpf-plugin.conf $(DESTDIR)$(SYSTEMD_DROPIN_DIR)/ebpf-plugin.conf

# The stock configuration stays: Debian's netdata package may own the same files.
uninstall:
	rm -f $(DESTDIR)$(PLUGINS_DIR)/ebpf.plugin $(DESTDIR)$(SYSTEMD_DROPIN_DIR)/ebpf-plugin.conf
	-rmdir $(DESTDIR)$(SYSTEMD_DROPIN_DIR) 2>/dev/null

clean:
	rm -rf $(BUILD)

-include $(PLUGIN_OBJS:.o=.d) $(UNIT_OBJS:.o=.d) $(BUILD)/obj/tests/live/records_emit.d
