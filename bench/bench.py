#!/usr/bin/env python3
"""The wopid benchmark: wopid against nginx serving the same bytes, on loopback, with wrk.

Called by bench/run, which builds wopid and installs wrk and nginx-light. Every row runs wrk for
BENCH_SECONDS (default 3) against wopid and then against nginx, sampling the resident memory of each
server every 50 ms. Writes bench/out/results.json and bench/out/chart.svg and prints the table.

What each row measures:
- CheckFileInfo: GET /wopi/files/ID?access_token=... (one metadata read: token, file, user; JSON); nginx
  serves the same JSON body as a static file.
- GetFile 100 KiB / 10 MiB: GET .../contents; nginx serves the same blob file (a symlink to it).
- Lock+Unlock: each connection alternates LOCK and UNLOCK on a file of its own (a cycle is two
  requests, both durable SQLite commits); nginx answers `return 200` to the same POSTs, which is the
  floor of an HTTP exchange, not a lock.
- PutFile 100 KiB: each connection saves 100 KiB to a file of its own that it holds the lock of;
  every save is a new version, acknowledged after fsync of the blob and the SQLite commit; nginx
  reads and discards the same body and answers 200 (no storage).
- GetFile 1 GiB x 16: 16 connections download a 1 GiB file; the row is about memory.
- PG CheckFileInfo, PG Lock+Unlock, PG PutFile 100 KiB (c=8): the same requests with the metadata on a
  throw-away PostgreSQL cluster started here (PostgreSQL's defaults: fsync and synchronous_commit
  on), blobs on disk; their CPU per request counts wopid and PostgreSQL. BENCH_PG=0 leaves them out.
"""

import base64
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "out")
SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
LEVELS = [1, 8, 64]
BIG = int(os.environ.get("BENCH_BIG_BYTES", str(1 << 30)))
LOCK_ID = "bench-lock"

REPORT_LUA = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p99_us":%d,' ..
    '"errors":%d,"status_errors":%d}\n', summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
"""

# Each wrk thread has one connection (-t C -c C) and takes the target of its index from a file.
PER_CONN_LUA = r"""
local next_index = 0
setup = function(thread)
  thread:set("index", next_index)
  next_index = next_index + 1
