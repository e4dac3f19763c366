//! The one redacting layer of the logs: every formatted line passes through [`Redactor`] on its
//! way to stderr, which replaces tokens, secrets, phone and ID-card numbers with `[redacted]`.

use std::io::{self, Write};
use std::sync::{OnceLock, RwLock};

use regex::Regex;
use tracing_subscriber::fmt::MakeWriter;

/// What stands in for a value that must not be logged.
pub const REDACTED: &str = "[redacted]";

/// A digit, ASCII or full-width (as a Chinese input method types it).
const DIGIT: &str = "[0-9０-９]";

#[derive(Debug, thiserror::Error)]
#[error("log redaction pattern: {0}")]
pub struct RedactError(#[from] regex::Error);

/// Rewrites log lines so that no secret, token or personal number survives.
pub struct Redactor {
    /// Patterns whose whole match is replaced, with the groups they keep.
    replaced: Vec<(Regex, &'static str)>,
    /// Numbers, replaced only when no digit touches them (not part of a longer number).
    numbers: Vec<Regex>,
    secrets: RwLock<Vec<String>>,
}

impl Redactor {
    pub fn new() -> Result<Self, RedactError> {
        // ANSI colour codes tracing may put between a field's name and its value.
        let ansi = r"(?:\x1b\[[0-9;]*m)*";
        let replaced = vec![
            // Credentials in URLs: postgres://user:password@host, amqp://guest:guest@…
            (
                r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@".to_owned(),
                "${1}[redacted]@",
            ),
            // Authorization header values.
            (
                r"(?i)\b(bearer|basic)(\s+|%20)[A-Za-z0-9._~+/=-]+".to_owned(),
                "${1}${2}[redacted]",
            ),
            // JWTs (their header is base64url JSON, so they begin `eyJ`), whole or cut short.
            (
                r"eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}".to_owned(),
                REDACTED,
            ),
            // `token=…`, `api_key=…`, `secret=…` in query strings and in logged fields.
            (
                format!(
                    r#"(?i)([a-z_]*token|api_?key|secret|password|passwd){ansi}={ansi}(?:"[^"]*"|[^&\s"',;)]+)"#
                ),
                "${1}=[redacted]",
            ),
            // The same as JSON members (the JSON log format).
            (
                r#"(?i)"([a-z_]*token|api_?key|secret|password|passwd)"\s*:\s*"[^"]*""#.to_owned(),
                r#""${1}":"[redacted]""#,
            ),
        ];
        let replaced = replaced
            .into_iter()
            .map(|(pattern, with)| Ok((Regex::new(&pattern)?, with)))
            .collect::<Result<_, regex::Error>>()?;
        let d = DIGIT;
        let numbers = [
            // ID cards (居民身份证): 17 digits and a check digit or X.
            format!("{d}{{17}}[0-9０-９Xx]"),
            // Mobile numbers, with +86 and separators as people write them: 138-0013-8000.
            format!(r"(?:\+?86[- ]?)?[1１][3-9３-９]{d}(?:[- ]?{d}{{4}}){{2}}"),
            // Landlines with their area code: 0898-12345678, (010)12345678.
            format!(r"(?:\(0{d}{{2,3}}\)\s?|0{d}{{2,3}}-){d}{{7,8}}(?:-{d}{{1,6}})?"),
        ]
        .iter()
        .map(|p| Regex::new(p))
        .collect::<Result<_, _>>()?;
        Ok(Self {
            replaced,
            numbers,
            secrets: RwLock::new(Vec::new()),
        })
    }

    /// Also hides `secret` (the token-signing secret) wherever it appears.
    pub fn add_secret(&self, secret: &str) {
        let secret = secret.trim();
        if secret.len() < 8 {
            return;
        }
        let mut secrets = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        if !secrets.iter().any(|s| s == secret) {
            secrets.push(secret.to_owned());
            // Longest first, so that one secret inside another is not half hidden.
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// `line` with everything that must not be logged replaced by `[redacted]`.
    pub fn redact(&self, line: &str) -> String {
        let mut text = line.to_owned();
        for secret in self
            .secrets
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), REDACTED);
            }
        }
        for (re, with) in &self.replaced {
            if re.is_match(&text) {
                text = re.replace_all(&text, *with).into_owned();
            }
        }
        for re in &self.numbers {
            text = replace_isolated(re, &text);
        }
        text
    }
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

/// Replaces the matches of `re` that no digit touches (a number inside a longer one is not a
/// phone number); after a match that is part of a longer number the search goes on from its
/// next character, so a number right after it is still found.
fn replace_isolated(re: &Regex, text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut from) = (0, 0);
    while let Some(m) = re.find_at(text, from) {
        let before = text[..m.start()].chars().next_back();
        let after = text[m.end()..].chars().next();
        let ends_in_letter = m.as_str().ends_with(['X', 'x']);
        let isolated = !before.is_some_and(is_digit)
            && !after.is_some_and(|c| is_digit(c) || (ends_in_letter && c.is_alphanumeric()));
        if isolated {
            out.push_str(&text[copied..m.start()]);
            out.push_str(REDACTED);
            copied = m.end();
            from = m.end();
        } else {
            from = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8);
        }
        if from >= text.len() {
            break;
        }
    }
    out.push_str(&text[copied..]);
    out
}

