#include "records/sources.h"

const std::vector<std::string> &record_sources()
{
    static const std::vector<std::string> sources = {"netflow", "dnsflow", "httpflow", "exec",  "signal",
                                                     "bind",    "tcp",     "vfs",      "malloc", "bash"};
    return sources;
}

std::set<std::string> parse_record_names(const std::string &list, std::vector<std::string> &errors)
{
    std::set<std::string> selected;
    size_t start = 0;
    while (start <= list.size()) {
        size_t comma = list.find(',', start);
        std::string name = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        start = comma == std::string::npos ? list.size() + 1 : comma + 1;
        if (name.starts_with("trace_"))
            name = name.substr(6);
        if (name == "all") {
            selected.insert(record_sources().begin(), record_sources().end());
        } else if (name == "flows" || name == "netflow") {
            selected.insert("netflow");
        } else if (name == "test") {
            selected.insert(name);
        } else {
            bool known = false;
            for (const std::string &source : record_sources())
                known = known || source == name;
            if (known)
                selected.insert(name);
            else
                errors.push_back("--records: unknown name '" + name +
                                 "' (flows, dnsflow, httpflow, exec, signal, bind, tcp, vfs, malloc, bash, all, test)");
        }
    }
    return selected;
}

Record TestRecordSource::next()
{
    ++sequence_;
    Record record("test", realtime_usec());
    if (!run_.empty())
        record.tag("run", run_);
    record.add("sequence", sequence_)
        .add("negative", -static_cast<int64_t>(sequence_))
        .add("ratio", static_cast<double>(sequence_) / 4)
        .add("odd", sequence_ % 2 == 1)
        .add("text", "say \"hi\"\\ line\nnext\ttab \x01 caf\xc3\xa9");
    return record;
}
