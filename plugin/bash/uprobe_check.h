// Whether the kernel takes a uretprobe on a binary's readline(), without a
// BPF program: for `--check`, before it gives up CAP_SYS_ADMIN (which the
// uprobe PMU wants) and loads programs only as its caller.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

// The file offset of the function `name` in the ELF file open at `fd` (.symtab
// or .dynsym), or nullopt and `error`.
std::optional<uint64_t> elf_function_offset(int fd, const std::string &name, std::string &error);

// "" when a uretprobe on readline() in `binary` (opened as the caller) can be
// created; else why not. The probe is closed again at once.
std::string try_readline_uretprobe(const std::string &binary);
