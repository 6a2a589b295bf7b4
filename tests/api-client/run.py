#!/usr/bin/env python3
"""The management API through a client generated from its own OpenAPI document.

Starts `wopid serve` on a temporary data folder, with an editor (the Office discovery fixture,
proof keys off) and an API key made by `wopid api-keys add`; validates /api/v1/openapi.json with
openapi-spec-validator; generates a Python client with openapi-python-client into a temporary
folder and installs it; then, through that client: creates a user, uploads a file, shares it with
a second user, opens it for editing in an application's page, and makes the WOPI calls an editor
makes with the returned token (CheckFileInfo with the application's PostMessageOrigin, Lock,
PutFile) with requests; a revoked key is refused afterwards.

A webhook receiver started by the test (http.server on 127.0.0.1:0, in a thread) is configured in
wopid.toml with a secret_file and one-second retries. It gets every event of that flow, each
signed (HMAC-SHA256 over "<timestamp>.<body>", checked with hmac.compare_digest; a wrong secret
does not verify), exactly the events that happened, in order, naming the right file, user and
actor. Then it refuses (503) while the flow unlocks, renames, changes and removes the share and
deletes the file; once each of those deliveries was refused, wopid is stopped (SIGTERM) and
started again on the same data and configuration, the receiver accepts again, and every pending
event arrives, under the delivery id of its refused attempts, with the same body, signed.

Structure: `Wopid` runs the server; `SERVICES` lists what else a run starts beside it (each a
context manager given the run's context, with `work`, yielding its configuration lines: top-level
settings first, then its tables), and `CHECKS` the checks run in order against the generated
client.

usage: tests/api-client/run.py [path/to/wopid]
       (needs: pip install openapi-spec-validator openapi-python-client requests)
"""

import contextlib
import hashlib
import hmac
import http.server
import importlib
import io
import json
import pathlib
import secrets
import subprocess
import sys
import tempfile
import threading
import time

import requests
from openapi_spec_validator import validate

ROOT = pathlib.Path(__file__).resolve().parents[2]
ORIGIN = "https://app.example"
DISCOVERY = ROOT / "crates/wopid-proto/tests/fixtures/discovery/office.xml"
PACKAGE = "wopid_api_client"
# The longest any wait of this test lasts (polled, never slept through).
DEADLINE = 30.0


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")
    print(f"ok: {what}")


def wait_for(cond, what, timeout=DEADLINE):
    """Polls `cond` until it is true, for at most `timeout` seconds."""
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            check(False, f"{what} (waited {timeout:.0f} s)")
        time.sleep(0.05)
    check(True, what)


class Wopid:
    """`wopid serve` on a temporary data folder with `config` (TOML lines); `stop` and `start`
    restart it on the same data and configuration (on another port: `base` changes)."""

    def __init__(self, binary, work, config_lines):
        self.binary, self.work = binary, pathlib.Path(work)
        self.config = self.work / "wopid.toml"
        self.config.write_text(
            "\n".join([f'data = "{self.work / "data"}"', *config_lines]) + "\n"
        )
        self.base, self.server, self.starts = None, None, 0

    def cli(self, *args):
        out = subprocess.run(
            [self.binary, *args, "--config", str(self.config)],
            text=True, check=True, capture_output=True,
        )
        return out.stdout

    def start(self):
        self.starts += 1
        self.base = None
        out = open(self.work / f"serve-{self.starts}.out", "w+")
        self.server = subprocess.Popen(
            [self.binary, "serve", "--listen", "127.0.0.1:0", "--config", str(self.config)],
            stdout=out, stderr=open(self.work / f"serve-{self.starts}.log", "w"), text=True,
        )
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            out.seek(0)
            for line in out:
                if line.startswith("listening on "):
                    self.base = line.split(" ", 2)[2].strip()
            if self.base or self.server.poll() is not None:
                break
            time.sleep(0.05)
        if self.base is None:
            self.stop()
        check(self.base is not None, "wopid started" + (" again" if self.starts > 1 else ""))
        return self

    def stop(self):
        """SIGTERM, then waits for the exit; returns the exit code."""
        if self.server is None:
            return None
        self.server.terminate()
        try:
            code = self.server.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.server.kill()
            code = self.server.wait(timeout=DEADLINE)
        self.server = None
        return code

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@contextlib.contextmanager
def office_editor(ctx):
    """An editor whose discovery document is the Office fixture; no proof keys (requests signs
    nothing)."""
    yield [
        "[[editors]]",
        'name = "office"',
        f'discovery = "{DISCOVERY}"',
        'proof = "off"',
    ]