static GLOBAL: OnceLock<Redactor> = OnceLock::new();

/// The process's redactor, which the log writer uses.
pub fn global() -> Result<&'static Redactor, RedactError> {
    if let Some(r) = GLOBAL.get() {
        return Ok(r);
    }
    let redactor = Redactor::new()?;
    Ok(GLOBAL.get_or_init(|| redactor))
}

/// Keeps `secret` out of the process's logs.
pub fn hide_secret(secret: &str) {
    if let Ok(r) = global() {
        r.add_secret(secret);
    }
}

/// A `MakeWriter` whose writers pass each formatted line through a [`Redactor`].
pub struct RedactingMakeWriter<M> {
    inner: M,
    redactor: &'static Redactor,
}

impl<M> RedactingMakeWriter<M> {
    pub fn new(inner: M, redactor: &'static Redactor) -> Self {
        Self { inner, redactor }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for RedactingMakeWriter<M> {
    type Writer = RedactingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter {
            inner: self.inner.make_writer(),
            redactor: self.redactor,
            buffer: Vec::new(),
        }
    }
}

/// Collects one event's output and writes it redacted, line by line.
pub struct RedactingWriter<W: Write> {
    inner: W,
    redactor: &'static Redactor,
    buffer: Vec<u8>,
}

impl<W: Write> RedactingWriter<W> {
    fn emit(&mut self, upto: usize) -> io::Result<()> {
        let chunk: Vec<u8> = self.buffer.drain(..upto).collect();
        let text = String::from_utf8_lossy(&chunk);
        self.inner
            .write_all(self.redactor.redact(&text).as_bytes())?;
        self.inner.flush()
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        if let Some(last) = self.buffer.iter().rposition(|b| *b == b'\n') {
            self.emit(last + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buffer.is_empty() {
            self.emit(self.buffer.len())?;
        }
        Ok(())
    }
}

impl<W: Write> Drop for RedactingWriter<W> {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor() -> Redactor {
        let r = Redactor::new().unwrap();
        r.add_secret("3f9a0c1d2e4b5a6978c0d1e2f3a4b5c6d7e8f90123456789abcdef0123456789");
        r
    }

    const JWT: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcHBlbGxhbnQiLCJyb2xlIjoiYXBwZWxsYW50In0.Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0";

    #[test]
    fn hides_tokens_links_and_headers() {
        let r = redactor();
        let line = format!(
            "2026-11-23T01:00:00.123456Z  INFO hotline_worker::notifier: notification to=appellant:13800138000 event=replied ticket=20261123-000001 text=您好!您的诉求(工单号 20261123-000001)已办结,请对办理结果进行评价:http://127.0.0.1:8080/rate?ticket=20261123-000001&token={JWT}"
        );
        let out = r.redact(&line);
        assert_eq!(
            out,
            "2026-11-23T01:00:00.123456Z  INFO hotline_worker::notifier: notification to=appellant:[redacted] event=replied ticket=20261123-000001 text=您好!您的诉求(工单号 20261123-000001)已办结,请对办理结果进行评价:http://127.0.0.1:8080/rate?ticket=20261123-000001&token=[redacted]"
        );
        let header = format!("request headers: {{\"authorization\": \"Bearer {JWT}\"}}");
        assert_eq!(
            r.redact(&header),
            "request headers: {\"authorization\": \"Bearer [redacted]\"}"
        );
        // A token logged as a field, in text and JSON formats, and a JWT cut short.
        assert_eq!(
            r.redact(&format!("appellant_token=\"{JWT}\" n=1")),
            "appellant_token=[redacted] n=1"
        );
        assert_eq!(
            r.redact(&format!("{{\"token\":\"{JWT}\",\"n\":1}}")),
            "{\"token\":\"[redacted]\",\"n\":1}"
        );
        assert_eq!(r.redact("token eyJhbGciOi…"), "token [redacted]…");
        assert_eq!(
            r.redact("GET /api/v1/appeals?api_key=abc123&status=received"),
            "GET /api/v1/appeals?api_key=[redacted]&status=received"
        );
        // Colour codes between a field's name and its value.
        assert_eq!(
            r.redact("\x1b[3mtoken\x1b[0m\x1b[2m=\x1b[0mabc.def"),
            "\x1b[3mtoken=[redacted]"
        );
    }

    #[test]
    fn hides_secrets_and_credentials_in_urls() {
        let r = redactor();
        assert_eq!(
            r.redact(
                "secret 3f9a0c1d2e4b5a6978c0d1e2f3a4b5c6d7e8f90123456789abcdef0123456789 loaded"
            ),
            "secret [redacted] loaded"
        );
        assert_eq!(
            r.redact(
                "connecting to amqp://guest:s3cr3t@mq:5672/%2f and postgres://hotline:pw@db/hotline"
            ),
            "connecting to amqp://guest:[redacted]@mq:5672/%2f and postgres://hotline:[redacted]@db/hotline"
        );
        assert_eq!(
            r.redact("HOTLINE_SECRET=abc secret=\"x y\""),
            "HOTLINE_SECRET=[redacted] secret=[redacted]"
        );
    }

    #[test]
    fn hides_phone_and_id_card_numbers() {
        let r = redactor();
        for (line, want) in [
            ("电话13800138000,请回电", "电话[redacted],请回电"),
            ("tel: +86 138-0013-8000.", "tel: [redacted]."),
            ("+8613912345678", "[redacted]"),
            ("手机 139 1234 5678 联系", "手机 [redacted] 联系"),
            ("１３８００１３８０００", "[redacted]"),
            ("座机0898-12345678转", "座机[redacted]转"),
            ("(0755)88888888", "[redacted]"),
            ("身份证号110101199003078515。", "身份证号[redacted]。"),
            ("id 46000019900101123X,", "id [redacted],"),
            ("13800138000,13912345678", "[redacted],[redacted]"),
            ("138 13800138000", "138 [redacted]"),
        ] {
            assert_eq!(r.redact(line), want, "{line}");
        }
    }

    #[test]
    fn leaves_ticket_numbers_ids_and_times_alone() {
        let r = redactor();
        for line in [
            "appeal received appeal=0196d4a2-7c3e-7f21-9b4e-2a1c3d5e7f90 ticket_no=20261123-000001 channel=web",
            "2026-11-23T09:00:00+08:00 due 2026-11-26T09:00:00.000000000Z ms=1385 seq=12",
            "event_id=019a6b2e-1391-7d21-9c4e-5a3b2c1d0e9f traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "took 1763859600123 ns; 12345 hotline; unit GHZRZYJ; 138 rows; GB 32100-2015",
            "at 20261123-013800 and 2026-11-23 13:80:00",
            "hotline is serving on http://127.0.0.1:8080",
        ] {
            assert_eq!(r.redact(line), line);
        }
    }

    #[test]
    fn the_writer_redacts_each_line() {
        let r: &'static Redactor = Box::leak(Box::new(redactor()));
        let mut out = Vec::new();
        {
            let mut w = RedactingWriter {
                inner: &mut out,
                redactor: r,
                buffer: Vec::new(),
            };
            w.write_all(b"to=appellant:1380013").unwrap();
            w.write_all(b"8000\nnext 13912345678").unwrap();
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "to=appellant:[redacted]\nnext [redacted]"
        );
    }
}
