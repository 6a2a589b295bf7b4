#!/usr/bin/env python3
"""Crash safety of wopid: SIGKILL a live `wopid serve` at random moments under save traffic.

Each cycle starts the release binary on a temporary data folder (co-authoring configured, so that
the incremental file transfer is served), lets worker threads drive Lock, PutFile, PutChunkedFile,
RefreshLock, RenameFile, PutRelativeFile and Unlock traffic with random content (random bytes, or
zip documents that share most of their parts from one save to the next), kills the server with
SIGKILL after a random delay, and then, with the server down and again after a restart, checks:

- about a third of the saves are PutChunkedFiles, as a client sends them: GetChunkedFile gives the
  sequence number and the host's chunk list (which must be the worker's last save cut the same way:
  the Zip scheme for a zip document, FullFile for random bytes; chunk ids SpookyHash V2 128-bit),
  then the new content is cut the same way and only the chunks the host does not have are uploaded,
  under the worker's WOPI lock. One in ten presents a stale sequence number and must get 412 without
  saving. An acknowledged PutChunkedFile is checked like an acknowledged PutFile below; a 409, 412 or
  503 answer is not a save (nothing may change);

- the SQLite database passes `PRAGMA integrity_check` and `PRAGMA foreign_key_check`;
- every acknowledged (200) save is in the version history with its SHA-256, and its blob holds
  exactly those bytes (a zip-based document is stored as chunks: its content rows and the chunks
  they list are all there, and the chunk blobs, in order, are those bytes), unless it was an
  autosave that a later save of the same lock session replaced in the history (consecutive
  autosaves are coalesced);
- no chunk a content references is freed (no row missing, no blob missing, none listed among the
  dead blobs), while the chunk collector runs under the kills: about half the saves are zip
  documents sharing most of their parts with the previous save, replaced autosaves and refused
  uploads leave chunks behind, and the server runs with `chunk_grace = "1s"`, so every start and
  every coalesced autosave sweeps;
- every file's current content (GetFile over HTTP) is whole: it hashes to what CheckFileInfo says and
  is the last acknowledged save, or the save that was in flight when the server died (a request that
  got no answer may or may not have committed; nothing else is acceptable);
- versions only grow, by one per save, and the history has no holes;
- names are the acknowledged one or the in-flight rename; a file created by an unanswered
  PutRelativeFile holds exactly the content that request sent;
- locks survive the restart with the expiry their last acknowledged Lock/RefreshLock set, and a lock
  whose expiry passed while the server was down (the database's expiry moved into the past, as if the
  clock had jumped) is free after the restart.

Python standard library only, plus the WOPI validator's SpookyHash and frame builder from
../shared/tools/wopi-validator/wopi_validator.py beside the checkout. Usage: crash.py [--kills N] [--long] [--seed S] [--keep] [WOPID_BINARY]
"""

import argparse
import base64
import hashlib
import http.client
import json
import os
import random
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zipfile
import io
import struct

SHARED_TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "tools", "wopi-validator")
# Import without writing bytecode next to the shared runner.
sys.dont_write_bytecode = True
sys.path.insert(0, SHARED_TOOLS)
try:
    # SpookyHash V2 chunk ids and the frame builder of the WOPI validator (../shared beside the checkout).
    from wopi_validator import blob_id, build_frames, parse_frames, FRAME_CHUNK  # noqa: E402
except ImportError as e:
    sys.exit(f"crash.py needs ../shared/tools/wopi-validator/wopi_validator.py beside the checkout "
             f"(looked in {os.path.normpath(SHARED_TOOLS)}): {e}")

LOCK_TTL_MS = 30 * 60 * 1000
WORKERS = 3
START_TIMEOUT = 20.0
HTTP_TIMEOUT = 20.0


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def sha(data):
    return hashlib.sha256(data).hexdigest()


def now_ms():
    return int(time.time() * 1000)


