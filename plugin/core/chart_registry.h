// The only way to emit chart lines. It remembers what was declared, so a
// BEGIN of an undeclared chart or a SET of an undeclared dimension (which make
// Netdata 1.37.1 disable the plugin for good) can never reach the agent: such
// calls are refused and reported once on stderr.
#pragma once

#include "core/chart_data.h"
#include "core/protocol.h"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

using ChartLabels = std::vector<std::pair<std::string, std::string>>;

class ChartRegistry {
public:
    // Netdata 1.37.1 RRD_ID_LENGTH_MAX.
    static constexpr size_t max_chart_id_bytes = 200;

    ChartRegistry(ProtocolWriter &out, int update_every);

    // CHART, DIMENSIONs, then CLABELs and CLABEL_COMMIT. Declaring an already
    // declared chart only sends what is new: CHART again, then the new DIMENSIONs.
    void declare(const std::string &full_id, const ChartDef &def, const std::vector<DimensionDef> &dims,
                 const ChartLabels &labels = {});
    bool declared(const std::string &full_id) const;
    // CHART ... 'obsolete'; afterwards the chart counts as undeclared.
    void obsolete(const std::string &full_id);

    // BEGIN with the microseconds since this chart's previous BEGIN (none the
    // first time, or when the clock did not move forward). False if refused.
    bool begin(const std::string &full_id, uint64_t now_usec);
    void set(const std::string &dim_id, int64_t value);
    void set_empty(const std::string &dim_id);  // "not collected"
    void end();

private:
    struct Chart {
        ChartDef def;
        std::set<std::string> dimensions;
        std::optional<uint64_t> last_begin_usec;
    };

    void chart_line(const std::string &full_id, const ChartDef &def, std::string_view options);
    bool can_set(const std::string &dim_id);
    void refuse(const std::string &what);

    ProtocolWriter &out_;
    int update_every_;
    std::unordered_map<std::string, Chart> charts_;
    std::string open_chart_;  // between BEGIN and END; "" otherwise
    std::set<std::string> reported_;
};
