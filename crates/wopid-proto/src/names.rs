//! File names: what a valid name is, how a suggested name is made valid, how names are split into
//! stem and extension, and how PutRelativeFile / RenameFile targets are read from their headers.

use crate::error::ProtoError;
use crate::utf7;

/// Longest file name wopid stores, in characters, extension included.
pub const MAX_NAME_CHARS: usize = 255;

/// Characters never allowed in a name: path separators, the characters Windows and Office for
/// iOS/Android refuse, and `%` (clients mis-decode it).
const FORBIDDEN: &[char] = &[
    '\\', '/', ':', '*', '?', '"', '<', '>', '|', '#', '{', '}', '^', '[', ']', '`', '%',
];

/// Why a name holds an invisible character that changes how it reads.
const HIDDEN_REASON: &str =
    "name contains an invisible formatting character (such as a bidirectional override)";

/// Invisible characters that are never allowed in a name: the Unicode format characters
/// (category Cf: bidirectional embeddings, overrides and isolates, zero-width spaces, the byte
/// order mark, invisible operators, tags, …) and the other default-ignorable characters that
/// render as nothing (Hangul fillers, the combining grapheme joiner). A name holding one can
/// display as something else (`invoice\u{202E}fdp.exe` shows as `invoiceexe.pdf`), or look
/// like another name. The two join controls are handled apart, see [`misplaced_joiner`].
/// Variation selectors stay allowed: emoji need them.
pub fn is_hidden(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// The zero-width non-joiner and joiner: invisible, but part of how Persian, Indic scripts and
/// emoji sequences are written.
fn is_joiner(c: char) -> bool {
    matches!(c, '\u{200C}' | '\u{200D}')
}

/// A character a join control may stand next to: a visible one that is not a dot.
fn joinable(c: char) -> bool {
    !(c.is_whitespace() || c.is_control() || c == '.' || is_hidden(c) || is_joiner(c))
}

/// Whether `s` has a join control that joins nothing: at either end, or next to a space, a dot,
/// another invisible character or another join control. Only one between two visible
/// characters is allowed.
fn misplaced_joiner(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    chars.iter().enumerate().any(|(i, &c)| {
        is_joiner(c)
            && !(i > 0 && joinable(chars[i - 1]) && chars.get(i + 1).is_some_and(|&n| joinable(n)))
    })
}

/// Whether `s` holds an invisible character that is not allowed (see [`is_hidden`]).
pub fn has_hidden(s: &str) -> bool {
    s.chars().any(is_hidden) || misplaced_joiner(s)
}

/// Removes what [`has_hidden`] refuses: every hidden character, then every join control that
/// is left joining nothing.
fn strip_hidden(s: &str) -> String {
    let mut out: String = s.chars().filter(|&c| !is_hidden(c)).collect();
    // Dropping one misplaced joiner never misplaces another, since its neighbours stay; loop
    // anyway, bounded by the number of joiners.
    while misplaced_joiner(&out) {
        let chars: Vec<char> = out.chars().collect();
        out = chars
            .iter()
            .enumerate()
            .filter(|&(i, &c)| {
                !is_joiner(c)
                    || (i > 0
                        && joinable(chars[i - 1])
                        && chars.get(i + 1).is_some_and(|&n| joinable(n)))
            })
            .map(|(_, &c)| c)
            .collect();
    }
    out
}

/// Why a user's sign-in name or display name is not valid.
pub fn invalid_user_name_reason(name: &str) -> Option<&'static str> {
    if name.trim().is_empty() {
        return Some("name is empty");
    }
    if name.len() > 256 {
        return Some("name is longer than 256 bytes");
    }
    if name.chars().any(char::is_control) {
        return Some("name contains a control character");
    }
    if has_hidden(name) {
        return Some(HIDDEN_REASON);
    }
    None
}

