//! Action URLs: turning a discovery `urlsrc` template into the URL the host page posts to.
//!
//! Templates carry optional groups `<name=PLACEHOLDER&>` (`online/discovery.rst`, "Transforming
//! the urlsrc parameter"): a placeholder wopid knows and has a value for becomes `name=value&`
//! (the `&` kept when the group has one); a placeholder it does not know, or knows but has no
//! value for, removes the whole group. `WOPI_SOURCE` is always filled; templates from before it
//! existed get `WOPISrc=` appended. Values are percent-encoded exactly once, and the access token
//! never goes here: the host page POSTs it.

/// The UI language Office falls back to, and wopid with it.
pub const DEFAULT_UI_LLCC: &str = "en-US";

/// The values wopid can put into an action URL. Unset values remove their groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    /// The WOPISrc of the file (`https://host/wopi/files/<id>`), not yet encoded.
    pub wopi_src: String,
    /// `UI_LLCC`: UI language, e.g. from [`ui_llcc_from_accept_language`].
    pub ui_llcc: Option<String>,
    /// `DC_LLCC`: data-calculation language; when unset, `UI_LLCC` is used, as Office does.
    pub dc_llcc: Option<String>,
    /// `BUSINESS_USER`: must be `1` on every action for business users, or the group is removed.
    pub business_user: bool,
    /// `SESSION_CONTEXT`: echoed back by the editor in `X-WOPI-SessionContext`.
    pub session_context: Option<String>,
    /// `HOST_SESSION_ID`: lets editor-side logs be matched with wopid's.
    pub host_session_id: Option<String>,
    /// `DISABLE_CHAT`: `1` turns off in-document chat.
    pub disable_chat: bool,
    /// `VALIDATOR_TEST_CATEGORY`: `All`, `OfficeOnline` or `OfficeNativeClient`.
    pub validator_test_category: Option<String>,
    /// `THEME_ID`: the editor's light or dark look (ONLYOFFICE honours it).
    pub theme: Option<Theme>,
}

/// `THEME_ID` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    /// `THEME_ID=1`.
    Light,
    /// `THEME_ID=2`.
    Dark,
}

impl Params {
    /// Parameters that fill only `WOPI_SOURCE`.
    pub fn new(wopi_src: impl Into<String>) -> Self {
        Self {
            wopi_src: wopi_src.into(),
            ..Self::default()
        }
    }

    /// The value for a placeholder, or `None` to remove its group.
    fn value(&self, placeholder: &str) -> Option<String> {
        let flag = |on: bool| on.then(|| "1".to_owned());
        match placeholder.to_ascii_uppercase().as_str() {
            "WOPI_SOURCE" => Some(self.wopi_src.clone()),
            "UI_LLCC" => self.ui_llcc.clone(),
            "DC_LLCC" => self.dc_llcc.clone().or_else(|| self.ui_llcc.clone()),
            "BUSINESS_USER" => flag(self.business_user),
            "SESSION_CONTEXT" => self.session_context.clone(),
            "HOST_SESSION_ID" => self.host_session_id.clone(),
            "DISABLE_CHAT" => flag(self.disable_chat),
            "VALIDATOR_TEST_CATEGORY" => self.validator_test_category.clone(),
            "THEME_ID" => self.theme.map(|t| match t {
                Theme::Light => "1".to_owned(),
                Theme::Dark => "2".to_owned(),
            }),
            // PERFSTATS, EMBEDDED, FULLSCREEN, RECORDING, … and whatever comes next.
            _ => None,
        }
        .filter(|v| !v.is_empty())
    }
}

/// Expands a `urlsrc` template into an action URL. Never fails: whatever the template, the
/// result has no `<` or `>`, exactly one WOPISrc parameter, and no empty query segments.
pub fn expand(urlsrc: &str, params: &Params) -> String {
    let mut out = String::with_capacity(urlsrc.len() + params.wopi_src.len() * 3);
    let mut wopi_src_done = false;
    let mut rest = urlsrc;
    while let Some(open) = rest.find(['<', '>']) {
        push_literal(&mut out, &rest[..open]);
        let after = &rest[open + 1..];
        if rest[open..].starts_with('>') {
            // A stray `>` is dropped.
            rest = after;
            continue;
        }
        let Some(close) = after.find('>') else {
            // An unterminated group is an optional parameter cut short: drop it.
            rest = "";
            break;
        };
        let group = &after[..close];
        rest = &after[close + 1..];
        let Some((name, placeholder, amp)) = parse_group(group) else {
            continue;
        };
        let is_source = placeholder.eq_ignore_ascii_case("WOPI_SOURCE");
        if is_source && wopi_src_done {
            continue;
        }
        if let Some(value) = params.value(placeholder) {
            out.push_str(name);
            out.push('=');
            out.push_str(&encode(&value));
            if amp {
                out.push('&');
            }
            wopi_src_done |= is_source;
        }
    }
    push_literal(&mut out, rest);
    tidy(&out, (!wopi_src_done).then(|| encode(&params.wopi_src)))
}

