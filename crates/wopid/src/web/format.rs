//! How the file list shows things: sizes ("36 KB"), times ("3 minutes ago" and the exact time),
//! an icon per type, and the Office desktop apps' URI scheme.

/// A size as people read it: bytes below 1 KB, else KB, MB, GB, TB (powers of 1024), with one
/// decimal below 10.
pub(super) fn size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if value < 10.0 && (value * 10.0).round() % 10.0 != 0.0 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{:.0} {}", value.round(), UNITS[unit])
    }
}

fn utc(ms: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// The exact time, for a tooltip: `2026-11-29 13:55 UTC`.
pub(super) fn exact(ms: i64) -> String {
    let t = utc(ms);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// The machine-readable time of `<time datetime>`.
pub(super) fn datetime(ms: i64) -> String {
    let t = utc(ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// How long ago `ms` was at `now`: "just now", "3 minutes ago", "2 hours ago", "yesterday",
/// "5 days ago", then the date.
pub(super) fn ago(ms: i64, now: i64) -> String {
    let secs = (now - ms).max(0) / 1000;
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match secs {
        0..=44 => "just now".to_owned(),
        45..=3599 => plural((secs / 60).max(1), "minute"),
        3600..=86_399 => plural(secs / 3600, "hour"),
        86_400..=172_799 => "yesterday".to_owned(),
        172_800..=2_591_999 => plural(secs / 86_400, "day"),
        _ => exact(ms)[..10].to_owned(),
    }
}

/// The icon of a file's type (a symbol of the page's sprite).
pub(super) fn icon(ext: &str) -> &'static str {
    match ext {
        "docx" | "doc" | "docm" | "dotx" | "odt" | "ott" | "rtf" | "txt" | "md" => "doc",
        "xlsx" | "xls" | "xlsm" | "xltx" | "xlsb" | "ods" | "ots" | "csv" => "sheet",
        "pptx" | "ppt" | "pptm" | "potx" | "ppsx" | "odp" | "otp" => "slides",
        "pdf" => "pdf",
        "png" | "jpg" | "jpeg" | "gif" | "svg" | "webp" | "bmp" | "tif" | "tiff" => "image",
        "zip" | "gz" | "tgz" | "tar" | "7z" | "rar" | "xz" | "bz2" => "archive",
        _ => "file",
    }
}

/// The Office desktop app that opens an extension (its URI scheme), if any.
pub(super) fn office_scheme(ext: &str) -> Option<&'static str> {
    match ext {
        "docx" | "doc" | "docm" | "dotx" | "dot" | "rtf" => Some("ms-word"),
        "xlsx" | "xls" | "xlsm" | "xlsb" | "xltx" => Some("ms-excel"),
        "pptx" | "ppt" | "pptm" | "ppsx" | "potx" => Some("ms-powerpoint"),
        _ => None,
    }
}

/// "Open in desktop app": `ms-word:ofe|u|<WopiSrc>` (`ofv` for a file the user may only view).
/// The app signs in through the bootstrapper and hands the URL to GetFileWopiSrc, which
/// resolves a WopiSrc of this host to the file with a token of the user's own access.
pub(super) fn office_uri(scheme: &str, host_url: &str, edit: bool) -> String {
    let mode = if edit { "ofe" } else { "ofv" };
    format!("{scheme}:{mode}|u|{host_url}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1024), "1 KB");
        assert_eq!(size(1536), "1.5 KB");
        assert_eq!(size(36_636), "36 KB");
        assert_eq!(size(2 * 1024 * 1024), "2 MB");
        assert_eq!(size(20 * 1024 * 1024), "20 MB");
        assert_eq!(size(5 * 1024 * 1024 * 1024 + 1), "5 GB");
    }

    #[test]
    fn times() {
        let now = 1_800_000_000_000;
        assert_eq!(ago(now - 10_000, now), "just now");
        assert_eq!(ago(now - 60_000, now), "1 minute ago");
        assert_eq!(ago(now - 3 * 60_000, now), "3 minutes ago");
        assert_eq!(ago(now - 2 * 3_600_000, now), "2 hours ago");
        assert_eq!(ago(now - 30 * 3_600_000, now), "yesterday");
        assert_eq!(ago(now - 5 * 86_400_000, now), "5 days ago");
        assert_eq!(ago(now - 90 * 86_400_000, now), "2026-10-17");
        assert_eq!(ago(now + 5_000, now), "just now");
        assert_eq!(exact(now), "2027-01-15 08:00 UTC");
        assert_eq!(datetime(now), "2027-01-15T08:00:00Z");
    }

    #[test]
    fn office() {
        assert_eq!(office_scheme("docx"), Some("ms-word"));
        assert_eq!(office_scheme("odt"), None);
        assert_eq!(
            office_uri("ms-excel", "https://h/files/1/edit", true),
            "ms-excel:ofe|u|https://h/files/1/edit"
        );
    }
}
