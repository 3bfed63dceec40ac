#include "accounting/apps_groups.h"

#include <algorithm>

namespace {

constexpr size_t kCommLength = 15;   // TASK_COMM_LEN - 1

// Splits a line as apps.plugin's procfile does: words end at ' ', '\t' or ':' outside quotes; a quote opens
// only at the start of a word and the word ends at the same quote; an unquoted word starting with '#' ends
// the line.
bool split_words(std::string_view line, std::vector<std::string> &words, std::string &problem)
{
    const char *separators = " \t\r:";
    size_t at = 0;
    while (at < line.size()) {
        char c = line[at];
        if (std::string_view(separators).find(c) != std::string_view::npos) {
            ++at;
        } else if (c == '\'' || c == '"') {
            size_t close = line.find(c, at + 1);
            if (close == std::string_view::npos) {
                problem = "unclosed quote";
                return false;
            }
            words.emplace_back(line.substr(at + 1, close - at - 1));
            at = close + 1;
        } else if (c == '#') {
            break;
        } else {
            size_t end = std::min(line.find_first_of(separators, at), line.size());
            words.emplace_back(line.substr(at, end - at));
            at = end;
        }
    }
    return true;
}

bool has_control_character(std::string_view word)
{
    return std::any_of(word.begin(), word.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

} // namespace

AppsGroups AppsGroups::parse(std::string_view text, const std::string &source_name, const Warn &warn)
{
    AppsGroups result;
    size_t line_number = 0;
    while (!text.empty()) {
        size_t end = std::min(text.find('\n'), text.size());
        std::string_view line = text.substr(0, end);
        text.remove_prefix(std::min(end + 1, text.size()));
        ++line_number;

        std::string problem;
        std::string where = "ebpf.plugin: " + source_name + ":" + std::to_string(line_number) + ": ";
        bool had_other = result.find(other_name) >= 0;
        if (!result.parse_line(line, problem))
            warn(where + problem + "; line ignored");
        else if (!had_other && result.find(other_name) >= 0)
            warn(where + "group 'other' is also where processes no name matches are counted; the two are one group");
    }
    return result;
}

bool AppsGroups::parse_line(std::string_view line, std::string &problem)
{
    std::vector<std::string> words;
    if (!split_words(line, words, problem))
        return false;
    if (words.empty())
        return true;
    if (std::any_of(words.begin(), words.end(), has_control_character)) {
        problem = "contains a control character";
        return false;
    }

    std::string_view name = words[0];
    bool hidden = false;
    while (name.starts_with('-')) {
        hidden = true;
        name.remove_prefix(1);
    }
    if (name.empty()) {
        problem = "empty group name";
        return false;
    }
    if (name.find_first_of(" \t") != std::string_view::npos) {
        problem = "group name '" + std::string(name) + "' contains spaces (use '-')";
        return false;
    }
    if (words.size() == 1) {
        problem = "group '" + std::string(name) + "' has no process names";
        return false;
    }

    std::vector<Pattern> found;
    for (size_t i = 1; i < words.size(); ++i) {
        std::string_view text = words[i];
        bool suffix = false, prefix = false;
        while (!text.empty() && (text.front() == '-' || text.front() == '+' || text.front() == '*')) {
            hidden |= text.front() == '-';
            suffix |= text.front() == '*';
            text.remove_prefix(1);
        }
        while (text.ends_with('*')) {
            prefix = true;
            text.remove_suffix(1);
        }
        if (text.empty()) {
            problem = "process name '" + words[i] + "' is empty without its '-', '+' and '*'";
            return false;
        }
        Mode mode = suffix && prefix ? Mode::Substring : suffix ? Mode::Suffix : prefix ? Mode::Prefix : Mode::Exact;
        found.push_back({std::string(text), mode});
    }

    auto [existing, is_new] = group_index_.try_emplace(std::string(name), static_cast<int>(groups_.size()));
    if (is_new)
        groups_.push_back(AppGroup{std::string(name), false});
    int group = existing->second;
    groups_[static_cast<size_t>(group)].hidden |= hidden;
    for (const Pattern &pattern : found)
        add_pattern(pattern, group);
    return true;
}

void AppsGroups::keep_first(Index &index, std::string_view text, Hit hit)
{
    index.try_emplace(std::string(text), hit);   // an earlier pattern of the same text wins
}

void AppsGroups::add_pattern(const Pattern &pattern, int group)
{
    Hit hit{patterns_++, group};
    switch (pattern.mode) {
    case Mode::Exact: keep_first(exact_, pattern.text, hit); break;
    case Mode::Prefix: keep_first(prefixes_, pattern.text, hit); break;
    case Mode::Suffix: keep_first(suffixes_, pattern.text, hit); break;
    case Mode::Substring: substrings_.push_back({pattern.text, hit}); break;
    }
    // The kernel keeps only the first 15 characters of a longer process name.
    if ((pattern.mode == Mode::Exact || pattern.mode == Mode::Prefix) && pattern.text.size() >= kCommLength)
        keep_first(cut_names_, std::string_view(pattern.text).substr(0, kCommLength), hit);
}

void AppsGroups::lookup(const Index &index, std::string_view text, Hit &best)
{
    auto found = index.find(std::string(text));
    if (found != index.end() && found->second.order < best.order)
        best = found->second;
}

int AppsGroups::find(std::string_view name) const
{
    auto found = group_index_.find(std::string(name));
    return found == group_index_.end() ? -1 : found->second;
}

int AppsGroups::match(std::string_view comm, std::string_view cmdline) const
{
    Hit best{patterns_, -1};
    lookup(exact_, comm, best);
    if (comm.size() == kCommLength)
        lookup(cut_names_, comm, best);
    for (size_t length = 1; length <= comm.size(); ++length) {
        lookup(prefixes_, comm.substr(0, length), best);
        lookup(suffixes_, comm.substr(comm.size() - length), best);
    }
    std::string_view haystack = cmdline.empty() ? comm : cmdline;
    for (const Substring &substring : substrings_) {
        if (substring.hit.order >= best.order)
            break;
        if (haystack.find(substring.text) != std::string_view::npos)
            best = substring.hit;
    }
    return best.group;
}

bool AppsGroups::has_substring_patterns() const
{
    return !substrings_.empty();
}

AppsGroups load_apps_groups(const ConfigDirs &dirs, const Warn &warn)
{
    std::string text;
    for (const std::string *dir : {&dirs.user, &dirs.stock}) {
        if (dir->empty())
            continue;
        std::string path = config_path(*dir, "apps_groups.conf");
        if (read_text_file(path, text, warn) == FileStatus::Loaded)
            return AppsGroups::parse(text, path, warn);
    }
    warn("ebpf.plugin: no usable apps_groups.conf in '" + dirs.user + "' or '" + dirs.stock +
         "'; processes are not grouped");
    return {};
}
