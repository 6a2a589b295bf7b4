#!/usr/bin/env python3
"""User-space instructions per request of a wopid binary, counted by valgrind's callgrind.

    python3 bench/instructions.py BINARY [OUT] [N]

Stores a 100 KiB file with the CLI, serves it under `valgrind --tool=callgrind`, sends 200
requests to warm the server, zeroes the counters, sends N (default 2,000) requests on one
connection, dumps the counters and divides their total by N: once for CheckFileInfo, once for
GetFile. Unlike CPU time, the counts do not move with the load of the machine. The dumps stay in
OUT (default a temporary folder) for `callgrind_annotate --inclusive=yes OUT/cfi.*`. The server's
environment is this one's, so `RUST_LOG=off` counts the requests without the request log.
valgrind runs SHA-256 without the CPU's SHA instructions, so hashing counts for more than it costs.
"""

import glob
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def sh(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    binary = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="wopid-callgrind-")
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="wopid-instructions-")
    data = os.path.join(work, "data")
    src = os.path.join(work, "f100k")
    with open(src, "wb") as f:
        f.write(os.urandom(100 * 1024))
    fid = sh(binary, "files", "add", "--data", data, "--name", "f100k.bin", "--user", "bench", src)
    token = json.loads(sh(binary, "token", "issue", "--data", data, "--file", fid,
                          "--user", "bench"))["access_token"]
    dump = os.path.join(out, "cg.%p")
    with open(os.path.join(out, "server.log"), "wb") as log:
        proc = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={dump}",
                                 binary, "serve", "--data", data, "--listen", "127.0.0.1:0"],
                                stdout=subprocess.PIPE, stderr=log)
    try:
        line = proc.stdout.readline().decode().strip()
        if not line.startswith("listening on http://"):
            raise RuntimeError(f"wopid did not start: {line!r}")
        host, port = line[len("listening on http://"):].rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port))

        def send(path, count):
            for _ in range(count):
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"{path}: {resp.status}")

        pid = str(proc.pid)
        for name, path in [("cfi", f"/wopi/files/{fid}?access_token={token}"),
                           ("get", f"/wopi/files/{fid}/contents?access_token={token}")]:
            send(path, 200)
            subprocess.run(["callgrind_control", "-z", pid], check=True, capture_output=True)
            send(path, n)
            subprocess.run(["callgrind_control", "-d", name, pid], check=True, capture_output=True)
            total = 0
            for _ in range(100):
                dumps = glob.glob(os.path.join(out, f"cg.{pid}.*"))
                if dumps:
                    break
                time.sleep(0.1)
            for d in dumps:
                with open(d) as f:
                    total += next(int(l.split()[1]) for l in f if l.startswith(("summary:", "totals:")))
                os.rename(d, os.path.join(out, f"{name}.{os.path.basename(d)}"))
            print(f"{name}: {total / n / 1000:.1f}k instructions per request", flush=True)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)
    print(f"dumps in {out}")


if __name__ == "__main__":
    main()
