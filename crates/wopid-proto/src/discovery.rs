//! WOPI discovery: what an editor (Office for the web, Office Online Server, Collabora Online,
//! ONLYOFFICE Docs, the validator) can do, and where.
//!
//! The document is parsed once per fetch into plain data; lookups then choose, per extension, the
//! actions of the best network zone. Parsing is tolerant of what real editors publish (MIME-typed
//! apps with `ext=""` actions, a `Capabilities` app, a separate `<proof-key-old>` element, unknown
//! elements and attributes) and strict about what would make the copy unusable: malformed XML, a
//! truncated document, or a document that is not discovery at all (an HTML login page, say). Such
//! a failure leaves the caller free to keep serving its last good copy.

use std::borrow::Cow;
use std::collections::BTreeSet;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// Why a discovery document cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// Not well-formed XML (bad syntax, unknown entity, invalid UTF-8, mismatched tags).
    #[error("malformed XML near byte {offset}")]
    Xml {
        /// Byte offset of the problem, for the log line.
        offset: u64,
        /// The parser's own account of the problem.
        #[source]
        source: quick_xml::Error,
    },
    /// The body stopped early (a cut connection): using the part read would lose actions.
    #[error("the document ends inside an element")]
    Truncated,
    /// Something else answered at the discovery URL (a login page, a proxy error).
    #[error("the root element is not <wopi-discovery>")]
    NotDiscovery,
}

/// Network zones in the order wopid prefers them: production editors publish `external-https`;
/// Collabora and ONLYOFFICE publish a single `external-http` zone whatever their scheme.
pub const ZONE_PREFERENCE: [&str; 4] = [
    "external-https",
    "external-http",
    "internal-https",
    "internal-http",
];

/// A parsed discovery document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// The zones in document order. Apps found outside any `<net-zone>` land in a zone named "".
    pub zones: Vec<NetZone>,
    /// The raw `<proof-key>` attributes (merged with `<proof-key-old>`), for [`crate::proof`].
    pub proof_key: Option<ProofKeyAttrs>,
}

/// One `<net-zone>`: the same apps can be published for internal and external clients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetZone {
    /// `external-https`, `external-http`, `internal-https`, `internal-http` (or "" for apps
    /// outside any zone).
    pub name: String,
    /// The apps in document order.
    pub apps: Vec<App>,
}

/// One `<app>`: an Office application (`Word`), a Collabora component (`writer`), a MIME type
/// (`application/vnd.oasis.opendocument.text`), `WopiTest` or `Capabilities`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct App {
    /// `Word`, `writer`, `application/vnd.oasis.opendocument.text`, `Capabilities`, …
    pub name: String,
    /// Favicon for the host page, as the discovery docs ask hosts to show.
    pub fav_icon_url: Option<String>,
    /// Office's flag for apps that need a licensed (business) user to edit.
    pub check_license: bool,
    /// The usable actions in document order.
    pub actions: Vec<Action>,
}

/// One `<action>`. Actions without a `name` or `urlsrc` are useless to a host and are dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Action {
    /// `view`, `edit`, `editnew`, `embedview`, `convert`, `getinfo`, … (kept as published).
    pub name: String,
    /// Lower case, no dot; empty for MIME-typed apps and progid actions.
    pub ext: String,
    /// Replaces `ext` for folder-like items (OneNote notebooks).
    pub progid: Option<String>,
    /// Requirement groups (`locks`, `update`, `cobalt`, `containers`), lower case.
    pub requires: Vec<String>,
    /// The action URL template; see [`crate::action_url::expand`].
    pub urlsrc: String,
    /// `default="true"`: the editor's preferred action for this extension.
    pub default: bool,
    /// [MS-WOPI] `newext`: the extension of the file an action creates.
    pub newext: Option<String>,
    /// [MS-WOPI] `newprogid`: the progid of the item an action creates.
    pub newprogid: Option<String>,
    /// Target format of `convert` (`doc` → `docx`) as Office and ONLYOFFICE publish it.
    pub targetext: Option<String>,
}

