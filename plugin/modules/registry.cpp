#include "modules/registry.h"

#include <algorithm>

namespace {
std::vector<ModuleRegistration> &registrations()
{
    static std::vector<ModuleRegistration> all;  // built before main(), read-only after
    return all;
}
}  // namespace

bool register_module(const ModuleRegistration &registration)
{
    auto &all = registrations();
    auto position = std::upper_bound(all.begin(), all.end(), registration.order,
                                     [](int order, const ModuleRegistration &other) { return order < other.order; });
    all.insert(position, registration);
    return true;
}

const std::vector<ModuleRegistration> &registered_modules() { return registrations(); }

std::vector<std::string> registered_module_names()
{
    std::vector<std::string> names;
    for (const ModuleRegistration &module : registrations())
        names.push_back(module.name);
    return names;
}
