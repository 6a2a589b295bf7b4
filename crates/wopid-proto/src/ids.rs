//! Ids of files, containers and users: 1 to 128 characters of `A-Z a-z 0-9 - _`, the shape
//! every id wopid mints has and the only shape a `/wopi/...` path may carry.
//!
//! Parsing is the only way to make one from untrusted text, so an id in hand is safe to put into
//! a URL, a log line or a storage key.

/// Longest id accepted.
pub const MAX_ID_LEN: usize = 128;

/// Whether `id` has the shape of a wopid id.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The reason `TryFrom<String>` and `FromStr` give for a malformed id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an id: 1 to 128 characters of A-Z a-z 0-9 - _")]
pub struct InvalidId;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The id in `s`, if `s` has the shape of an id.
            pub fn parse(s: &str) -> Option<Self> {
                valid_id(s).then(|| Self(s.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidId;
            fn from_str(s: &str) -> Result<Self, InvalidId> {
                Self::parse(s).ok_or(InvalidId)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidId;
            fn try_from(s: String) -> Result<Self, InvalidId> {
                if valid_id(&s) { Ok(Self(s)) } else { Err(InvalidId) }
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type!(
    /// A file's id (`/wopi/files/ID`).
    FileId
);
id_type!(
    /// A container's id (`/wopi/containers/ID`, and `/wopi/folders/ID` of the legacy endpoint).
    ContainerId
);
id_type!(
    /// A user's id (not the login name).
    UserId
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shapes() {
        for ok in ["a", "AbC123", "x-y_z", &"a".repeat(128)] {
            assert!(FileId::parse(ok).is_some(), "{ok}");
            assert!(ContainerId::parse(ok).is_some(), "{ok}");
            assert!(UserId::parse(ok).is_some(), "{ok}");
        }
        for bad in ["", "a.b", "a/b", "a b", "é", "a%2f", &"a".repeat(129)] {
            assert_eq!(FileId::parse(bad), None, "{bad:?}");
            assert_eq!(bad.parse::<ContainerId>(), Err(InvalidId), "{bad:?}");
            assert_eq!(UserId::try_from(bad.to_owned()), Err(InvalidId), "{bad:?}");
        }
        let id = FileId::parse("abc").unwrap_or_else(|| unreachable!());
        assert_eq!(id.to_string(), "abc");
        assert_eq!(format!("{id:?}"), "FileId(\"abc\")");
        assert_eq!(id, "abc");
        assert_eq!(String::from(id), "abc");
    }

    proptest! {
        #[test]
        fn parse_agrees_with_the_rule_and_round_trips(s in "\\PC{0,140}") {
            let parsed = FileId::parse(&s);
            prop_assert_eq!(parsed.is_some(), valid_id(&s));
            if let Some(id) = parsed {
                prop_assert_eq!(id.as_str(), s.as_str());
                prop_assert_eq!(id.to_string().parse::<FileId>(), Ok(id));
            }
        }

        #[test]
        fn minted_shapes_parse(s in "[A-Za-z0-9_-]{1,128}") {
            prop_assert!(UserId::try_from(s.clone()).is_ok());
            prop_assert!(ContainerId::parse(&s).is_some());
        }
    }
}