end
init = function(args)
  local lines = {}
  for line in io.lines(args[1]) do lines[#lines + 1] = line end
  target = lines[(index % #lines) + 1]
  mode = args[2]
  n = 0
  if mode == "put" then
    local f = io.open(args[3], "rb")
    body = f:read("*a")
    f:close()
  end
end
request = function()
  n = n + 1
  if mode == "put" then
    return wrk.format("POST", target, {["X-WOPI-Override"] = "PUT", ["X-WOPI-Lock"] = "bench-lock"}, body)
  end
  local op = (n % 2 == 1) and "LOCK" or "UNLOCK"
  return wrk.format("POST", target, {["X-WOPI-Override"] = op, ["X-WOPI-Lock"] = "bench-lock"}, "")
end
""" + REPORT_LUA


def sh(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout.strip()


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_seconds(pids):
    """User + system CPU time of some processes, in seconds."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """Peak of the summed VmRSS of some processes, sampled every 50 ms."""

    def __init__(self, pids):
        self.pids, self.peak, self.stop = pids, 0, threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pids()))
            time.sleep(0.05)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *a):
        self.stop.set()
        self.t.join()
        self.peak = max(self.peak, rss_kib(self.pids()))


def wrk(url, conns, seconds, script, args=(), threads=None):
    threads = threads or min(conns, 2)
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{int(seconds)}s", "--timeout", "30s",
           "-s", script, url]
    if args:
        cmd += ["--", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    line = next((l for l in out.stdout.splitlines() if l.startswith("JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary: {out.stdout}\n{out.stderr}")
    r = json.loads(line[5:])
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["mib_s"] = r["bytes"] / (r["duration_us"] / 1e6) / (1 << 20)
    return r


def start_wopid(binary, data, log, extra=()):
    proc = subprocess.Popen([binary, "serve", "--data", data, "--listen", "127.0.0.1:0",
                             "--max-upload-bytes", str(2 * BIG), *extra],
                            stdout=subprocess.PIPE, stderr=open(log, "wb"))
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("listening on "):
        raise RuntimeError(f"wopid did not start: {line!r}")
    return proc, line[len("listening on "):]


def start_nginx(work, root):
    conf = os.path.join(work, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
user root;
worker_processes auto;
pid {work}/nginx.pid;
error_log {work}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log {work}/nginx-access.log;
  sendfile {os.environ.get("BENCH_NGINX_SENDFILE", "on")};
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  default_type application/octet-stream;
  server {{
    listen 127.0.0.1:0;
    root {root};
    location = /lock {{ return 200; }}
    location = /put {{ client_max_body_size 16m; return 200; }}
  }}
}}
""")
    # nginx cannot listen on port 0 and tell us: pick a free port first.
    port = free_port()
    text = open(conf).read().replace("listen 127.0.0.1:0;", f"listen 127.0.0.1:{port};")
    open(conf, "w").write(text)
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", work, "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/lock")
            c.getresponse().read()
            return proc, base
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nginx did not start")


def children(pid):
    def pids():
        out = [pid]
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                out += [int(p) for p in f.read().split()]
        except OSError:
            pass
        return out
    return pids


def per_conn_files(wbase, source_path, n):
    """n files for the lock row and n for the save row (locked by LOCK_ID), made by PutRelativeFile."""
    per = {"lock": [], "put": []}
    for kind in per:
        for i in range(n):
            st, resp = post(wbase, source_path, {"X-WOPI-Override": "PUT_RELATIVE",
                                                 "X-WOPI-SuggestedTarget": f"{kind}-{i}.bin"}, b"x")
            assert st == 200, (st, resp)
            url = urllib.parse.urlsplit(json.loads(resp)["Url"])
            file_path = f"{url.path}?{url.query}"
            if kind == "put":
                st, _ = post(wbase, file_path, {"X-WOPI-Override": "LOCK", "X-WOPI-Lock": LOCK_ID})
                assert st == 200
                file_path = f"{url.path}/contents?{url.query}"
            per[kind].append(file_path)
    return per


def write_list(work, name, paths):
    out = os.path.join(work, f"{name}.txt")
    with open(out, "w") as f:
        f.write("\n".join(paths) + "\n")
    return out


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_pg(work):
    """A throw-away PostgreSQL cluster (Debian's postgresql) on loopback, with PostgreSQL's own
    defaults (fsync and synchronous_commit on: every acknowledged commit is durable). Returns
    (url, postmaster pid, stop) or None when PostgreSQL is not installed."""
    import glob
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not bins:
        return None
    pgbin = os.path.dirname(bins[-1])
    d = os.path.join(work, "pg")
    os.makedirs(d)
    as_ = []
    if os.getuid() == 0:
        # PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
        if subprocess.run(["id", "postgres"], capture_output=True).returncode != 0:
            sh("useradd", "--system", "--no-create-home", "postgres")
        os.chmod(work, 0o755)
        shutil.chown(d, "postgres")
        as_ = ["runuser", "-u", "postgres", "--"]
    sh(*as_, f"{pgbin}/initdb", "-D", f"{d}/data", "-U", "wopid", "--auth=trust", "-E", "UTF8")
    port = int(os.environ.get("BENCH_PG_PORT", "0")) or free_port()
    sh(*as_, f"{pgbin}/pg_ctl", "-D", f"{d}/data", "-l", f"{d}/log", "-w", "-t", "60",
       "-o", f"-h 127.0.0.1 -p {port} -k {d}", "start")
    with open(f"{d}/data/postmaster.pid") as f:
        pid = int(f.readline())

    def stop():
        subprocess.run([*as_, f"{pgbin}/pg_ctl", "-D", f"{d}/data", "-m", "fast", "-w", "-t", "30", "stop"],
                       capture_output=True)
    return f"postgres://wopid@127.0.0.1:{port}/postgres", pid, stop


def all_children(pid):
    """A process and its children, now (PostgreSQL starts a backend per connection)."""
    def pids():
        out = [pid]
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    out += [int(p) for p in f.read().split()]
        except OSError:
            pass
        return out
    return pids


def post(base, path, headers, body=b""):
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    c.request("POST", path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def machine():
    cpu = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30), 1),
        "loadavg_before": open("/proc/loadavg").read().split()[:3],
    }