def signed(secret, attempt):
    """Whether `attempt` carries the signature of its timestamp and body under `secret`."""
    mac = hmac.new(secret, attempt["timestamp"].encode() + b"." + attempt["body"], hashlib.sha256)
    return hmac.compare_digest("sha256=" + mac.hexdigest(), attempt["signature"])


class HookReceiver:
    """A webhook receiver on 127.0.0.1:0, served from a thread: it records every attempt (its
    headers, raw body and the status it was answered) and answers `status` (200, or 503 to
    refuse and keep the delivery pending)."""

    PATH = "/wopid-events"

    def __init__(self, secret):
        self.secret = secret
        self.status = 200
        self.attempts = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    status = receiver.status
                    receiver.attempts.append({
                        "path": self.path,
                        "content_type": self.headers.get("Content-Type"),
                        "event": self.headers.get("X-Wopid-Event"),
                        "delivery": self.headers.get("X-Wopid-Delivery"),
                        "timestamp": self.headers.get("X-Wopid-Timestamp", ""),
                        "signature": self.headers.get("X-Wopid-Signature", ""),
                        "body": body,
                        "status": status,
                        "received": time.time(),
                    })
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}{self.PATH}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=DEADLINE)

    def answer(self, status):
        with self.lock:
            self.status = status

    def seen(self, since=0):
        """The attempts received so far (from the `since`-th on)."""
        with self.lock:
            return list(self.attempts[since:])

    def delivered(self, since=0):
        """The accepted deliveries from the `since`-th attempt on, one per delivery id (delivery
        is at least once), in the order of their first accepted attempt, bodies parsed."""
        out, ids = [], set()
        for a in self.seen(since):
            if a["status"] == 200 and a["delivery"] not in ids:
                ids.add(a["delivery"])
                out.append({**a, "payload": json.loads(a["body"])})
        return out


@contextlib.contextmanager
def webhook_receiver(ctx):
    """The receiver of every event, with its key in a secret_file, retried after 1 s then 2 s."""
    secret = secrets.token_hex(32)
    secret_file = pathlib.Path(ctx["work"]) / "webhook-secret"
    secret_file.write_text(secret + "\n")
    with HookReceiver(secret.encode()) as receiver:
        ctx["hooks"] = receiver
        yield [
            'webhook_timeout = "5s"',
            'webhook_retry_initial = "1s"',
            'webhook_retry_max = "2s"',
            "[[webhooks]]",
            f'url = "{receiver.url}"',
            f'secret_file = "{secret_file}"',
        ]


# What a run starts beside wopid, each given the run's context and yielding configuration lines.
SERVICES = [office_editor, webhook_receiver]


def generate_client(spec_path, work):
    """Generates the client with openapi-python-client and installs it with pip."""
    cfg = pathlib.Path(work) / "generator.json"
    cfg.write_text(json.dumps({
        "project_name_override": "wopid-api-client",
        "package_name_override": PACKAGE,
        # No formatting of the generated code (ruff): nothing here reads its style.
        "post_hooks": [],
    }))
    out = pathlib.Path(work) / "client"
    # The generator installed beside this interpreter (a venv's bin/), else the one on PATH.
    beside = pathlib.Path(sys.executable).parent / "openapi-python-client"
    generator = str(beside) if beside.exists() else "openapi-python-client"
    subprocess.run(
        [generator, "generate", "--path", str(spec_path), "--output-path", str(out),
         "--meta", "setup", "--config", str(cfg), "--fail-on-warning"],
        check=True,
    )
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", str(out)], check=True)
    importlib.invalidate_caches()
    check(importlib.import_module(PACKAGE) is not None, "generated client installed")