/// The Base64 attributes of `<proof-key>`, kept raw so that key errors are reported by
/// [`crate::proof::ProofKeys::from_discovery`] and do not make the rest of discovery unusable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProofKeyAttrs {
    /// `value`: the current key as a .NET CSP `PUBLICKEYBLOB`.
    pub value: Option<String>,
    /// `modulus`: the current key's modulus, big-endian.
    pub modulus: Option<String>,
    /// `exponent`: the current key's public exponent, big-endian.
    pub exponent: Option<String>,
    /// `oldvalue` (or `<proof-key-old value>`): the previous key as a CSP blob.
    pub old_value: Option<String>,
    /// `oldmodulus` (or `<proof-key-old modulus>`).
    pub old_modulus: Option<String>,
    /// `oldexponent` (or `<proof-key-old exponent>`).
    pub old_exponent: Option<String>,
}

/// An action found by a lookup, with the app and zone it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionRef<'a> {
    /// The zone's name, for logs and `discovery show`.
    pub zone: &'a str,
    /// The app, for its favicon and name ("Open in Word").
    pub app: &'a App,
    /// The action, for its `urlsrc` and requirements.
    pub action: &'a Action,
}

/// MIME types of the formats wopid cares about, for editors that publish only MIME-typed apps
/// for some formats (Collabora, ONLYOFFICE).
const MIME_TYPES: &[(&str, &str)] = &[
    ("csv", "text/csv"),
    ("doc", "application/msword"),
    ("docm", "application/vnd.ms-word.document.macroEnabled.12"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "dotx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template",
    ),
    (
        "fodp",
        "application/vnd.oasis.opendocument.presentation-flat-xml",
    ),
    (
        "fods",
        "application/vnd.oasis.opendocument.spreadsheet-flat-xml",
    ),
    ("fodt", "application/vnd.oasis.opendocument.text-flat-xml"),
    ("odg", "application/vnd.oasis.opendocument.graphics"),
    ("odp", "application/vnd.oasis.opendocument.presentation"),
    ("ods", "application/vnd.oasis.opendocument.spreadsheet"),
    ("odt", "application/vnd.oasis.opendocument.text"),
    (
        "otp",
        "application/vnd.oasis.opendocument.presentation-template",
    ),
    (
        "ots",
        "application/vnd.oasis.opendocument.spreadsheet-template",
    ),
    ("ott", "application/vnd.oasis.opendocument.text-template"),
    ("pdf", "application/pdf"),
    (
        "potx",
        "application/vnd.openxmlformats-officedocument.presentationml.template",
    ),
    (
        "ppsx",
        "application/vnd.openxmlformats-officedocument.presentationml.slideshow",
    ),
    ("ppt", "application/vnd.ms-powerpoint"),
    (
        "pptm",
        "application/vnd.ms-powerpoint.presentation.macroEnabled.12",
    ),
    (
        "pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("rtf", "application/rtf"),
    ("txt", "text/plain"),
    ("xls", "application/vnd.ms-excel"),
    (
        "xlsb",
        "application/vnd.ms-excel.sheet.binary.macroEnabled.12",
    ),
    ("xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12"),
    (
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "xltx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.template",
    ),
];

/// The MIME type wopid associates with an extension (lower case, no dot), if it knows one.
pub fn mime_for_ext(ext: &str) -> Option<&'static str> {
    let ext = normalize_ext(ext);
    MIME_TYPES
        .iter()
        .find(|(e, _)| *e == ext)
        .map(|(_, mime)| *mime)
}

fn ext_for_mime(mime: &str) -> Option<&'static str> {
    MIME_TYPES
        .iter()
        .find(|(_, m)| m.eq_ignore_ascii_case(mime))
        .map(|(e, _)| *e)
}

/// Lower case, without a leading dot, so `.DOCX` and `docx` look up the same actions.
fn normalize_ext(ext: &str) -> String {
    ext.trim().trim_start_matches('.').to_ascii_lowercase()
}

fn zone_rank(name: &str) -> usize {
    ZONE_PREFERENCE
        .iter()
        .position(|z| z.eq_ignore_ascii_case(name))
        .unwrap_or(ZONE_PREFERENCE.len())
}

impl Discovery {
    /// Parses a discovery document. Never panics, whatever the bytes.
    pub fn parse(xml: &[u8]) -> Result<Discovery, DiscoveryError> {
        Parser::default().run(xml)
    }

