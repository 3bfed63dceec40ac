# shellcheck shell=bash
# Private Netdata agent (Debian's 1.37.1) for tests. Source this file, then:
#
#   nd_install_if_missing                      netdata-core + netdata-web, services kept stopped
#   nd_start WORKDIR PLUGINS_DIR [CONFIG_DIR]  start; CONFIG_DIR's files become the user config
#   nd_api /api/v1/...                         GET from the agent (stdout; fails on HTTP errors)
#   nd_wait_chart CHART SECONDS                until the chart exists and has a collected point
#   nd_running                                 is the agent we started still alive?
#   nd_stop                                    TERM by PID, wait up to 20 s, KILL, reap
#   nd_stop_leftovers                          after nd_stop: wait for, then TERM, then KILL (by PID)
#                                              processes that inherited our token
#   nd_kill_leftovers                          KILL, by PID, processes that inherited our token
#
# ND_HOSTNAME, if set, names the agent on its dashboard (default: e2e).
# After nd_start: ND_PID, ND_PORT, ND_WORKDIR (config in etc/, logs in log/).
# The agent listens on 127.0.0.1 only, runs only the plugins in PLUGINS_DIR, keeps its
# database in memory and gets a clean environment (env -i). Nothing is ever killed by name.
# ND_CGROUPS=yes before nd_start: the agent runs its own cgroups.plugin (new cgroups found
# every second, no renaming script) in a mount namespace with a private /dev/shm, so its
# shared cgroup list (/proc/$ND_PID/root/dev/shm/netdata_shm_cgroup_ebpf) is seen by its
# plugins only, never by another agent or plugin on the machine.

ND_BIN=/usr/sbin/netdata
ND_PID=''
ND_PORT=''
ND_WORKDIR=''
ND_TOKEN=''
ND_STARTTIME=''
ND_CGROUPS="${ND_CGROUPS:-no}"

nd_log() { printf 'netdata-agent: %s\n' "$*" >&2; }

nd_install_if_missing() {
    [ -x "$ND_BIN" ] && [ -d /usr/share/netdata/web ] && return 0
    [ "$(id -u)" = 0 ] || { nd_log "netdata-core/netdata-web missing and not root"; return 1; }
    # invoke-rc.d honours policy-rc.d: exit 101 keeps the package from starting a service.
    local made_policy=0 rc=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    { apt-get update && DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends netdata-core netdata-web; } >&2 || rc=$?
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    return "$rc"
}

nd_api() {
    curl --noproxy '*' -fsS --max-time 10 "http://127.0.0.1:${ND_PORT}$1"
}

# Field N (1-based, after "pid (comm)") of /proc/PID/stat: 1 = state, 20 = start time.
nd_stat_field() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    awk -v n="$2" '{ print $n }' <<< "$stat"
}

# A PID is "ours" while it has the start time we recorded and is not a zombie.
nd_alive() {
    local pid="$1" starttime="$2" state
    state="$(nd_stat_field "$pid" 1)" || return 1
    case "$state" in Z|X|x) return 1 ;; esac
    [ "$(nd_stat_field "$pid" 20)" = "$starttime" ]
}

nd_running() { [ -n "$ND_PID" ] && nd_alive "$ND_PID" "$ND_STARTTIME"; }

