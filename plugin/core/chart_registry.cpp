#include "core/chart_registry.h"
#include "core/log.h"

#include <cstdio>

namespace {

// type.id with both parts non-empty, id characters only.
bool is_chart_id(const std::string &full_id) {
    size_t dot = full_id.find('.');
    return ProtocolWriter::is_id(full_id) && full_id.size() <= ChartRegistry::max_chart_id_bytes && dot != 0 &&
           dot != std::string::npos && dot + 1 != full_id.size();
}

bool is_dimension_id(const std::string &dim_id) {
    return ProtocolWriter::is_id(dim_id) && dim_id.size() <= ProtocolWriter::max_id_bytes;
}

}  // namespace

ChartRegistry::ChartRegistry(ProtocolWriter &out, int update_every) : out_(out), update_every_(update_every) {}

void ChartRegistry::refuse(const std::string &what) {
    if (reported_.insert(what).second)
        log_error("refused %s (a bug; reported once)", what.c_str());
}

void ChartRegistry::chart_line(const std::string &full_id, const ChartDef &def, std::string_view options) {
    out_.chart({.full_id = full_id,
                .title = def.title,
                .units = def.units,
                .family = def.family,
                .context = def.context,
                .chart_type = def.chart_type,
                .priority = def.priority,
                .update_every = def.update_every ? def.update_every : update_every_,
                .options = options,
                .module = def.module});
}

void ChartRegistry::declare(const std::string &full_id, const ChartDef &def, const std::vector<DimensionDef> &dims,
                            const ChartLabels &labels) {
    if (!open_chart_.empty())
        return refuse("CHART " + full_id + " between BEGIN " + open_chart_ + " and END");
    if (!is_chart_id(full_id))
        return refuse("CHART with the invalid id '" + full_id + "'");

    std::vector<const DimensionDef *> new_dims;
    auto [found, is_new_chart] = charts_.try_emplace(full_id, Chart{.def = def, .dimensions = {}, .last_begin_usec = {}});
    Chart &chart = found->second;
    for (const DimensionDef &dim : dims) {
        if (!is_dimension_id(dim.id))
            refuse("DIMENSION with the invalid id '" + dim.id + "' in " + full_id);
        else if (chart.dimensions.insert(dim.id).second)
            new_dims.push_back(&dim);
    }
    if (!is_new_chart && new_dims.empty())
        return;

    chart_line(full_id, chart.def, "");
    for (const DimensionDef *dim : new_dims)
        out_.dimension(dim->id, dim->name, dim->algorithm, dim->multiplier, dim->divisor);
    if (is_new_chart && !labels.empty()) {
        for (const auto &[name, value] : labels)
            out_.clabel(name, value, 1);
        out_.clabel_commit();
    }
}

bool ChartRegistry::declared(const std::string &full_id) const { return charts_.contains(full_id); }

void ChartRegistry::obsolete(const std::string &full_id) {
    if (!open_chart_.empty())
        return refuse("obsoleting " + full_id + " between BEGIN " + open_chart_ + " and END");
    auto found = charts_.find(full_id);
    if (found == charts_.end())
        return refuse("obsoleting the undeclared chart " + full_id);
    chart_line(full_id, found->second.def, "obsolete");
    charts_.erase(found);
}

bool ChartRegistry::begin(const std::string &full_id, uint64_t now_usec) {
    if (!open_chart_.empty()) {
        refuse("BEGIN " + full_id + " before END of " + open_chart_);
        return false;
    }
    auto found = charts_.find(full_id);
    if (found == charts_.end()) {
        refuse("BEGIN of the undeclared chart " + full_id);
        return false;
    }
    std::optional<uint64_t> &last = found->second.last_begin_usec;
    out_.begin(full_id, last && now_usec > *last ? now_usec - *last : 0);
    last = now_usec;
    open_chart_ = full_id;
    return true;
}

bool ChartRegistry::can_set(const std::string &dim_id) {
    if (open_chart_.empty()) {
        refuse("SET " + dim_id + " outside BEGIN/END");
        return false;
    }
    if (!charts_.at(open_chart_).dimensions.contains(dim_id)) {
        refuse("SET of the undeclared dimension " + dim_id + " in " + open_chart_);
        return false;
    }
    return true;
}

void ChartRegistry::set(const std::string &dim_id, int64_t value) {
    if (can_set(dim_id))
        out_.set(dim_id, value);
}

void ChartRegistry::set_empty(const std::string &dim_id) {
    if (can_set(dim_id))
        out_.set_empty(dim_id);
}

void ChartRegistry::end() {
    if (open_chart_.empty())
        return refuse("END without BEGIN");
    out_.end();
    open_chart_.clear();
}
