// apps_groups.conf (Netdata's apps.plugin format) and process → group matching.
//
// Each line is `group: name name ...` (the ':' is a separator, as in apps.plugin). A group may be given on
// several lines; its names accumulate. A name is matched against the process name (comm, at most 15
// characters, as in /proc/PID/comm):
//   name     exact       (a name longer than 15 characters matches the comm the kernel cuts it to)
//   name*    prefix      (same rule for a prefix of 15 characters or more)
//   *name    suffix
//   *name*   substring of the command line (arguments joined with spaces; the comm when it is unknown)
// Quotes (' or ") at the start of a word keep spaces and ':' in it; the '*' inside still count.
// A leading '-' on the group or on any of its names hides the group (collected, not charted); a leading
// '+' (apps.plugin's debug switch) is accepted and ignored. A word starting with '#' ends the line.
// A group named `other` is the built-in group of unmatched processes: both count as one (with a warning).
//
// Matching costs hash lookups, not a pass over the patterns: exact names are one lookup, prefixes and
// suffixes one lookup per prefix or suffix of the (at most 15 character) name. Only `*x*` patterns are
// tried one by one, in file order, and only those before the best match found so far.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/config.h"

struct AppGroup { std::string name; bool hidden; };

class AppsGroups {
public:
    // Invalid lines are reported once each through `warn` and skipped as a whole.
    static AppsGroups parse(std::string_view text, const std::string &source_name, const Warn &warn);

    // Returns the index of the first group (in file order of patterns, as apps.plugin does) whose pattern
    // matches, or -1. cmdline may be empty when unknown (a process that already exited); then `*x*`
    // patterns fall back to comm.
    int match(std::string_view comm, std::string_view cmdline) const;

    const std::vector<AppGroup> &groups() const { return groups_; }
    // True when some pattern is `*x*`: only then is a command line worth reading.
    bool has_substring_patterns() const;
    // Index of the group with this name, or -1.
    int find(std::string_view name) const;

    static constexpr std::string_view other_name = "other";

private:
    enum class Mode { Exact, Prefix, Suffix, Substring };
    struct Pattern {
        std::string text;
        Mode mode;
    };
    // The first pattern (in file order) of a text, and its group.
    struct Hit {
        int order;
        int group;
    };
    using Index = std::unordered_map<std::string, Hit>;
    struct Substring {
        std::string text;
        Hit hit;
    };

    bool parse_line(std::string_view line, std::string &problem);
    void add_pattern(const Pattern &pattern, int group);
    static void keep_first(Index &index, std::string_view text, Hit hit);
    static void lookup(const Index &index, std::string_view text, Hit &best);

    std::vector<AppGroup> groups_;
    std::unordered_map<std::string, int> group_index_;
    int patterns_ = 0;
    Index exact_, prefixes_, suffixes_;
    Index cut_names_;                 // exact or prefix patterns of 15+ characters, by their first 15
    std::vector<Substring> substrings_;   // file order
};

// Loads <user>/apps_groups.conf, else <stock>/apps_groups.conf, else an empty set; warns once if neither exists.
AppsGroups load_apps_groups(const ConfigDirs &dirs, const Warn &warn);