    /// The actions for a file extension (any case, leading dot optional), all from the most
    /// preferred zone (see [`ZONE_PREFERENCE`]) that has any. Within a zone, actions published
    /// for the extension win; apps named by the extension's MIME type are the fallback.
    pub fn actions(&self, ext: &str) -> Vec<ActionRef<'_>> {
        let ext = normalize_ext(ext);
        if ext.is_empty() {
            return Vec::new();
        }
        let mime = mime_for_ext(&ext);
        for zone in self.zones_by_preference() {
            let by_ext = zone_actions(zone, |_, a| a.ext == ext);
            if !by_ext.is_empty() {
                return by_ext;
            }
            if let Some(mime) = mime {
                let by_mime = zone_actions(zone, |app, a| {
                    a.ext.is_empty() && a.progid.is_none() && app.name.eq_ignore_ascii_case(mime)
                });
                if !by_mime.is_empty() {
                    return by_mime;
                }
            }
        }
        Vec::new()
    }

    /// The action `name` (`view`, `edit`, `editnew`, …, any case) for an extension. When an
    /// editor lists it twice, the one marked `default="true"` wins.
    pub fn action(&self, ext: &str, name: &str) -> Option<ActionRef<'_>> {
        let named: Vec<ActionRef<'_>> = self
            .actions(ext)
            .into_iter()
            .filter(|r| r.action.name.eq_ignore_ascii_case(name))
            .collect();
        named
            .iter()
            .find(|r| r.action.default)
            .or(named.first())
            .copied()
    }

    /// The favicon of the app that handles an extension, for the host page.
    pub fn favicon(&self, ext: &str) -> Option<&str> {
        let found = self.actions(ext);
        let with_icon = |r: &&ActionRef<'_>| r.app.fav_icon_url.is_some();
        found
            .iter()
            .filter(with_icon)
            .find(|r| r.action.default)
            .or_else(|| found.iter().find(with_icon))
            .and_then(|r| r.app.fav_icon_url.as_deref())
    }

    /// Every extension for which [`Self::action`] finds the action `name` — e.g. `edit` for the
    /// "Open in" menu, `editnew` for "New document".
    pub fn extensions_with(&self, name: &str) -> BTreeSet<String> {
        let mut candidates = BTreeSet::new();
        for zone in &self.zones {
            for app in &zone.apps {
                for action in &app.actions {
                    if !action.name.eq_ignore_ascii_case(name) {
                        continue;
                    }
                    if !action.ext.is_empty() {
                        candidates.insert(action.ext.clone());
                    } else if action.progid.is_none()
                        && let Some(ext) = ext_for_mime(&app.name)
                    {
                        candidates.insert(ext.to_owned());
                    }
                }
            }
        }
        // Keep the set consistent with the lookup, which looks at one zone only.
        candidates.retain(|ext| self.action(ext, name).is_some());
        candidates
    }

    /// The `Capabilities` endpoint Collabora and ONLYOFFICE publish (a JSON document).
    pub fn capabilities_url(&self) -> Option<&str> {
        self.zones_by_preference()
            .flat_map(|z| &z.apps)
            .filter(|a| a.name.eq_ignore_ascii_case("Capabilities"))
            .flat_map(|a| &a.actions)
            .find(|a| a.name.eq_ignore_ascii_case("getinfo"))
            .map(|a| a.urlsrc.as_str())
    }

    fn zones_by_preference(&self) -> impl Iterator<Item = &NetZone> {
        let mut zones: Vec<&NetZone> = self.zones.iter().collect();
        zones.sort_by_key(|z| zone_rank(&z.name));
        zones.into_iter()
    }
}

fn zone_actions<'a>(
    zone: &'a NetZone,
    matches: impl Fn(&App, &Action) -> bool,
) -> Vec<ActionRef<'a>> {
    zone.apps
        .iter()
        .flat_map(|app| app.actions.iter().map(move |action| (app, action)))
        .filter(|(app, action)| matches(app, action))
        .map(|(app, action)| ActionRef {
            zone: &zone.name,
            app,
            action,
        })
        .collect()
}

/// Where the parser is in the document: the elements that matter nest as
/// `wopi-discovery > net-zone > app > action`, plus `proof-key` under the root.
#[derive(Default)]
struct Parser {
    discovery: Discovery,
    depth: usize,
    seen_root: bool,
    /// The open `<net-zone>`: (its depth, its index in `zones`).
    zone: Option<(usize, usize)>,
    /// The open `<app>`: (its depth, zone index, app index).
    app: Option<(usize, usize, usize)>,
    /// The unnamed zone that collects apps found outside any `<net-zone>`.
    loose_zone: Option<usize>,
    proof_key_old: Option<ProofKeyAttrs>,
}