def op(tag, name):
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")


def model(name):
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


def spec_is_valid(ctx):
    r = requests.get(f"{ctx['base']}/api/v1/openapi.json", timeout=30)
    check(r.status_code == 200, "openapi.json served")
    spec = r.json()
    validate(spec)
    check(spec["openapi"].startswith("3.1"), f"OpenAPI {spec['openapi']} document is valid")
    path = pathlib.Path(ctx["work"]) / "openapi.json"
    path.write_text(json.dumps(spec))
    generate_client(path, ctx["work"])
    client_mod = importlib.import_module(PACKAGE)
    ctx["client"] = client_mod.AuthenticatedClient(base_url=ctx["base"], token=ctx["key"])


def users_files_shares_open(ctx):
    client = ctx["client"]
    NewUserIn = model("NewUserIn")
    r = op("users", "create_user").sync_detailed(
        client=client, body=NewUserIn(login="ann", password="ann-password"))
    check(r.status_code == 201, f"user created ({r.status_code})")
    ann = r.parsed
    bob = op("users", "create_user").sync_detailed(client=client, body=NewUserIn(login="bob")).parsed
    check(ann.admin and not bob.admin, "the first user is an administrator")
    root = op("users", "user_root").sync_detailed(ann.id, client=client).parsed

    File = importlib.import_module(f"{PACKAGE}.types").File
    content = bytes(range(256)) * 4096 * 20  # 20 MiB, streamed by the generated client
    r = op("files", "create_file").sync_detailed(
        root.id, client=client, name="report.docx",
        body=File(payload=io.BytesIO(content), file_name="report.docx",
                  mime_type="application/octet-stream"))
    check(r.status_code == 201 and r.parsed.size == len(content), f"file uploaded ({r.status_code})")
    file_id = r.parsed.id
    ctx.update(ann=ann.id, bob=bob.id, root=root.id, file_id=file_id, content=content)

    page = op("files", "list_children").sync_detailed(root.id, client=client, limit=10).parsed
    check([c.name for c in page.items] == ["report.docx"], "listed in its folder")

    r = op("shares", "put_share").sync_detailed(
        file_id, bob.id, client=client, body=model("ShareIn")(can_write=True))
    check(r.status_code == 200 and r.parsed.can_write, "shared with bob for editing")
    shares = op("shares", "list_shares").sync_detailed(file_id, client=client).parsed
    check([s.user_id for s in shares.items] == [bob.id], "the file's shares")

    OpenIn, OpenAction = model("OpenIn"), model("OpenAction")
    r = op("embedding", "open_file").sync_detailed(file_id, client=client, body=OpenIn(
        user_id=bob.id, action=OpenAction.EDIT, origin=ORIGIN,
        close_url="https://app.example/docs"))
    check(r.status_code == 200, f"opened for editing ({r.status_code})")
    opened = r.parsed
    ctx["opened"] = opened
    check(not opened.read_only and opened.action == "edit", "an edit action, read-write")
    check(opened.action_url.startswith("https://office.example.com/we/"), "the editor's action URL")

    # What the editor does with the token, over plain HTTP.
    url = f"{opened.wopi_src}?access_token={opened.access_token}"
    info = requests.get(url, timeout=30).json()
    check(info["PostMessageOrigin"] == ORIGIN, "CheckFileInfo answers the application's origin")
    check(info["CloseUrl"] == "https://app.example/docs", "and its close URL")
    check(info["UserCanWrite"] is True and info["Size"] == len(content), "bob may write")
    r = requests.post(url, headers={"X-WOPI-Override": "LOCK", "X-WOPI-Lock": "L1"}, timeout=30)
    check(r.status_code == 200, f"Lock ({r.status_code})")
    r = requests.post(f"{opened.wopi_src}/contents?access_token={opened.access_token}",
                      headers={"X-WOPI-Override": "PUT", "X-WOPI-Lock": "L1"},
                      data=b"saved by the editor", timeout=30)
    check(r.status_code == 200, f"PutFile ({r.status_code})")
    versions = op("files", "list_versions").sync_detailed(file_id, client=client).parsed
    check(len(versions.items) == 2 and versions.items[1].author_id == bob.id,
          "PutFile made a version by bob")
    r = op("files", "download").sync_detailed(file_id, client=client)
    check(r.content == b"saved by the editor", "downloaded through the client")


