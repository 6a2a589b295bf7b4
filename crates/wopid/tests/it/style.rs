//! Rules of the source tree that the compiler does not check: WOPI header names live in
//! `wopid-proto`, and the layers import each other in one direction only.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.is_file() {
        out.push(dir.to_owned());
        return;
    }
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every source file of the crate below `sub` (`""` for all), cut at its first `#[cfg(test)]`.
fn code(sub: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&root.join(sub), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read source");
            let code = match text.find("#[cfg(test)]") {
                Some(i) => text[..i].to_owned(),
                None => text,
            };
            let name = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
            (name, code)
        })
        .collect()
}

#[test]
fn no_wopi_header_literals_outside_the_protocol_crate() {
    let mut found = Vec::new();
    for (name, code) in code("") {
        let lower = code.to_ascii_lowercase();
        for prefix in ["x-wopi-", "x-cool-", "x-lool-"] {
            if lower.contains(prefix) {
                found.push(format!("{name}: {prefix}"));
            }
        }
    }
    assert!(
        found.is_empty(),
        "header names belong in wopid_proto::wopi_header: {found:?}"
    );
}

/// `(importer, imported)`: a module of `importer` names `crate::<imported>`.
fn imports(importer: &str, imported: &str) -> Vec<String> {
    let needle = format!("crate::{imported}");
    code(importer)
        .into_iter()
        .map(|(name, code)| {
            // Comments may name other layers.
            let code: Vec<&str> = code
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect();
            (name, code.join("\n"))
        })
        .filter(|(_, code)| {
            code.match_indices(&needle).any(|(i, _)| {
                // `crate::http` but not `crate::httpx`.
                !code[i + needle.len()..]
                    .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            })
        })
        .map(|(name, _)| format!("{name} imports {imported}"))
        .collect()
}

#[test]
fn layers_import_downwards_only() {
    let mut found = Vec::new();
    for lower in ["ops", "auth", "error.rs", "state.rs"] {
        for upper in ["http", "web", "api"] {
            found.extend(imports(lower, upper));
        }
    }
    found.extend(imports("http", "web"));
    found.extend(imports("web", "http"));
    // The management API meets the others only in `crate::app`.
    for (a, b) in [
        ("api", "http"),
        ("api", "web"),
        ("http", "api"),
        ("web", "api"),
    ] {
        found.extend(imports(a, b));
    }
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn tokens_are_minted_by_the_issuing_policy_only() {
    let found: Vec<String> = code("")
        .into_iter()
        .filter(|(name, code)| {
            name != "auth/issue.rs"
                && name != "auth/tokens.rs"
                && ["tokens::issue", "tokens::mint", "tokens::trade"]
                    .iter()
                    .any(|f| code.contains(f))
        })
        .map(|(name, _)| name)
        .collect();
    assert!(found.is_empty(), "mint tokens with auth::issue: {found:?}");
}

#[test]
fn the_web_pages_change_nothing_but_through_the_use_cases() {
    let found: Vec<String> = code("web")
        .into_iter()
        .filter(|(_, code)| code.contains(".meta."))
        .map(|(name, _)| name)
        .collect();
    assert!(found.is_empty(), "web calls the metadata store: {found:?}");
}

#[test]
fn the_management_api_changes_nothing_but_through_the_use_cases() {
    let found: Vec<String> = code("api")
        .into_iter()
        .filter(|(_, code)| code.contains(".meta.") || code.contains(".blobs."))
        .map(|(name, _)| name)
        .collect();
    assert!(found.is_empty(), "api calls the store: {found:?}");
}