impl Parser {
    fn run(mut self, xml: &[u8]) -> Result<Discovery, DiscoveryError> {
        let mut reader = Reader::from_reader(xml);
        reader.config_mut().check_end_names = true;
        loop {
            let event = reader.read_event().map_err(|source| DiscoveryError::Xml {
                offset: reader.error_position(),
                source,
            })?;
            let at = reader.buffer_position();
            let xml_err = |source| DiscoveryError::Xml { offset: at, source };
            match event {
                Event::Start(e) => {
                    self.open(&e, false).map_err(xml_err)?;
                    self.depth += 1;
                }
                Event::Empty(e) => self.open(&e, true).map_err(xml_err)?,
                Event::End(_) => self.close()?,
                Event::Eof => break,
                _ => {}
            }
        }
        if self.depth != 0 {
            return Err(DiscoveryError::Truncated);
        }
        if !self.seen_root {
            return Err(DiscoveryError::NotDiscovery);
        }
        if let Some(old) = self.proof_key_old {
            let key = self
                .discovery
                .proof_key
                .get_or_insert_with(Default::default);
            if key.old_modulus.is_none() && key.old_value.is_none() {
                key.old_value = old.value;
                key.old_modulus = old.modulus;
                key.old_exponent = old.exponent;
            }
        }
        Ok(self.discovery)
    }