/// Why a name is not valid; the text goes into `X-WOPI-InvalidFileNameError`.
pub fn invalid_reason(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("name is empty");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Some("name is longer than 255 characters");
    }
    if name.chars().any(|c| c.is_control()) {
        return Some("name contains a control character");
    }
    if has_hidden(name) {
        return Some(HIDDEN_REASON);
    }
    if name.chars().any(|c| FORBIDDEN.contains(&c)) {
        return Some("name contains one of \\ / : * ? \" < > | # { } ^ [ ] ` %");
    }
    if name.starts_with('.') {
        return Some("name starts with a dot");
    }
    if name.ends_with('.') || name.ends_with(' ') || name.starts_with(' ') {
        return Some("name starts or ends with a space or ends with a dot");
    }
    None
}

/// Splits `report.final.docx` into (`report.final`, `.docx`). A name without a dot, or whose only
/// dot is the first character, has no extension.
pub fn split_ext(name: &str) -> (&str, &str) {
    match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    }
}

/// Makes any string into a valid name, keeping its extension: invisible formatting characters
/// go, forbidden and control characters become `-`, surrounding spaces and dots go, an empty
/// stem becomes `file`, and the stem is shortened until the whole name fits.
pub fn sanitize(name: &str) -> String {
    let clean: String = strip_hidden(name)
        .chars()
        .map(|c| {
            if c.is_control() || FORBIDDEN.contains(&c) {
                '-'
            } else {
                c
            }
        })
        .collect();
    let (stem, ext) = split_ext(&clean);
    // Extensions are kept short; cutting one must not leave it ending in a space or dot.
    let ext: String = ext.chars().take(32).collect();
    let ext = ext.trim_end_matches(['.', ' ', '\u{200C}', '\u{200D}']);
    let ext = if ext.len() <= 1 {
        String::new()
    } else {
        ext.to_owned()
    };

    let stem = stem.trim_matches([' ', '.']);
    let stem = if stem.is_empty() { "file" } else { stem };
    fit(stem, &ext, "")
}

/// `stem + suffix + ext`, with the stem shortened so the result is at most `MAX_NAME_CHARS`.
pub fn fit(stem: &str, ext: &str, suffix: &str) -> String {
    let room = MAX_NAME_CHARS
        .saturating_sub(ext.chars().count() + suffix.chars().count())
        .max(1);
    let stem: String = stem.chars().take(room).collect();
    // A cut can leave a join control at the end, with nothing to join.
    let stem = stem.trim_end_matches([' ', '.', '\u{200C}', '\u{200D}']);
    format!("{stem}{suffix}{ext}")
}

/// The `n`-th alternative of a name that is taken: `report (2).docx`.
pub fn numbered(name: &str, n: u32) -> String {
    let (stem, ext) = split_ext(name);
    fit(stem, ext, &format!(" ({n})"))
}

/// Where PutRelativeFile (and CreateChildFile) should put the new file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RelativeTarget {
    /// `X-WOPI-SuggestedTarget`: adjust freely, never fail. Already resolved against the source name.
    Suggested(String),
    /// `X-WOPI-RelativeTarget`: use exactly, or fail.
    Exact { name: String, overwrite: bool },
}

/// The target headers of PutRelativeFile as read, before an extension-only suggestion is
/// resolved against the source file's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetRequest {
    /// `X-WOPI-SuggestedTarget`, decoded: a full name, or an extension (`.docx`) that keeps the
    /// source's stem.
    Suggested(String),
    /// `X-WOPI-RelativeTarget`, decoded and valid, with `X-WOPI-OverwriteRelativeTarget`.
    Exact { name: String, overwrite: bool },
}

