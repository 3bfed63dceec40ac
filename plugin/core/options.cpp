#include "core/options.h"

#include <charconv>

static std::optional<AttachPath> parse_attach_path(const std::string &name)
{
    if (name == "trampoline")
        return AttachPath::Trampoline;
    if (name == "kprobe" || name == "probe")
        return AttachPath::Kprobe;
    if (name == "tracepoint")
        return AttachPath::Tracepoint;
    return std::nullopt;
}

Options parse_options(const std::vector<std::string> &arguments)
{
    Options options;
    for (size_t i = 0; i < arguments.size(); ++i) {
        const std::string &argument = arguments[i];
        if (argument == "--help" || argument == "-h") {
            options.help = true;
        } else if (argument == "--version" || argument == "-v") {
            options.version = true;
        } else if (argument == "--check") {
            options.check = true;
        } else if (argument == "--verify") {
            options.verify = true;
        } else if (argument.starts_with("--attach")) {
            std::string value = argument.size() > 9 && argument[8] == '=' ? argument.substr(9)
                                : i + 1 < arguments.size()              ? arguments[++i]
                                                                        : "";
            options.attach = parse_attach_path(value);
            if (!options.attach)
                options.errors.push_back("--attach takes trampoline, kprobe or tracepoint, not '" + value + "'");
        } else if (argument == "--records" || argument.starts_with("--records=")) {
            if (argument.starts_with("--records="))
                options.records = argument.substr(10);
            else if (i + 1 < arguments.size())
                options.records = arguments[++i];
            else
                options.errors.push_back("--records takes a list of names, e.g. --records flows,dnsflow");
        } else {
            int seconds = 0;
            auto [end, error] = std::from_chars(argument.data(), argument.data() + argument.size(), seconds);
            if (error == std::errc() && end == argument.data() + argument.size() && seconds >= 1 &&
                seconds <= 86400)
                options.update_every = seconds;
            else
                options.errors.push_back("ignoring unknown argument '" + argument + "'");
        }
    }
    return options;
}

const char *usage_text()
{
    return "usage: ebpf.plugin [UPDATE_EVERY] [--attach trampoline|kprobe|tracepoint] [--check]\n"
           "       ebpf.plugin [UPDATE_EVERY] --records NAME[,NAME...]\n"
           "\n"
           "Netdata plugin that counts process and file-descriptor activity with eBPF and\n"
           "prints the plugins.d protocol on stdout. Netdata's agent starts it with the\n"
           "number of seconds between updates; `update every` in ebpf.d.conf overrides it.\n"
           "\n"
           "Configuration: $NETDATA_USER_CONFIG_DIR (/etc/netdata) over\n"
           "$NETDATA_STOCK_CONFIG_DIR (/usr/lib/netdata/conf.d): ebpf.d.conf,\n"
           "ebpf.d/<module>.conf, apps_groups.conf.\n"
           "\n"
           "  --attach PATH  use only this attach path (default: trampoline, then kprobe,\n"
           "                 then tracepoint, each probed for real)\n"
           "  --check        say which attach paths this kernel allows, then exit\n"
           "  --verify       load and attach every program set of every module, then exit\n"
           "  --records NAMES  print records as JSON lines on stdout instead of charts, until\n"
           "                 a signal: flows, dnsflow, httpflow, exec, signal, bind, tcp,\n"
           "                 vfs, malloc, bash, all, or test (numbered sample records)\n"
           "  --version      print the version and what it was built with\n"
           "  --help         this text\n";
}
