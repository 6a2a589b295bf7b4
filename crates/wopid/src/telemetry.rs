//! Logging: `tracing` to standard error, filtered by `RUST_LOG` (default `info,sqlx=warn`), as
//! text or, with `WOPID_LOG_FORMAT=json`, one JSON object per line. Standard output is kept for
//! what commands print. Text lines are coloured only when standard error is a terminal: a log
//! file or journal gets plain lines, which are also cheaper to write (one per request).
//!
//! Plain text lines are written by [`PlainLine`] and [`PlainFields`], which give the very lines of
//! tracing-subscriber's default format without its colour machinery: every request opens a span
//! and logs a line, and painting each part with an empty style, then formatting the time and each
//! field through `write!`, was most of the request log's cost. Coloured lines, and the rarer
//! fields (the message, `r#` names, errors with their sources), are left to tracing-subscriber's
//! own formatters.

use std::fmt;
use std::io::IsTerminal as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::{MakeVisitor, VisitFmt, VisitOutput};
use tracing_subscriber::fmt::format::{DefaultVisitor, Format, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("WOPID_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder
            .fmt_fields(PlainFields)
            .event_format(PlainLine::default())
            .try_init()
    };
}

/// The fields of spans and events as tracing-subscriber's `DefaultFields` writes them
/// (`name=value`, separated by spaces), written directly when the line has no colours.
#[derive(Debug, Default, Clone, Copy)]
pub struct PlainFields;

impl<'a> MakeVisitor<Writer<'a>> for PlainFields {
    type Visitor = PlainVisitor<'a>;

    fn make_visitor(&self, writer: Writer<'a>) -> PlainVisitor<'a> {
        PlainVisitor {
            writer,
            is_empty: true,
            result: Ok(()),
        }
    }
}

pub struct PlainVisitor<'a> {
    writer: Writer<'a>,
    is_empty: bool,
    result: fmt::Result,
}

impl PlainVisitor<'_> {
    /// Lets tracing-subscriber's own visitor write one field, on the same line.
    fn delegate(&mut self, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        if self.result.is_err() {
            return;
        }
        let mut visitor = DefaultVisitor::new(self.writer.by_ref(), self.is_empty);
        record(&mut visitor);
        self.result = visitor.finish();
        self.is_empty = false;
    }

    /// Whether `name` is written here rather than by tracing-subscriber's visitor.
    fn plain(&self, name: &str) -> bool {
        !self.writer.has_ansi_escapes() && name != "message" && !name.starts_with("r#")
    }
}

impl Visit for PlainVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.plain(field.name()) {
            self.record_debug(field, &value);
        } else {
            self.delegate(|v| v.record_str(field, value));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.delegate(|v| v.record_error(field, value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if !self.plain(field.name()) {
            return self.delegate(|v| v.record_debug(field, value));
        }
        if self.result.is_err() {
            return;
        }
        let w = &mut self.writer;
        let sep = if std::mem::take(&mut self.is_empty) {
            Ok(())
        } else {
            w.write_char(' ')
        };
        self.result = sep
            .and_then(|()| w.write_str(field.name()))
            .and_then(|()| w.write_char('='))
            .and_then(|()| write!(w, "{value:?}"));
    }
}

impl VisitOutput<fmt::Result> for PlainVisitor<'_> {
    fn finish(self) -> fmt::Result {
        self.result
    }
}

impl VisitFmt for PlainVisitor<'_> {
    fn writer(&mut self) -> &mut dyn fmt::Write {
        &mut self.writer
    }
}

/// A log line as tracing-subscriber's default (`Full`) format writes it without colours:
/// `TIME LEVEL span{fields}:span{fields}: target: fields`.
#[derive(Debug, Default)]
pub struct PlainLine {
    /// For coloured lines, and for a clock outside what RFC 3339 can say.
    full: Format,
}

/// The left-padded level names of tracing-subscriber's format.
fn level(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => " INFO",
        Level::WARN => " WARN",
        Level::ERROR => "ERROR",
    }
}

/// The current time as tracing-subscriber writes it (UTC, microseconds), unless the clock is
/// outside what humantime formats (before 1970 or after 9999).
fn now() -> Option<humantime::Rfc3339Timestamp> {
    // The log's time is the wall clock by definition; the injectable clock is for decisions.
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    let secs = now.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    (secs < 253_402_300_800).then(|| humantime::format_rfc3339_micros(now))
}

