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
#pragma once

#include <string>
#include <string_view>
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

private:
    enum class Mode { Exact, Prefix, Suffix, Substring };
    struct Pattern {
        std::string text;
        Mode mode;
        int group;
    };

    bool parse_line(std::string_view line, std::string &problem);
    static bool matches(const Pattern &pattern, std::string_view comm, std::string_view cmdline);

    std::vector<AppGroup> groups_;
    std::vector<Pattern> patterns_;   // file order
};

// Loads <user>/apps_groups.conf, else <stock>/apps_groups.conf, else an empty set; warns once if neither exists.
AppsGroups load_apps_groups(const ConfigDirs &dirs, const Warn &warn);
