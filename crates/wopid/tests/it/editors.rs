//! The three editors end to end: each emulator opens a file through wopid's host page (signed-in
//! web session, fresh token POSTed to the editor page) and then talks WOPI the way the real
//! editor does, signing every request; and the proofs wopid must refuse.

use std::sync::Arc;

use serde_json::Value;

use crate::emulator::{Emulator, Kind, Session, Signing, fixture_key, open};
use crate::harness::*;
use crate::web::{Browser, user};

struct Rig {
    s: TestServer,
    b: Browser,
    alice: String,
    emus: Vec<Arc<Emulator>>,
    _dir: tempfile::TempDir,
}

/// wopid with these emulators configured side by side (proofs required), and Alice signed in.
async fn rig(editors: &[(Kind, &str)], tweak: impl FnOnce(&mut wopid::Config)) -> Rig {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut emus = Vec::new();
    for (kind, key) in editors {
        emus.push(Emulator::start(*kind, key, dir.path()).await);
    }
    let s = TestServer::start_with_editors(emus.iter().map(|e| e.config()).collect(), tweak).await;
    for e in &emus {
        e.attach(&s);
    }
    let alice = user(&s, "alice", "alice-password").await;
    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    Rig {
        s,
        b,
        alice,
        emus,
        _dir: dir,
    }
}

async fn status(r: reqwest::Response) -> (u16, Option<String>, String) {
    let st = r.status().as_u16();
    let lock = header(&r, "x-wopi-lock");
    (st, lock, r.text().await.unwrap_or_default())
}

fn ts(v: &Value) -> String {
    v["LastModifiedTime"]
        .as_str()
        .expect("LastModifiedTime")
        .to_owned()
}