def versions(binary):
    return {
        "wopid": sh(binary, "--version") + " (" + sh("git", "-C", HERE, "rev-parse", "--short", "HEAD") + ")",
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0].strip(),
        "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip(),
        "rustc": sh("rustc", "--version"),
    }


def main():
    binary = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(prefix="wopid-bench-")
    data = os.path.join(work, "data")
    root = os.path.join(work, "www")
    os.makedirs(root)
    procs = []
    try:
        info = {"machine": machine(), "versions": versions(binary), "seconds_per_run": SECONDS}
        print(f"machine: {info['machine']}\nversions: {info['versions']}", flush=True)
        # Content: random bytes, stored by the CLI, then served by nginx from the very same blob files.
        ids = {}
        for name, size in [("f100k", 100 << 10), ("f10m", 10 << 20), ("f1g", BIG)]:
            src = os.path.join(work, name)
            with open(src, "wb") as f:
                left = size
                while left:
                    n = min(left, 8 << 20)
                    f.write(os.urandom(n))
                    left -= n
            ids[name] = sh(binary, "files", "add", "--data", data, "--name", f"{name}.bin", "--user", "bench", src)
            os.remove(src)
        tokens = {k: json.loads(sh(binary, "token", "issue", "--data", data, "--file", v, "--user", "bench"))["access_token"]
                  for k, v in ids.items()}
        db = sqlite3.connect(os.path.join(data, "wopid.db"))
        for name, fid in ids.items():
            key = db.execute("SELECT blob_key FROM files WHERE id = ?", (fid,)).fetchone()[0]
            os.symlink(os.path.join(data, "blobs", key[:2], key), os.path.join(root, name))
        db.close()

        wp, wbase = start_wopid(binary, data, os.path.join(work, "wopid.log"))
        procs.append(wp)
        np_, nbase = start_nginx(work, root)
        procs.append(np_)
        wpids, npids = (lambda: [wp.pid]), children(np_.pid)

        def path(name, suffix=""):
            return f"/wopi/files/{ids[name]}{suffix}?access_token={tokens[name]}"

        # The CheckFileInfo body, served by nginx as a static file of the same size.
        u = urllib.parse.urlsplit(wbase)
        c = http.client.HTTPConnection(u.hostname, u.port)
        c.request("GET", path("f100k"))
        cfi = c.getresponse().read()
        c.close()
        with open(os.path.join(root, "cfi.json"), "wb") as f:
            f.write(cfi)
        info["checkfileinfo_bytes"] = len(cfi)

        # One file per connection for the lock and save rows, created by PutRelativeFile.
        body100k = os.path.join(work, "body100k")
        with open(body100k, "wb") as f:
            f.write(os.urandom(100 << 10))
        per = per_conn_files(wbase, path("f100k"), max(LEVELS))
        lists = {}
        for kind, paths in per.items():
            lists[kind] = write_list(work, kind, paths)
        for name, items in [("nginx-lock", ["/lock"]), ("nginx-put", ["/put"])]:
            lists[name] = os.path.join(work, f"{name}.txt")
            with open(lists[name], "w") as f:
                f.write("\n".join(items) + "\n")
        report = os.path.join(work, "report.lua")
        with open(report, "w") as f:
            f.write(REPORT_LUA)
        perconn = os.path.join(work, "perconn.lua")
        with open(perconn, "w") as f:
            f.write(PER_CONN_LUA)

        # Warm both up (page cache, connection pools).
        wrk(wbase + path("f10m", "/contents"), 8, 1, report)
        wrk(nbase + "/f10m", 8, 1, report)

        rows = []

        only = [k for k in os.environ.get("BENCH_ROWS", "").split(",") if k]

        def row(label, kind, c, wopid_run, nginx_run, unit="req/s", factor=1.0, by_bytes=False, pids=None,
                rss_pids=None):
            if only and kind not in only:
                return
            pids = pids or wpids
            cpu0 = cpu_seconds(pids())
            with RssSampler(rss_pids or pids) as ws:
                w = wopid_run()
            wcpu = cpu_seconds(pids()) - cpu0
            cpu0 = cpu_seconds(npids())
            with RssSampler(npids) as ns:
                n = nginx_run()
            ncpu = cpu_seconds(npids()) - cpu0
            key = "mib_s" if by_bytes else "rps"
            r = {"row": label, "kind": kind, "c": c, "unit": "MiB/s" if by_bytes else unit,
                 "wopid": w[key] * factor, "nginx": n[key] * factor,
                 "ratio": (w[key] / n[key]) if n[key] else None,
                 "wopid_mib_s": w["mib_s"], "nginx_mib_s": n["mib_s"],
                 "wopid_p50_ms": w["p50_us"] / 1000, "wopid_p99_ms": w["p99_us"] / 1000,
                 "nginx_p50_ms": n["p50_us"] / 1000, "nginx_p99_ms": n["p99_us"] / 1000,
                 "wopid_errors": w["errors"] + w["status_errors"], "nginx_errors": n["errors"] + n["status_errors"],
                 "wopid_requests": w["requests"], "nginx_requests": n["requests"],
                 "wopid_peak_rss_mib": ws.peak / 1024, "nginx_peak_rss_mib": ns.peak / 1024,
                 # CPU time the server spent per request: less sensitive than rates to other load.
                 "wopid_cpu_us_per_req": wcpu / max(w["requests"], 1) * 1e6,
                 "nginx_cpu_us_per_req": ncpu / max(n["requests"], 1) * 1e6}
            rows.append(r)
            print(fmt_row(r), flush=True)

        print(header(), flush=True)
        for c in LEVELS:
            row(f"CheckFileInfo c={c}", "checkfileinfo", c,
                lambda: wrk(wbase + path("f100k"), c, SECONDS, report),
                lambda: wrk(nbase + "/cfi.json", c, SECONDS, report))
        for name, label in [("f100k", "GetFile 100 KiB"), ("f10m", "GetFile 10 MiB")]:
            for c in LEVELS:
                row(f"{label} c={c}", "getfile_" + name[1:], c,
                    lambda: wrk(wbase + path(name, "/contents"), c, SECONDS, report),
                    lambda: wrk(nbase + "/" + name, c, SECONDS, report))
        def relock():
            # wrk builds (and drops) one request per thread before it starts sending, so a
            # connection may begin with UNLOCK: every file starts each run locked by our id, where
            # LOCK (a refresh) and UNLOCK both succeed.
            for p in per["lock"]:
                st, _ = post(wbase, p, {"X-WOPI-Override": "LOCK", "X-WOPI-Lock": LOCK_ID})
                assert st == 200, st

        def lock_run(c):
            relock()
            return wrk(wbase, c, SECONDS, perconn, [lists["lock"], "lock"], threads=c)

        for c in LEVELS:
            row(f"Lock+Unlock c={c}", "lock_unlock", c,
                lambda: lock_run(c),
                lambda: wrk(nbase, c, SECONDS, perconn, [lists["nginx-lock"], "lock"], threads=c),
                unit="cycles/s", factor=0.5)
        for c in LEVELS:
            row(f"PutFile 100 KiB c={c}", "putfile_100k", c,
                lambda: wrk(wbase, c, SECONDS, perconn, [lists["put"], "put", body100k], threads=c),
                lambda: wrk(nbase, c, SECONDS, perconn, [lists["nginx-put"], "put", body100k], threads=c))
        if os.environ.get("BENCH_PG", "1") != "0" and (not only or any(k.startswith("pg_") for k in only)):
            pg_rows(binary, work, row, report, perconn, body100k, nbase, lists)
        big_s = max(SECONDS, 5)
        row(f"GetFile {BIG >> 20} MiB x16", "getfile_big", 16,
            lambda: wrk(wbase + path("f1g", "/contents"), 16, big_s, report),
            lambda: wrk(nbase + "/f1g", 16, big_s, report), by_bytes=True)

        info["machine"]["loadavg_after"] = open("/proc/loadavg").read().split()[:3]
        info["rows"] = rows
        info["targets"] = targets(rows) if not only else []
        with open(os.path.join(OUT, "results.json"), "w") as f:
            json.dump(info, f, indent=2)
        with open(os.path.join(OUT, "chart.svg"), "w") as f:
            f.write(chart(rows, info))
        with open(os.path.join(OUT, "results.md"), "w") as f:
            f.write(markdown(info))
        print()
        print("targets:")
        for t in info["targets"]:
            print(f"  {'MET ' if t['met'] else 'MISS'} {t['target']}: {t['value']}")
        errors = sum(r["wopid_errors"] + r["nginx_errors"] for r in rows)
        print(f"\nnon-2xx or socket errors in all runs: {errors}")
        print(f"wrote {os.path.join(OUT, 'results.json')} and {os.path.join(OUT, 'chart.svg')}")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


