#include "modules/module.h"
#include "modules/table_module.h"

// Every module the plugin has, in the order they start and are listed.
std::vector<std::unique_ptr<CountingModule>> make_all_modules(const KernelSymbols &kernel)
{
    std::vector<std::unique_ptr<CountingModule>> modules;
    modules.push_back(make_process_module(kernel));
    modules.push_back(make_fd_module(kernel));
    modules.push_back(make_vfs_module(kernel));
    // page cache, directory cache and swap: trampoline or kprobe only
    modules.push_back(make_cachestat_module(kernel));
    modules.push_back(make_dcstat_module(kernel));
    modules.push_back(make_swap_module(kernel));
    modules.push_back(make_socket_module(kernel));
    modules.push_back(make_sync_module(kernel));
    modules.push_back(make_mount_module(kernel));
    modules.push_back(make_shm_module(kernel));
    modules.push_back(make_oomkill_module(kernel));
    return modules;
}

// Every table module, in the order they start and are listed.
std::vector<std::unique_ptr<TableModule>> make_all_table_modules(const KernelSymbols &kernel,
                                                                 const FilesystemChoice &filesystems)
{
    std::vector<std::unique_ptr<TableModule>> modules;
    modules.push_back(make_hardirq_module(kernel));
    modules.push_back(make_softirq_module(kernel));
    modules.push_back(make_disk_module(kernel));
    modules.push_back(make_filesystem_module(kernel, filesystems));
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
