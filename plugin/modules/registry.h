// Modules register themselves, one statement in their own file, so that a
// module added later touches its BPF file, its module file and its chart file
// only: the plugin starts, checks and lists what is registered.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/publisher.h"
#include "modules/module.h"
#include "modules/table_module.h"

struct ModuleRegistration {
    const char *name;
    int order;  // where it starts and is listed (--check, --verify), lowest first
    // Exactly one of the two factories.
    std::unique_ptr<CountingModule> (*make_counting)(const KernelSymbols &) = nullptr;
    std::unique_ptr<TableModule> (*make_table)(const KernelSymbols &, const FilesystemChoice &) = nullptr;
    // Counters computed from the module's own, in every scope; `previous` is
    // the system's last read, or nullptr (per group, or none yet).
    void (*derive)(Counters &counters, const Counters *previous) = nullptr;
    // Counters computed per interval from the cumulative ones and their values
    // at the previous read of the same entity (empty: none yet).
    void (*per_interval)(Counters &counters, const Counters &previous) = nullptr;
};

// A counter's value, 0 when the scope has none.
inline int64_t counter_value(const Counters &counters, const char *name)
{
    auto found = counters.find(name);
    return found == counters.end() ? 0 : found->second;
}

// Called from a static initializer of the module's file; returns true.
bool register_module(const ModuleRegistration &registration);
// Every registered module, by `order`; their names.
const std::vector<ModuleRegistration> &registered_modules();
std::vector<std::string> registered_module_names();
