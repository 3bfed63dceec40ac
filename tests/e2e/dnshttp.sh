# shellcheck shell=bash
# DNS and HTTP flows with the real agent (sourced by run.sh; run in the network viewer's agent,
# netview.sh, with `[dns flows]` and `[http flows]` on). DNS: a server on 127.53.x.y:53 answers
# after 20 ms with NOTIMP or REFUSED, which nothing else on the host gets, 3 and 4 times (one
# query each 0.4 s): the
# agent must store exactly those on ip.ebpf_dns_queries and a latency of 20 ms or more for that
# server. HTTP: python's http.server in one cgroup and a keep-alive client in another, 5 requests
# answered 200 and 3 answered 404: each cgroup's ebpf_http_requests has exactly those.

dns_workload() {   # <server address>
    python3 - "$1" <<'PY'
import socket, struct, sys, threading, time
server_ip = sys.argv[1]
RCODES = {"notimp": 4, "refused": 5}
server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind((server_ip, 53))
def serve():
    while True:
        data, peer = server.recvfrom(2048)
        time.sleep(0.02)
        name = data[13:13 + data[12]].decode()
        server.sendto(data[:2] + struct.pack(">H", 0x8180 | RCODES[name]) + data[4:], peer)
threading.Thread(target=serve, daemon=True).start()
for name, count in (("notimp", 3), ("refused", 4)):
    for i in range(count):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(5)
            client.sendto(struct.pack(">HHHHHH", 1000 + i, 0x0100, 1, 0, 0, 0) + bytes([len(name)]) +
                          name.encode() + b"\x03e2e\x00\x00\x01\x00\x01", (server_ip, 53))
            client.recv(2048)
        time.sleep(0.4)  # answers in several seconds: the agent may not store a new dimension's first
PY
}

http_client() {   # <port>: 5 GETs answered 200 and 3 answered 404 on one kept-alive connection
    python3 - "$1" <<'PY'
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
for path in ["/f.txt"] * 5 + ["/missing"] * 3:
    conn.request("GET", path)
    conn.getresponse().read()
conn.close()
PY
}

# before the agent starts: the configuration, and the cgroups (listed by the agent meanwhile)
dns_http_prepare() {   # <config dir>
    printf '[dns flows]\n    enabled = yes\n[http flows]\n    enabled = yes\n' >> "$1/ebpf.d/network.conf"
    HTTP_SERVER_CGROUP="ebpf_e2ehttps_$RANDOM_ID" HTTP_CLIENT_CGROUP="ebpf_e2ehttpc_$RANDOM_ID"
    make_cgroup "$CGROUP2_ROOT/$HTTP_SERVER_CGROUP"
    make_cgroup "$CGROUP2_ROOT/$HTTP_CLIENT_CGROUP"
}

dns_http_stored() {   # <notimp> <refused> <2xx> <4xx>: every sum as wanted
    both_close "$(sum_points "$since" ip.ebpf_dns_queries notimp) $(sum_points "$since" ip.ebpf_dns_queries refused)" "$1" "$2" &&
        for cgroup in "$HTTP_SERVER_CGROUP" "$HTTP_CLIENT_CGROUP"; do
            both_close "$(sum_points "$since" "cgroup_$cgroup.ebpf_http_requests" 2xx) $(sum_points "$since" "cgroup_$cgroup.ebpf_http_requests" 4xx)" "$3" "$4" || return 1
        done
}

dns_http_phase() {
    local since server port www pid got latency deadline started=$SECONDS
    deadline=$((SECONDS + 20))
    until { listed "$CGROUP2_ROOT/$HTTP_SERVER_CGROUP" && listed "$CGROUP2_ROOT/$HTTP_CLIENT_CGROUP"; } ||
        [ "$SECONDS" -ge "$deadline" ]; do sleep 0.5; done
    since=$(date +%s)
    server="127.53.$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))"
    dns_workload "$server" || not_ok "dns: the workload failed"
    port=$((20000 + RANDOM % 20000))
    nd_port_free "$port" || port=$((port + 1))
    www="$TMP/www" && mkdir -p "$www" && printf 'hello' > "$www/f.txt"
    (echo "$BASHPID" > "$CGROUP2_ROOT/$HTTP_SERVER_CGROUP/cgroup.procs" &&
        exec python3 -m http.server --protocol HTTP/1.1 --bind 127.0.0.1 --directory "$www" "$port") \
        > /dev/null 2>&1 &
    pid=$!
    for _ in $(seq 50); do nd_port_free "$port" || break; sleep 0.1; done
    (echo "$BASHPID" > "$CGROUP2_ROOT/$HTTP_CLIENT_CGROUP/cgroup.procs" && http_client "$port") ||
        not_ok "httpflow: the client failed"
    kill "$pid" && wait "$pid" 2>/dev/null
    # the agent stores a rate's last part a second or two later: up to 10 s for the exact sums
    deadline=$((SECONDS + 10))
    until dns_http_stored 3 4 5 3 || [ "$SECONDS" -ge "$deadline" ]; do sleep 1; done
    got="$(sum_points "$since" ip.ebpf_dns_queries notimp) $(sum_points "$since" ip.ebpf_dns_queries refused)"
    check "dns: the agent stores the workload's 3 NOTIMP and 4 REFUSED answers ($got)" both_close "$got" 3 4
    latency="$(nd_api "/api/v1/data?chart=ip.ebpf_dns_latency&after=$since&format=json&options=seconds" |
               jq -r --arg d "$server" '(.labels | index($d)) as $i |
                   if $i == null then "missing (\(.labels[1:] | join(" ")))" else ([.data[][$i] // 0] | max) end')"
    check "dns: the agent stores a latency of 20 ms or more, under 1 s, for $server (${latency} µs)" \
        awk -v v="${latency:-0}" 'BEGIN { exit !(v >= 20000 && v < 1000000) }'
    for cgroup in "$HTTP_SERVER_CGROUP" "$HTTP_CLIENT_CGROUP"; do
        got="$(sum_points "$since" "cgroup_$cgroup.ebpf_http_requests" 2xx) $(sum_points "$since" "cgroup_$cgroup.ebpf_http_requests" 4xx)"
        check "httpflow: cgroup $cgroup: 5 requests answered 2xx and 3 answered 4xx in the agent ($got)" \
            both_close "$got" 5 3
    done
    note "DNS and HTTP phase: $((SECONDS - started)) s"
}