#[tokio::test]
async fn collabora_open_lock_autosave_rename_exit_save_unlock() {
    let r = rig(&[(Kind::Collabora, "collabora")], |c| {
        c.admins = vec!["alice".into()];
    })
    .await;
    let (s, emu) = (&r.s, &r.emus[0]);
    let original = b"PK\x03\x04 original odt".to_vec();
    let id = s.add_file("alice", "report.odt", &original).await;

    // Open: the host page posts a fresh token; the editor page runs CheckFileInfo.
    let sess = open(s, &r.b, emu, &id, "edit").await;
    assert!(sess.action.starts_with("/browser/e2e/cool.html?"));
    assert!(sess.action.contains("WOPISrc="), "{}", sess.action);
    assert_eq!(emu.log(), vec![("CheckFileInfo".to_owned(), 200)]);
    let info = emu.check_file_info(&sess).await;
    assert_eq!(info["BaseFileName"], "report.odt");
    assert_eq!(info["UserFriendlyName"], "ALICE");
    assert_eq!(info["UserCanWrite"], true);
    assert_eq!(info["SupportsLocks"], true);
    assert_eq!(info["SupportsRename"], true);
    assert_eq!(info["UserCanRename"], true);
    assert_eq!(info["IsAdminUser"], true);
    assert_eq!(info["EnableOwnerTermination"], true);
    assert_eq!(info["PostMessageOrigin"], s.state.origin());
    assert!(
        info["UserExtraInfo"]["avatar"]
            .as_str()
            .is_some_and(|a| a.starts_with(&s.base))
    );
    assert!(!info["BaseFileName"].as_str().unwrap_or("/").contains('/'));
    let t0 = ts(&info);

    let got = emu.get(&sess, "/contents").send().await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.expect("body").to_vec(), original);

    // LOCK with cool-lock<8 hex>; the keep-alive is the same LOCK again.
    let lock = "cool-lock1a2b3c4d";
    let lock_req = || {
        emu.post(&sess, "", "LOCK")
            .header("X-WOPI-Lock", lock)
            .header("Content-Length", "0")
            .header("X-COOL-WOPI-ExtendedData", "")
    };
    assert_eq!(status(lock_req().send().await).await.0, 200);
    s.clock.advance_ms(60_000);
    assert_eq!(status(lock_req().send().await).await.0, 200, "keep-alive");

    let save = |body: &'static [u8], seen: &str, autosave: bool, exit: bool| {
        let b = |v: bool| if v { "true" } else { "false" };
        emu.post(&sess, "/contents", "PUT")
            .header("X-WOPI-Lock", lock)
            .header("Content-Type", "application/octet-stream")
            .header("X-COOL-WOPI-IsModifiedByUser", "true")
            .header("X-COOL-WOPI-IsAutosave", b(autosave))
            .header("X-COOL-WOPI-IsExitSave", b(exit))
            .header("X-COOL-WOPI-Timestamp", seen)
            .header("X-LOOL-WOPI-IsModifiedByUser", "true")
            .header("X-LOOL-WOPI-IsAutosave", b(autosave))
            .header("X-LOOL-WOPI-IsExitSave", b(exit))
            .header("X-LOOL-WOPI-Timestamp", seen)
            .body(body)
    };
    // Two autosaves: 200 with the new LastModifiedTime each time.
    s.clock.advance_ms(1_000);
    let r1 = save(b"PK\x03\x04 autosave 1", &t0, true, false)
        .send()
        .await;
    assert_eq!(r1.status(), 200);
    let t1 = ts(&r1.json().await.expect("json"));
    assert_ne!(t1, t0);
    s.clock.advance_ms(1_000);
    let r2 = save(b"PK\x03\x04 autosave two", &t1, true, false)
        .send()
        .await;
    assert_eq!(r2.status(), 200);
    let t2 = ts(&r2.json().await.expect("json"));
    assert_ne!(t2, t1);

    // A save over a version the editor has not seen: 409, COOLStatusCode 1010, nothing saved.
    let stale = save(b"PK\x03\x04 stale", &t0, true, false).send().await;
    assert_eq!(stale.status(), 409);
    let body: Value = stale.json().await.expect("json");
    assert_eq!(body["COOLStatusCode"], 1010);
    assert_eq!(
        s.get_file(&id, &s.token("alice", &id, RW).await).await,
        b"PK\x03\x04 autosave two"
    );

    // Rename: final save first, then RENAME_FILE whose body (the document) is ignored.
    s.clock.advance_ms(1_000);
    let r3 = save(b"PK\x03\x04 before rename", &t2, false, false)
        .send()
        .await;
    assert_eq!(r3.status(), 200);
    let t3 = ts(&r3.json().await.expect("json"));
    let renamed = emu
        .post(&sess, "", "RENAME_FILE")
        .header("X-WOPI-Lock", lock)
        .header(
            "X-WOPI-RequestedName",
            wopid_proto::utf7::encode("Q3 report"),
        )
        .body(b"PK\x03\x04 the document again, to be ignored".to_vec())
        .send()
        .await;
    assert_eq!(renamed.status(), 200);
    let body: Value = renamed.json().await.expect("json");
    assert_eq!(body["Name"], "Q3 report");
    let f = s.state.meta.file(&id).await.expect("db").expect("file");
    assert_eq!(f.name, "Q3 report.odt");

    // Close: exit save, then UNLOCK with the same lock.
    s.clock.advance_ms(1_000);
    let exit = save(b"PK\x03\x04 exit save", &t3, false, true)
        .header("Connection", "close")
        .send()
        .await;
    assert_eq!(exit.status(), 200);
    let unlock = emu
        .post(&sess, "", "UNLOCK")
        .header("X-WOPI-Lock", lock)
        .send()
        .await;
    assert_eq!(unlock.status(), 200);
    let f = s.state.meta.file(&id).await.expect("db").expect("file");
    assert_eq!(f.lock_id, None);
    assert_eq!(f.size, b"PK\x03\x04 exit save".len() as u64);

    // History: the original, the two autosaves as one version, the user save, the exit save.
    let versions = s.state.meta.versions(&id).await.expect("versions");
    let flags: Vec<(bool, bool, bool)> = versions
        .iter()
        .map(|v| (v.info.autosave, v.info.exit_save, v.info.modified_by_user))
        .collect();
    assert_eq!(versions.len(), 4, "{flags:?}");
    let sizes: Vec<u64> = versions.iter().map(|v| v.size).collect();
    assert!(sizes.contains(&(b"PK\x03\x04 autosave two".len() as u64)));
    assert!(!sizes.contains(&(b"PK\x03\x04 autosave 1".len() as u64)));
    let last = versions.iter().max_by_key(|v| v.version).expect("last");
    assert!(last.info.exit_save && !last.info.autosave && last.info.modified_by_user);
    assert_eq!(last.info.session.as_deref(), Some(lock));
    assert!(
        emu.log()
            .iter()
            .all(|(op, st)| *st == 200 || (op == "PUT" && *st == 409)),
        "{:?}",
        emu.log()
    );
}

