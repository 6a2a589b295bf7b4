#!/usr/bin/env python3
"""The wopid benchmark: wopid against nginx serving the same bytes, on loopback, with wrk.

Called by bench/run, which builds wopid and installs wrk, nginx-light and postgresql. Every row runs
wrk for BENCH_SECONDS (default 3) against wopid and then against nginx, sampling the resident memory of
each server every 50 ms; the PG rows run against wopid on PostgreSQL only and are compared with the
SQLite rows of the same run. Writes bench/out/results.json and bench/out/chart.svg and prints the table.

What each row measures:
- CheckFileInfo: GET /wopi/files/ID?access_token=... (token check, one metadata read, JSON); nginx
  serves the same JSON body as a static file.
- GetFile 100 KiB / 10 MiB: GET .../contents; nginx serves the same blob file (a symlink to it).
- Lock+Unlock: each connection alternates LOCK and UNLOCK on a file of its own (a cycle is two
  requests, both durable SQLite commits); nginx answers `return 200` to the same POSTs, which is the
  floor of an HTTP exchange, not a lock.
- PutFile 100 KiB: each connection saves 100 KiB to a file of its own that it holds the lock of;
  every save is a new version, acknowledged after fsync of the blob and the SQLite commit; nginx
  reads and discards the same body and answers 200 (no storage).
- GetFile 1 GiB x 16: 16 connections download a 1 GiB file; the row is about memory.
- PG CheckFileInfo / PG Lock+Unlock / PG PutFile 100 KiB (c=8): the same runs against a second wopid
  whose metadata is on a throw-away PostgreSQL cluster the benchmark starts (fsync on, synchronous
  commits) and whose blobs are on disk. They are compared with the SQLite rows of the same run, not
  with nginx.

BENCH_ROWS=kind,kind,... runs only the rows of those kinds (checkfileinfo, getfile_100k, getfile_10m,
lock_unlock, putfile_100k, getfile_big, pg_checkfileinfo, pg_lock_unlock, pg_putfile_100k); the
cluster is started only when a pg_ row is selected. BENCH_BIG_BYTES sets the size of the big file,
BENCH_OUT the folder of the results (default bench/out).
"""

