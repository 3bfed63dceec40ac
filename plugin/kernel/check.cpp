#include "kernel/check.h"

#include <cstdio>

#include "kernel/bpf_loader.h"
#include "modules/module.h"
#include "probe.skel.h"

namespace {
struct Probe {
    AttachPath path;
    const char *label;
    const char *program;
};

// Loads and attaches `program` alone. Returns "" or the reason it failed.
std::string try_program(const char *program)
{
    probe_bpf *skeleton = probe_bpf::open();
    if (!skeleton)
        return "cannot open the probe object";
    LoadPlan plan;
    plan.programs.emplace_back(program);
    LinkSet links;
    std::string error = load_plan(skeleton->obj, plan);
    if (error.empty())
        error = attach_plan(skeleton->obj, plan, links);
    links.clear();
    probe_bpf::destroy(skeleton);
    return error;
}
} // namespace

int run_attach_check(const KernelFacts &facts, const KernelSymbols &symbols)
{
    printf("kernel: %s, BTF %s, lockdown %s, tracefs %s\n", facts.release.c_str(), symbols.has_btf() ? "yes" : "no",
           std::string(lockdown_name(facts.lockdown)).c_str(),
           facts.tracefs ? facts.tracefs_path.c_str() : "not mounted");
    const Probe probes[] = {
        {AttachPath::Trampoline, "trampoline", "probe_trampoline"},
        {AttachPath::Kprobe, "kprobe", "probe_kprobe"},
        {AttachPath::Tracepoint, "tracepoint (tp_btf)", "probe_tp_btf"},
        {AttachPath::Tracepoint, "tracepoint (syscalls)", "probe_syscall_tracepoint"},
    };
    int working = 0;
    for (const Probe &probe : probes) {
        std::string error = try_program(probe.program);
        printf("%s: %s\n", probe.label, error.empty() ? "ok" : ("refused: " + error).c_str());
        working += error.empty();
    }
    // Where a path sees other events than the others (docs/CHARTS.md).
    static const char *const path_notes[] = {
        "socket on tracepoint: needs Linux 6.3+ (sock_send_length); connections counted when the SYN is sent "
        "(a connect() failing before is not); accepts and closes only through accept(2), accept4(2) and close(2) "
        "(not io_uring, close_range(2) or the closes at process exit)",
        "socket on kprobe: an IPv6 UDP socket sending to an IPv4-mapped address is counted twice",
    };
    for (const char *note : path_notes)
        printf("note: %s\n", note);
    return working ? 0 : 1;
}

int run_program_verification(const KernelSymbols &symbols)
{
    std::vector<std::unique_ptr<CountingModule>> modules;
    modules.push_back(make_process_module(symbols));
    modules.push_back(make_fd_module(symbols));
    modules.push_back(make_socket_module(symbols));
    int failed = 0;
    for (auto &module : modules)
        for (AttachPath path : {AttachPath::Trampoline, AttachPath::Kprobe, AttachPath::Tracepoint})
            for (bool return_mode : {false, true}) {
                std::string verdict = module->not_applicable(path, return_mode);
                if (!verdict.empty()) {
                    verdict = "n/a: " + verdict;
                } else {
                    ModuleSettings settings;
                    settings.return_mode = return_mode;
                    std::string error = module->start(path, settings);
                    module->stop();
                    verdict = error.empty() ? "ok" : "failed: " + error;
                    failed += !error.empty();
                }
                printf("verify %s %s %s %s\n", module->name(), attach_path_name(path),
                       return_mode ? "return" : "entry", verdict.c_str());
            }
    return failed;
}