/// "Shared with me" opens a file in an editor that handles it, as the share allows, and the host
/// page's close button leads a recipient who cannot reach the owner's folder home.
#[tokio::test]
async fn the_host_page_closes_to_home_for_a_recipient() {
    let r = rig(&[(Kind::Collabora, "collabora")], |_| {}).await;
    let s = &r.s;
    let id = s.add_file("alice", "plan.docx", b"PK\x03\x04 plan").await;
    let folder = s
        .state
        .meta
        .file(&id)
        .await
        .expect("db")
        .expect("file")
        .container_id;
    let close = |html: &str| {
        html.split("data-close-url=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("close url")
            .replace("&#x2f;", "/")
            .replace("&#47;", "/")
    };
    let page = r.b.get(&format!("/files/{id}/view")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert_eq!(close(&html), format!("{}/browse/{folder}", s.base));

    user(s, "bob", "bob-password").await;
    s.token("bob", &id, RO).await;
    let bob = Browser::sign_in(s, "bob", "bob-password").await;
    // "Shared with me" opens it in the editor, to view only, as the share allows.
    let (home, _) = bob.home().await;
    let list = bob.get(&home).await.text().await.expect("html");
    let shared = list.split("Shared with me").nth(1).expect("shared list");
    assert!(
        shared.contains(&format!("/files/{id}/view?editor=collabora")),
        "{shared}"
    );
    assert!(!shared.contains(&format!("/files/{id}/edit")), "{shared}");
    let page = bob.get(&format!("/files/{id}/view")).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert_eq!(close(&html), format!("{}/", s.base));
}

/// "New document" opens with the editor's `editnew` action when discovery offers it for the
/// type (the file starts empty, for the editor to fill), else with `edit` on wopid's own blank
/// document.
#[tokio::test]
async fn new_documents_open_with_editnew_when_the_editor_offers_it() {
    let r = rig(&[(Kind::OnlyOffice, "onlyoffice")], |_| {}).await;
    let (s, emu) = (&r.s, &r.emus[0]);
    let (folder, csrf) = r.b.home().await;
    for (kind, action) in [("docx", "/word/editnew?"), ("odt", "/word/edit?")] {
        let made =
            r.b.post(
                &format!("{folder}/new"),
                &[("csrf", csrf.as_str()), ("name", "Plan"), ("kind", kind)],
            )
            .await;
        assert_eq!(made.status(), 303, "{kind}");
        let to = header(&made, "location").expect("location");
        let id = to
            .strip_prefix("/files/")
            .and_then(|rest| rest.split('/').next())
            .expect("the new file's host page")
            .to_owned();
        assert!(to.ends_with("/edit?editor=onlyoffice"), "{to}");
        let sess = open(s, &r.b, emu, &id, "edit").await;
        assert!(sess.action.contains(action), "{kind}: {}", sess.action);
        let size = emu.check_file_info(&sess).await["Size"].as_i64();
        assert_eq!(size == Some(0), kind == "docx", "{kind}: {size:?}");
    }
}

#[tokio::test]
async fn onlyoffice_bearer_base64_locks_versions_and_conversion() {
    let r = rig(&[(Kind::OnlyOffice, "onlyoffice")], |_| {}).await;
    let (s, emu) = (&r.s, &r.emus[0]);
    let id = s.add_file("alice", "plan.docx", b"PK\x03\x04 plan").await;
    let sess = open(s, &r.b, emu, &id, "edit").await;
    assert!(
        sess.action.starts_with("/hosting/wopi/word/edit?"),
        "{}",
        sess.action
    );
    assert!(sess.action.contains("lang=en-US"), "{}", sess.action);

    let info = emu.check_file_info(&sess).await;
    let v0 = info["Version"].as_str().expect("Version").to_owned();
    let t0 = ts(&info);
    // The token in the Authorization header alone is enough, too.
    let bearer = emu.get(&sess, "").bearer_only().send().await;
    assert_eq!(
        bearer.status(),
        200,
        "{:?}",
        header(&bearer, "x-wopi-servererror")
    );

    // A random 16-byte base64 lock id, with + / =.
    let lock = "u+/7nL0/Qk+ZpW3x/A2c9g==";
    let locked = emu
        .post(&sess, "", "LOCK")
        .header("X-WOPI-Lock", lock)
        .send()
        .await;
    assert_eq!(locked.status(), 200);
    let got = emu.get(&sess, "/contents").send().await;
    assert_eq!(
        got.bytes().await.expect("body").as_ref(),
        b"PK\x03\x04 plan"
    );
    s.clock.advance_ms(10 * 60_000);
    let again = emu
        .post(&sess, "", "LOCK")
        .header("X-WOPI-Lock", lock)
        .send()
        .await;
    assert_eq!(again.status(), 200, "the lock re-asserted");

    // Saves: Version changes every time; X-WOPI-Editors is recorded.
    let mut seen = t0;
    let mut version = v0;
    for (n, body) in [b"PK\x03\x04 save 1".as_slice(), b"PK\x03\x04 save 2"]
        .into_iter()
        .enumerate()
    {
        s.clock.advance_ms(1_000);
        let put = emu
            .post(&sess, "/contents", "PUT")
            .header("X-WOPI-Lock", lock)
            .header("X-WOPI-Editors", r.alice.clone())
            .header("X-LOOL-WOPI-IsModifiedByUser", "true")
            .header("X-LOOL-WOPI-IsAutosave", "false")
            .header(
                "X-LOOL-WOPI-IsExitSave",
                if n == 1 { "true" } else { "false" },
            )
            .header("X-LOOL-WOPI-Timestamp", seen.clone())
            .header(
                "Content-Type",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            )
            .body(body.to_vec())
            .send()
            .await;
        assert_eq!(put.status(), 200, "save {n}");
        let info = emu.check_file_info(&sess).await;
        let v = info["Version"].as_str().expect("Version").to_owned();
        assert_ne!(v, version, "Version changes on every save");
        version = v;
        seen = ts(&info);
    }
    let versions = s.state.meta.versions(&id).await.expect("versions");
    let last = versions.iter().max_by_key(|v| v.version).expect("last");
    assert_eq!(last.info.editors.as_deref(), Some(r.alice.as_str()));
    assert!(last.info.exit_save);

    // Save As with conversion: UTF-7 target, X-WOPI-FileConversion, no lock.
    let target = "Plan \u{2013} final.docx";
    let rel = emu
        .post(&sess, "", "PUT_RELATIVE")
        .header("X-WOPI-SuggestedTarget", wopid_proto::utf7::encode(target))
        .header("X-WOPI-FileConversion", "true")
        .header("X-WOPI-Size", "16")
        .body(b"PK\x03\x04 converted".to_vec())
        .send()
        .await;
    assert_eq!(
        rel.status(),
        200,
        "{:?}",
        header(&rel, "x-wopi-servererror")
    );
    let body: Value = rel.json().await.expect("json");
    assert_eq!(body["Name"], target);
    let url = body["Url"].as_str().expect("Url");
    // The new file's URL carries a fresh token, still bound to this editor: signed works,
    // unsigned is refused.
    let (src, q) = url.split_once('?').expect("token in Url");
    let token = form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned())
        .expect("access_token");
    let child = Session {
        action: String::new(),
        wopi_src: src.to_owned(),
        token,
        ttl: sess.ttl,
    };
    assert_eq!(emu.check_file_info(&child).await["BaseFileName"], target);
    let unsigned = emu.get(&child, "").signing(Signing::Unsigned).send().await;
    assert_eq!(unsigned.status(), 500);

    // Close: UNLOCK after the final save.
    let unlock = emu
        .post(&sess, "", "UNLOCK")
        .header("X-WOPI-Lock", lock)
        .send()
        .await;
    assert_eq!(unlock.status(), 200);
    assert_eq!(
        s.state
            .meta
            .file(&id)
            .await
            .expect("db")
            .expect("file")
            .lock_id,
        None
    );
}

/// Office for the web with its JSON lock ids; `legacy` turns on `legacy_json_locks`.
async fn office_flow(legacy: bool) {
    let r = rig(&[(Kind::Office, "office-old")], |c| {
        c.legacy_json_locks = legacy
    })
    .await;
    let (s, emu) = (&r.s, &r.emus[0]);
    let id = s.add_file("alice", "memo.docx", b"PK\x03\x04 memo").await;
    let sess = open(s, &r.b, emu, &id, "edit").await;
    assert!(
        sess.action
            .starts_with("/we/wordeditorframe.aspx?ui=en-US&rs=en-US&wopisrc="),
        "{}",
        sess.action
    );
    let info = emu.check_file_info(&sess).await;
    for key in [
        "HostEditUrl",
        "HostViewUrl",
        "CloseUrl",
        "DownloadUrl",
        "FileVersionUrl",
        "FileSharingUrl",
    ] {
        assert!(
            info[key].as_str().is_some_and(|u| u.starts_with(&s.base)),
            "{key}"
        );
    }
    let size = info["Size"].as_u64().expect("Size");

    // GetFile with X-WOPI-MaxExpectedSize.
    let ok = emu
        .get(&sess, "/contents")
        .header("X-WOPI-MaxExpectedSize", (size + 1).to_string())
        .send()
        .await;
    assert_eq!(ok.status(), 200);
    let too_big = emu
        .get(&sess, "/contents")
        .header("X-WOPI-MaxExpectedSize", (size - 1).to_string())
        .send()
        .await;
    assert_eq!(too_big.status(), 412);

    let g = "1f0c5b2e-8d4a-4e7b-9c3d-2a1b0c9d8e7f";
    let first = format!(r#"{{"S":"{g}","F":4}}"#);
    let second = format!(r#"{{"S":"{g}","F":5}}"#);
    let later = format!(r#"{{"S":"{g}","F":6,"E":2,"M":"WAC","P":"3f2e1d0c"}}"#);
    let op = |o: &str, lock: &str| emu.post(&sess, "", o).header("X-WOPI-Lock", lock);

    // Loading: Lock, then UnlockAndRelock to the next form, then RefreshLock.
    assert_eq!(status(op("LOCK", &first).send().await).await.0, 200);
    // An app that wants to learn the lock refreshes with a random value: 409 carries it.
    let (st, current, _) =
        status(op("REFRESH_LOCK", "GetCurrentLockString-0000").send().await).await;
    assert_eq!((st, current.as_deref()), (409, Some(first.as_str())));
    let relock = op("LOCK", &second)
        .header("X-WOPI-OldLock", first.clone())
        .send()
        .await;
    assert_eq!(relock.status(), 200, "UnlockAndRelock");
    assert_eq!(
        status(op("REFRESH_LOCK", &second).send().await).await.0,
        200
    );

    // A save with the later JSON form of the same session's lock.
    s.clock.advance_ms(30_000);
    let put = |lock: &str, body: &'static [u8]| {
        emu.post(&sess, "/contents", "PUT")
            .header("X-WOPI-Lock", lock)
            .header("X-WOPI-Editors", r.alice.clone())
            .body(body)
    };
    let (st, current, _) = status(put(&later, b"PK\x03\x04 memo v2").send().await).await;
    if legacy {
        assert_eq!(st, 200, "same S: one lock");
    } else {
        assert_eq!(st, 409, "opaque comparison");
        assert_eq!(
            current.as_deref(),
            Some(second.as_str()),
            "echoed byte for byte"
        );
        assert_eq!(
            status(put(&second, b"PK\x03\x04 memo v2").send().await)
                .await
                .0,
            200
        );
    }
    let (st, current, _) = status(emu.post(&sess, "", "GET_LOCK").send().await).await;
    assert_eq!((st, current.as_deref()), (200, Some(second.as_str())));

    // Key rotation: the editor now signs with office.pem (ProofOld with office-old.pem); wopid
    // keeps accepting and fetches discovery again to learn the new key.
    s.clock.advance_ms(2 * 60_000);
    emu.rotate("office");
    assert_eq!(
        status(op("REFRESH_LOCK", &second).send().await).await.0,
        200
    );
    let known = s
        .state
        .editors
        .get("office")
        .and_then(|e| e.loaded())
        .and_then(|l| l.keys.clone())
        .expect("keys");
    assert_eq!(
        known.current,
        emu.published_current(),
        "discovery re-fetched"
    );
    assert_eq!(
        known.old,
        Some(fixture_key("office-old").to_public_key()),
        "the old key kept"
    );
    // A machine of the editor farm that has not rotated yet signs with the old key: accepted.
    emu.sign_as_lagging_machine();
    assert_eq!(emu.get(&sess, "").send().await.status(), 200);

    // Unlock at the end.
    let unlock_with = if legacy { &later } else { &second };
    assert_eq!(status(op("UNLOCK", unlock_with).send().await).await.0, 200);
    let (st, current, _) = status(emu.post(&sess, "", "GET_LOCK").send().await).await;
    assert_eq!((st, current.as_deref()), (200, Some("")));
    assert_eq!(
        s.get_file(&id, &s.token("alice", &id, RW).await).await,
        b"PK\x03\x04 memo v2"
    );
}

#[tokio::test]
async fn office_json_locks_compared_opaquely() {
    office_flow(false).await;
}

#[tokio::test]
async fn office_json_locks_with_the_legacy_normaliser() {
    office_flow(true).await;
}

#[tokio::test]
async fn proofs_that_must_be_refused() {
    let r = rig(
        &[
            (Kind::Collabora, "collabora"),
            (Kind::OnlyOffice, "onlyoffice"),
        ],
        |_| {},
    )
    .await;
    let (s, cool, oo) = (&r.s, &r.emus[0], &r.emus[1]);
    let id = s
        .add_file("alice", "secret.odt", b"PK\x03\x04 secret")
        .await;
    let other = s.add_file("alice", "other.odt", b"PK\x03\x04 other").await;
    let sess = open(s, &r.b, cool, &id, "edit").await;
    assert_eq!(
        cool.get(&sess, "").send().await.status(),
        200,
        "signed: accepted"
    );
    let other_url = format!("{}?access_token={}", s.state.wopi_src(&other), sess.token);
    let cases = [
        ("forged", Signing::Forged),
        ("stale (21 minutes)", Signing::Aged(21 * 60_000)),
        ("signed for another URL", Signing::ForUrl(other_url)),
        ("unsigned", Signing::Unsigned),
        (
            "signed by another editor",
            Signing::WithKey(Box::new(fixture_key("onlyoffice"))),
        ),
    ];
    for (what, signing) in cases {
        let resp = cool.get(&sess, "").signing(signing.clone()).send().await;
        assert_eq!(resp.status(), 500, "{what}");
        assert!(header(&resp, "x-wopi-servererror").is_some(), "{what}");
        let put = cool
            .post(&sess, "/contents", "PUT")
            .signing(signing)
            .body(b"PK\x03\x04 overwritten".to_vec())
            .send()
            .await;
        assert_eq!(put.status(), 500, "{what}");
    }
    // The other editor's backend, with its own valid signature, cannot use Collabora's token.
    let stolen = oo.get(&sess, "").send().await;
    assert_eq!(stolen.status(), 500);
    assert!(header(&stolen, "x-wopi-servererror").is_some());
    // Nothing was written.
    assert_eq!(
        s.get_file(&id, &s.token("alice", &id, RW).await).await,
        b"PK\x03\x04 secret"
    );
}

#[tokio::test]
async fn discovery_fetched_again_when_an_editor_signs_with_unknown_keys() {
    // Older ONLYOFFICE builds sign both proofs with the current key: after a rotation wopid
    // knows neither signature until it fetches discovery again, which the failure triggers.
    let r = rig(&[(Kind::OnlyOffice, "onlyoffice")], |_| {}).await;
    let (s, emu) = (&r.s, &r.emus[0]);
    let id = s.add_file("alice", "notes.docx", b"PK\x03\x04 notes").await;
    let sess = open(s, &r.b, emu, &id, "edit").await;
    s.clock.advance_ms(2 * 60_000);
    emu.rotate("office");
    emu.sign_both_with_current();
    let resp = emu.get(&sess, "").send().await;
    assert_eq!(
        resp.status(),
        200,
        "{:?}",
        header(&resp, "x-wopi-servererror")
    );
    // At most one re-fetch a minute: a forged proof right after does not fetch again, and is
    // refused.
    let forged = emu.get(&sess, "").signing(Signing::Forged).send().await;
    assert_eq!(forged.status(), 500);
}

/// An editor whose discovery has no proof key: with proofs required (the default of `--editor`)
/// its host page says why it cannot be used and its WOPI requests get a 401 that names the fix,
/// not a 500; `--editor NAME=URL,proof=optional` lets it work.
#[tokio::test]
async fn an_editor_without_proof_keys_gets_a_clear_refusal_or_works_with_proof_optional() {
    let dir = tempfile::tempdir().expect("temp dir");
    let emu = Emulator::start(Kind::Collabora, "collabora", dir.path()).await;
    let flag = format!("collabora={}", emu.discovery_path.display());
    let editors = |extra: &[&str]| {
        let mut items = vec![wopid::config::EditorFlag::parse(&flag).expect("flag")];
        for e in extra {
            items.push(wopid::config::EditorFlag::parse(e).expect("flag"));
        }
        wopid::config::EditorFlag::editors(&items).expect("editors")
    };
    assert!(wopid::config::EditorFlag::parse("proof=sometimes").is_err());
    assert!(
        wopid::config::EditorFlag::editors(&[
            wopid::config::EditorFlag::parse("proof=optional").expect("item")
        ])
        .is_err(),
        "proof= before any editor"
    );

    // Proofs required (the flag's default); the keys disappear from discovery after a session
    // was opened with them.
    let required = editors(&[]);
    assert_eq!(required[0].proof, wopid::config::ProofMode::Required);
    let s = TestServer::start_with_editors(required, |_| {}).await;
    emu.attach(&s);
    user(&s, "alice", "alice-password").await;
    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    let id = s.add_file("alice", "notes.odt", b"PK\x03\x04 notes").await;
    let sess = open(&s, &b, &emu, &id, "edit").await;
    emu.drop_proof_key();
    let e = s.state.editors.get("collabora").expect("editor");
    assert_eq!(
        wopid::editors::refresh(&s.state, e).await,
        wopid::editors::Refreshed::Updated
    );
    let r = emu.get(&sess, "").signing(Signing::Unsigned).send().await;
    assert_eq!(r.status(), 401, "a configuration problem, not a 500");
    let why = header(&r, "x-wopi-servererror").unwrap_or_default();
    assert!(why.contains("proof=optional"), "{why}");
    let page = b.get(&format!("/files/{id}/edit?editor=collabora")).await;
    assert_eq!(page.status(), 503);
    let text = page.text().await.expect("page");
    assert!(text.contains("require proof keys"), "{text}");
    assert!(text.contains("href=\"/\""), "a way back: {text}");
    drop(s);

    // `proof=optional`: the same editor opens files and its unsigned requests pass.
    let optional = editors(&["proof=optional"]);
    assert_eq!(optional[0].proof, wopid::config::ProofMode::Optional);
    let s = TestServer::start_with_editors(optional, |_| {}).await;
    emu.attach(&s);
    user(&s, "alice", "alice-password").await;
    let b = Browser::sign_in(&s, "alice", "alice-password").await;
    let id = s.add_file("alice", "notes.odt", b"PK\x03\x04 notes").await;
    let sess = open(&s, &b, &emu, &id, "edit").await;
    let r = emu.get(&sess, "").signing(Signing::Unsigned).send().await;
    assert_eq!(r.status(), 200);
}
