#!/usr/bin/env python3
"""The management API through a client generated from its own OpenAPI document.

Starts `wopid serve` on a temporary data folder, with an editor (the Office discovery fixture,
proof keys off) and an API key made by `wopid api-keys add`; validates /api/v1/openapi.json with
openapi-spec-validator; generates a Python client with openapi-python-client into a temporary
folder and installs it; then, through that client: creates a user, uploads a file, shares it with
a second user, opens it for editing in an application's page, and makes the WOPI calls an editor
makes with the returned token (CheckFileInfo with the application's PostMessageOrigin, Lock,
PutFile) with requests; a revoked key is refused afterwards.

Structure: `Wopid` runs the server; `SERVICES` lists what else a run starts beside it (each a
context manager given the work folder, adding its configuration lines), and `CHECKS` the checks
run in order against the generated client; a later receiver (say, of webhooks) is one more entry
in each.

usage: tests/api-client/run.py [path/to/wopid]
       (needs: pip install openapi-spec-validator openapi-python-client requests)
"""

import contextlib
import importlib
import io
import json
import pathlib
import subprocess
import sys
import tempfile
import time

import requests
from openapi_spec_validator import validate

ROOT = pathlib.Path(__file__).resolve().parents[2]
ORIGIN = "https://app.example"
DISCOVERY = ROOT / "crates/wopid-proto/tests/fixtures/discovery/office.xml"
PACKAGE = "wopid_api_client"


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")
    print(f"ok: {what}")


class Wopid:
    """`wopid serve` on a temporary data folder with `config` (TOML lines)."""

    def __init__(self, binary, work, config_lines):
        self.binary, self.work = binary, pathlib.Path(work)
        self.config = self.work / "wopid.toml"
        self.config.write_text(
            "\n".join([f'data = "{self.work / "data"}"', *config_lines]) + "\n"
        )
        self.base, self.server = None, None

    def cli(self, *args):
        out = subprocess.run(
            [self.binary, *args, "--config", str(self.config)],
            text=True, check=True, capture_output=True,
        )
        return out.stdout

    def __enter__(self):
        log = open(self.work / "serve.out", "w+")
        self.server = subprocess.Popen(
            [self.binary, "serve", "--listen", "127.0.0.1:0", "--config", str(self.config)],
            stdout=log, stderr=subprocess.DEVNULL, text=True,
        )
        for _ in range(400):
            log.seek(0)
            for line in log:
                if line.startswith("listening on "):
                    self.base = line.split(" ", 2)[2].strip()
            if self.base or self.server.poll() is not None:
                break
            time.sleep(0.05)
        check(self.base is not None, "wopid started")
        return self

    def __exit__(self, *exc):
        self.server.terminate()
        self.server.wait(timeout=30)


@contextlib.contextmanager
def office_editor(work):
    """An editor whose discovery document is the Office fixture; no proof keys (requests signs
    nothing)."""
    yield [
        "[[editors]]",
        'name = "office"',
        f'discovery = "{DISCOVERY}"',
        'proof = "off"',
    ]


# What a run starts beside wopid, each given the work folder and yielding configuration lines.
SERVICES = [office_editor]


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
    content = bytes(range(256)) * 4096  # 1 MiB
    r = op("files", "create_file").sync_detailed(
        root.id, client=client, name="report.docx",
        body=File(payload=io.BytesIO(content), file_name="report.docx",
                  mime_type="application/octet-stream"))
    check(r.status_code == 201 and r.parsed.size == len(content), f"file uploaded ({r.status_code})")
    file_id = r.parsed.id

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
CHECKS = [spec_is_valid, users_files_shares_open, revoked_key_is_refused]


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target/release/wopid")
    with tempfile.TemporaryDirectory() as work, contextlib.ExitStack() as stack:
        lines = []
        for service in SERVICES:
            lines += stack.enter_context(service(work))
        wopid = Wopid(binary, work, lines)
        made = json.loads(wopid.cli("api-keys", "add", "api-client test", "--scope", "admin",
                                    "--origin", ORIGIN))
        stack.enter_context(wopid)
        ctx = {"base": wopid.base, "key": made["key"], "work": work, "wopid": wopid}
        for run in CHECKS:
            print(f"== {run.__name__}")
            run(ctx)
    print("all API client checks passed")


if __name__ == "__main__":
    main()
