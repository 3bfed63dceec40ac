#include "kernel/bpf_loader.h"

#include <bpf/libbpf.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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
        if (getenv("EBPF_PLUGIN_LIBBPF_DEBUG") && verifier_log[0])
            fprintf(stderr, "-- verifier log --\n%s-- end of verifier log --\n", verifier_log);
        return "load failed: " + errno_text(err);
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