def check_delivery(ctx, d, kind, actor, file_id=None):
    """One delivered event: signed, its headers and body agreeing, of `kind`, by `actor`, about
    `file_id` (when given)."""
    hooks, p = ctx["hooks"], d["payload"]
    what = f"{kind} by {'ann' if actor == ctx['ann'] else 'bob'}"
    check(d["path"] == HookReceiver.PATH and d["content_type"] == "application/json"
          and d["event"] == p["type"] == kind, f"{what}: delivered as {kind}")
    check(signed(hooks.secret, d) and not signed(b"not-the-" + hooks.secret, d)
          and abs(time.time() - int(d["timestamp"])) <= 300,
          f"{what}: signed (and not under another secret)")
    check(p["actor"] == {"id": actor}, f"{what}: its actor")
    if file_id is not None:
        check(p["file"]["id"] == file_id and p["file"]["owner"] == ctx["ann"],
              f"{what}: the file {file_id}, owned by ann")


def check_share(ctx, d, can_write):
    share = {"user": {"id": ctx["bob"]}}
    if can_write is not None:
        share["can_write"] = can_write
    check(d["payload"]["share"] == share, f"{d['event']}: the share with bob {share}")


def webhooks_tell_the_flow(ctx):
    """The receiver got each event of the flow once, in order, signed, about the right file."""
    hooks, file_id, ann, bob = ctx["hooks"], ctx["file_id"], ctx["ann"], ctx["bob"]
    expected = ["file.created", "share.created", "file.locked", "file.saved"]
    # One delivery at a time in queuing order, every one accepted: once the last event is in,
    # so is everything queued before it.
    wait_for(lambda: len(hooks.delivered()) >= len(expected), "the flow's events delivered")
    got = hooks.delivered()
    check([d["event"] for d in got] == expected, f"exactly the flow's events, in order: {expected}")
    check(all(a["status"] == 200 for a in hooks.seen()), "every attempt was accepted")
    check(len({d["payload"]["id"] for d in got}) == len(got), "one event id each")
    created, shared, locked, saved = got
    check_delivery(ctx, created, "file.created", ann, file_id)
    check(created["payload"]["file"]["sha256"] == hashlib.sha256(ctx["content"]).hexdigest()
          and created["payload"]["file"]["size"] == len(ctx["content"])
          and created["payload"]["file"]["name"] == "report.docx"
          and created["payload"]["file"]["parent"] == ctx["root"],
          "file.created: the uploaded content, name and folder")
    check_delivery(ctx, shared, "share.created", ann, file_id)
    check_share(ctx, shared, True)
    check_delivery(ctx, locked, "file.locked", bob, file_id)
    check_delivery(ctx, saved, "file.saved", bob, file_id)
    check(saved["payload"]["file"]["sha256"] == hashlib.sha256(b"saved by the editor").hexdigest()
          and saved["payload"]["file"]["version"] > created["payload"]["file"]["version"],
          "file.saved: the editor's content, a newer version")
    times = [d["payload"]["occurred_at"] for d in got]
    check(times == sorted(times), "occurred_at in the order of the flow")
    ctx["delivered_before_restart"] = got