impl TargetRequest {
    /// Reads the target headers of PutRelativeFile. Both headers, or neither, is a bad request; an
    /// invalid exact name is `InvalidFileName`; an overwrite flag that is not a boolean is a bad
    /// request.
    pub fn parse(
        suggested: Option<&[u8]>,
        relative: Option<&[u8]>,
        overwrite: Option<&[u8]>,
    ) -> Result<Self, ProtoError> {
        match (suggested, relative) {
            (Some(_), Some(_)) => Err(ProtoError::BadRequest(
                "both X-WOPI-SuggestedTarget and X-WOPI-RelativeTarget",
            )),
            (None, None) => Err(ProtoError::BadRequest(
                "neither X-WOPI-SuggestedTarget nor X-WOPI-RelativeTarget",
            )),
            (Some(s), None) => utf7::decode(s)
                .map(Self::Suggested)
                .map_err(|_| ProtoError::BadRequest("X-WOPI-SuggestedTarget is not valid UTF-7")),
            (None, Some(r)) => {
                let name = utf7::decode(r).map_err(|_| {
                    ProtoError::InvalidFileName("X-WOPI-RelativeTarget is not valid UTF-7")
                })?;
                if let Some(why) = invalid_reason(&name) {
                    return Err(ProtoError::InvalidFileName(why));
                }
                let overwrite = match overwrite {
                    None => false,
                    Some(v) => parse_bool(v).ok_or(ProtoError::BadRequest(
                        "X-WOPI-OverwriteRelativeTarget is not a boolean",
                    ))?,
                };
                Ok(Self::Exact { name, overwrite })
            }
        }
    }

    /// The target for a source file named `source_name`: an extension-only suggestion keeps the
    /// source's stem, and a suggestion is made valid.
    pub fn resolve(self, source_name: &str) -> RelativeTarget {
        match self {
            Self::Suggested(s) => {
                let name = if s.starts_with('.') {
                    format!("{}{}", split_ext(source_name).0, s)
                } else {
                    s
                };
                RelativeTarget::Suggested(sanitize(&name))
            }
            Self::Exact { name, overwrite } => RelativeTarget::Exact { name, overwrite },
        }
    }
}

/// Reads the target headers of PutRelativeFile. `source_name` resolves an extension-only suggestion.
/// Both headers, or neither, is a bad request.
pub fn relative_target(
    suggested: Option<&[u8]>,
    relative: Option<&[u8]>,
    overwrite: Option<&[u8]>,
    source_name: &str,
) -> Result<RelativeTarget, ProtoError> {
    TargetRequest::parse(suggested, relative, overwrite).map(|t| t.resolve(source_name))
}

/// The new name of a file renamed by a person: the typed name when it ends in the file's current
/// extension (in any case), otherwise the typed name with the current extension added, so a
/// rename never changes a file's type: `Q3.docx` typed as `Q3 final` or `Q3 final.txt` becomes
/// `Q3 final.docx` or `Q3 final.txt.docx`. A file without an extension takes the name as typed.
pub fn keeping_ext(typed: &str, current_name: &str) -> String {
    let ext = split_ext(current_name).1;
    let typed_ext = split_ext(typed).1;
    if ext.is_empty() || typed_ext.eq_ignore_ascii_case(ext) {
        typed.to_owned()
    } else {
        format!("{typed}{ext}")
    }
}

/// Reads `X-WOPI-RequestedName` of RenameFile: the new name without its extension, decoded.
pub fn requested_stem(requested: Option<&[u8]>) -> Result<String, ProtoError> {
    let raw = requested.ok_or(ProtoError::InvalidFileName(
        "X-WOPI-RequestedName is missing",
    ))?;
    utf7::decode(raw)
        .map_err(|_| ProtoError::InvalidFileName("X-WOPI-RequestedName is not valid UTF-7"))
}

/// The full new name of RenameFile: the requested stem with the file's current extension.
pub fn renamed(stem: &str, current_name: &str) -> Result<String, ProtoError> {
    let ext = split_ext(current_name).1;
    let name = format!("{stem}{ext}");
    match invalid_reason(&name) {
        Some(why) => Err(ProtoError::InvalidFileName(why)),
        None => Ok(name),
    }
}

