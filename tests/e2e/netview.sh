# shellcheck shell=bash
# The network viewer with the real agent (sourced by run.sh, after its main agent stopped): a
# second agent runs the plugin with `network connections = yes`, `maximum dimensions = 4`,
# `ports` one free port and `ips = 127.0.0.0/8`, while connections to six loopback addresses on
# that port arrive 1.5 s apart. The agent must take each new destination's dimensions (the plugin
# declares the chart and every dimension again before their first value; 1.37.1 disables a plugin
# that sets an undeclared one) and store exactly the bytes: the first three destinations by name,
# the other three in `other`, the server's side in inbound_bytes. The workload runs in a cgroup of
# its own: its flow charts there count exactly its 12 connections (6 sockets each side).
# The same agent has the DNS and HTTP flows on: dnshttp.sh's workloads run after that one.

netview_workload() {   # <port>: a server on 0.0.0.0 and six clients to 127.0.0.2..7, i KB each, 3000 B back
    python3 - "$1" <<'PY'
import socket, sys, threading, time
port = int(sys.argv[1])
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", port))
server.listen(16)
def serve():
    while True:
        conn, _ = server.accept()
        while conn.recv(65536):
            pass
        conn.sendall(b"a" * 3000)
        conn.close()
threading.Thread(target=serve, daemon=True).start()
for i in range(2, 8):
    conn = socket.create_connection(("127.0.0.%d" % i, port))
    conn.sendall(b"q" * (1000 * i))
    conn.shutdown(socket.SHUT_WR)
    while conn.recv(65536):
        pass
    conn.close()
    time.sleep(1.5)
time.sleep(3)
PY
}

# "<sent> <received>" against the two wanted values
both_close() { close_enough "${1% *}" "$2" && close_enough "${1#* }" "$3"; }

run_network_viewer_phase() {
    local port config dims want got since cgroup
    port=$((40000 + RANDOM % 20000))
    nd_port_free "$port" || port=$((port + 1))
    config="$TMP/netview-config"
    mkdir -p "$config/ebpf.d"
    printf '[global]\n    update every = 1\n    cgroups = yes\n[ebpf programs]\n' > "$config/ebpf.d.conf"
    printf '    %s = no\n' "${MODULES[@]}" | sed 's/    sync = no/    sync = yes/' >> "$config/ebpf.d.conf"
    printf '    network connections = yes\n' >> "$config/ebpf.d.conf"
    printf '[network connections]\n    maximum dimensions = 4\n    ports = %s\n    ips = 127.0.0.0/8\n' "$port" \
        > "$config/ebpf.d/network.conf"
    dns_http_prepare "$config"
    cgroup="ebpf_e2enet_$RANDOM_ID"   # made before the agent starts: listed by the time the workload runs
    make_cgroup "$CGROUP2_ROOT/$cgroup"
    nd_start "$TMP/netview-agent" "$TMP/plugins" "$config" || { not_ok "network viewer: the agent did not start"; return; }
    nd_wait_chart ebpf.outbound_bytes 60 || { not_ok "network viewer: no ebpf.outbound_bytes within 60 s"; nd_stop; return; }
    local deadline=$((SECONDS + 20))   # a connection of a cgroup not listed yet is in no cgroup's charts
    until listed "$CGROUP2_ROOT/$cgroup" || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.5; done
    since=$(date +%s)
    (echo "$BASHPID" > "$CGROUP2_ROOT/$cgroup/cgroup.procs" && netview_workload "$port") ||
        not_ok "network viewer: the workload failed"
    sleep 2
    dims="$(nd_api "/api/v1/chart?chart=ebpf.outbound_bytes" | jq -r '[.dimensions[].name] | sort | join(" ")')"
    want="$port:TCP:127.0.0.2_recv $port:TCP:127.0.0.2_sent $port:TCP:127.0.0.3_recv $port:TCP:127.0.0.3_sent"
    want+=" $port:TCP:127.0.0.4_recv $port:TCP:127.0.0.4_sent other:ALL:other_recv other:ALL:other_sent"
    check "network viewer: the agent took each new destination's dimensions, three and other ($dims)" \
        [ "$dims" = "$want" ]
    for i in 2 3 4; do
        got="$(sum_points "$since" ebpf.outbound_bytes "$port:TCP:127.0.0.${i}_sent") $(sum_points "$since" ebpf.outbound_bytes "$port:TCP:127.0.0.${i}_recv")"
        check "network viewer: 127.0.0.$i: -$((1000 * i)) B sent, 3000 received in the agent ($got)" \
            both_close "$got" -$((1000 * i)) 3000
    done
    got="$(sum_points "$since" ebpf.outbound_bytes other:ALL:other_sent) $(sum_points "$since" ebpf.outbound_bytes other:ALL:other_recv)"
    check "network viewer: other: 127.0.0.5-7 exactly, -18000 B sent, 9000 received ($got)" \
        both_close "$got" -18000 9000
    got="$(sum_points "$since" ebpf.inbound_bytes "$port:TCP_sent") $(sum_points "$since" ebpf.inbound_bytes "$port:TCP_recv")"
    check "network viewer: inbound on $port: -18000 B sent, 27000 received ($got)" \
        both_close "$got" -18000 27000
    got="$(sum_points "$since" "cgroup_$cgroup.ebpf_flows_tcp_connections" established) $(sum_points "$since" "cgroup_$cgroup.ebpf_flows_tcp_connections" closed)"
    check "flows: the workload's cgroup: 12 TCP connections established and 12 closed in the agent ($got)" \
        both_close "$got" 12 12
    local disabled
    dns_http_phase
    disabled="$(grep -E 'PLUGINSD|ebpf\.plugin' "$ND_WORKDIR/log/error.log" | grep -E 'Disabling|disconnected|does not exist')"
    check "network viewer, DNS and HTTP: error.log has no plugin disable ($disabled)" [ -z "$disabled" ]
    nd_stop
}