def webhooks_survive_a_restart(ctx):
    """Events refused by the receiver stay pending across a restart of wopid, and arrive after
    it: the same deliveries, exactly once each after dropping repeats, signed."""
    hooks, wopid, file_id = ctx["hooks"], ctx["wopid"], ctx["file_id"]
    ann, bob, client, opened = ctx["ann"], ctx["bob"], ctx["client"], ctx["opened"]
    mark = len(hooks.seen())
    hooks.answer(503)

    # The rest of the flow, while the receiver refuses: the editor unlocks, the application
    # renames the file, makes bob's share read-only, removes it and deletes the file.
    r = requests.post(f"{opened.wopi_src}?access_token={opened.access_token}",
                      headers={"X-WOPI-Override": "UNLOCK", "X-WOPI-Lock": "L1"}, timeout=30)
    check(r.status_code == 200, f"Unlock ({r.status_code})")
    r = op("files", "update_file").sync_detailed(
        file_id, client=client, body=model("FilePatch")(name="final.docx"))
    check(r.status_code == 200 and r.parsed.name == "final.docx", f"renamed ({r.status_code})")
    r = op("shares", "put_share").sync_detailed(
        file_id, bob, client=client, body=model("ShareIn")(can_write=False))
    check(r.status_code == 200 and not r.parsed.can_write,
          f"share made read-only ({r.status_code})")
    r = op("shares", "delete_share").sync_detailed(file_id, bob, client=client)
    check(r.status_code == 204, f"share removed ({r.status_code})")
    r = op("files", "delete_file").sync_detailed(file_id, client=client)
    check(r.status_code == 204, f"file deleted ({r.status_code})")
    expected = ["file.unlocked", "file.renamed", "share.changed", "share.removed", "file.deleted"]

    def refused():
        first = {}
        for a in hooks.seen(mark):
            first.setdefault(a["delivery"], a)
        return list(first.values())

    wait_for(lambda: len(refused()) >= len(expected), "each pending delivery refused once (503)")
    pending = refused()
    check([a["event"] for a in pending] == expected, f"the refused events, in order: {expected}")
    check(all(a["status"] == 503 and signed(hooks.secret, a) for a in hooks.seen(mark)),
          "every refused attempt was signed")

    # The API calls have returned, so every delivery is queued: stop wopid mid-delivery, then
    # accept again and start it on the same data and configuration.
    code = wopid.stop()
    check(code == 0, f"wopid stopped on SIGTERM (exit {code})")
    hooks.answer(200)
    stopped = len(hooks.seen())
    wopid.start()
    ctx["base"] = wopid.base
    client = ctx["client"] = importlib.import_module(PACKAGE).AuthenticatedClient(
        base_url=wopid.base, token=ctx["key"])

    ids = {a["delivery"] for a in pending}
    wait_for(lambda: ids <= {d["delivery"] for d in hooks.delivered(stopped)},
             "every pending event delivered after the restart")
    after = hooks.delivered(stopped)
    check({d["delivery"] for d in after} == ids,
          "the same delivery ids as the refused attempts, and nothing else")
    check(all(a["status"] == 200 for a in hooks.seen(stopped)), "accepted after the restart")
    bodies = {a["delivery"]: a["body"] for a in pending}
    check(all(d["body"] == bodies[d["delivery"]] for d in after),
          "each with the body of its refused attempts")
    # Retries may come in another order: receivers order events by occurred_at.
    after.sort(key=lambda d: d["payload"]["occurred_at"])
    check([d["event"] for d in after] == expected, "in occurred_at order, the refused events")
    unlocked, renamed, changed, removed, deleted = after
    check_delivery(ctx, unlocked, "file.unlocked", bob, file_id)
    check_delivery(ctx, renamed, "file.renamed", ann, file_id)
    check(renamed["payload"]["previous_name"] == "report.docx"
          and renamed["payload"]["file"]["name"] == "final.docx", "file.renamed: old and new name")
    check_delivery(ctx, changed, "share.changed", ann, file_id)
    check_share(ctx, changed, False)
    check_delivery(ctx, removed, "share.removed", ann, file_id)
    check_share(ctx, removed, None)
    check_delivery(ctx, deleted, "file.deleted", ann, file_id)
    check(deleted["payload"]["file"]["name"] == "final.docx", "file.deleted: the file as it was")

    # The restarted server tells new events too, and nothing else was ever delivered.
    r = op("files", "create_folder").sync_detailed(
        ctx["root"], client=client, body=model("NewFolderIn")(name="Minutes"))
    check(r.status_code == 201, f"folder created after the restart ({r.status_code})")
    folder = r.parsed.id
    wait_for(lambda: any(d["event"] == "container.created" for d in hooks.delivered(stopped)),
             "container.created delivered")
    made = [d for d in hooks.delivered(stopped) if d["event"] == "container.created"]
    check(len(made) == 1 and made[0]["payload"]["container"]["id"] == folder
          and made[0]["payload"]["actor"] == {"id": ann} and signed(hooks.secret, made[0]),
          "container.created: the new folder, by ann, signed")
    check(len(hooks.delivered()) == len(ctx["delivered_before_restart"]) + len(expected) + 1
          and len(hooks.delivered(stopped)) == len(expected) + 1,
          "no delivery but these, over the whole run")
    dupes = sum(a["status"] == 200 for a in hooks.seen()) - len(hooks.delivered())
    print(f"   ({len(hooks.seen())} attempts, {len(hooks.delivered())} deliveries, "
          f"{dupes} repeated after dedupe)")


