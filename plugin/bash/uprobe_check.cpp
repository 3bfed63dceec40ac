#include "bash/uprobe_check.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <gelf.h>
#include <libelf.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/privileges.h"

std::optional<uint64_t> elf_function_offset(int fd, const std::string &name, std::string &error)
{
    if (elf_version(EV_CURRENT) == EV_NONE) {
        error = "libelf unusable";
        return std::nullopt;
    }
    Elf *elf = elf_begin(fd, ELF_C_READ, nullptr);
    if (!elf || elf_kind(elf) != ELF_K_ELF) {
        if (elf)
            elf_end(elf);
        error = "not an ELF file";
        return std::nullopt;
    }
    std::optional<uint64_t> offset;
    for (Elf_Scn *section = nullptr; !offset && (section = elf_nextscn(elf, section));) {
        GElf_Shdr header;
        if (!gelf_getshdr(section, &header) || (header.sh_type != SHT_SYMTAB && header.sh_type != SHT_DYNSYM) ||
            !header.sh_entsize)
            continue;
        Elf_Data *data = elf_getdata(section, nullptr);
        for (size_t i = 0; data && !offset && i < header.sh_size / header.sh_entsize; ++i) {
            GElf_Sym symbol;
            const char *symbol_name = gelf_getsym(data, static_cast<int>(i), &symbol)
                                          ? elf_strptr(elf, header.sh_link, symbol.st_name)
                                          : nullptr;
            if (!symbol_name || name != symbol_name || GELF_ST_TYPE(symbol.st_info) != STT_FUNC ||
                symbol.st_shndx == SHN_UNDEF || !symbol.st_value)
                continue;
            GElf_Shdr text;  // the section holding the code: address to file offset
            if (gelf_getshdr(elf_getscn(elf, symbol.st_shndx), &text))
                offset = symbol.st_value - text.sh_addr + text.sh_offset;
        }
    }
    elf_end(elf);
    if (!offset)
        error = "no " + name + "() in its symbols";
    return offset;
}

namespace {

int sysfs_number(const char *path, const char *prefix)
{
    std::ifstream file(path);
    std::string text;
    std::getline(file, text);
    if (!text.starts_with(prefix))
        return -1;
    try {
        return std::stoi(text.substr(strlen(prefix)));
    } catch (...) {
        return -1;
    }
}

} // namespace

std::string try_readline_uretprobe(const std::string &binary)
{
    int fd;
    {
        ActAsCaller caller;
        fd = open(binary.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    }
    if (fd < 0)
        return binary + ": " + strerror(errno);
    std::string error;
    std::optional<uint64_t> offset = elf_function_offset(fd, "readline", error);
    if (!offset) {
        close(fd);
        return binary + ": " + error;
    }
    int type = sysfs_number("/sys/bus/event_source/devices/uprobe/type", "");
    int retprobe_bit = sysfs_number("/sys/bus/event_source/devices/uprobe/format/retprobe", "config:");
    if (type < 0 || retprobe_bit < 0 || retprobe_bit > 63) {
        close(fd);
        return "the kernel has no uprobe PMU (CONFIG_UPROBE_EVENTS)";
    }
    std::string by_fd = "/proc/self/fd/" + std::to_string(fd);  // what the caller opened
    perf_event_attr attr{};
    attr.size = sizeof(attr);
    attr.type = static_cast<uint32_t>(type);
    attr.config = 1ull << retprobe_bit;
    attr.config1 = reinterpret_cast<uint64_t>(by_fd.c_str());
    attr.config2 = *offset;
    int probe = static_cast<int>(syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC));
    int saved = errno;
    close(fd);
    if (probe < 0)
        return "the kernel refuses a uretprobe: " + std::string(strerror(saved));
    close(probe);
    return "";
}
