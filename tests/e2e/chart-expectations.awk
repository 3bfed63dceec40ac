# Reads charts/<module>.conf (docs/DESIGN.md, "Charts as data") and prints one line per
# value the e2e test checks:  <scope> <chart> <dimension name> <counter> <multiplier> <divisor>
# (a negative multiplier, as vfs_io_bytes' write, shows the value negative)
#   system:   chart = section name,              one line per `dimension =`
#   cgroup:   chart = id part of the section,    one line per `dimension =`
#   apps:     chart = section name,              dimension "-" (one per app group)
#   services: chart = "services." + id part,     dimension "-" (one per service)
# Only incremental values add up to totals: absolute dimensions are skipped, and so are
# charts with `mode = return` unless -v load_mode=return, and scope self.

function flush() {
    if (section == "" || scope == "self" || (mode == "return" && load_mode != "return"))
        return
    id_part = section
    sub(/^[^.]*\./, "", id_part)
    if (scope == "apps" || scope == "services") {
        if (algorithm != "incremental")
            return
        if (counter == "") {
            printf "chart-expectations: [%s] has no counter\n", section > "/dev/stderr"
            failed = 1
        }
        print scope, (scope == "apps" ? section : "services." id_part), "-", counter, multiplier, divisor
    } else {
        for (i = 1; i <= ndims; i++)
            print scope, (scope == "cgroup" ? id_part : section), dims[i]
    }
}

{
    sub(/[ \t]+;.*$/, "")
    sub(/^[ \t]+/, "")
    sub(/[ \t\r]+$/, "")
}
/^([#;]|$)/ { next }

/^\[.*\]$/ {
    flush()
    section = substr($0, 2, length($0) - 2)
    scope = ""; mode = "entry"; counter = ""; algorithm = "incremental"; ndims = 0; multiplier = 1; divisor = 1
    next
}

{
    key = $0; sub(/[ \t]*=.*$/, "", key)
    value = $0; sub(/^[^=]*=[ \t]*/, "", value)
    if (key == "scope") scope = value
    else if (key == "mode") mode = value
    else if (key == "counter") counter = value
    else if (key == "algorithm") algorithm = value
    else if (key == "multiplier") multiplier = value
    else if (key == "divisor") divisor = value
    else if (key == "dimension") {
        # <id> <name> <algorithm> <multiplier> <divisor> <counter>
        n = split(value, f, /[ \t]+/)
        if (n != 6) {
            printf "chart-expectations: [%s] bad dimension: %s\n", section, value > "/dev/stderr"
            failed = 1
        }
        if (f[3] == "incremental")
            dims[++ndims] = f[2] " " f[6] " " f[4] " " f[5]
    }
}

END {
    flush()
    exit failed
}