/// Literal template text, minus whitespace (pretty-printed discovery wraps long templates, and a
/// URL never contains raw whitespace).
fn push_literal(out: &mut String, literal: &str) {
    out.extend(literal.chars().filter(|c| !c.is_whitespace()));
}

/// `name=PLACEHOLDER` with an optional trailing `&`; anything else is not a group.
fn parse_group(group: &str) -> Option<(&str, &str, bool)> {
    let group = group.trim();
    let (body, amp) = match group.strip_suffix('&') {
        Some(body) => (body, true),
        None => (group, false),
    };
    let (name, placeholder) = body.split_once('=')?;
    let (name, placeholder) = (name.trim(), placeholder.trim());
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes().all(|b| {
                b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'&' | b'=' | b'?' | b'#')
            })
    };
    (plain(name) && plain(placeholder)).then_some((name, placeholder, amp))
}

/// Drops empty query segments (dangling `&`, `?&`, a bare trailing `?`) and appends WOPISrc
/// when the template had no `WOPI_SOURCE` group.
fn tidy(url: &str, append_wopi_src: Option<String>) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut segments: Vec<&str> = query.split('&').filter(|s| !s.is_empty()).collect();
    let appended;
    if let Some(encoded) = append_wopi_src {
        appended = format!("WOPISrc={encoded}");
        segments.push(&appended);
    }
    if segments.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", segments.join("&"))
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a value can never end a
/// parameter or the URL early, and decodes the same way in every editor.
pub fn encode(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

/// Locale IDs of `online/tables/languages.csv`, the languages Office for the web offers.
const OFFICE_LOCALES: &[&str] = &[
    "af-ZA",
    "am-ET",
    "ar-SA",
    "as-IN",
    "az-Latn-AZ",
    "be-BY",
    "bg-BG",
    "bn-BD",
    "bn-IN",
    "bs-Latn-BA",
    "ca-ES",
    "ca-ES-valencia",
    "chr-Cher-US",
    "cs-CZ",
    "cy-GB",
    "da-DK",
    "de-DE",
    "el-GR",
    "en-GB",
    "en-US",
    "es-ES",
    "es-MX",
    "et-EE",
    "eu-ES",
    "fa-IR",
    "fi-FI",
    "fil-PH",
    "fr-CA",
    "fr-FR",
    "ga-IE",
    "gd-GB",
    "gl-ES",
    "gu-IN",
    "ha-Latn-NG",
    "he-IL",
    "hi-IN",
    "hr-HR",
    "hu-HU",
    "hy-AM",
    "id-ID",
    "is-IS",
    "it-IT",
    "ja-JP",
    "ka-GE",
    "kk-KZ",
    "km-KH",
    "kn-IN",
    "kok-IN",
    "ko-KR",
    "ky-KG",
    "lb-LU",
    "lo-LA",
    "lt-LT",
    "lv-LV",
    "mi-NZ",
    "mk-MK",
    "ml-IN",
    "mn-MN",
    "mr-IN",
    "ms-MY",
    "mt-MT",
    "nb-NO",
    "ne-NP",
    "nl-NL",
    "nn-NO",
    "or-IN",
    "pa-IN",
    "pl-PL",
    "prs-AF",
    "pt-BR",
    "pt-PT",
    "quz-PE",
    "ro-RO",
    "ru-RU",
    "sd-Arab-PK",
    "si-LK",
    "sk-SK",
    "sl-SI",
    "sq-AL",
    "sr-Cyrl-BA",
    "sr-Cyrl-RS",
    "sr-Latn-RS",
    "sv-SE",
    "sw-KE",
    "ta-IN",
    "te-IN",
    "th-TH",
    "tk-TM",
    "tr-TR",
    "tt-RU",
    "ug-CN",
    "uk-UA",
    "ur-PK",
    "uz-Latn-UZ",
    "vi-VN",
    "zh-CN",
    "zh-TW",
];

/// The `UI_LLCC` for a browser's `Accept-Language` header: the best-rated well-formed tag
/// (q-values honoured, ties in header order), in canonical case (`en-us` → `en-US`). A bare
/// language becomes Office's locale for it (`de` → `de-DE`, `en` → `en-US`). No usable tag:
/// [`DEFAULT_UI_LLCC`].
pub fn ui_llcc_from_accept_language(header: Option<&str>) -> String {
    let mut best: Option<(u16, String)> = None;
    for item in header.unwrap_or_default().split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let mut q = Some(1000);
        for param in parts {
            if let Some((k, v)) = param.split_once('=')
                && k.trim().eq_ignore_ascii_case("q")
            {
                q = parse_q(v.trim());
            }
        }
        let (Some(q), Some(tag)) = (q, canonical_tag(tag)) else {
            continue;
        };
        if q > 0 && best.as_ref().is_none_or(|(bq, _)| q > *bq) {
            best = Some((q, tag));
        }
    }
    match best {
        Some((_, tag)) => office_locale(tag),
        None => DEFAULT_UI_LLCC.to_owned(),
    }
}