def revoked_key_is_refused(ctx):
    # A second key, revoked on the command line, is refused at its next request.
    made = json.loads(ctx["wopid"].cli("api-keys", "add", "short-lived"))
    client = importlib.import_module(PACKAGE).AuthenticatedClient(
        base_url=ctx["base"], token=made["key"])
    r = op("users", "list_users").sync_detailed(client=client)
    check(r.status_code == 200, "a fresh key works")
    ctx["wopid"].cli("api-keys", "revoke", made["id"])
    r = op("users", "list_users").sync_detailed(client=client)
    problem = json.loads(r.content)
    check(r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
          and problem["status"] == 401, "a revoked key gets a 401 problem")


# The checks, in order; each takes the run's context (base, key, work, wopid, client…).
CHECKS = [spec_is_valid, users_files_shares_open, webhooks_tell_the_flow,
          revoked_key_is_refused, webhooks_survive_a_restart]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target/release/wopid")
    with tempfile.TemporaryDirectory() as work, contextlib.ExitStack() as stack:
        ctx = {"work": work}
        # TOML: the services' top-level settings before every table.
        settings, tables = [], []
        for service in SERVICES:
            lines = stack.enter_context(service(ctx))
            first = next((i for i, line in enumerate(lines) if line.startswith("[")), len(lines))
            settings += lines[:first]
            tables += lines[first:]
        wopid = Wopid(binary, work, settings + tables)
        made = json.loads(wopid.cli("api-keys", "add", "api-client test", "--scope", "admin",
                                    "--origin", ORIGIN))
        stack.enter_context(wopid)
        ctx.update(base=wopid.base, key=made["key"], wopid=wopid)
        try:
            for run in CHECKS:
                print(f"== {run.__name__}")
                run(ctx)
        except SystemExit:
            for n in range(1, wopid.starts + 1):
                log = pathlib.Path(work) / f"serve-{n}.log"
                print(f"-- the end of wopid's log, start {n}:", file=sys.stderr)
                print(log.read_text()[-3000:], file=sys.stderr)
            raise
    print("all API client checks passed")


if __name__ == "__main__":
    main()
