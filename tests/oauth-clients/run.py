#!/usr/bin/env python3
"""The bootstrapper's OAuth 2.0 flow driven by two real client libraries, with their defaults.

Starts `wopid serve` on a temporary data folder with one user and one registered (public) client,
then for authlib and for requests-oauthlib: the authorization request with PKCE S256, the sign-in
form posted as a browser would (the redirect to the loopback redirect URI is read, not followed),
the code exchanged for tokens, /wopibootstrapper called with the access token, the refresh token
rotated, and the old refresh token refused when presented again.

usage: tests/oauth-clients/run.py [path/to/wopid]   (needs: pip install authlib requests-oauthlib)
"""

import html.parser
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import urllib.parse

import requests

# Loopback over plain HTTP: both libraries refuse it unless told this is on purpose.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"

from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session as AuthlibSession  # noqa: E402
from requests_oauthlib import OAuth2Session as OauthlibSession  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
USER, PASSWORD = "alice@example.com", "correct horse battery"
# Nothing listens there: the redirect carrying the code is read from the Location header.
REDIRECT = "http://127.0.0.1:9/callback"


class Form(html.parser.HTMLParser):
    """The sign-in form's action and fields."""

    def __init__(self):
        super().__init__()
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a.get("action")
        elif tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value") or ""


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")
    print(f"ok: {what}")


def sign_in(authorization_url):
    """What a browser does: load the page, post the form, stop at the redirect to the client."""
    browser = requests.Session()
    page = browser.get(authorization_url, timeout=30)
    check(page.status_code == 200, f"sign-in page ({page.status_code})")
    form = Form()
    form.feed(page.text)
    form.fields.update(username=USER, password=PASSWORD)
    r = browser.post(form.action, data=form.fields, allow_redirects=False, timeout=60)
    check(r.status_code in (302, 303), f"signed in, redirected ({r.status_code})")
    location = r.headers["Location"]
    check(location.startswith(REDIRECT + "?"), "redirected to the registered URI")
    return location


def bootstrap(session, base):
    r = session.get(f"{base}/wopibootstrapper", timeout=30)
    check(r.status_code == 200, f"bootstrapper answers ({r.status_code})")
    check(r.json()["Bootstrap"]["SignInName"] == USER, "bootstrapper names the user")


def refused_again(base, client_id, refresh_token):
    r = requests.post(
        f"{base}/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id},
        timeout=30,
    )
    check(
        r.status_code == 400 and r.json().get("error") == "invalid_grant",
        f"a used refresh token is refused ({r.status_code})",
    )


def with_authlib(base, client_id):
    print("== authlib")
    s = AuthlibSession(client_id, redirect_uri=REDIRECT, code_challenge_method="S256")
    verifier = generate_token(48)
    url, state = s.create_authorization_url(f"{base}/oauth2/authorize", code_verifier=verifier)
    check("code_challenge=" in url and "code_challenge_method=S256" in url, "PKCE S256 request")
    location = sign_in(url)
    token = s.fetch_token(
        f"{base}/oauth2/token", authorization_response=location, code_verifier=verifier
    )
    check(token.get("access_token") and token.get("refresh_token"), "token pair")
    bootstrap(s, base)
    old = token["refresh_token"]
    s.refresh_token(f"{base}/oauth2/token", refresh_token=old)
    check(s.token["refresh_token"] != old, "refresh token rotated")
    bootstrap(s, base)
    refused_again(base, client_id, old)


def with_requests_oauthlib(base, client_id):
    print("== requests-oauthlib")
    s = OauthlibSession(client_id, redirect_uri=REDIRECT, pkce="S256")
    url, state = s.authorization_url(f"{base}/oauth2/authorize")
    check("code_challenge=" in url and "code_challenge_method=S256" in url, "PKCE S256 request")
    location = sign_in(url)
    # Its default: the client id as HTTP Basic with an empty password.
    token = s.fetch_token(f"{base}/oauth2/token", authorization_response=location)
    check(token.get("access_token") and token.get("refresh_token"), "token pair")
    bootstrap(s, base)
    old = token["refresh_token"]
    s.refresh_token(f"{base}/oauth2/token")
    check(s.token["refresh_token"] != old, "refresh token rotated")
    bootstrap(s, base)
    refused_again(base, client_id, old)


def main():
    wopid = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "target/release/wopid")
    with tempfile.TemporaryDirectory() as work:
        data = ["--data", f"{work}/data"]
        subprocess.run(
            [wopid, "users", "add", USER, "--password-stdin", *data],
            input=PASSWORD + "\n", text=True, check=True, stdout=subprocess.DEVNULL,
        )
        out = subprocess.run(
            [wopid, "oauth-clients", "add", "Native app", "--redirect-uri", REDIRECT, *data],
            text=True, check=True, capture_output=True,
        ).stdout
        client_id = json.loads(out)["client_id"]
        log = open(f"{work}/serve.out", "w+")
        server = subprocess.Popen(
            [wopid, "serve", "--listen", "127.0.0.1:0", *data],
            stdout=log, stderr=subprocess.DEVNULL, text=True,
        )
        try:
            base = None
            for _ in range(200):
                log.seek(0)
                for line in log:
                    if line.startswith("listening on "):
                        base = line.split(" ", 2)[2].strip()
                if base or server.poll() is not None:
                    break
                time.sleep(0.05)
            check(base is not None, "wopid started")
            with_authlib(base, client_id)
            with_requests_oauthlib(base, client_id)
        finally:
            server.terminate()
            server.wait(timeout=30)
    print("all OAuth client-library checks passed")


if __name__ == "__main__":
    main()
