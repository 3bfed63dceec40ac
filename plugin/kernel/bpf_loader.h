// Loading one program set of a BPF object and attaching it.
#pragma once

#include <string>
#include <vector>

struct bpf_object;
struct bpf_link;

// One program to load. `target` names the kernel function or tracepoint when it
// differs from the program's SEC() (a symbol renamed across kernel versions).
struct ProgramSpec {
    enum class Kind { AsDeclared, Kprobe, Kretprobe };
    ProgramSpec(std::string program_name, std::string target_name = "", Kind attach_kind = Kind::AsDeclared)
        : program(std::move(program_name)), target(std::move(target_name)), kind(attach_kind)
    {
    }
    std::string program;
    std::string target;
    Kind kind;
};

// The programs of one attach path, or why that path does not apply here.
struct LoadPlan {
    std::vector<ProgramSpec> programs;
    std::string not_applicable;
};

// Owns the links of attached programs; destroying it detaches them.
class LinkSet {
public:
    LinkSet() = default;
    ~LinkSet() { clear(); }
    LinkSet(const LinkSet &) = delete;
    LinkSet &operator=(const LinkSet &) = delete;
    void add(bpf_link *link) { links_.push_back(link); }
    void clear();
    size_t size() const { return links_.size(); }

private:
    std::vector<bpf_link *> links_;
};

// Autoloads exactly the plan's programs, retargets trampoline programs, and
// loads the object. Returns "" or a one-line reason.
std::string load_plan(bpf_object *object, const LoadPlan &plan);

// Attaches every program of the plan. Returns "" or a one-line reason; on
// failure the links made so far stay in `links` for the caller to clear.
std::string attach_plan(bpf_object *object, const LoadPlan &plan, LinkSet &links);
// load_plan, then attach_plan: "" or the first one's error.
std::string load_and_attach_plan(bpf_object *object, const LoadPlan &plan, LinkSet &links);

// The descriptors of an object's loaded programs and of its maps (none for
// null), for the self charts (core/self_monitor.h).
std::vector<int> loaded_program_fds(const bpf_object *object);
std::vector<int> loaded_map_fds(const bpf_object *object);

// libbpf's error text for a negative errno.
std::string errno_text(int error);

// Why a load failed, in words a user can act on: `error` is libbpf's negative
// errno, `trampolines` says every program was fentry/fexit, `verifier_said` is
// the last line of the verifier's log ("" when it wrote none).
std::string load_error_text(int error, bool may_load_bpf, bool trampolines, const std::string &verifier_said);