/// An RFC 7231 qvalue in thousandths; `None` when malformed (the entry is then ignored).
fn parse_q(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_value = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    match int {
        "0" => Some(frac_value),
        "1" if frac_value == 0 => Some(1000),
        _ => None,
    }
}

/// A well-formed language tag in canonical case, or `None` (including for `*`).
fn canonical_tag(tag: &str) -> Option<String> {
    let mut subtags = tag.split(['-', '_']);
    let lang = subtags.next()?;
    if !(2..=8).contains(&lang.len()) || !lang.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let mut out = lang.to_ascii_lowercase();
    for (i, sub) in subtags.enumerate() {
        if sub.is_empty() || sub.len() > 8 || !sub.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        out.push('-');
        if sub.len() == 2 || (sub.len() == 3 && sub.bytes().all(|b| b.is_ascii_digit())) {
            out.push_str(&sub.to_ascii_uppercase());
        } else if sub.len() == 4 && i == 0 {
            let mut chars = sub.chars();
            out.extend(chars.next().map(|c| c.to_ascii_uppercase()));
            out.push_str(&chars.as_str().to_ascii_lowercase());
        } else {
            out.push_str(&sub.to_ascii_lowercase());
        }
    }
    Some(out)
}

/// Office's own spelling of a tag when it has one; a bare language goes to its main locale.
fn office_locale(tag: String) -> String {
    if let Some(known) = OFFICE_LOCALES.iter().find(|l| l.eq_ignore_ascii_case(&tag)) {
        return (*known).to_owned();
    }
    if tag.contains('-') {
        return tag;
    }
    if tag == "en" {
        return DEFAULT_UI_LLCC.to_owned();
    }
    let region = |l: &&&str| {
        l.split_once('-')
            .is_some_and(|(lang, region)| lang == tag && region.eq_ignore_ascii_case(&tag))
    };
    let any = |l: &&&str| l.split('-').next() == Some(tag.as_str());
    OFFICE_LOCALES
        .iter()
        .find(region)
        .or_else(|| OFFICE_LOCALES.iter().find(any))
        .map_or(tag.clone(), |l| (*l).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SRC: &str = "https://wopid.example.com/wopi/files/Ab3_x-9";
    const SRC_ENC: &str = "https%3A%2F%2Fwopid.example.com%2Fwopi%2Ffiles%2FAb3_x-9";

    fn full() -> Params {
        Params {
            wopi_src: SRC.to_owned(),
            ui_llcc: Some("de-DE".to_owned()),
            dc_llcc: None,
            business_user: true,
            session_context: Some("a b&c".to_owned()),
            host_session_id: Some("hs-1".to_owned()),
            disable_chat: true,
            validator_test_category: Some("OfficeOnline".to_owned()),
            theme: Some(Theme::Dark),
        }
    }

    #[test]
    fn real_templates() {
        let oo_end = "&<rs=DC_LLCC&><dchat=DISABLE_CHAT&><embed=EMBEDDED&><fs=FULLSCREEN&>\
            <hid=HOST_SESSION_ID&><rec=RECORDING&><sc=SESSION_CONTEXT&><thm=THEME_ID&>\
            <ui=UI_LLCC&><wopisrc=WOPI_SOURCE&>&";
        let office_edit = "https://office.example.com/we/wordeditorframe.aspx?<ui=UI_LLCC&>\
            <rs=DC_LLCC&><dchat=DISABLE_CHAT&><hid=HOST_SESSION_ID&><sc=SESSION_CONTEXT&>\
            <wopisrc=WOPI_SOURCE&><showpagestats=PERFSTATS&><IsLicensedUser=BUSINESS_USER&>\
            <actnavid=ACTIVITY_NAVIGATION_ID&>";
        let office_new = "https://office.example.com/we/wordeditorframe.aspx?new=1&<ui=UI_LLCC&>\
            <rs=DC_LLCC&><wopisrc=WOPI_SOURCE&>";
        let wopitest = "https://office.example.com/hosting/WopiTestFrame.aspx?<ui=UI_LLCC&>\
            <wopisrc=WOPI_SOURCE&><testcategory=VALIDATOR_TEST_CATEGORY>";
        let plain = Params::new(SRC);
        let full = full();
        let table: Vec<(String, &Params, String)> = vec![
            (
                office_edit.to_owned(),
                &plain,
                format!("https://office.example.com/we/wordeditorframe.aspx?wopisrc={SRC_ENC}"),
            ),
            (
                office_edit.to_owned(),
                &full,
                format!(
                    "https://office.example.com/we/wordeditorframe.aspx?ui=de-DE&rs=de-DE&dchat=1\
                     &hid=hs-1&sc=a%20b%26c&wopisrc={SRC_ENC}&IsLicensedUser=1"
                ),
            ),
            (
                office_new.to_owned(),
                &plain,
                format!(
                    "https://office.example.com/we/wordeditorframe.aspx?new=1&wopisrc={SRC_ENC}"
                ),
            ),
            (
                wopitest.to_owned(),
                &full,
                format!(
                    "https://office.example.com/hosting/WopiTestFrame.aspx?ui=de-DE\
                     &wopisrc={SRC_ENC}&testcategory=OfficeOnline"
                ),
            ),
            (
                format!("https://docs.example.com/hosting/wopi/word/edit?{oo_end}"),
                &plain,
                format!("https://docs.example.com/hosting/wopi/word/edit?wopisrc={SRC_ENC}"),
            ),
            (
                format!("https://docs.example.com/hosting/wopi/word/view?embed=1{oo_end}"),
                &full,
                format!(
                    "https://docs.example.com/hosting/wopi/word/view?embed=1&rs=de-DE&dchat=1\
                     &hid=hs-1&sc=a%20b%26c&thm=2&ui=de-DE&wopisrc={SRC_ENC}"
                ),
            ),
            (
                "https://collabora.example.com/browser/2a9d4b8f3e/cool.html?".to_owned(),
                &full,
                format!(
                    "https://collabora.example.com/browser/2a9d4b8f3e/cool.html?WOPISrc={SRC_ENC}"
                ),
            ),
            (
                "https://localhost/wopitest/view?".to_owned(),
                &plain,
                format!("https://localhost/wopitest/view?WOPISrc={SRC_ENC}"),
            ),
            (
                "https://legacy.example.com/view.aspx".to_owned(),
                &plain,
                format!("https://legacy.example.com/view.aspx?WOPISrc={SRC_ENC}"),
            ),
            (
                "https://legacy.example.com/view.aspx?a=1&<ui=UI_LLCC&>".to_owned(),
                &plain,
                format!("https://legacy.example.com/view.aspx?a=1&WOPISrc={SRC_ENC}"),
            ),
        ];
        for (template, params, want) in table {
            assert_eq!(expand(&template, params), want, "template {template}");
        }
    }

    #[test]
    fn malformed_templates() {
        let p = Params::new("s");
        let table = [
            ("https://e/v?<ui=UI_LLCC", "https://e/v?WOPISrc=s"),
            ("https://e/v?x=1&>y=2", "https://e/v?x=1&y=2&WOPISrc=s"),
            ("https://e/v?<a=<b=WOPI_SOURCE&>&>", "https://e/v?WOPISrc=s"),
            (
                "https://e/v?<noplaceholder&><=UI_LLCC&>",
                "https://e/v?WOPISrc=s",
            ),
            (
                "https://e/v?<a=WOPI_SOURCE&><b=WOPI_SOURCE&>",
                "https://e/v?a=s",
            ),
            ("https://e/v?\n  <src=wopi_source>", "https://e/v?src=s"),
            ("", "?WOPISrc=s"),
        ];
        for (template, want) in table {
            assert_eq!(expand(template, &p), want, "template {template:?}");
        }
    }

    #[test]
    fn values_are_encoded_once() {
        let p = Params {
            wopi_src: "https://h/wopi/files/a%2Fb c".to_owned(),
            ..Params::default()
        };
        assert_eq!(
            expand("https://e/v?<w=WOPI_SOURCE&>", &p),
            "https://e/v?w=https%3A%2F%2Fh%2Fwopi%2Ffiles%2Fa%252Fb%20c"
        );
        assert_eq!(encode("é"), "%C3%A9");
    }

    #[test]
    fn accept_language() {
        let table = [
            (None, "en-US"),
            (Some(""), "en-US"),
            (Some("*"), "en-US"),
            (Some("en-us"), "en-US"),
            (
                Some("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5"),
                "fr-CH",
            ),
            (Some("de;q=0.7, nl;q=0.9"), "nl-NL"),
            (Some("de"), "de-DE"),
            (Some("en"), "en-US"),
            (Some("en-GB,en;q=0.9"), "en-GB"),
            (Some("es-mx"), "es-MX"),
            (Some("pt"), "pt-PT"),
            (Some("zh-hant-tw"), "zh-Hant-TW"),
            (Some("sr-latn-rs"), "sr-Latn-RS"),
            (Some("es-419"), "es-419"),
            (Some("ca-es-valencia"), "ca-ES-valencia"),
            (Some("xx"), "xx"),
            (Some("fr;q=0, de"), "de-DE"),
            (Some("fr;q=2, de;q=0.1"), "de-DE"),
            (Some("fr;q=0.5, it;q=0.5"), "fr-FR"),
            (Some("<script>, en-US"), "en-US"),
            (Some("e1, d-, ;q=1"), "en-US"),
        ];
        for (header, want) in table {
            assert_eq!(ui_llcc_from_accept_language(header), want, "{header:?}");
        }
    }

    fn template() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            "[a-z0-9/:.?&=%-]{0,12}",
            "<[a-z]{1,6}=(UI_LLCC|DC_LLCC|WOPI_SOURCE|BUSINESS_USER|PERFSTATS|THEME_ID|X_Y)&?>",
            "[<>&?= ]{1,3}",
            "\\PC{0,4}",
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
    }

    fn decode(s: &str) -> Option<String> {
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).ok()
    }

    proptest! {
        #[test]
        fn expansion_invariants(
            t in template(),
            id in "\\PC{1,30}",
            ui in proptest::option::of("[a-z]{2}-[A-Z]{2}"),
            business in any::<bool>(),
        ) {
            prop_assume!(!t.to_ascii_lowercase().contains("wopisrc"));
            // A distinctive WOPISrc: its encoded form cannot come from the template.
            let src = format!("https://h/wopi/files/{id}");
            let p = Params { wopi_src: src.clone(), ui_llcc: ui, business_user: business, ..Params::default() };
            let url = expand(&t, &p);
            prop_assert!(!url.contains('<') && !url.contains('>'), "{url}");
            let encoded = encode(&src);
            prop_assert_eq!(url.matches(&encoded).count(), 1, "{}", url);
            prop_assert_eq!(decode(&encoded), Some(src));
            if let Some((_, query)) = url.split_once('?') {
                prop_assert!(!query.is_empty() && !query.contains("&&"), "{url}");
                prop_assert!(!query.starts_with('&') && !query.ends_with('&'), "{url}");
            }
            if !t.to_ascii_uppercase().contains("WOPI_SOURCE") {
                let appended = format!("WOPISrc={encoded}");
                prop_assert!(url.ends_with(&appended), "{url}");
            }
        }

        #[test]
        fn never_panics(t in "\\PC{0,80}", src in "\\PC{0,20}") {
            let url = expand(&t, &Params::new(src));
            prop_assert!(!url.contains('<') && !url.contains('>'));
        }

        #[test]
        fn accept_language_never_panics(h in "\\PC{0,60}") {
            let tag = ui_llcc_from_accept_language(Some(&h));
            prop_assert!(!tag.is_empty() && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
        }
    }
}