    /// Handles a start (or empty) tag found at depth `self.depth`.
    fn open(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<(), quick_xml::Error> {
        let name = e.local_name();
        let name = name.as_ref();
        if self.depth == 0 {
            // Anything else at the root (an HTML error page) is read for well-formedness only.
            self.seen_root |= name.eq_ignore_ascii_case("wopi-discovery");
            return Ok(());
        }
        if !self.seen_root {
            return Ok(());
        }
        if name.eq_ignore_ascii_case("net-zone") && self.zone.is_none() {
            let attrs = attributes(e)?;
            let zones = &mut self.discovery.zones;
            zones.push(NetZone {
                name: attr(&attrs, "name").unwrap_or_default(),
                apps: Vec::new(),
            });
            if !empty {
                self.zone = Some((self.depth, zones.len() - 1));
            }
        } else if name.eq_ignore_ascii_case("app") && self.app.is_none() {
            let attrs = attributes(e)?;
            let app = App {
                name: attr(&attrs, "name").unwrap_or_default(),
                fav_icon_url: attr(&attrs, "favIconUrl").filter(|u| !u.is_empty()),
                check_license: attr(&attrs, "checkLicense").is_some_and(|v| truthy(&v)),
                actions: Vec::new(),
            };
            let z = self.zone_index();
            if let Some(zone) = self.discovery.zones.get_mut(z) {
                zone.apps.push(app);
                if !empty {
                    self.app = Some((self.depth, z, zone.apps.len() - 1));
                }
            }
        } else if name.eq_ignore_ascii_case("action") {
            let attrs = attributes(e)?;
            let app = self.app.and_then(|(_, z, a)| {
                self.discovery
                    .zones
                    .get_mut(z)
                    .and_then(|zone| zone.apps.get_mut(a))
            });
            if let (Some(app), Some(action)) = (app, action_from(&attrs)) {
                app.actions.push(action);
            }
        } else if name.eq_ignore_ascii_case("proof-key") {
            let attrs = attributes(e)?;
            self.discovery.proof_key = Some(ProofKeyAttrs {
                value: attr(&attrs, "value"),
                modulus: attr(&attrs, "modulus"),
                exponent: attr(&attrs, "exponent"),
                old_value: attr(&attrs, "oldvalue"),
                old_modulus: attr(&attrs, "oldmodulus"),
                old_exponent: attr(&attrs, "oldexponent"),
            });
        } else if name.eq_ignore_ascii_case("proof-key-old") {
            let attrs = attributes(e)?;
            self.proof_key_old = Some(ProofKeyAttrs {
                value: attr(&attrs, "value"),
                modulus: attr(&attrs, "modulus"),
                exponent: attr(&attrs, "exponent"),
                ..Default::default()
            });
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), DiscoveryError> {
        // check_end_names rejects unbalanced ends, so depth never underflows; stay defensive.
        self.depth = self.depth.checked_sub(1).ok_or(DiscoveryError::Truncated)?;
        if self.app.is_some_and(|(d, _, _)| d == self.depth) {
            self.app = None;
        }
        if self.zone.is_some_and(|(d, _)| d == self.depth) {
            self.zone = None;
        }
        Ok(())
    }

    /// The index of the zone a new app belongs to, creating the unnamed one when needed.
    fn zone_index(&mut self) -> usize {
        if let Some((_, z)) = self.zone {
            return z;
        }
        if let Some(z) = self.loose_zone {
            return z;
        }
        self.discovery.zones.push(NetZone::default());
        let z = self.discovery.zones.len() - 1;
        self.loose_zone = Some(z);
        z
    }
}

fn action_from(attrs: &[(String, String)]) -> Option<Action> {
    let name = attr(attrs, "name").filter(|n| !n.is_empty())?;
    let urlsrc = attr(attrs, "urlsrc").map(|u| undo_double_escape(u.trim()))?;
    if urlsrc.is_empty() {
        return None;
    }
    Some(Action {
        name,
        ext: normalize_ext(&attr(attrs, "ext").unwrap_or_default()),
        progid: attr(attrs, "progid").filter(|p| !p.is_empty()),
        requires: attr(attrs, "requires")
            .map(|r| {
                r.split(',')
                    .map(|s| s.trim().to_ascii_lowercase())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        urlsrc,
        default: attr(attrs, "default").is_some_and(|v| truthy(&v)),
        newext: attr(attrs, "newext").map(|e| normalize_ext(&e)),
        newprogid: attr(attrs, "newprogid"),
        targetext: attr(attrs, "targetext").map(|e| normalize_ext(&e)),
    })
}

/// A urlsrc whose placeholders still read `&lt;…&gt;` after XML unescaping was escaped twice by
/// its generator; a real URL never contains those entities, so undoing it is safe.
fn undo_double_escape(urlsrc: &str) -> String {
    if !(urlsrc.contains("&lt;") || urlsrc.contains("&gt;")) {
        return urlsrc.to_owned();
    }
    urlsrc
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn truthy(v: &str) -> bool {
    let v = v.trim();
    v.eq_ignore_ascii_case("true") || v == "1"
}

/// All attributes of a tag, unescaped, as (local name, value).
fn attributes(e: &BytesStart<'_>) -> Result<Vec<(String, String)>, quick_xml::Error> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a?;
        let key = a.key.local_name().as_ref().to_owned();
        let value: Cow<'_, str> = a.normalized_value(XmlVersion::Implicit1_0)?;
        out.push((key, value.into_owned()));
    }
    Ok(out)
}

fn attr(attrs: &[(String, String)], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OFFICE: &str = include_str!("../tests/fixtures/discovery/office.xml");
    const COLLABORA: &str = include_str!("../tests/fixtures/discovery/collabora.xml");
    const ONLYOFFICE: &str = include_str!("../tests/fixtures/discovery/onlyoffice.xml");
    const VALIDATOR: &str = include_str!("../tests/fixtures/discovery/validator.xml");

    fn parse(xml: &str) -> Discovery {
        match Discovery::parse(xml.as_bytes()) {
            Ok(d) => d,
            Err(e) => panic!("fixture does not parse: {e}"),
        }
    }

    fn names(found: &[ActionRef<'_>]) -> Vec<String> {
        found.iter().map(|r| r.action.name.clone()).collect()
    }

    #[test]
    fn office_prefers_external_https() {
        let d = parse(OFFICE);
        assert_eq!(d.zones.len(), 2);
        assert_eq!(d.zones[0].name, "internal-https");
        let edit = d.action("docx", "edit").expect("docx edit");
        assert_eq!(edit.zone, "external-https");
        assert_eq!(edit.app.name, "Word");
        assert!(edit.app.check_license);
        assert_eq!(edit.action.requires, ["locks", "cobalt", "update"]);
        assert!(
            edit.action
                .urlsrc
                .starts_with("https://office.example.com/we/wordeditorframe.aspx?<ui=UI_LLCC&>")
        );
        assert_eq!(
            d.favicon(".DOCX"),
            Some("https://office.example.com/wv/resources/1033/FavIcon_Word.ico")
        );
        let view = d.action("docx", "VIEW").expect("docx view");
        assert!(view.action.default);
        assert_eq!(
            names(&d.actions("docx")),
            ["view", "embedview", "mobileView", "edit", "editnew"]
        );
    }

    #[test]
    fn office_convert_progid_and_validator_app() {
        let d = parse(OFFICE);
        let convert = d.action("doc", "convert").expect("doc convert");
        assert_eq!(convert.action.targetext.as_deref(), Some("docx"));
        assert_eq!(convert.action.requires, ["update"]);
        let onenote = d
            .zones
            .iter()
            .flat_map(|z| &z.apps)
            .find(|a| a.name == "OneNote")
            .expect("OneNote app");
        assert_eq!(
            onenote.actions[0].progid.as_deref(),
            Some("OneNote.Notebook")
        );
        assert_eq!(onenote.actions[0].ext, "");
        assert!(d.action("one", "view").is_some());
        let getinfo = d.action("wopitest", "getinfo").expect("getinfo");
        assert!(
            getinfo
                .action
                .urlsrc
                .ends_with("<testcategory=VALIDATOR_TEST_CATEGORY>")
        );
        assert_eq!(d.capabilities_url(), None);
        let key = d.proof_key.as_ref().expect("proof key");
        assert!(key.value.is_some() && key.old_modulus.is_some());
    }

    #[test]
    fn office_extension_sets() {
        let d = parse(OFFICE);
        let set = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
        assert_eq!(
            d.extensions_with("edit"),
            set(&["docx", "ods", "odt", "pptx", "xlsx"])
        );
        assert_eq!(d.extensions_with("editnew"), set(&["docx", "pptx", "xlsx"]));
        assert_eq!(
            d.extensions_with("view"),
            set(&[
                "csv", "doc", "docx", "odt", "ods", "one", "ppt", "pptx", "wopitest", "xls", "xlsx"
            ])
        );
    }

    #[test]
    fn collabora_named_and_mime_apps() {
        let d = parse(COLLABORA);
        assert_eq!(d.zones.len(), 1);
        assert_eq!(d.zones[0].name, "external-http");
        let edit = d.action("odt", "edit").expect("odt edit");
        assert_eq!(edit.app.name, "writer");
        assert_eq!(
            edit.action.urlsrc,
            "https://collabora.example.com/browser/2a9d4b8f3e/cool.html?"
        );
        assert_eq!(
            d.favicon("xlsx"),
            Some(
                "https://collabora.example.com/browser/2a9d4b8f3e/images/x-office-spreadsheet.svg"
            )
        );
        // odg only has a MIME-typed app with ext="": found through the MIME fallback.
        let odg = d.action("odg", "edit").expect("odg through its MIME type");
        assert_eq!(odg.app.name, "application/vnd.oasis.opendocument.graphics");
        assert_eq!(d.favicon("odg"), None);
        // A MIME app with a real ext works like any other.
        assert!(d.action("vsd", "view").is_some());
        assert!(d.action("vsd", "edit").is_none());
        assert_eq!(
            d.capabilities_url(),
            Some("https://collabora.example.com/hosting/capabilities")
        );
        assert!(d.extensions_with("edit").contains("odg"));
        assert!(d.extensions_with("edit").contains("docx"));
        assert!(!d.extensions_with("edit").contains("sxw"));
        assert!(d.extensions_with("editnew").is_empty());
        // No action is ever found for an empty extension, though MIME apps publish ext="".
        assert!(d.actions("").is_empty());
        assert!(d.actions(".").is_empty());
    }

    #[test]
    fn onlyoffice_actions() {
        let d = parse(ONLYOFFICE);
        assert_eq!(d.zones[0].name, "external-http");
        let edit = d.action("docx", "edit").expect("docx edit");
        assert_eq!(edit.app.name, "Word");
        assert!(edit.action.default);
        assert!(edit.action.urlsrc.contains("<wopisrc=WOPI_SOURCE&>"));
        assert_eq!(
            names(&d.actions("xlsx")),
            [
                "view",
                "embedview",
                "mobileView",
                "editnew",
                "edit",
                "mobileEdit"
            ]
        );
        assert_eq!(
            d.action("ods", "convert")
                .and_then(|c| c.action.targetext.clone())
                .as_deref(),
            Some("xlsx")
        );
        assert!(d.action("pdf", "view").is_some());
        assert!(d.action("pdf", "edit").is_none());
        assert!(d.extensions_with("editnew").contains("odp"));
        assert_eq!(
            d.capabilities_url(),
            Some("https://docs.example.com/hosting/capabilities")
        );
        let key = d.proof_key.as_ref().expect("proof key");
        assert_ne!(key.modulus, key.old_modulus);
    }

    #[test]
    fn validator_document() {
        let d = parse(VALIDATOR);
        let view = d.action("wopitest", "view").expect("view");
        assert_eq!(view.app.name, "WopiTest");
        assert!(!view.app.check_license);
        assert_eq!(view.action.urlsrc, "https://localhost/wopitest/view?");
        assert_eq!(
            d.action("wopitest", "edit")
                .map(|e| e.action.requires.clone()),
            Some(vec!["locks".to_owned(), "update".to_owned()])
        );
        let key = d.proof_key.as_ref().expect("proof key");
        assert!(key.modulus.is_some() && key.old_modulus.is_some());
    }

    #[test]
    fn proof_key_old_element_fills_a_missing_old_key() {
        let xml = r#"<wopi-discovery><net-zone name="external-https"/>
            <proof-key-old value="OV" modulus="OM" exponent="OE"/>
            <proof-key value="V" modulus="M" exponent="E"/></wopi-discovery>"#;
        let d = parse(xml);
        let key = d.proof_key.expect("proof key");
        assert_eq!(key.modulus.as_deref(), Some("M"));
        assert_eq!(key.old_value.as_deref(), Some("OV"));
        assert_eq!(key.old_modulus.as_deref(), Some("OM"));
        assert_eq!(key.old_exponent.as_deref(), Some("OE"));
    }

    #[test]
    fn tolerated_oddities() {
        // Namespaces, unknown elements, apps outside a zone, double-escaped urlsrc, a BOM.
        let xml = "\u{feff}<?xml version=\"1.0\"?><w:wopi-discovery xmlns:w=\"urn:x\">\
            <future-element a=\"b\"><app name=\"ignored\"/></future-element>\
            <w:app name=\"Loose\"><w:action name=\"view\" ext=\".TXT\" urlsrc=\" https://e/v?&amp;lt;ui=UI_LLCC&amp;amp;&amp;gt; \"/>\
            <action name=\"edit\" ext=\"txt\"/></w:app></w:wopi-discovery>";
        let d = parse(xml);
        let view = d.action("txt", "view").expect("view");
        assert_eq!(view.zone, "");
        assert_eq!(view.action.urlsrc, "https://e/v?<ui=UI_LLCC&>");
        assert!(d.action("txt", "edit").is_none(), "no urlsrc: dropped");
    }

    #[test]
    fn rejects_what_cannot_be_discovery() {
        let cases: &[&[u8]] = &[
            b"",
            b"<html><body>Sign in</body></html>",
            b"<wopi-discovery><net-zone name=\"a\">",
            b"<wopi-discovery></net-zone>",
            b"<wopi-discovery><app name=\"&bogus;\"/></wopi-discovery>",
            b"<wopi-discovery><app name=\"\xff\"/></wopi-discovery>",
        ];
        for case in cases {
            assert!(
                Discovery::parse(case).is_err(),
                "accepted {:?}",
                String::from_utf8_lossy(case)
            );
        }
        assert!(matches!(
            Discovery::parse(b"<html/>"),
            Err(DiscoveryError::NotDiscovery)
        ));
        assert!(matches!(
            Discovery::parse(b"<wopi-discovery><net-zone>"),
            Err(DiscoveryError::Truncated)
        ));
    }

    fn fixture() -> impl Strategy<Value = &'static str> {
        prop_oneof![
            Just(OFFICE),
            Just(COLLABORA),
            Just(ONLYOFFICE),
            Just(VALIDATOR)
        ]
    }

    proptest! {
        #[test]
        fn never_panics_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Discovery::parse(&bytes);
        }

        #[test]
        fn never_panics_on_mutated_documents(
            doc in fixture(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut bytes = doc.as_bytes().to_vec();
            for (at, byte, op) in edits {
                let i = at.index(bytes.len() + 1);
                match op {
                    0 if i < bytes.len() => bytes[i] = byte,
                    1 => bytes.insert(i, byte),
                    _ if i < bytes.len() => { bytes.remove(i); }
                    _ => {}
                }
            }
            if truncate {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            if let Ok(d) = Discovery::parse(&bytes) {
                // Lookups on whatever survived must not panic either.
                for ext in ["docx", "xlsx", "odt", "odg", "wopitest", ""] {
                    let _ = d.actions(ext);
                    let _ = d.action(ext, "edit");
                    let _ = d.favicon(ext);
                }
                let _ = d.extensions_with("view");
                let _ = d.capabilities_url();
            }
        }
    }
}
