#include "modules/module.h"
#include "modules/registry.h"
#include "modules/table_module.h"

std::vector<std::unique_ptr<CountingModule>> make_all_modules(const KernelSymbols &kernel)
{
    std::vector<std::unique_ptr<CountingModule>> modules;
    for (const ModuleRegistration &registration : registered_modules())
        if (registration.make_counting)
            modules.push_back(registration.make_counting(kernel));
    return modules;
}

std::vector<std::unique_ptr<TableModule>> make_all_table_modules(const KernelSymbols &kernel,
                                                                 const FilesystemChoice &filesystems)
{
    std::vector<std::unique_ptr<TableModule>> modules;
    for (const ModuleRegistration &registration : registered_modules())
        if (registration.make_table)
            modules.push_back(registration.make_table(kernel, filesystems));
    return modules;
}

std::vector<std::unique_ptr<Module>> make_modules_of_every_kind(const KernelSymbols &kernel)
{
    std::vector<std::unique_ptr<Module>> modules;
    for (auto &module : make_all_modules(kernel))
        modules.push_back(std::move(module));
    for (auto &module : make_all_table_modules(kernel, {}))
        modules.push_back(std::move(module));
    return modules;
}
