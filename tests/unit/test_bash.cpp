#include <doctest/doctest.h>

#include <cstring>
#include <fcntl.h>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

#include "bash/bash_config.h"
#include "bash/uprobe_check.h"

TEST_CASE("bash: ebpf.d/bash.conf")
{
    std::vector<std::string> warnings;
    Warn warn = [&](const std::string &line) { warnings.push_back(line); };
    BashConfig defaults = parse_bash_config("bash.conf", "", warn);
    CHECK(!defaults.enabled);
    CHECK(defaults.binaries == std::vector<std::string>{"/bin/bash"});
    CHECK(defaults.ring_buffer_bytes == 512 * 1024);
    CHECK(defaults.rate_limit == 100);

    BashConfig config = parse_bash_config("bash.conf",
                                          "[bash]\n"
                                          "    enabled = yes\n"
                                          "    binaries = /bin/bash   /usr/local/bin/bash\n"
                                          "    ring buffer size = 100k\n"
                                          "    rate limit = 0\n",
                                          warn);
    CHECK(config.enabled);
    CHECK(config.binaries == std::vector<std::string>{"/bin/bash", "/usr/local/bin/bash"});
    CHECK(config.ring_buffer_bytes == 128 * 1024);  // a power of 2, as the kernel wants
    CHECK(config.rate_limit == 0);
    CHECK(warnings.empty());

    config = parse_bash_config("bash.conf",
                               "[bash]\nenabled = maybe\nbinaries = bash /bin/bash\nring buffer size = 1G\n"
                               "rate limit = -1\ncolour = red\n[other]\nkey = v\n",
                               warn);
    CHECK(!config.enabled);
    CHECK(config.binaries == std::vector<std::string>{"/bin/bash"});
    CHECK(config.ring_buffer_bytes == 512 * 1024);
    CHECK(config.rate_limit == 100);
    REQUIRE(warnings.size() == 6);
    CHECK(warnings[0] == "ebpf.plugin: bash.conf:2: invalid value 'maybe' for 'enabled'; using no");
    CHECK(warnings[1] == "ebpf.plugin: bash.conf:3: 'bash' in 'binaries' is not an absolute path; left out");
    CHECK(warnings[2] == "ebpf.plugin: bash.conf:4: invalid value '1G' for 'ring buffer size'; using 512k (4k to 256M)");
    CHECK(warnings[3] == "ebpf.plugin: bash.conf:5: invalid value '-1' for 'rate limit'; using 100 (0 to 1000000 "
                         "lines a second)");
    CHECK(warnings[4] == "ebpf.plugin: bash.conf:6: unknown key 'colour' in [bash]; ignored");
    CHECK(warnings[5] == "ebpf.plugin: bash.conf:8: unknown section [other]; ignored");
}

// A function of this binary, found by name in its own symbols.
extern "C" __attribute__((noinline, used)) int bash_test_marker_function(int n)
{
    return n * 7 + 3;
}

TEST_CASE("bash: a function's file offset from the ELF symbols is where its code is")
{
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    std::string error;
    std::optional<uint64_t> offset = elf_function_offset(fd, "bash_test_marker_function", error);
    REQUIRE(offset);
    unsigned char in_file[16] = {};
    REQUIRE(pread(fd, in_file, sizeof in_file, static_cast<off_t>(*offset)) == sizeof in_file);
    CHECK(memcmp(in_file, reinterpret_cast<const void *>(&bash_test_marker_function), sizeof in_file) == 0);
    CHECK(bash_test_marker_function(1) == 10);

    CHECK(!elf_function_offset(fd, "no_such_function_anywhere", error));
    CHECK(error == "no no_such_function_anywhere() in its symbols");
    close(fd);
    int text = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
    CHECK(!elf_function_offset(text, "readline", error));
    CHECK(error == "not an ELF file");
    close(text);
}