import base64
import glob
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.environ.get("BENCH_OUT", os.path.join(HERE, "out"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
LEVELS = [1, 8, 64]
BIG = int(os.environ.get("BENCH_BIG_BYTES", str(1 << 30)))
LOCK_ID = "bench-lock"
PG_C = 8
PG_KINDS = ["pg_checkfileinfo", "pg_lock_unlock", "pg_putfile_100k"]

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


def start_wopid(binary, data, log, store=()):
    proc = subprocess.Popen([binary, "serve", "--data", data, *store, "--listen", "127.0.0.1:0",
                             "--max-upload-bytes", str(2 * BIG)],
                            stdout=subprocess.PIPE, stderr=open(log, "wb"))
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("listening on "):
        raise RuntimeError(f"wopid did not start: {line!r} (see {log})")
    return proc, line[len("listening on "):]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class PgCluster:
    """A throw-away PostgreSQL cluster on loopback, in a folder of its own, with durable settings:
    fsync on and synchronous commits, as a production server would run (the rows are about durable
    commits). Debian's PostgreSQL refuses to run as root: then the cluster belongs to the postgres
    user. stop() stops it and removes its folder; it is safe to call twice."""

    def __init__(self):
        ctls = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
                      key=lambda p: [int(x) for x in re.findall(r"\d+", p)])
        if not ctls:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = os.path.dirname(ctls[-1])
        self.dir = tempfile.mkdtemp(prefix="wopid-bench-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "log")
        self.pid = None
        self.started = False
        self.as_user = []
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        if os.getuid() == 0:
            subprocess.run(["id", "postgres"], check=True, capture_output=True)
            shutil.chown(self.dir, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        sh(*self.as_user, os.path.join(self.bin, "initdb"), "-D", self.data, "-U", "wopid",
           "--auth=trust", "-E", "UTF8", "--no-sync")
        # The port is free when picked; another process may take it before PostgreSQL binds it,
        # so try a few.
        for _ in range(5):
            self.port = free_port()
            opts = (f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=on -c synchronous_commit=on "
                    f"-c full_page_writes=on -c max_connections=100")
            r = subprocess.run([*self.as_user, os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                                "-l", self.log, "-w", "-t", "60", "-o", opts, "start"],
                               capture_output=True, text=True)
            if r.returncode == 0:
                self.started = True
                with open(os.path.join(self.data, "postmaster.pid")) as f:
                    self.pid = int(f.readline())
                self.url = f"postgres://wopid@127.0.0.1:{self.port}/postgres"
                return
        raise RuntimeError(f"PostgreSQL did not start: {r.stdout}{r.stderr}\n{open(self.log).read()}")

    def version(self):
        return sh(os.path.join(self.bin, "postgres"), "--version")

    def stop(self):
        if self.started:
            subprocess.run([*self.as_user, os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                            "-m", "fast", "-w", "-t", "30", "stop"], capture_output=True)
            self.started = False
        if self.pid:
            try:  # still there after pg_ctl gave up: a fast shutdown by signal
                os.kill(self.pid, signal.SIGINT)
            except OSError:
                pass
            self.pid = None
        shutil.rmtree(self.dir, ignore_errors=True)


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


class Site:
    """One wopid server under test: its address, content, tokens and per-connection files."""

    def __init__(self, name, proc, base, ids, tokens):
        self.name, self.proc, self.base, self.ids, self.tokens = name, proc, base, ids, tokens
        self.per, self.lists = {}, {}

    def pids(self):
        return [self.proc.pid]

    def path(self, name, suffix=""):
        return f"/wopi/files/{self.ids[name]}{suffix}?access_token={self.tokens[name]}"


def add_content(binary, work, data, store, sizes):
    """Random files stored by the CLI, and a token for each."""
    ids = {}
    for name, size in sizes:
        src = os.path.join(work, name)
        with open(src, "wb") as f:
            left = size
            while left:
                n = min(left, 8 << 20)
                f.write(os.urandom(n))
                left -= n
        ids[name] = sh(binary, "files", "add", "--data", data, *store, "--name", f"{name}.bin",
                       "--user", "bench", src)
        os.remove(src)
    tokens = {k: json.loads(sh(binary, "token", "issue", "--data", data, *store, "--file", v,
                               "--user", "bench"))["access_token"]
              for k, v in ids.items()}
    return ids, tokens


def write_list(work, name, items):
    path = os.path.join(work, f"{name}.txt")
    with open(path, "w") as f:
        f.write("\n".join(items) + "\n")
    return path


def per_connection_files(site, work, count):
    """One file per connection for the lock and save rows, created by PutRelativeFile; the save
    files are locked by LOCK_ID."""
    for kind in ["lock", "put"]:
        paths = []
        for i in range(count):
            st, resp = post(site.base, site.path("f100k"), {"X-WOPI-Override": "PUT_RELATIVE",
                                                            "X-WOPI-SuggestedTarget": f"{kind}-{i}.bin"}, b"x")
            assert st == 200, (st, resp)
            url = urllib.parse.urlsplit(json.loads(resp)["Url"])
            file_path = f"{url.path}?{url.query}"
            if kind == "put":
                st, _ = post(site.base, file_path, {"X-WOPI-Override": "LOCK", "X-WOPI-Lock": LOCK_ID})
                assert st == 200
                file_path = f"{url.path}/contents?{url.query}"
            paths.append(file_path)
        site.per[kind] = paths
        site.lists[kind] = write_list(work, f"{site.name}-{kind}", paths)


def main():
    binary = sys.argv[1]
    only = [k for k in os.environ.get("BENCH_ROWS", "").split(",") if k]

    def wanted(kind):
        return not only or kind in only

    # Stopped by a signal: still stop the servers and the PostgreSQL cluster (the finally below).
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(prefix="wopid-bench-")
    data = os.path.join(work, "data")
    root = os.path.join(work, "www")
    os.makedirs(root)
    procs = []
    pg = None
    try:
        info = {"machine": machine(), "versions": versions(binary), "seconds_per_run": SECONDS}
        # Content: random bytes, stored by the CLI, then served by nginx from the very same blob files.
        sizes = [("f100k", 100 << 10), ("f10m", 10 << 20)]
        if wanted("getfile_big"):
            sizes.append(("f1g", BIG))
        ids, tokens = add_content(binary, work, data, [], sizes)
        db = sqlite3.connect(os.path.join(data, "wopid.db"))
        for name, fid in ids.items():
            key = db.execute("SELECT blob_key FROM files WHERE id = ?", (fid,)).fetchone()[0]
            os.symlink(os.path.join(data, "blobs", key[:2], key), os.path.join(root, name))
        db.close()

        wp, wbase = start_wopid(binary, data, os.path.join(work, "wopid.log"))
        procs.append(wp)
        np_, nbase = start_nginx(work, root)
        procs.append(np_)
        site = Site("sqlite", wp, wbase, ids, tokens)
        npids = children(np_.pid)

        # The same server shape on PostgreSQL: metadata on a throw-away cluster, blobs on disk.
        pgsite = None
        if any(wanted(k) for k in PG_KINDS):
            pg = PgCluster()
            info["versions"]["postgresql"] = pg.version()
            pdata = os.path.join(work, "data-pg")
            store = ["--meta", pg.url]
            pids_, ptokens = add_content(binary, work, pdata, store, [("f100k", 100 << 10)])
            pp, pbase = start_wopid(binary, pdata, os.path.join(work, "wopid-pg.log"), store)
            procs.append(pp)
            pgsite = Site("pg", pp, pbase, pids_, ptokens)
            per_connection_files(pgsite, work, PG_C)
        print(f"machine: {info['machine']}\nversions: {info['versions']}", flush=True)

        # The CheckFileInfo body, served by nginx as a static file of the same size.
        u = urllib.parse.urlsplit(wbase)
        c = http.client.HTTPConnection(u.hostname, u.port)
        c.request("GET", site.path("f100k"))
        cfi = c.getresponse().read()
        c.close()
        with open(os.path.join(root, "cfi.json"), "wb") as f:
            f.write(cfi)
        info["checkfileinfo_bytes"] = len(cfi)

        body100k = os.path.join(work, "body100k")
        with open(body100k, "wb") as f:
            f.write(os.urandom(100 << 10))
        per_connection_files(site, work, max(LEVELS))
        lists = {"nginx-lock": write_list(work, "nginx-lock", ["/lock"]),
                 "nginx-put": write_list(work, "nginx-put", ["/put"])}
        report = os.path.join(work, "report.lua")
        with open(report, "w") as f:
            f.write(REPORT_LUA)
        perconn = os.path.join(work, "perconn.lua")
        with open(perconn, "w") as f:
            f.write(PER_CONN_LUA)

        # Warm up (page cache, connection pools).
        wrk(wbase + site.path("f10m", "/contents"), 8, 1, report)
        wrk(nbase + "/f10m", 8, 1, report)
        if pgsite:
            wrk(pgsite.base + pgsite.path("f100k"), PG_C, 1, report)

        rows = []

        def row(label, kind, c, s, wopid_run, nginx_run=None, ref_kind=None, unit="req/s",
                factor=1.0, by_bytes=False):
            """Runs wopid (site s), then the reference: nginx when nginx_run is given, else the
            SQLite row of kind ref_kind at the same c from this run (not run again)."""
            if not wanted(kind):
                return
            extra = children(pg.pid) if (pg and s is pgsite) else (lambda: [])
            cpu0, xcpu0 = cpu_seconds(s.pids()), cpu_seconds(extra())
            with RssSampler(s.pids) as ws:
                w = wopid_run()
            wcpu, xcpu = cpu_seconds(s.pids()) - cpu0, cpu_seconds(extra()) - xcpu0
            key = "mib_s" if by_bytes else "rps"
            r = {"row": label, "kind": kind, "c": c, "unit": "MiB/s" if by_bytes else unit,
                 "meta": s.name, "wopid": w[key] * factor,
                 "wopid_mib_s": w["mib_s"],
                 "wopid_p50_ms": w["p50_us"] / 1000, "wopid_p99_ms": w["p99_us"] / 1000,
                 "wopid_errors": w["errors"] + w["status_errors"], "wopid_requests": w["requests"],
                 "wopid_peak_rss_mib": ws.peak / 1024,
                 # CPU time the server spent per request: less sensitive than rates to other load.
                 "wopid_cpu_us_per_req": wcpu / max(w["requests"], 1) * 1e6}
            if s is pgsite:
                r["postgres_cpu_us_per_req"] = xcpu / max(w["requests"], 1) * 1e6
            if nginx_run:
                cpu0 = cpu_seconds(npids())
                with RssSampler(npids) as ns:
                    n = nginx_run()
                ncpu = cpu_seconds(npids()) - cpu0
                r.update({"reference": "nginx", "ref": n[key] * factor, "ref_mib_s": n["mib_s"],
                          "ref_p50_ms": n["p50_us"] / 1000, "ref_p99_ms": n["p99_us"] / 1000,
                          "ref_errors": n["errors"] + n["status_errors"], "ref_requests": n["requests"],
                          "ref_peak_rss_mib": ns.peak / 1024,
                          "ref_cpu_us_per_req": ncpu / max(n["requests"], 1) * 1e6})
            else:
                q = next((x for x in rows if x["kind"] == ref_kind and x["c"] == c), None)
                r["reference"] = "SQLite"
                if q:
                    r.update({k.replace("wopid", "ref"): q[k] for k in
                              ["wopid", "wopid_mib_s", "wopid_p50_ms", "wopid_p99_ms", "wopid_requests",
                               "wopid_peak_rss_mib", "wopid_cpu_us_per_req"]})
                    r["ref_errors"] = 0  # counted in the SQLite row
                else:
                    r.update({"ref": None, "ref_mib_s": None, "ref_p50_ms": None, "ref_p99_ms": None,
                              "ref_errors": 0, "ref_requests": None, "ref_peak_rss_mib": None,
                              "ref_cpu_us_per_req": None})
            r["ratio"] = (r["wopid"] / r["ref"]) if r["ref"] else None
            rows.append(r)
            print(fmt_row(r), flush=True)

        print("reference: nginx serving the same bytes; for the PG rows, wopid on SQLite in this run")
        print(header(), flush=True)
        for c in LEVELS:
            row(f"CheckFileInfo c={c}", "checkfileinfo", c, site,
                lambda: wrk(wbase + site.path("f100k"), c, SECONDS, report),
                lambda: wrk(nbase + "/cfi.json", c, SECONDS, report))
        for name, label in [("f100k", "GetFile 100 KiB"), ("f10m", "GetFile 10 MiB")]:
            for c in LEVELS:
                row(f"{label} c={c}", "getfile_" + name[1:], c, site,
                    lambda: wrk(wbase + site.path(name, "/contents"), c, SECONDS, report),
                    lambda: wrk(nbase + "/" + name, c, SECONDS, report))

        def lock_run(s, c):
            # wrk builds (and drops) one request per thread before it starts sending, so a
            # connection may begin with UNLOCK: every file starts each run locked by our id, where
            # LOCK (a refresh) and UNLOCK both succeed.
            for p in s.per["lock"]:
                st, _ = post(s.base, p, {"X-WOPI-Override": "LOCK", "X-WOPI-Lock": LOCK_ID})
                assert st == 200, st
            return wrk(s.base, c, SECONDS, perconn, [s.lists["lock"], "lock"], threads=c)

        def put_run(s, c):
            return wrk(s.base, c, SECONDS, perconn, [s.lists["put"], "put", body100k], threads=c)

        for c in LEVELS:
            row(f"Lock+Unlock c={c}", "lock_unlock", c, site,
                lambda: lock_run(site, c),
                lambda: wrk(nbase, c, SECONDS, perconn, [lists["nginx-lock"], "lock"], threads=c),
                unit="cycles/s", factor=0.5)
        for c in LEVELS:
            row(f"PutFile 100 KiB c={c}", "putfile_100k", c, site,
                lambda: put_run(site, c),
                lambda: wrk(nbase, c, SECONDS, perconn, [lists["nginx-put"], "put", body100k], threads=c))
        if wanted("getfile_big"):
            big_s = max(SECONDS, 5)
            row(f"GetFile {BIG >> 20} MiB x16", "getfile_big", 16, site,
                lambda: wrk(wbase + site.path("f1g", "/contents"), 16, big_s, report),
                lambda: wrk(nbase + "/f1g", 16, big_s, report), by_bytes=True)
        if pgsite:
            # The same row code against the PostgreSQL server, compared with the SQLite rows above.
            row(f"PG CheckFileInfo c={PG_C}", "pg_checkfileinfo", PG_C, pgsite,
                lambda: wrk(pgsite.base + pgsite.path("f100k"), PG_C, SECONDS, report),
                ref_kind="checkfileinfo")
            row(f"PG Lock+Unlock c={PG_C}", "pg_lock_unlock", PG_C, pgsite,
                lambda: lock_run(pgsite, PG_C), ref_kind="lock_unlock", unit="cycles/s", factor=0.5)
            row(f"PG PutFile 100 KiB c={PG_C}", "pg_putfile_100k", PG_C, pgsite,
                lambda: put_run(pgsite, PG_C), ref_kind="putfile_100k")

        info["machine"]["loadavg_after"] = open("/proc/loadavg").read().split()[:3]
        info["rows"] = rows
        info["targets"] = targets(rows)
        with open(os.path.join(OUT, "results.json"), "w") as f:
            json.dump(info, f, indent=2)
        with open(os.path.join(OUT, "chart.svg"), "w") as f:
            f.write(chart(rows, info))
        with open(os.path.join(OUT, "results.md"), "w") as f:
            f.write(markdown(info))
        print()
        print(targets_table(info["targets"]))
        errors = sum(r["wopid_errors"] + r["ref_errors"] for r in rows)
        print(f"\nnon-2xx or socket errors in all runs: {errors}")
        print(f"wrote {os.path.join(OUT, 'results.json')} and {os.path.join(OUT, 'chart.svg')}")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        if pg:
            pg.stop()
        shutil.rmtree(work, ignore_errors=True)


def header():
    return (f"{'row':<24} {'wopid':>16} {'reference':>16} {'ratio':>6}  {'wopid p50/p99 ms':>17}"
            f"  {'ref p50/p99 ms':>17}  {'wopid RSS':>9}  {'CPU us/req w/ref':>16}")


def fmt_row(r):
    def val(v, mib):
        if v is None:
            return "-"
        s = f"{v:,.0f}"
        if r["kind"] == "getfile_big":
            s += " MiB/s"
        elif r["kind"].startswith("getfile"):
            s += f" ({mib:,.0f}M/s)"
        return s

    def ms(v):
        return "-" if v is None else f"{v:.2f}"

    def us(v):
        return "-" if v is None else f"{v:.0f}"
    ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
    ref = val(r["ref"], r["ref_mib_s"]) + (" SQLite" if r["reference"] == "SQLite" else "")
    cpu = us(r["wopid_cpu_us_per_req"])
    if "postgres_cpu_us_per_req" in r:
        cpu += f"+{r['postgres_cpu_us_per_req']:.0f}pg"
    return (f"{r['row']:<24} {val(r['wopid'], r['wopid_mib_s']):>16} {ref:>16} "
            f"{ratio:>6}  {ms(r['wopid_p50_ms']):>7}/{ms(r['wopid_p99_ms']):<8}  "
            f"{ms(r['ref_p50_ms']):>7}/{ms(r['ref_p99_ms']):<8}  {r['wopid_peak_rss_mib']:>6.1f} MiB"
            f"  {cpu:>9}/{us(r['ref_cpu_us_per_req']):<6}"
            + (f"  ERRORS wopid {r['wopid_errors']} reference {r['ref_errors']}"
               if r['wopid_errors'] or r['ref_errors'] else ""))


def targets(rows):
    """The targets, for the rows of this run (a target whose row was not run is left out). met is
    None for a row that is only reported."""
    by = {(r["kind"], r["c"]): r for r in rows}
    out = []

    def add(kind, c, label, text, value, met):
        if (kind, c) in by:
            out.append({"row": label, "target": text, "value": value, "met": met})

    def ratio(kind, label, want, of):
        r = by.get((kind, 8))
        if r is None:
            return
        if r["ratio"] is None:
            add(kind, 8, label, f"ratio to {of} >= {want:.2f}", f"no {of} row in this run", None)
        else:
            add(kind, 8, label, f"ratio to {of} >= {want:.2f}", f"{r['ratio']:.2f}", r["ratio"] >= want)

    def rate(kind, label, want, unit):
        r = by.get((kind, 8))
        if r is None:
            return
        text = f"durable >= {want:,} {unit}" if want else f"reported ({unit})"
        add(kind, 8, label, text, f"{r['wopid']:,.0f}", (r["wopid"] >= want) if want else None)

    ratio("checkfileinfo", "CheckFileInfo", 0.40, "nginx")
    ratio("getfile_100k", "GetFile 100 KiB", 0.70, "nginx")
    rate("lock_unlock", "Lock+Unlock", 5000, "cycles/s")
    rate("putfile_100k", "PutFile 100 KiB", 2500, "req/s")
    ratio("getfile_10m", "GetFile 10 MiB", 0.85, "nginx")
    big = next((r for r in rows if r["kind"] == "getfile_big"), None)
    if big:
        mb = big["wopid_peak_rss_mib"] * 1.048576
        out.append({"row": f"RSS, 16 clients downloading {BIG >> 20} MiB", "target": "< 64 MB",
                    "value": f"{mb:.1f} MB", "met": mb < 64})
    ratio("pg_checkfileinfo", "PG CheckFileInfo", 0.60, "SQLite")
    rate("pg_lock_unlock", "PG Lock+Unlock", 2000, "cycles/s")
    rate("pg_putfile_100k", "PG PutFile 100 KiB", 0, "req/s")
    return out


def met_text(met):
    return "-" if met is None else ("met" if met else "MISSED")


def targets_table(ts):
    """The targets as a plain-text table, for the terminal."""
    lines = [f"{'row (c=8)':<34} {'target':<28} {'measured':>22}  met"]
    for t in ts:
        lines.append(f"{t['row']:<34} {t['target']:<28} {t['value']:>22}  {met_text(t['met'])}")
    return "\n".join(lines)


def markdown(info):
    """The results as Markdown, for docs/performance.md."""
    m, v = info["machine"], info["versions"]
    out = [f"- CPU: {m['cpu']}, `nproc` = {m['nproc']}, {m['mem_gib']} GiB, Linux {m['kernel']}",
           f"- load average (1/5/15 min) before the run: {' / '.join(m['loadavg_before'])}, "
           f"after: {' / '.join(m.get('loadavg_after', ['?'] * 3))}",
           f"- {v['wopid']}, built with {v['rustc']}",
           f"- {v['nginx']}; {v['wrk'].split(' Copyright')[0]}"
           + (f"; {v['postgresql']}" if "postgresql" in v else ""),
           f"- {info['seconds_per_run']} s per run; CheckFileInfo body {info.get('checkfileinfo_bytes')} bytes",
           "",
           "| row | wopid | reference | wopid/reference | wopid p50 / p99 ms | reference p50 / p99 ms | "
           "wopid peak RSS | CPU µs/req wopid / reference |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in info["rows"]:
        def val(x, mib):
            if x is None:
                return "–"
            s = f"{x:,.0f} {r['unit']}"
            if r["kind"].startswith("getfile") and r["kind"] != "getfile_big":
                s += f" ({mib:,.0f} MiB/s)"
            return s

        def lat(p50, p99):
            return "–" if p50 is None else f"{p50:.2f} / {p99:.2f}"
        ref = f"{r['reference']}: {val(r['ref'], r['ref_mib_s'])}"
        if r["kind"] == "getfile_big":
            cpu = "–"
        else:
            cpu = f"{r['wopid_cpu_us_per_req']:,.0f}"
            if "postgres_cpu_us_per_req" in r:
                cpu += f" + {r['postgres_cpu_us_per_req']:,.0f} PostgreSQL"
            cpu += " / " + ("–" if r["ref_cpu_us_per_req"] is None else f"{r['ref_cpu_us_per_req']:,.0f}")
        ratio = "–" if r["ratio"] is None else f"{r['ratio']:.2f}"
        out.append(f"| {r['row']} | {val(r['wopid'], r['wopid_mib_s'])} | {ref} | {ratio} | "
                   f"{lat(r['wopid_p50_ms'], r['wopid_p99_ms'])} | {lat(r['ref_p50_ms'], r['ref_p99_ms'])} | "
                   f"{r['wopid_peak_rss_mib']:.1f} MiB | {cpu} |")
    out += ["", "| row (c=8) | target | measured | met |", "|---|---|---:|---|"]
    for t in info["targets"]:
        met = {None: "reported", True: "yes", False: "**no**"}[t["met"]]
        out.append(f"| {t['row']} | {t['target'].replace('>=', '≥')} | {t['value']} | {met} |")
    return "\n".join(out) + "\n"


def chart(rows, info):
    """Horizontal bars: wopid's rate as a share of its reference's, per row (nginx, or for the PG
    rows wopid on SQLite, = 100%)."""
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
        ref = "–" if r["ref"] is None else f'{r["ref"]:,.0f}'
        parts.append(f'<text x="{left + scale + 4:.1f}" y="{y + 2 * bar_h - 3}" fill="#555">'
                     f'{e(r["reference"])} {ref}</text>')
    x100 = left + scale
    parts.append(f'<line x1="{x100:.1f}" y1="{top - 4}" x2="{x100:.1f}" y2="{height - 30}" stroke="#333" '
                 f'stroke-dasharray="3,3"/>')
    parts.append(f'<text x="10" y="{height - 12}" fill="#555">Lock+Unlock and PutFile: nginx answers the same '
                 f'POSTs with return 200 (no lock, no storage): the HTTP floor.</text>')
    parts.append("</svg>\n")
    return "\n".join(parts)


if __name__ == "__main__":
    main()
