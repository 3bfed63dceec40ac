#!/usr/bin/env python3
"""The workload of tests/live/traces_test.py, run in its own cgroup under a
name of its own: after a line on stdin it makes the execs, signals, binds,
TCP calls and file operations given in the JSON plan (argv[1]), then prints
one JSON object of what the test cannot know beforehand (pids, fds, ports);
then a signal flood (kill(pid, 0)) for each line "flood", until another line."""
import json
import os
import signal
import socket
import subprocess
import sys
import time


def execs(plan, done):
    for i in range(plan["execs"]):
        subprocess.run(["/bin/true", "%s-%d" % (plan["tag"], i), "two", "three", "last-%d" % i], check=True)
    try:
        subprocess.run(["/nonexistent-" + plan["tag"], "missing"])
    except FileNotFoundError:
        pass
    done["exec_parent"] = os.getpid()


def signals(plan, done):
    # a target that ignores the signals sent (SIGTERM ends it)
    target = subprocess.Popen([sys.executable, "-c",
                               "import signal, sys, time\n"
                               "for s in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP): signal.signal(s, signal.SIG_IGN)\n"
                               "print('ready', flush=True)\ntime.sleep(60)\n"], stdout=subprocess.PIPE, text=True)
    target.stdout.readline()
    for number, times in plan["signals"].items():
        for _ in range(times):
            os.kill(target.pid, int(number))
    os.kill(target.pid, signal.SIGTERM)
    target.wait()
    done["signal_target"] = target.pid


def binds_and_tcp(plan, done):
    port4, port6 = plan["port4"], plan["port6"]
    server4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server4.bind(("127.0.0.1", port4))
    server6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    server6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    server6.bind(("::1", port6))
    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        taken.bind(("127.0.0.1", port4))
    except OSError as error:
        done["bind_error"] = error.errno
    any_port = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    any_port.bind(("127.0.0.1", 0))
    done["any_port"] = any_port.getsockname()[1]
    on_lo = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    on_lo.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")
    on_lo.bind(("127.0.0.1", 0))
    done["lo_port"], done["lo_index"] = on_lo.getsockname()[1], socket.if_nametoindex("lo")
    done["bind_fds"] = {"server4": server4.fileno(), "server6": server6.fileno(), "taken": taken.fileno(),
                        "any_port": any_port.fileno(), "on_lo": on_lo.fileno()}
    server4.listen(plan["backlog"])
    server6.listen(plan["backlog"] + 1)
    done["listen_fds"] = [server4.fileno(), server6.fileno()]
    connections = []
    for i in range(plan["connections"]):
        server, family, address = (server6, socket.AF_INET6, "::1") if i == 0 else (server4, socket.AF_INET, "127.0.0.1")
        client = socket.socket(family, socket.SOCK_STREAM)
        client.connect((address, port6 if i == 0 else port4))
        accepted, peer = server.accept()
        connections.append({"client_fd": client.fileno(), "client_port": client.getsockname()[1],
                            "server_fd": server.fileno(), "new_fd": accepted.fileno(), "peer": peer[0],
                            "remote": address, "remote_port": port6 if i == 0 else port4})
        client.close()
        accepted.close()
    refused = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        refused.connect(("127.0.0.1", plan["closed_port"]))
    except OSError as error:
        done["connect_error"] = error.errno
    done["refused_fd"] = refused.fileno()
    done["connections"] = connections
    for s in (server4, server6, taken, any_port, on_lo, refused):
        s.close()


def files(plan, done):
    directory = plan["directory"]
    opened = []
    for i in range(plan["files"]):
        path = os.path.join(directory, "file-%d" % i)
        fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o640)
        opened.append({"path": path, "fd": fd})
        os.close(fd)
    for entry in opened:
        os.unlink(entry["path"])
    try:
        os.open(os.path.join(directory, "missing"), os.O_RDONLY)
    except FileNotFoundError:
        pass
    done["files"] = opened


def main():
    plan = json.loads(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    done = {"pid": os.getpid()}
    execs(plan, done)
    signals(plan, done)
    binds_and_tcp(plan, done)
    files(plan, done)
    print(json.dumps(done), flush=True)
    while sys.stdin.readline().strip() == "flood":
        time.sleep(1.1)  # a rate window of its own
        for _ in range(plan["flood"]):
            os.kill(os.getpid(), 0)
        print("flooded", flush=True)


main()
