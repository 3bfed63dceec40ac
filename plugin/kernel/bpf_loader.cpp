#include "kernel/bpf_loader.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <sys/capability.h>
#include <unistd.h>

void LinkSet::clear()
{
    for (bpf_link *link : links_)
        bpf_link__destroy(link);
    links_.clear();
}

std::string errno_text(int error)
{
    char text[128];
    libbpf_strerror(error, text, sizeof(text));
    return text;
}

static const ProgramSpec *find_spec(const LoadPlan &plan, const char *name)
{
    for (const ProgramSpec &spec : plan.programs)
        if (spec.program == name)
            return &spec;
    return nullptr;
}

static bool is_trampoline(bpf_program *program)
{
    bpf_attach_type type = bpf_program__expected_attach_type(program);
    return bpf_program__type(program) == BPF_PROG_TYPE_TRACING &&
           (type == BPF_TRACE_FENTRY || type == BPF_TRACE_FEXIT);
}

static bool plan_is_trampolines(bpf_object *object)
{
    bpf_program *program;
    bool any = false;
    bpf_object__for_each_program(program, object) {
        if (!bpf_program__autoload(program))
            continue;
        if (!is_trampoline(program))
            return false;
        any = true;
    }
    return any;
}

static std::string last_line(const char *log)
{
    std::string_view text(log);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.remove_suffix(1);
    size_t newline = text.rfind('\n');
    return std::string(newline == std::string_view::npos ? text : text.substr(newline + 1));
}

// Root, or what --check and --verify keep after becoming the caller (CAP_BPF,
// or CAP_SYS_ADMIN on kernels without it): the verdict must not depend on which.
static bool may_load_bpf()
{
    cap_t caps = cap_get_proc();
    if (!caps)
        return geteuid() == 0;
    cap_flag_value_t bpf = CAP_CLEAR, admin = CAP_CLEAR;
    cap_get_flag(caps, CAP_SYS_ADMIN, CAP_EFFECTIVE, &admin);
    if (CAP_IS_SUPPORTED(CAP_BPF))
        cap_get_flag(caps, CAP_BPF, CAP_EFFECTIVE, &bpf);
    cap_free(caps);
    return bpf == CAP_SET || admin == CAP_SET;
}

std::string load_error_text(int error, bool may_load_bpf, bool trampolines, const std::string &verifier_said)
{
    // EPERM before the verifier wrote a word: the program type is refused, not the program.
    if (error == -EPERM && verifier_said.empty()) {
        std::string what = trampolines ? "fentry/fexit programs" : "these programs";
        if (!may_load_bpf)
            return "the kernel refuses " + what + " (EPERM at load: loading BPF needs root or CAP_BPF)";
        return "the kernel refuses " + what +
               " (EPERM at load, with the privileges to load BPF, before verification: a security policy, "
               "lockdown or a security module, forbids them)";
    }
    std::string text = "load failed: " + errno_text(error);
    return verifier_said.empty() ? text : text + " (verifier: " + verifier_said + ")";
}

// When a load fails libbpf loads again with a verifier log, into a 16 MiB
// buffer of its own unless given one: a refused path (our CI hosts refuse
// trampolines) would leave that much behind in the heap. Pages of this buffer
// are resident only as far as a log was written.
static char verifier_log[1 << 20];

std::string load_plan(bpf_object *object, const LoadPlan &plan)
{
    size_t selected = 0;
    bpf_program *program;
    bpf_object__for_each_program(program, object) {
        const ProgramSpec *spec = find_spec(plan, bpf_program__name(program));
        bpf_program__set_autoload(program, spec != nullptr);
        if (!spec)
            continue;
        ++selected;
        bpf_program__set_log_buf(program, verifier_log, sizeof(verifier_log));
        if (!spec->target.empty() && is_trampoline(program)) {
            int err = bpf_program__set_attach_target(program, 0, spec->target.c_str());
            if (err)
                return "cannot target " + spec->target + ": " + errno_text(err);
        }
    }
    if (selected != plan.programs.size())
        return "internal error: a planned program is missing from the object";
    verifier_log[0] = '\0';
    int err = bpf_object__load(object);
    if (err) {
        // libbpf prints no log it does not own: this is the one to debug with
        // (raw, many lines: a debugging aid, not a log line)
        if (getenv("EBPF_PLUGIN_LIBBPF_DEBUG") && verifier_log[0])
            fprintf(stderr, "-- verifier log --\n%s-- end of verifier log --\n", verifier_log);
        return load_error_text(err, may_load_bpf(), plan_is_trampolines(object), last_line(verifier_log));
    }
    return "";
}

std::string attach_plan(bpf_object *object, const LoadPlan &plan, LinkSet &links)
{
    for (const ProgramSpec &spec : plan.programs) {
        bpf_program *program = bpf_object__find_program_by_name(object, spec.program.c_str());
        bpf_link *link = nullptr;
        switch (spec.kind) {
        case ProgramSpec::Kind::Kprobe:
        case ProgramSpec::Kind::Kretprobe:
            link = bpf_program__attach_kprobe(program, spec.kind == ProgramSpec::Kind::Kretprobe,
                                              spec.target.c_str());
            break;
        case ProgramSpec::Kind::AsDeclared:
            link = bpf_program__attach(program);
            break;
        }
        int err = libbpf_get_error(link);
        if (err) {
            return "attach of " + spec.program + (spec.target.empty() ? "" : " to " + spec.target) +
                   " failed: " + errno_text(static_cast<int>(err));
        }
        links.add(link);
    }
    return "";
}

std::vector<int> loaded_program_fds(const bpf_object *object)
{
    std::vector<int> fds;
    bpf_program *program;
    if (object)
        bpf_object__for_each_program(program, object)
            if (bpf_program__fd(program) >= 0)
                fds.push_back(bpf_program__fd(program));
    return fds;
}

std::vector<int> loaded_map_fds(const bpf_object *object)
{
    std::vector<int> fds;
    bpf_map *map;
    if (object)
        bpf_object__for_each_map(map, object)
            if (bpf_map__fd(map) >= 0)
                fds.push_back(bpf_map__fd(map));
    return fds;
}

std::string load_and_attach_plan(bpf_object *object, const LoadPlan &plan, LinkSet &links)
{
    std::string error = load_plan(object, plan);
    return error.empty() ? attach_plan(object, plan, links) : error;
}