/// Reads `X-WOPI-RequestedName` of RenameFile (a name without extension) and returns the full new
/// name with the file's current extension.
pub fn rename_target(requested: Option<&[u8]>, current_name: &str) -> Result<String, ProtoError> {
    renamed(&requested_stem(requested)?, current_name)
}

/// How many names [`free_name_candidates`] offers: the name and 999 numbered variants.
pub const NAME_ATTEMPTS: u32 = 1000;

/// The names to try, in order, when `name` may be taken: `name`, `name (2)`, `name (3)`… up to
/// `name (1000)`, each shortened to fit. The caller takes the first its store accepts.
pub fn free_name_candidates(name: &str) -> impl Iterator<Item = String> + '_ {
    (1..=NAME_ATTEMPTS).map(move |n| {
        if n == 1 {
            name.to_owned()
        } else {
            numbered(name, n)
        }
    })
}

/// The first candidate of [`free_name_candidates`] that `taken` refuses; `None` when all are.
pub fn first_free(name: &str, mut taken: impl FnMut(&str) -> bool) -> Option<String> {
    free_name_candidates(name).find(|c| !taken(c))
}

/// Boolean header values: `true`/`false` in any case (.NET sends `True`).
pub fn parse_bool(raw: &[u8]) -> Option<bool> {
    let s = std::str::from_utf8(raw).ok()?.trim();
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_rename_keeps_the_extension() {
        assert_eq!(keeping_ext("Q3 final", "Q3.docx"), "Q3 final.docx");
        assert_eq!(keeping_ext("Q3 final.DOCX", "Q3.docx"), "Q3 final.DOCX");
        assert_eq!(keeping_ext("Q3 final.txt", "Q3.docx"), "Q3 final.txt.docx");
        assert_eq!(keeping_ext("v1.2", "notes.md"), "v1.2.md");
        assert_eq!(keeping_ext("readme.txt", "README"), "readme.txt");
    }

    #[test]
    fn validity() {
        for ok in [
            "a.docx",
            "madeup_name.wopitestx",
            "~tilde.txt",
            "Ünïcødé 文件.odt",
            "noext",
        ] {
            assert_eq!(invalid_reason(ok), None, "{ok}");
        }
        for bad in [
            "",
            ".docx",
            "a/b.docx",
            "a\\b",
            "..",
            "x\0y",
            "a:b",
            "trail.",
            " lead",
            &"x".repeat(256),
        ] {
            assert!(invalid_reason(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn suggested_and_exact_targets() {
        let t = relative_target(Some(b".wopitestx"), None, None, "test.wopitest").ok();
        assert_eq!(t, Some(RelativeTarget::Suggested("test.wopitestx".into())));
        let t = relative_target(Some(b"madeup+AF8-name.wopitestx"), None, None, "x.y").ok();
        assert_eq!(
            t,
            Some(RelativeTarget::Suggested("madeup_name.wopitestx".into()))
        );
        let t = relative_target(Some(b"a/b.docx"), None, None, "x.y").ok();
        assert_eq!(t, Some(RelativeTarget::Suggested("a-b.docx".into())));
        let t = relative_target(None, Some(b"n.docx"), Some(b"True"), "x.y").ok();
        assert_eq!(
            t,
            Some(RelativeTarget::Exact {
                name: "n.docx".into(),
                overwrite: true
            })
        );
        assert!(matches!(
            relative_target(None, Some(b"a/b"), None, "x"),
            Err(ProtoError::InvalidFileName(_))
        ));
        assert!(matches!(
            relative_target(Some(b"a"), Some(b"b"), None, "x"),
            Err(ProtoError::BadRequest(_))
        ));
        assert!(matches!(
            relative_target(None, None, None, "x"),
            Err(ProtoError::BadRequest(_))
        ));
        assert!(matches!(
            relative_target(None, Some(b"n.docx"), Some(b"maybe"), "x"),
            Err(ProtoError::BadRequest(_))
        ));
    }

    #[test]
    fn rename_keeps_extension() {
        assert_eq!(
            rename_target(Some(b"madeup+AF8-renamed"), "a.wopitest")
                .ok()
                .as_deref(),
            Some("madeup_renamed.wopitest")
        );
        assert!(rename_target(Some(b"a/b"), "a.docx").is_err());
        assert!(rename_target(None, "a.docx").is_err());
        assert!(rename_target(Some(b""), "a.docx").is_err());
    }

    #[test]
    fn numbering_and_fitting() {
        assert_eq!(numbered("a.docx", 2), "a (2).docx");
        assert_eq!(numbered("noext", 3), "noext (3)");
        let long = "x".repeat(600) + ".docx";
        assert_eq!(sanitize(&long).chars().count(), MAX_NAME_CHARS);
        assert!(sanitize(&long).ends_with(".docx"));
        assert_eq!(sanitize(".docx"), "docx");
        assert_eq!(sanitize(" . "), "file");
    }

    #[test]
    fn split_target_parse_matches_the_one_step_parse() {
        assert_eq!(
            TargetRequest::parse(Some(b".wopitestx"), None, Some(b"maybe")),
            Ok(TargetRequest::Suggested(".wopitestx".into()))
        );
        assert_eq!(
            TargetRequest::parse(None, Some(b"n.docx"), Some(b"false")),
            Ok(TargetRequest::Exact {
                name: "n.docx".into(),
                overwrite: false
            })
        );
        assert_eq!(
            TargetRequest::parse(None, Some(b"+AGEA-"), None),
            Err(ProtoError::InvalidFileName(
                "X-WOPI-RelativeTarget is not valid UTF-7"
            ))
        );
        assert_eq!(
            TargetRequest::parse(Some(b"+AGEA-"), None, None),
            Err(ProtoError::BadRequest(
                "X-WOPI-SuggestedTarget is not valid UTF-7"
            ))
        );
        assert_eq!(
            TargetRequest::Suggested(".pdf".into()).resolve("report.final.docx"),
            RelativeTarget::Suggested("report.final.pdf".into())
        );
        assert_eq!(requested_stem(Some(b"a+AF8-b")), Ok("a_b".into()));
        assert_eq!(renamed("a_b", "x.docx"), Ok("a_b.docx".into()));
        assert_eq!(
            renamed("", "x.docx"),
            Err(ProtoError::InvalidFileName("name starts with a dot"))
        );
    }

    #[test]
    fn free_names() {
        let all: Vec<String> = free_name_candidates("a.docx").collect();
        assert_eq!(all.len(), NAME_ATTEMPTS as usize);
        assert_eq!(all[0], "a.docx");
        assert_eq!(all[1], "a (2).docx");
        assert_eq!(all[999], "a (1000).docx");
        let taken = ["a.docx", "a (2).docx"];
        assert_eq!(
            first_free("a.docx", |c| taken.contains(&c)).as_deref(),
            Some("a (3).docx")
        );
        assert_eq!(first_free("a", |_| false).as_deref(), Some("a"));
        assert_eq!(first_free("a", |_| true), None);
    }

    #[test]
    fn invisible_formatting_is_refused() {
        for bad in [
            "invoice\u{202E}fdp.exe",
            "a\u{202A}b.docx",
            "\u{2066}x\u{2069}.docx",
            "a\u{200B}b.docx",
            "\u{FEFF}a.docx",
            "a\u{00AD}b.docx",
            "a\u{2060}.docx",
            "\u{3164}.docx",
            "a\u{E0041}.docx",
            "\u{200D}a.docx",
            "a\u{200C}",
            "a \u{200C}b.docx",
            "a\u{200C}\u{200D}b.docx",
            "a\u{200D}.docx",
        ] {
            assert_eq!(invalid_reason(bad), Some(HIDDEN_REASON), "{bad:?}");
            assert_eq!(
                invalid_user_name_reason(bad),
                Some(HIDDEN_REASON),
                "{bad:?}"
            );
        }
        // Join controls inside a word, as Persian and emoji sequences use them, stay allowed.
        for ok in [
            "\u{0645}\u{06CC}\u{200C}\u{062E}\u{0648}\u{0627}\u{0647}\u{0645}.docx",
            "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}.odt",
            "\u{2764}\u{FE0F} notes.txt",
        ] {
            assert_eq!(invalid_reason(ok), None, "{ok:?}");
        }
        // A suggested name is cleaned rather than refused.
        assert_eq!(sanitize("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(sanitize("\u{202E}\u{200B}.docx"), "docx");
        assert_eq!(sanitize("\u{200D}a\u{200D}.docx"), "a.docx");
        let t = relative_target(Some(b"a+IC4-b.docx"), None, None, "x.y").ok();
        assert_eq!(t, Some(RelativeTarget::Suggested("ab.docx".into())));
        assert!(matches!(
            relative_target(None, Some(b"a+IC4-b.docx"), None, "x"),
            Err(ProtoError::InvalidFileName(HIDDEN_REASON))
        ));
        assert!(matches!(
            rename_target(Some(b"a+IC4-b"), "x.docx"),
            Err(ProtoError::InvalidFileName(HIDDEN_REASON))
        ));
        assert_eq!(invalid_user_name_reason("Ana Lima"), None);
        assert!(invalid_user_name_reason(" ").is_some());
    }

    /// Names with a good share of invisible characters and join controls in them.
    fn tricky_name() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => "\\PC{1,4}",
            1 => Just("\u{200C}".to_owned()),
            1 => Just("\u{200D}".to_owned()),
            1 => Just("\u{202E}".to_owned()),
            1 => Just("\u{2066}".to_owned()),
            1 => Just("\u{FEFF}".to_owned()),
            1 => Just("\u{E0041}".to_owned()),
            1 => Just(".".to_owned()),
            1 => Just(" ".to_owned()),
        ];
        proptest::collection::vec(piece, 0..80).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn candidates_are_distinct_and_valid(s in "\\PC{0,300}") {
            let name = sanitize(&s);
            let all: Vec<String> = free_name_candidates(&name).take(50).collect();
            let distinct: std::collections::HashSet<&String> = all.iter().collect();
            prop_assert_eq!(distinct.len(), all.len());
            for c in &all {
                prop_assert_eq!(invalid_reason(c), None, "{:?}", c);
            }
        }

        #[test]
        fn sanitize_removes_every_hidden_character(s in tricky_name()) {
            let n = sanitize(&s);
            prop_assert_eq!(invalid_reason(&n), None, "{:?} -> {:?}", s, n);
            prop_assert!(!has_hidden(&n));
            prop_assert_eq!(invalid_reason(&numbered(&n, 12)), None);
        }

        #[test]
        fn valid_names_hold_no_hidden_character(s in tricky_name()) {
            if invalid_reason(&s).is_none() {
                prop_assert!(!s.chars().any(is_hidden), "{:?}", s);
            }
            if has_hidden(&s) {
                prop_assert!(invalid_reason(&s).is_some());
                prop_assert!(invalid_user_name_reason(&s).is_some());
            }
        }

        #[test]
        fn sanitize_always_valid(s in "\\PC{0,300}") {
            let n = sanitize(&s);
            prop_assert_eq!(invalid_reason(&n), None, "{:?} -> {:?}", s, n);
            prop_assert_eq!(invalid_reason(&numbered(&n, 7)), None);
        }

        #[test]
        fn target_parsers_never_panic(a in proptest::collection::vec(any::<u8>(), 0..80), b in proptest::collection::vec(any::<u8>(), 0..80)) {
            let _ = relative_target(Some(&a), None, Some(&b), "x.docx");
            let _ = relative_target(None, Some(&a), Some(&b), "x.docx");
            let _ = rename_target(Some(&a), "x.docx");
            let _ = parse_bool(&b);
        }
    }
}