class Tracked:
    """What the test knows about one file: its acknowledged state and what may have landed."""

    def __init__(self, fid, token, name, content_sha, version):
        self.id = fid
        self.token = token
        self.name = name
        self.sha = content_sha  # current content as last observed or acknowledged
        self.version = version
        self.acked = {version: content_sha}  # every acknowledged version -> sha
        self.pending_puts = []  # shas of PutFiles sent after the last known state, unanswered
        self.lock = None  # lock id, when known
        self.lock_window = None  # (sent_ms, answered_ms) of the Lock/Refresh that set the expiry
        self.pending_locks = []  # possible lock states after unanswered lock requests
        self.pending_names = []  # names of unanswered renames
        self.lock_id = None  # the lock id this file's worker uses
        self.content = b""  # the bytes of `sha` (what a chunked save's delta is computed against)


class Model:
    def __init__(self):
        self.files = {}  # id -> Tracked
        self.pending_relative = []  # content shas of unanswered PutRelativeFiles
        self.orphans = {}  # id -> sha of files that unanswered PutRelativeFiles did create
        self.mu = threading.Lock()
        self.acked_saves = 0
        self.relatives = 0
        self.landed_in_flight = 0  # unanswered saves found committed after the restart
        self.refused_saves = 0  # saves answered 503 (not committed)
        self.chunked_saves = 0  # acknowledged PutChunkedFiles
        self.chunks_uploaded = 0  # chunks those sent (the others were the host's already)
        self.chunks_reused = 0  # chunks of those contents the host already had
        self.conflicts = 0  # PutChunkedFiles answered 409 or 412 (not saves)
        self.stale_refused = 0  # PutChunkedFiles with a stale sequence number, answered 412
        self.chunk_blobs = set()  # every chunk blob key seen referenced by a version


class Server:
    def __init__(self, binary, data, log):
        self.binary = binary
        self.data = data
        self.log = log
        # Chunks nothing references are freed a second after they are: the collector runs at every
        # start and after every coalesced autosave, under the kills.
        self.config = os.path.join(os.path.dirname(data), "wopid.toml")
        with open(self.config, "w") as fh:
            fh.write('chunk_grace = "1s"\n')
            # Co-authoring on: GetChunkedFile and PutChunkedFile are served.
            fh.write('coauth_collaboration_service_url = "https://ocs.example.com/"\n')
            fh.write('coauth_real_time_channel_url = "https://rtc.example.com/"\n')
        self.proc = None
        self.port = None

    def start(self):
        err = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data", self.data, "--listen", "127.0.0.1:0", "--config", self.config],
            stdout=subprocess.PIPE,
            stderr=err,
            env=dict(os.environ, RUST_LOG="warn"),
        )
        err.close()
        deadline = time.monotonic() + START_TIMEOUT
        line = b""
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if r:
                line = self.proc.stdout.readline()
                break
            if self.proc.poll() is not None:
                break
        text = line.decode().strip()
        check(text.startswith("listening on http://"), f"wopid did not start: {text!r}, see {self.log}")
        self.port = int(text.rsplit(":", 1)[1])

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait(timeout=10)
            self.proc.stdout.close()
        self.proc = None


def conn(port):
    return http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)


