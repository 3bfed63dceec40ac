#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "bash/bash_config.h"

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