impl<S, N> FormatEvent<S, N> for PlainLine
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let time = match now() {
            Some(t) if !writer.has_ansi_escapes() => t,
            _ => return self.full.format_event(ctx, writer, event),
        };
        let meta = event.metadata();
        write!(writer, "{time} ")?;
        writer.write_str(level(meta.level()))?;
        writer.write_char(' ')?;
        if let Some(scope) = ctx.event_scope() {
            let mut seen = false;
            for span in scope.from_root() {
                writer.write_str(span.metadata().name())?;
                seen = true;
                if let Some(fields) = span.extensions().get::<FormattedFields<N>>()
                    && !fields.is_empty()
                {
                    writer.write_char('{')?;
                    writer.write_str(fields)?;
                    writer.write_char('}')?;
                }
                writer.write_char(':')?;
            }
            if seen {
                writer.write_char(' ')?;
            }
        }
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        ctx.format_fields(writer.by_ref(), event)?;
        writer.write_char('\n')
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    use super::*;

    /// Everything written, with the timestamps (the first 27 characters of a line) blanked.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("capture").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Capture {
        type Writer = Capture;
        fn make_writer(&'a self) -> Capture {
            self.clone()
        }
    }

    impl Capture {
        fn lines(&self) -> Vec<String> {
            let bytes = self.0.lock().expect("capture").clone();
            String::from_utf8(bytes)
                .expect("utf-8")
                .lines()
                .map(|l| {
                    // A coloured line starts the time with the dimmed style.
                    let l = l.strip_prefix("\x1b[2m").unwrap_or(l);
                    assert_eq!(l.get(26..27), Some("Z"), "a time in microseconds: {l}");
                    l[27..].to_owned()
                })
                .collect()
        }
    }

    /// Logs what wopid logs: a request span, a field recorded later, events inside it with
    /// Display, Debug, numeric and error fields, a nested span, and events outside any span.
    fn log_a_request() {
        #[derive(Debug)]
        struct Cause;
        impl fmt::Display for Cause {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("disk full")
            }
        }
        impl std::error::Error for Cause {}
        #[derive(Debug)]
        struct Outer(Cause);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("cannot save")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }

        tracing::info!(port = 8080, "listening");
        let span = tracing::info_span!(
            "request",
            method = %"GET",
            route = %"/wopi/{*rest}",
            op = tracing::field::Empty,
            correlation_id = %"",
            session_id = %"s \"1\"",
            request_id = %"abc",
        );
        span.in_scope(|| {
            tracing::Span::current().record("op", "CheckFileInfo");
            tracing::warn!(error = %"storage: \x1b[31m", "a \x1b[0m message");
            let e = Outer(Cause);
            tracing::error!(
                error = &e as &(dyn std::error::Error + 'static),
                "save failed"
            );
            tracing::info_span!("inner", r#type = "x", n = 3_u64).in_scope(|| {
                tracing::debug!(flag = true, bytes = ?b"ab", "inside");
            });
            tracing::info!(status = 200_u16, latency_ms = 0.5_f64, "done");
        });
        tracing::info!("");
        tracing::trace!(r#type = "t", small = 1.5e-7_f64);
    }

    fn lines_of<N, E>(ansi: bool, fields: N, format: E) -> Vec<String>
    where
        N: for<'w> FormatFields<'w> + Send + Sync + 'static,
        E: FormatEvent<tracing_subscriber::Registry, N> + Send + Sync + 'static,
    {
        let capture = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(Level::TRACE)
            .with_ansi(ansi)
            .with_writer(capture.clone())
            .fmt_fields(fields)
            .event_format(format)
            .finish();
        tracing::subscriber::with_default(subscriber, log_a_request);
        capture.lines()
    }

    #[test]
    fn plain_lines_are_tracing_subscribers_default_lines() {
        for ansi in [false, true] {
            let ours = lines_of(ansi, PlainFields, PlainLine::default());
            let theirs = lines_of(
                ansi,
                tracing_subscriber::fmt::format::DefaultFields::new(),
                Format::default(),
            );
            assert_eq!(ours.len(), 7, "{ours:#?}");
            assert_eq!(ours, theirs);
        }
        let plain = lines_of(false, PlainFields, PlainLine::default());
        assert_eq!(
            plain[4],
            "  INFO request{method=GET route=/wopi/{*rest} correlation_id= session_id=s \"1\" \
             request_id=abc op=\"CheckFileInfo\"}: wopid::telemetry::tests: done status=200 \
             latency_ms=0.5"
        );
    }
}