def pg_rows(binary, work, row, report, perconn, body100k, nbase, lists):
    """The scale-out rows: the same CheckFileInfo, Lock+Unlock and PutFile at c=8 with the metadata on
    a throw-away PostgreSQL cluster (blobs on disk). CPU per request counts wopid and PostgreSQL; the
    peak RSS is wopid's alone."""
    started = start_pg(work)
    if started is None:
        print("PostgreSQL rows skipped: PostgreSQL is not installed", flush=True)
        return
    url, pg_pid, stop = started
    wp = None
    try:
        data = os.path.join(work, "data-pg")
        src = os.path.join(work, "f100k-pg")
        with open(src, "wb") as f:
            f.write(os.urandom(100 << 10))
        meta = ["--meta", url]
        fid = sh(binary, "files", "add", "--data", data, *meta, "--name", "f100k.bin", "--user", "bench", src)
        token = json.loads(sh(binary, "token", "issue", "--data", data, *meta, "--file", fid,
                              "--user", "bench"))["access_token"]
        wp, wbase = start_wopid(binary, data, os.path.join(work, "wopid-pg.log"), meta)
        pids = (lambda: [wp.pid] + all_children(pg_pid)())
        only_wopid = (lambda: [wp.pid])
        cfi = f"/wopi/files/{fid}?access_token={token}"
        per = per_conn_files(wbase, cfi, 8)
        lock_list = write_list(work, "pg-lock", per["lock"])
        put_list = write_list(work, "pg-put", per["put"])
        wrk(wbase + cfi, 8, 1, report)

        def lock_run():
            for p in per["lock"]:
                st, _ = post(wbase, p, {"X-WOPI-Override": "LOCK", "X-WOPI-Lock": LOCK_ID})
                assert st == 200, st
            return wrk(wbase, 8, SECONDS, perconn, [lock_list, "lock"], threads=8)

        row("PG CheckFileInfo c=8", "pg_checkfileinfo", 8,
            lambda: wrk(wbase + cfi, 8, SECONDS, report),
            lambda: wrk(nbase + "/cfi.json", 8, SECONDS, report), pids=pids, rss_pids=only_wopid)
        row("PG Lock+Unlock c=8", "pg_lock_unlock", 8, lock_run,
            lambda: wrk(nbase, 8, SECONDS, perconn, [lists["nginx-lock"], "lock"], threads=8),
            unit="cycles/s", factor=0.5, pids=pids, rss_pids=only_wopid)
        row("PG PutFile 100 KiB c=8", "pg_putfile_100k", 8,
            lambda: wrk(wbase, 8, SECONDS, perconn, [put_list, "put", body100k], threads=8),
            lambda: wrk(nbase, 8, SECONDS, perconn, [lists["nginx-put"], "put", body100k], threads=8),
            pids=pids, rss_pids=only_wopid)
    finally:
        if wp is not None:
            wp.terminate()
            try:
                wp.wait(timeout=10)
            except subprocess.TimeoutExpired:
                wp.kill()
        stop()


