#include "kernel/check.h"

#include <cstdio>

#include "kernel/probe.h"
#include "modules/module.h"

namespace {
struct Probe {
    const char *label;
    const char *program;
};

std::vector<std::unique_ptr<CountingModule>> all_modules(const KernelSymbols &symbols)
{
    std::vector<std::unique_ptr<CountingModule>> modules;
    modules.push_back(make_process_module(symbols));
    modules.push_back(make_fd_module(symbols));
    return modules;
}

// "" when the module's programs for `path` load and attach, else "n/a: <why>" or "failed: <why>".
std::string try_module(CountingModule &module, AttachPath path, bool return_mode)
{
    std::string verdict = module.not_applicable(path, return_mode);
    if (!verdict.empty())
        return "n/a: " + verdict;
    ModuleSettings settings;
    settings.return_mode = return_mode;
    std::string error = module.start(path, settings);
    module.stop();
    return error.empty() ? "" : "failed: " + error;
}

constexpr AttachPath forced_paths[] = {AttachPath::Trampoline, AttachPath::Kprobe, AttachPath::Tracepoint};
} // namespace

int run_attach_check(const KernelFacts &facts, const KernelSymbols &symbols)
{
    printf("kernel: %s, BTF %s, lockdown %s, tracefs %s\n", facts.release.c_str(), symbols.has_btf() ? "yes" : "no",
           std::string(lockdown_name(facts.lockdown)).c_str(),
           facts.tracefs ? facts.tracefs_path.c_str() : "not mounted");
    const Probe probes[] = {
        {"trampoline", "probe_trampoline"},
        {"kprobe", "probe_kprobe"},
        {"tracepoint (tp_btf)", "probe_tp_btf"},
        {"tracepoint (syscalls)", "probe_syscall_tracepoint"},
    };
    for (const Probe &probe : probes) {
        std::string error = probe_program(probe.program, true);
        printf("%s: %s\n", probe.label, error.empty() ? "ok" : ("refused: " + error).c_str());
    }
    // what the modules need beyond an attach path; both have a fallback
    const std::string &atomics = bpf_atomics_refusal();
    printf("bpf atomics beyond add (5.12+): %s\n",
           atomics.empty() ? "ok"
                           : ("refused: " + atomics + "; modules load their compat objects and read their "
                              "whole pid tables every cycle").c_str());
    const std::string &maps = capless_map_access_refusal();
    printf("map reads without capabilities (5.19+): %s\n",
           maps.empty() ? "ok" : ("refused: " + maps + "; CAP_BPF is kept after attach").c_str());
    // the modules' own programs, entry and return mode: what really loads
    int unusable = 0;
    for (auto &module : all_modules(symbols)) {
        int working = 0;
        for (AttachPath path : forced_paths) {
            std::string verdict = try_module(*module, path, false);
            if (verdict.empty())
                verdict = try_module(*module, path, true);
            if (verdict.starts_with("failed: "))
                verdict = "refused: " + verdict.substr(8);
            // "<path> (...)" lines are parts of that path for tools/check-kernel-config.sh
            printf("%s (%s programs): %s\n", attach_path_name(path), module->name(),
                   verdict.empty() ? "ok" : verdict.c_str());
            working += verdict.empty();
        }
        unusable += !working;
    }
    return unusable ? 1 : 0;
}

int run_program_verification(const KernelSymbols &symbols)
{
    int failed = 0;
    for (auto &module : all_modules(symbols))
        for (AttachPath path : forced_paths)
            for (bool return_mode : {false, true}) {
                std::string verdict = try_module(*module, path, return_mode);
                failed += verdict.starts_with("failed");
                printf("verify %s %s %s %s\n", module->name(), attach_path_name(path),
                       return_mode ? "return" : "entry", verdict.empty() ? "ok" : verdict.c_str());
            }
    return failed;
}
