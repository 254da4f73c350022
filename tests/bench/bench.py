#!/usr/bin/env python3
"""Helpers for tests/bench/*.sh: process timing, database filling and arithmetic.

Only the standard library; every network access goes to the loopback addresses that the
simulator's manifest lists (127.0.0.0/8).

  bench.py timeit CMD...            run CMD (stdout/stderr to /dev/null unless BENCH_LOG is
                                    set: appended there); print "wall user sys maxrss_kb rc"
                                    (seconds, kB) for that child alone (os.wait4)
  bench.py filldb MANIFEST DB       register every device of the manifest in DB (schema must
                                    exist): mac, id, gen, model, app, host, port, scheme
  bench.py curlcfg MANIFEST OUT     curl -K file: one status URL per device (Gen1 /status,
                                    Gen2+ /rpc/Shelly.GetStatus), output to /dev/null
  bench.py requests CONTROL         total requests the simulated fleet has served (sum of the
                                    per-device counters of GET /devices)
  bench.py metric URL NAME          sum of the Prometheus samples named NAME (any labels), or
                                    the one series NAME{...} when NAME has labels; "nan" if none
  bench.py hwm PID                  "VmHWM RssAnon RssFile Pss Private" of PID in kB (peak
                                    resident set, the current anonymous and file-backed
                                    parts, and from smaps_rollup the proportional set size and
                                    the private pages, clean and dirty; 0 if unreadable)
"""
import json
import os
import sqlite3
import sys
import time
import urllib.request


def die(msg):
    print("bench.py: " + msg, file=sys.stderr)
    sys.exit(1)


def loopback_only(url):
    host = url.split("//", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    if not host.startswith("127."):
        die("refusing non-loopback address " + host)


def cmd_timeit(argv):
    log = os.environ.get("BENCH_LOG")
    out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if log else \
        os.open(os.devnull, os.O_WRONLY)
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    os.close(out)
    rc = os.waitstatus_to_exitcode(status)
    print("%.6f %.6f %.6f %d %d" % (wall, ru.ru_utime, ru.ru_stime, ru.ru_maxrss, rc))


def load_manifest(path):
    with open(path) as f:
        m = json.load(f)
    devs = m.get("devices")
    if not isinstance(devs, list):
        die(path + ": no device list")
    for d in devs:
        if not str(d.get("addr", "")).startswith("127."):
            die("manifest address outside 127.0.0.0/8: %r" % d.get("addr"))
    return devs


def cmd_filldb(argv):
    devs = load_manifest(argv[0])
    db = sqlite3.connect(argv[1])
    now = int(time.time() * 1000)
    rows = [(d["mac"].lower(), d["id"], d["gen"], d["model"], d.get("app"), d["addr"],
             d["port"], d["scheme"], now, now) for d in devs]
    with db:
        db.executemany(
            "INSERT OR REPLACE INTO devices(mac, id, gen, model, app, host, port, scheme,"
            " discovered_via, first_seen, last_seen) VALUES (?,?,?,?,?,?,?,?,'manual',?,?)",
            rows)
    n = db.execute("SELECT count(*) FROM devices").fetchone()[0]
    db.close()
    print(n)


def status_path(d):
    return "/status" if d["gen"] == 1 else "/rpc/Shelly.GetStatus"


def cmd_curlcfg(argv):
    devs = load_manifest(argv[0])
    with open(argv[1], "w") as f:
        for d in devs:
            f.write('url = "%s://%s:%d%s"\noutput = "/dev/null"\n'
                    % (d["scheme"], d["addr"], d["port"], status_path(d)))
    print(len(devs))


def cmd_requests(argv):
    url = "http://%s/devices" % argv[0]
    loopback_only(url)
    with urllib.request.urlopen(url, timeout=30) as r:
        j = json.load(r)
    devs = j["devices"] if isinstance(j, dict) else j
    print(sum(d.get("counters", {}).get("requests", 0) for d in devs))


def cmd_metric(argv):
    url, name = argv
    loopback_only(url)
    total, found = 0.0, False
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            for line in r.read().decode("utf-8", "replace").splitlines():
                if line.startswith("#"):
                    continue
                series, _, rest = line.rpartition(" ")
                if series == name or ("{" not in name and series.startswith(name + "{")):
                    total += float(rest)
                    found = True
    except (OSError, ValueError):
        found = False
    print("%.17g" % total if found else "nan")


def cmd_hwm(argv):
    want = {"VmHWM:": 0, "RssAnon:": 0, "RssFile:": 0}
    try:
        with open("/proc/%s/status" % argv[0]) as f:
            for line in f:
                parts = line.split()
                if parts and parts[0] in want:
                    want[parts[0]] = int(parts[1])
    except (OSError, ValueError, IndexError):
        pass
    roll = {"Pss:": 0, "Private_Clean:": 0, "Private_Dirty:": 0}
    try:
        with open("/proc/%s/smaps_rollup" % argv[0]) as f:
            for line in f:
                parts = line.split()
                if parts and parts[0] in roll:
                    roll[parts[0]] = int(parts[1])
    except (OSError, ValueError, IndexError):
        pass
    print("%d %d %d %d %d" % (want["VmHWM:"], want["RssAnon:"], want["RssFile:"], roll["Pss:"],
                              roll["Private_Clean:"] + roll["Private_Dirty:"]))


def main():
    cmds = {"timeit": cmd_timeit, "filldb": cmd_filldb, "curlcfg": cmd_curlcfg,
            "requests": cmd_requests, "metric": cmd_metric, "hwm": cmd_hwm}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        die("usage: bench.py {%s} ..." % ",".join(sorted(cmds)))
    cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