def header():
    return (f"{'row':<24} {'wopid':>16} {'nginx':>16} {'ratio':>6}  {'wopid p50/p99 ms':>17}"
            f"  {'nginx p50/p99 ms':>17}  {'wopid RSS':>9}  {'CPU us/req w/n':>14}")


def fmt_row(r):
    def val(v, mib):
        s = f"{v:,.0f}"
        if r["kind"] == "getfile_big":
            s += " MiB/s"
        elif r["kind"].startswith("getfile"):
            s += f" ({mib:,.0f}M/s)"
        return s
    ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
    return (f"{r['row']:<24} {val(r['wopid'], r['wopid_mib_s']):>16} {val(r['nginx'], r['nginx_mib_s']):>16} "
            f"{ratio:>6}  {r['wopid_p50_ms']:>7.2f}/{r['wopid_p99_ms']:<8.2f}  "
            f"{r['nginx_p50_ms']:>7.2f}/{r['nginx_p99_ms']:<8.2f}  {r['wopid_peak_rss_mib']:>6.1f} MiB"
            f"  {r['wopid_cpu_us_per_req']:>6.0f}/{r['nginx_cpu_us_per_req']:<6.0f}"
            + (f"  ERRORS wopid {r['wopid_errors']} nginx {r['nginx_errors']}"
               if r['wopid_errors'] or r['nginx_errors'] else ""))