nd_port_free() { [ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }

nd_write_config() {
    local w="$ND_WORKDIR" plugins_dir="$1"
    mkdir -p "$w"/etc "$w"/cache "$w"/lib "$w"/log "$w"/home
    : > "$w/etc/.opt-out-from-anonymous-statistics"
    : > "$w/etc/.environment"
    printf '[stream]\n\tenabled = no\n' > "$w/etc/stream.conf"
    printf '[exporting:global]\n\tenabled = no\n' > "$w/etc/exporting.conf"
    cat > "$w/etc/netdata.conf" <<EOF
[global]
	run as user = $(id -un)
	web files owner = root
	web files group = root
	hostname = ${ND_HOSTNAME:-e2e}
	process scheduling policy = keep
[db]
	update every = 1
	mode = ram
	retention = 3600
	memory deduplication (ksm) = no
	enable replication = no
[directories]
	config = $w/etc
	stock config = /usr/lib/netdata/conf.d
	log = $w/log
	cache = $w/cache
	lib = $w/lib
	home = $w/home
	lock = $w/lib/lock
	registry = $w/lib/registry
	health config = $w/etc/health.d
	stock health config = $w/etc/health.d
	plugins = "$plugins_dir"
	web = /usr/share/netdata/web
[logs]
	debug = $w/log/debug.log
	error = $w/log/error.log
	access = $w/log/access.log
	health = $w/log/health.log
	errors flood protection period = 0
[health]
	enabled = no
[web]
	bind to = 127.0.0.1:$ND_PORT
	default port = $ND_PORT
	allow connections by dns = no
	allow dashboard by dns = no
	allow badges by dns = no
	allow streaming by dns = no
	allow netdata.conf by dns = no
	allow management by dns = no
	web server threads = 2
[registry]
	enabled = no
	allow by dns = no
	registry to announce = http://127.0.0.1:$ND_PORT
[global statistics]
	update every = 1
[plugins]
	timex = no
	idlejitter = no
	tc = no
	diskspace = no
	proc = no
	cgroups = $ND_CGROUPS
	statsd = no
	enable running new plugins = yes
	check for new plugins every = 5
[plugin:cgroups]
	check for new cgroups every = 1
	run script to rename cgroups matching = !*
EOF
}

# Starts one agent; tries the next free port if another process takes ours first.
nd_start() {
    local workdir="$1" plugins_dir="$2" config_dir="${3:-}" port attempt
    [ -x "$ND_BIN" ] || { nd_log "$ND_BIN missing (run nd_install_if_missing)"; return 1; }
    [ -d "$plugins_dir" ] || { nd_log "plugins dir $plugins_dir missing"; return 1; }
    mkdir -p "$workdir" || return 1
    [ -z "$(ls -A "$workdir")" ] || { nd_log "work dir $workdir is not empty"; return 1; }
    ND_WORKDIR="$(cd "$workdir" && pwd)"
    plugins_dir="$(cd "$plugins_dir" && pwd)"
    port=19990
    for attempt in 1 2 3; do
        while [ "$port" -le 20990 ] && ! nd_port_free "$port"; do port=$((port + 1)); done
        [ "$port" -le 20990 ] || { nd_log "no free port in 19990..20990"; return 1; }
        ND_PORT="$port"
        rm -rf "${ND_WORKDIR:?}"/*
        nd_write_config "$plugins_dir"
        [ -z "$config_dir" ] || cp -r "$config_dir"/. "$ND_WORKDIR/etc/"
        nd_launch && return 0
        nd_stop
        nd_kill_leftovers
        port=$((port + 1))
    done
    nd_log "agent did not start (attempt $attempt); see $ND_WORKDIR/log/error.log"
    return 1
}

nd_launch() {
    local w="$ND_WORKDIR" deadline
    ND_TOKEN="nd-$$-$RANDOM-$(date +%s%N)"
    # -D: no fork, so $! is the agent; setsid: its own session, away from our terminal.
    local private_shm=()
    [ "$ND_CGROUPS" != yes ] ||
        private_shm=(unshare --mount --propagation private
                     sh -c 'mount -t tmpfs -o mode=1777 nd-shm /dev/shm && exec "$@"' sh)
    ( cd "$w/home" && exec setsid env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$w/home" \
        LANG=C.UTF-8 TZ=UTC DO_NOT_TRACK=1 DISABLE_TELEMETRY=1 ND_TEST_TOKEN="$ND_TOKEN" \
        "${private_shm[@]}" "$ND_BIN" -D -c "$w/etc/netdata.conf" -P "$w/netdata.pid" \
        </dev/null >"$w/log/stdout.log" 2>&1 ) &
    ND_PID=$!
    ND_STARTTIME="$(nd_stat_field "$ND_PID" 20)"
    deadline=$((SECONDS + 30))
    until nd_api /api/v1/info >/dev/null 2>&1; do
        nd_running || { nd_log "agent exited during start-up"; return 1; }
        [ "$SECONDS" -lt "$deadline" ] || { nd_log "API did not answer within 30 s"; return 1; }
        sleep 0.1
    done
    # The port must be ours: another agent could have bound it between check and start.
    if [ "$(readlink "/proc/$ND_PID/exe")" != "$ND_BIN" ] ||
       ! ss -Htlnp "sport = :$ND_PORT" | grep -q "pid=$ND_PID,"; then
        nd_log "port $ND_PORT is not served by pid $ND_PID"
        return 1
    fi
}

nd_wait_chart() {
    local chart="$1" deadline=$((SECONDS + $2)) rows
    while :; do
        nd_running || { nd_log "agent died while waiting for $chart"; return 1; }
        rows="$(nd_api "/api/v1/data?chart=$chart&after=-60&format=json&options=seconds" 2>/dev/null |
            jq '[.data[] | select(.[1:] | any(. != null))] | length' 2>/dev/null)"
        [ "${rows:-0}" -ge 1 ] && return 0
        [ "$SECONDS" -lt "$deadline" ] || { nd_log "chart $chart has no data after $2 s"; return 1; }
        sleep 0.5
    done
}

# Processes that inherited our token: the spawn server, plugins orphaned by a crash.
nd_token_pids() {
    local environ pid
    [ -n "$ND_TOKEN" ] || return 0
    for environ in /proc/[0-9]*/environ; do
        pid="${environ#/proc/}"; pid="${pid%/environ}"
        [ "$pid" = "$$" ] && continue
        tr '\0' '\n' 2>/dev/null < "$environ" | grep -qxF "ND_TEST_TOKEN=$ND_TOKEN" && echo "$pid"
    done
    return 0
}

# Stops the agent only; the agent itself SIGTERMs its plugins, which a test may want to watch.
nd_stop() {
    if nd_running; then
        kill -TERM "$ND_PID" 2>/dev/null
        for _ in $(seq 100); do nd_running || break; sleep 0.2; done
        if nd_running; then
            nd_log "agent $ND_PID still alive 20 s after SIGTERM: SIGKILL"
            kill -KILL "$ND_PID" 2>/dev/null
        fi
    fi
    [ -z "$ND_PID" ] || wait "$ND_PID" 2>/dev/null
    ND_PID=''
    return 0
}

# A plugin ends on its own once the agent closes its pipes; give it that time,
# then SIGTERM, and call it a leftover only if it outlives both.
nd_stop_leftovers() {
    local pid
    for _ in $(seq 50); do [ -z "$(nd_token_pids)" ] && return 0; sleep 0.1; done
    for pid in $(nd_token_pids); do
        nd_log "pid $pid still running 5 s after the agent stopped: SIGTERM ($(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline"))"
        kill -TERM "$pid" 2>/dev/null
    done
    for _ in $(seq 50); do [ -z "$(nd_token_pids)" ] && return 0; sleep 0.1; done
    nd_kill_leftovers
}

nd_kill_leftovers() {
    local pid
    for pid in $(nd_token_pids); do
        nd_log "killing leftover pid $pid: $(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline")"
        kill -KILL "$pid" 2>/dev/null
    done
    return 0
}
