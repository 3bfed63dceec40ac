#!/usr/bin/env python3
"""Cost of a large apps_groups.conf (issue 14, defect 8): the plugin runs with
--groups app groups (a third each exact, prefix and suffix names, none matching),
and this prints the time from exec to the first END, then the plugin's CPU
(utime+stime) while --execs-per-second processes are started for --seconds.

usage: sudo python3 tools/bench/many_groups.py [--build DIR] [--groups N] [--seconds S] [--execs-per-second R]
"""
import argparse
import os
import shutil
import subprocess
import tempfile
import threading
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "../../build"))
    parser.add_argument("--groups", type=int, default=60000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--execs-per-second", type=int, default=100)
    args = parser.parse_args()

    config = tempfile.mkdtemp(prefix="ebpf-many-groups-")
    try:
        with open(os.path.join(config, "ebpf.d.conf"), "w") as f:
            f.write("[global]\n update every = 1\n apps = yes\n cgroups = no\n"
                    "[ebpf programs]\n process = yes\n fd = yes\n")
        with open(os.path.join(config, "apps_groups.conf"), "w") as f:
            for i in range(args.groups):
                f.write(("e%d: x%d\n", "p%d: y%d*\n", "s%d: *z%d\n")[i % 3] % (i, i))
        env = dict(os.environ, NETDATA_USER_CONFIG_DIR=config, NETDATA_STOCK_CONFIG_DIR=os.path.join(config, "none"))
        start = time.time()
        plugin = subprocess.Popen([os.path.join(args.build, "ebpf.plugin"), "1"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        for line in plugin.stdout:
            if line.strip() == b"END":
                break
        first_end = time.time() - start
        threading.Thread(target=lambda: [None for _ in plugin.stdout], daemon=True).start()

        def cpu_ticks():
            fields = open("/proc/%d/stat" % plugin.pid).read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])

        time.sleep(2)
        ticks, began = cpu_ticks(), time.time()
        while time.time() - began < args.seconds:
            for _ in range(args.execs_per_second // 10):
                subprocess.run(["/bin/true"])
            time.sleep(0.1)
        cores = (cpu_ticks() - ticks) / os.sysconf("SC_CLK_TCK") / (time.time() - began)
        plugin.stdin.close()
        plugin.wait()
        print("%d groups: first END after %.2f s; %.3f cores while starting ~%d processes/s for %d s"
              % (args.groups, first_end, cores, args.execs_per_second, args.seconds))
    finally:
        shutil.rmtree(config, ignore_errors=True)


if __name__ == "__main__":
    main()