def targets(rows):
    by = {(r["kind"], r["c"]): r for r in rows}
    out = []

    def ratio(kind, c, want, text):
        r = by[(kind, c)]
        out.append({"target": text, "value": f"{r['ratio']:.2f}", "met": r["ratio"] >= want})

    ratio("checkfileinfo", 8, 0.40, "CheckFileInfo >= 40% of nginx's JSON rate at c=8")
    ratio("getfile_100k", 8, 0.70, "GetFile 100 KiB >= 70% of nginx's static rate at c=8")
    ratio("getfile_10m", 8, 0.85, "GetFile 10 MiB >= 85% of nginx's static rate at c=8")
    lk = by[("lock_unlock", 8)]["wopid"]
    out.append({"target": "Lock+Unlock >= 5,000 cycles/s at c=8", "value": f"{lk:,.0f}", "met": lk >= 5000})
    pf = by[("putfile_100k", 8)]["wopid"]
    out.append({"target": "durable PutFile 100 KiB >= 2,500 req/s at c=8", "value": f"{pf:,.0f}", "met": pf >= 2500})
    if ("pg_checkfileinfo", 8) in by:
        pg, lite = by[("pg_checkfileinfo", 8)]["wopid"], by[("checkfileinfo", 8)]["wopid"]
        out.append({"target": "PostgreSQL CheckFileInfo >= 0.6 x SQLite's rate at c=8",
                    "value": f"{pg / lite:.2f}", "met": pg >= 0.6 * lite})
    if ("pg_lock_unlock", 8) in by:
        lk = by[("pg_lock_unlock", 8)]["wopid"]
        out.append({"target": "PostgreSQL Lock+Unlock >= 2,000 cycles/s at c=8", "value": f"{lk:,.0f}",
                    "met": lk >= 2000})
    big = next(r for r in rows if r["kind"] == "getfile_big")
    out.append({"target": "RSS < 64 MB while 16 clients download 1 GiB",
                "value": f"{big['wopid_peak_rss_mib'] * 1.048576:.1f} MB", "met": big["wopid_peak_rss_mib"] * 1.048576 < 64})
    return out