def request(c, method, path, token, headers=None, body=None):
    sep = "&" if "?" in path else "?"
    url = f"{path}{sep}access_token={urllib.parse.quote(token)}"
    c.request(method, url, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, data


def random_bytes(rng):
    size = rng.choice([0, 1, 100, 4096, 65536, 300_000, rng.randrange(1, 1_200_000)])
    # Random bytes, so that two saves never share a SHA-256 by accident.
    return rng.randbytes(size)


# Parts zip documents share (as images do from one save of a document to the next).
SHARED_PARTS = [random.Random(i).randbytes(n) for i, n in enumerate([200_000, 90_000, 30_000, 5_000])]


def random_zip(rng):
    """A docx-like archive: a few shared stored parts and a fresh deflated document.xml."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>", compress_type=zipfile.ZIP_DEFLATED)
        text = rng.randbytes(rng.randrange(10, 5000)).hex()
        z.writestr("word/document.xml", f"<w:document>{text}</w:document>", compress_type=zipfile.ZIP_DEFLATED)
        for i, part in enumerate(rng.sample(SHARED_PARTS, rng.randrange(1, len(SHARED_PARTS) + 1))):
            z.writestr(f"word/media/image{i}.png", part, compress_type=zipfile.ZIP_STORED)
    return out.getvalue()


def random_body(rng):
    return random_zip(rng) if rng.random() < 0.5 else random_bytes(rng)


def zip_cut(data):
    """The Zip chunking scheme (docs/coauth.md §6) as offsets, or None when `data` is not a zip it cuts.

    Per entry in archive order: its local header (30 bytes, name, extra field), then everything up
    to the next entry's local header; the central directory with the end record is the last chunk.
    """
    tail = data[-(65536 + 22):]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    eocd = len(data) - len(tail) + at
    disk, cd_disk, _, entries, cd_size, cd_off = struct.unpack_from("<HHHHII", data, eocd + 4)
    if disk != 0 or cd_disk != 0 or cd_off == 0xFFFFFFFF or entries == 0xFFFF or cd_off + cd_size > eocd:
        return None
    offsets, pos = [], cd_off
    for _ in range(entries):
        if data[pos:pos + 4] != b"PK\x01\x02":
            return None
        n, m, k = struct.unpack_from("<HHH", data, pos + 28)
        offsets.append(struct.unpack_from("<I", data, pos + 42)[0])
        pos += 46 + n + m + k
    offsets.sort()
    cuts = [0]
    for i, off in enumerate(offsets):
        if off < cuts[-1] or off + 30 > cd_off or data[off:off + 4] != b"PK\x03\x04":
            return None
        n, m = struct.unpack_from("<HH", data, off + 26)
        end = off + 30 + n + m
        nxt = offsets[i + 1] if i + 1 < len(offsets) else cd_off
        if end > nxt:
            return None
        cuts += [off, end]
    cuts += [cd_off, len(data)]
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def chunk_content(data):
    """(scheme, [(chunk id, bytes)]) of a content as the host cuts it: Zip for a zip, else FullFile."""
    cut = zip_cut(data)
    if cut is None:
        return "FullFile", [(blob_id(data), data)] if data else []
    return "Zip", [(blob_id(data[a:b]), data[a:b]) for a, b in cut]


class Worker(threading.Thread):
    """Drives one file; stops at the first request that gets no answer (the server died)."""

    def __init__(self, model, f, port, rng, stop):
        super().__init__(daemon=True)
        self.model, self.f, self.port, self.rng, self.stop = model, f, port, rng, stop
        self.error = None

    def run(self):
        try:
            self.drive()
        except (OSError, http.client.HTTPException):
            pass  # the server was killed: the request in flight stays pending
        except Failure as e:
            self.error = e
        except Exception as e:  # noqa: BLE001 - a bug in the test itself must fail it too
            self.error = Failure(f"worker crashed: {e!r}")

    def drive(self):
        f, rng, m = self.f, self.rng, self.model
        c = conn(self.port)
        path = f"/wopi/files/{f.id}"
        while not self.stop.is_set():
            with m.mu:
                locked = f.lock == f.lock_id
            if not locked:
                self.lock_op(c, path, "LOCK")
                continue
            roll = rng.random()
            # PutChunkedFile is tried 2 times in 5 saves: with its GetChunkedFile first and one in ten
            # stale, about a third of the acknowledged saves are chunked.
            if roll < 0.33:
                self.put(c, path)
            elif roll < 0.55:
                self.put_chunked(c, path)
            elif roll < 0.65:
                self.lock_op(c, path, "REFRESH_LOCK")
            elif roll < 0.73:
                self.rename(c, path)
            elif roll < 0.81:
                self.put_relative(c, path)
            elif roll < 0.90:
                self.lock_op(c, path, "UNLOCK")
            else:
                status, h, body = request(c, "GET", path + "/contents", f.token)
                check(status == 200, f"GetFile {status}")
                with m.mu:
                    check(sha(body) == f.sha, f"{f.id}: GetFile returned content that is not the last save")
                    check(int(h["x-wopi-itemversion"]) == f.version, f"{f.id}: GetFile version")

    def lock_op(self, c, path, op):
        f, m = self.f, self.model
        want = None if op == "UNLOCK" else f.lock_id
        with m.mu:
            f.pending_locks.append(want)
        sent = now_ms()
        status, _, _ = request(c, "POST", path, f.token, {"X-WOPI-Override": op, "X-WOPI-Lock": f.lock_id})
        done = now_ms()
        check(status == 200, f"{f.id}: {op} got {status}")
        with m.mu:
            f.pending_locks.clear()
            f.lock = want
            f.lock_window = (sent, done) if want else None

    def put(self, c, path):
        f, m = self.f, self.model
        body = random_body(self.rng)
        digest = sha(body)
        with m.mu:
            f.pending_puts.append(digest)
        status, h, _ = request(
            c, "POST", path + "/contents", f.token, {"X-WOPI-Override": "PUT", "X-WOPI-Lock": f.lock_id}, body
        )
        if status == 503:
            # Refused without committing (a content collected before its version, the 1 s grace
            # being this short): not acknowledged, nothing changed.
            with m.mu:
                f.pending_puts.clear()
                m.refused_saves += 1
            return
        check(status == 200, f"{f.id}: PutFile got {status}")
        v = int(h["x-wopi-itemversion"])
        with m.mu:
            check(v == f.version + 1, f"{f.id}: PutFile acknowledged version {v} after {f.version}")
            f.pending_puts.clear()
            f.version, f.sha, f.content = v, digest, body
            f.acked[v] = digest
            m.acked_saves += 1

    def put_chunked(self, c, path):
        """PutChunkedFile: the sequence number and the host's chunks from GetChunkedFile, then only
        the chunks of the new content the host does not have, with the worker's WOPI lock."""
        f, m, rng = self.f, self.model, self.rng
        with m.mu:
            known = f.content
        _, known_chunks = chunk_content(known)
        ask = json.dumps({"ContentFilters": [{
            "StreamId": "MainContent", "ChunkingScheme": "Zip", "ChunksToReturn": "All",
            "AlreadyKnownChunks": [cid for cid, _ in known_chunks]}], "ContentPropertiesToReturn": []}).encode()
        status, h, resp = request(c, "POST", path, f.token, {"X-WOPI-Override": "GET_CHUNKED_FILE"},
                                  build_frames(ask, []))
        check(status == 200, f"{f.id}: GetChunkedFile got {status}: {h.get('x-wopi-servererror')}")
        seq = int(h["x-wopi-sequencenumber"])
        frames = parse_frames(resp)
        sig = json.loads(frames[0].payload)["Signatures"][0]
        have = [s["ChunkId"] for s in sig["ChunkSignatures"]]
        with m.mu:
            # The worker is this file's only writer: the host holds its last save, cut as it is cut here.
            check(int(h["x-wopi-itemversion"]) == f.version, f"{f.id}: GetChunkedFile version")
            check(have == [cid for cid, _ in known_chunks],
                  f"{f.id}: GetChunkedFile signature is not the chunks of the last save")
        check(not any(fr.type == FRAME_CHUNK for fr in frames), f"{f.id}: GetChunkedFile sent chunks the client knows")

        body = random_body(rng)
        scheme, chunks = chunk_content(body)
        send, seen = [], set(have)
        for cid, data in chunks:
            if cid not in seen:
                seen.add(cid)
                send.append((cid, data))
        msg = json.dumps({"ContentProperties": [], "UploadSessionTokenToCommit": None, "Signatures": [{
            "StreamId": "MainContent", "ChunkingScheme": scheme,
            "ChunkSignatures": [{"ChunkId": cid, "Length": len(data)} for cid, data in chunks]}]}).encode()
        frames = build_frames(msg, send)
        stale = seq > 1 and rng.random() < 0.1
        digest = sha(body)
        if not stale:
            with m.mu:
                f.pending_puts.append(digest)
        status, h, _ = request(
            c, "POST", path + "/contents", f.token,
            {"X-WOPI-Override": "PUT_CHUNKED_FILE", "X-WOPI-Lock": f.lock_id,
             "X-WOPI-SequenceNumber": str(seq - 1 if stale else seq)}, frames)
        if stale:
            # An older sequence number: 412 with the current one, nothing saved.
            check(status == 412, f"{f.id}: PutChunkedFile with a stale sequence number got {status}")
            check(h.get("x-wopi-sequencenumber") == str(seq), f"{f.id}: 412 without the current sequence number")
            with m.mu:
                m.stale_refused += 1
            return
        if status in (503, 409, 412):
            # Not a save: 503 is refused without committing, as for PutFile; 409 (lock) and 412
            # (sequence number) refuse before anything changes.
            with m.mu:
                f.pending_puts.clear()
                if status == 503:
                    m.refused_saves += 1
                else:
                    m.conflicts += 1
            return
        check(status == 200, f"{f.id}: PutChunkedFile got {status}: {h.get('x-wopi-servererror')}")
        v = int(h["x-wopi-itemversion"])
        check(int(h["x-wopi-sequencenumber"]) > seq, f"{f.id}: PutChunkedFile sequence number did not grow")
        with m.mu:
            check(v == f.version + 1, f"{f.id}: PutChunkedFile acknowledged version {v} after {f.version}")
            f.pending_puts.clear()
            f.version, f.sha, f.content = v, digest, body
            f.acked[v] = digest
            m.acked_saves += 1
            m.chunked_saves += 1
            m.chunks_uploaded += len(send)
            m.chunks_reused += len(chunks) - len(send)

    def rename(self, c, path):
        f, m = self.f, self.model
        stem = f"ren-{self.rng.randrange(10**9)}"
        ext = f.name.rsplit(".", 1)[1]
        with m.mu:
            f.pending_names.append(f"{stem}.{ext}")
        status, _, body = request(
            c, "POST", path, f.token,
            {"X-WOPI-Override": "RENAME_FILE", "X-WOPI-Lock": f.lock_id, "X-WOPI-RequestedName": stem},
        )
        check(status == 200, f"{f.id}: RenameFile got {status}")
        name = json.loads(body)["Name"]
        with m.mu:
            f.pending_names.clear()
            f.name = f"{name}.{ext}"

    def put_relative(self, c, path):
        m = self.model
        body = random_body(self.rng)
        digest = sha(body)
        with m.mu:
            m.pending_relative.append(digest)
        status, _, resp = request(
            c, "POST", path, self.f.token,
            {"X-WOPI-Override": "PUT_RELATIVE", "X-WOPI-SuggestedTarget": f"rel-{self.rng.randrange(10**9)}.docx",
             "X-WOPI-Size": str(len(body))},
            body,
        )
        check(status == 200, f"PutRelativeFile got {status}")
        out = json.loads(resp)
        url = urllib.parse.urlsplit(out["Url"])
        fid = url.path.rsplit("/", 1)[1]
        token = urllib.parse.parse_qs(url.query)["access_token"][0]
        with m.mu:
            m.pending_relative.remove(digest)
            check(fid not in m.files, "PutRelativeFile reused a file id")
            m.files[fid] = Tracked(fid, token, out["Name"], digest, 1)
            m.acked_saves += 1
            m.relatives += 1


def blob_path(data, key):
    return os.path.join(data, "blobs", key[:2], key)


CHUNKED = "chunks:"


def content_chunks(db, cid):
    """The MainContent chunks of a content: (sha256, size, blob key) in order, None for a missing row."""
    found = db.execute("SELECT file_id FROM contents WHERE id = ?", (cid,)).fetchall()
    check(found != [], f"content {cid} is referenced but gone")
    refs = db.execute(
        "SELECT cc.sha256, k.size, k.blob_key FROM content_chunks cc LEFT JOIN chunks k ON k.sha256 = cc.sha256 "
        "WHERE cc.content_id = ? AND cc.stream = 'MainContent' ORDER BY cc.seq", (cid,)).fetchall()
    for digest, size, key in refs:
        check(key is not None, f"content {cid}: chunk {digest} was freed while referenced")
    return refs


def read_chunks(data, what, refs, dead):
    out = bytearray()
    for digest, size, key in refs:
        check(key not in dead, f"{what}: chunk blob {key} is listed as dead while referenced")
        p = blob_path(data, key)
        check(os.path.exists(p), f"{what}: chunk blob {key} missing")
        with open(p, "rb") as fh:
            part = fh.read()
        check(len(part) == size and sha(part) == digest, f"{what}: chunk blob {key} does not hold its chunk")
        out += part
    return bytes(out)


def check_offline(model, data, verified, full):
    """With the server dead: the database and every acknowledged save in it."""
    db = sqlite3.connect(os.path.join(data, "wopid.db"), timeout=30)
    try:
        ok = db.execute("PRAGMA integrity_check").fetchall()
        check(ok == [("ok",)], f"integrity_check: {ok}")
        fk = db.execute("PRAGMA foreign_key_check").fetchall()
        check(fk == [], f"foreign_key_check: {fk}")
        rows = db.execute("SELECT file_id, version, blob_key, size, sha256 FROM versions").fetchall()
        files = {r[0]: r[1:] for r in db.execute("SELECT id, version, sha256, blob_key, size, name, lock_id, lock_expires_ms FROM files")}
        contents = {}
        for key in {r[2] for r in rows} | {r[2] for r in files.values()}:
            if key.startswith(CHUNKED):
                contents[key] = content_chunks(db, key[len(CHUNKED):])
        dead = {r[0] for r in db.execute("SELECT blob_key FROM dead_blobs")}
    finally:
        db.close()
    history = {}
    for fid, v, key, size, digest in rows:
        history.setdefault(fid, {})[v] = digest
        if key in verified and not full:
            continue
        if key.startswith(CHUNKED):
            content = read_chunks(data, f"{fid} v{v}", contents[key], dead)
            with model.mu:
                model.chunk_blobs.update(k for _, _, k in contents[key])
        else:
            p = blob_path(data, key)
            check(os.path.exists(p), f"{fid} v{v}: blob {key} missing")
            with open(p, "rb") as fh:
                content = fh.read()
        check(len(content) == size, f"{fid} v{v}: blob has {len(content)} bytes, record says {size}")
        check(sha(content) == digest, f"{fid} v{v}: blob bytes do not hash to the recorded SHA-256")
        verified.add(key)
    for fid, (v, digest, key, size, name, lock_id, lock_exp) in files.items():
        versions = history.get(fid, {})
        # Consecutive autosaves of one lock session share one history entry (the newest), so the
        # history may skip numbers; it never goes past the current version and always holds it.
        check(v in versions and max(versions) == v and min(versions) == 1,
              f"{fid}: version history {sorted(versions)} but current {v}")
        check(versions[v] == digest, f"{fid}: current SHA-256 is not the newest version's")
    with model.mu:
        for f in model.files.values():
            check(f.id in files, f"{f.id}: acknowledged file is gone")
            newest = max(history[f.id])
            for v, digest in f.acked.items():
                kept = history[f.id].get(v)
                # An acknowledged save is in the history as written, or was an autosave replaced
                # by a later save of the same session.
                check(kept == digest or (kept is None and v < newest),
                      f"{f.id}: acknowledged version {v} lost or changed")
            if f.lock and not f.pending_locks and f.lock_window:
                lo, hi = f.lock_window
                exp = files[f.id][6]
                check(files[f.id][5] == f.lock, f"{f.id}: acknowledged lock {f.lock} not stored")
                check(lo + LOCK_TTL_MS - 1000 <= exp <= hi + LOCK_TTL_MS + 1000,
                      f"{f.id}: lock expiry {exp} not 30 minutes after the acknowledged lock")
    return files


def expire_a_lock(model, data, rng):
    """As if the clock jumped past a lock's expiry while the server was down."""
    with model.mu:
        held = [f for f in model.files.values() if f.lock and not f.pending_locks]
    if not held:
        return None
    f = rng.choice(held)
    db = sqlite3.connect(os.path.join(data, "wopid.db"), timeout=30)
    try:
        db.execute("UPDATE files SET lock_expires_ms = ? WHERE id = ?", (now_ms() - 1000, f.id))
        db.commit()
    finally:
        db.close()
    return f


def check_online(model, port, db_files, expired):
    """After the restart: what clients see, and resolve what was in flight."""
    c = conn(port)
    with model.mu:
        known = set(model.files)
        for fid, row in db_files.items():
            if fid in known:
                continue
            if fid in model.orphans:
                check(row[0] == 1 and row[1] == model.orphans[fid], f"{fid}: a file nobody writes changed")
                continue
            # A PutRelativeFile that got no answer may have committed: it must hold exactly what was sent.
            check(row[1] in model.pending_relative, f"{fid}: unknown file whose content no request sent")
            check(row[0] == 1, f"{fid}: a file created by PutRelativeFile is at version {row[0]}")
            model.pending_relative.remove(row[1])
            model.orphans[fid] = row[1]
        model.pending_relative.clear()
        for f in model.files.values():
            path = f"/wopi/files/{f.id}"
            status, h, body = request(c, "GET", path + "/contents", f.token)
            check(status == 200, f"{f.id}: GetFile after restart {status}")
            got, v = sha(body), int(h["x-wopi-itemversion"])
            # Bodies of 0 or 1 byte can repeat, so the same content at the next version is an
            # in-flight save that landed, not the last acknowledged one.
            if got == f.sha and v == f.version:
                pass
            elif got == f.sha and not (got in f.pending_puts and v == f.version + 1):
                check(False, f"{f.id}: last save's content with version {v}, expected {f.version}")
            else:
                check(got in f.pending_puts, f"{f.id}: content after restart is neither the last save nor one in flight")
                check(v == f.version + 1, f"{f.id}: in-flight save landed as version {v} after {f.version}")
                f.sha, f.version = got, v
                f.acked[v] = got  # it is durable now: later cycles must keep it
                model.landed_in_flight += 1
            f.pending_puts.clear()
            f.content = body
            status, _, info = request(c, "GET", path, f.token)
            check(status == 200, f"{f.id}: CheckFileInfo {status}")
            info = json.loads(info)
            check(info["Version"] == str(f.version), f"{f.id}: CheckFileInfo Version {info['Version']}")
            check(info["Size"] == len(body), f"{f.id}: CheckFileInfo Size {info['Size']} != {len(body)}")
            check(base64.b64decode(info["SHA256"]).hex() == got, f"{f.id}: CheckFileInfo SHA256 is not the content's")
            name = info["BaseFileName"]
            check(name == f.name or name in f.pending_names, f"{f.id}: name {name!r} after restart")
            f.name = name
            f.pending_names.clear()
            status, h, _ = request(c, "POST", path, f.token, {"X-WOPI-Override": "GET_LOCK"})
            check(status == 200, f"{f.id}: GetLock {status}")
            lock = h.get("x-wopi-lock", "") or None
            if f is expired:
                check(lock is None, f"{f.id}: lock {lock} still held after its expiry passed")
                f.lock = None
            else:
                allowed = [f.lock] + f.pending_locks
                check(lock in allowed, f"{f.id}: lock after restart is {lock!r}, expected one of {allowed}")
                if lock != f.lock:
                    f.lock_window = None  # set by an unanswered request: expiry unknown
                f.lock = lock
            f.pending_locks.clear()
    if expired is not None:
        # The expired lock is free for anyone: another lock id takes it, then gives it back.
        path = f"/wopi/files/{expired.id}"
        status, _, _ = request(c, "POST", path, expired.token, {"X-WOPI-Override": "LOCK", "X-WOPI-Lock": "someone-else"})
        check(status == 200, f"{expired.id}: expired lock not free, LOCK got {status}")
        status, _, _ = request(c, "POST", path, expired.token, {"X-WOPI-Override": "UNLOCK", "X-WOPI-Lock": "someone-else"})
        check(status == 200, f"{expired.id}: UNLOCK got {status}")
    c.close()


def count_chunks(data):
    db = sqlite3.connect(os.path.join(data, "wopid.db"), timeout=30)
    try:
        return db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    finally:
        db.close()


def setup(binary, data):
    model = Model()
    for i in range(WORKERS):
        out = subprocess.run([binary, "files", "add", "--data", data, "--name", f"doc{i}.docx", "--user", "crash"],
                             check=True, capture_output=True, text=True)
        fid = out.stdout.strip()
        out = subprocess.run([binary, "token", "issue", "--data", data, "--file", fid, "--user", "crash", "--ttl", "1000h"],
                             check=True, capture_output=True, text=True)
        token = json.loads(out.stdout)["access_token"]
        f = Tracked(fid, token, f"doc{i}.docx", sha(b""), 1)
        f.lock_id = f"crash-lock-{i}"
        model.files[fid] = f
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", nargs="?", default=None)
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--long", action="store_true", help="1000 kills")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the data folder")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    binary = args.binary or os.path.join(target, "release", "wopid")
    kills = 1000 if args.long else args.kills
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="wopid-crash-")
    data = os.path.join(work, "data")
    log = os.path.join(work, "serve.log")
    print(f"crash test: {kills} kills, seed {seed}, data {data}", flush=True)
    server = Server(binary, data, log)
    started = time.monotonic()
    try:
        model = setup(binary, data)
        verified = set()
        killed_in_flight = 0
        for cycle in range(1, kills + 1):
            server.start()
            stop = threading.Event()
            workers = []
            with model.mu:
                mine = [f for f in model.files.values() if f.lock_id]
            for f in mine:
                w = Worker(model, f, server.port, random.Random(rng.random()), stop)
                w.start()
                workers.append(w)
            time.sleep(rng.uniform(0.01, 0.4))
            server.kill()
            stop.set()
            for w in workers:
                w.join(timeout=HTTP_TIMEOUT + 5)
                check(not w.is_alive(), "a worker did not stop")
                if w.error:
                    raise w.error
            with model.mu:
                killed_in_flight += sum(1 for f in model.files.values() if f.pending_puts)
            db_files = check_offline(model, data, verified, full=False)
            expired = expire_a_lock(model, data, rng) if cycle % 5 == 0 else None
            server.start()
            check_online(model, server.port, db_files, expired)
            server.kill()
            if cycle % 10 == 0 or cycle == kills:
                print(f"  {cycle} kills, {model.acked_saves} acknowledged saves, {killed_in_flight} saves in flight at a kill"
                      f" ({model.landed_in_flight} of them landed), {model.refused_saves} refused (503),"
                      f" {model.relatives} relative files, {time.monotonic() - started:.0f}s", flush=True)
        check_offline(model, data, verified, full=True)
        chunked = count_chunks(data)
        check(chunked > 0, "no save was stored as chunks")
        freed = sum(1 for k in model.chunk_blobs if not os.path.exists(blob_path(data, k)))
        check(freed > 0, "the chunk collector freed nothing: it was not exercised")
        print(f"  {chunked} chunks stored at the end, {freed} freed by the collector meanwhile")
        check(model.chunked_saves > 0, "no PutChunkedFile was acknowledged")
        print(f"  {model.chunked_saves} acknowledged PutChunkedFiles sent {model.chunks_uploaded} chunks and reused"
              f" {model.chunks_reused} the host had; {model.stale_refused} with a stale sequence number got 412,"
              f" {model.conflicts} other 409/412")
        print(f"crash test passed: {kills} kills, {model.acked_saves} acknowledged saves"
              f" ({model.chunked_saves} of them PutChunkedFile), 0 lost, integrity_check ok after every kill")
        print("crash: 1 passed, 0 failed")
    except Failure as e:
        print(f"crash test FAILED (seed {seed}): {e}", file=sys.stderr)
        print(f"data kept in {work}", file=sys.stderr)
        args.keep = True
        return 1
    finally:
        server.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
