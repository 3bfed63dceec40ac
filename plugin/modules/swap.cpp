// swap module: pages read from and written to swap (kernel-collector/swap.bpf.c).
#include "modules/function_hooks.h"
#include "modules/registry.h"
#include "swap.h"
#include "swap.skel.h"

namespace {

// Order of enum swap_counter, newest function names first.
const std::vector<FunctionHook> hooks = {
    {"read", {"swap_read_folio", "swap_readpage"}},
    {"write", {"swap_writeout", "swap_writepage"}},
};

struct SwapTraits {
    static constexpr const char *name = "swap";

    static const std::vector<std::string> &counter_names()
    {
        static const std::vector<std::string> names = {"swap_read", "swap_write"};
        return names;
    }

    static LoadPlan plan(const KernelSymbols &kernel, AttachPath path, bool)
    {
        return function_hooks_plan(kernel, path, hooks,
                                   "swap_read_folio and swap_writeout (swap-in, swap-out) have no tracepoint; "
                                   "swap needs trampolines or kprobes");
    }

    static void set_read_only_data(swap_bpf::swap_bpf__rodata &, const KernelSymbols &) {}
};


std::unique_ptr<CountingModule> make_module(const KernelSymbols &kernel)
{
    return std::make_unique<SkeletonModule<swap_bpf, SwapTraits>>(kernel);
}

const bool registered = register_module({.name = "swap", .order = 60, .make_counting = make_module});
} // namespace