def markdown(info):
    """The results as Markdown, for docs/performance.md."""
    m, v = info["machine"], info["versions"]
    out = [f"- CPU: {m['cpu']}, `nproc` = {m['nproc']}, {m['mem_gib']} GiB, Linux {m['kernel']}",
           f"- load average (1/5/15 min) before the run: {' / '.join(m['loadavg_before'])}, "
           f"after: {' / '.join(m.get('loadavg_after', ['?'] * 3))}",
           f"- {v['wopid']}, built with {v['rustc']}",
           f"- {v['nginx']}; {v['wrk'].split(' Copyright')[0]}",
           f"- {info['seconds_per_run']} s per run; CheckFileInfo body {info.get('checkfileinfo_bytes')} bytes",
           "",
           "| row | wopid | nginx | wopid/nginx | wopid p50 / p99 ms | nginx p50 / p99 ms | wopid peak RSS | CPU µs/req wopid / nginx |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in info["rows"]:
        def val(x, mib):
            s = f"{x:,.0f} {r['unit']}"
            if r["kind"].startswith("getfile") and r["kind"] != "getfile_big":
                s += f" ({mib:,.0f} MiB/s)"
            return s
        lat = (lambda p50, p99: f"{p50:.2f} / {p99:.2f}")
        cpu = ("–" if r["kind"] == "getfile_big"
               else f"{r['wopid_cpu_us_per_req']:,.0f} / {r['nginx_cpu_us_per_req']:,.0f}")
        out.append(f"| {r['row']} | {val(r['wopid'], r['wopid_mib_s'])} | {val(r['nginx'], r['nginx_mib_s'])} | "
                   f"{r['ratio']:.2f} | {lat(r['wopid_p50_ms'], r['wopid_p99_ms'])} | "
                   f"{lat(r['nginx_p50_ms'], r['nginx_p99_ms'])} | {r['wopid_peak_rss_mib']:.1f} MiB | {cpu} |")
    out += ["", "| target | measured | met |", "|---|---:|---|"]
    for t in info["targets"]:
        out.append(f"| {t['target']} | {t['value']} | {'yes' if t['met'] else '**no**'} |")
    return "\n".join(out) + "\n"


def chart(rows, info):
    """Horizontal bars: wopid's rate as a share of nginx's, per row (nginx = 100%)."""
    bar_h, gap, left, width = 14, 8, 210, 460
    top = 50
    height = top + len(rows) * (2 * bar_h + gap) + 40
    scale = width / 1.2  # 120% of nginx fills the width
    e = lambda s: s.replace("&", "&amp;").replace("<", "&lt;")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 160}" height="{height}" '
             f'font-family="sans-serif" font-size="11">',
             f'<text x="10" y="20" font-size="14" font-weight="bold">wopid vs nginx on the same bytes '
             f'(nginx = 100%)</text>',
             f'<text x="10" y="36" fill="#555">{e(info["machine"]["cpu"])}, {info["machine"]["nproc"]} cores; '
             f'{e(info["versions"]["wopid"])}, {e(info["versions"]["nginx"])}</text>']
    for i, r in enumerate(rows):
        y = top + i * (2 * bar_h + gap)
        ratio = r["ratio"] or 0
        parts.append(f'<text x="{left - 6}" y="{y + bar_h + 4}" text-anchor="end">{e(r["row"])}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{min(ratio, 1.2) * scale:.1f}" height="{bar_h}" fill="#2b6cb0"/>')
        parts.append(f'<rect x="{left}" y="{y + bar_h}" width="{scale:.1f}" height="{bar_h}" fill="#bbb"/>')
        unit = r["unit"]
        parts.append(f'<text x="{left + min(ratio, 1.2) * scale + 4:.1f}" y="{y + bar_h - 3}">'
                     f'wopid {r["wopid"]:,.0f} {unit} ({ratio:.0%})</text>')
        parts.append(f'<text x="{left + scale + 4:.1f}" y="{y + 2 * bar_h - 3}" fill="#555">'
                     f'nginx {r["nginx"]:,.0f}</text>')
    x100 = left + scale
    parts.append(f'<line x1="{x100:.1f}" y1="{top - 4}" x2="{x100:.1f}" y2="{height - 30}" stroke="#333" '
                 f'stroke-dasharray="3,3"/>')
    parts.append(f'<text x="10" y="{height - 12}" fill="#555">Lock+Unlock and PutFile: nginx answers the same '
                 f'POSTs with return 200 (no lock, no storage): the HTTP floor.</text>')
    parts.append("</svg>\n")
    return "\n".join(parts)


if __name__ == "__main__":
    main()
