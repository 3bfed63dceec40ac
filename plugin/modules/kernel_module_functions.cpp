#include "modules/kernel_module_functions.h"

#include <fstream>
#include <sstream>
#include <sys/capability.h>
#include <sys/stat.h>
#include <unistd.h>

std::map<std::string, std::string> find_kernel_functions(const std::set<std::string> &wanted)
{
    std::map<std::string, std::string> found;
    std::ifstream kallsyms("/proc/kallsyms");
    std::string line;
    while (std::getline(kallsyms, line)) {
        std::istringstream words(line);
        std::string address, type, name, module;
        words >> address >> type >> name >> module;
        if ((type == "t" || type == "T") && wanted.contains(name))
            found[name] = module.size() > 2 ? module.substr(1, module.size() - 2) : "";
    }
    return found;
}

bool may_read_module_btf()
{
    cap_t caps = cap_get_proc();
    if (!caps)
        return geteuid() == 0;
    cap_flag_value_t admin = CAP_CLEAR;
    cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &admin);
    cap_free(caps);
    return admin == CAP_SET;
}

bool has_module_btf(const std::string &module)
{
    struct stat info;
    return stat(("/sys/kernel/btf/" + module).c_str(), &info) == 0;
}
