//! PostgreSQL COPY text: one row at a time into a buffer ([`Row`]), and the
//! buffers handed on in ~1 MiB chunks ([`Sink`]).
use std::io::Write as _;

use uuid::Uuid;

use crate::rng::Rng;

/// Appends one row of COPY text format.
pub struct Row<'a> {
    buf: &'a mut Vec<u8>,
    first: bool,
}

pub const HEX: &[u8; 16] = b"0123456789abcdef";

impl<'a> Row<'a> {
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        Self { buf, first: true }
    }

    pub fn sep(&mut self) -> &mut Vec<u8> {
        if !self.first {
            self.buf.push(b'\t');
        }
        self.first = false;
        self.buf
    }

    /// Text with COPY's escapes (the generated text needs none, but be safe).
    pub fn text(&mut self, s: &str) -> &mut Self {
        let buf = self.sep();
        for &b in s.as_bytes() {
            match b {
                b'\\' => buf.extend_from_slice(b"\\\\"),
                b'\t' => buf.extend_from_slice(b"\\t"),
                b'\n' => buf.extend_from_slice(b"\\n"),
                b'\r' => buf.extend_from_slice(b"\\r"),
                _ => buf.push(b),
            }
        }
        self
    }

    /// A value written as is (numbers, literals without special characters).
    pub fn raw(&mut self, s: &str) -> &mut Self {
        self.sep().extend_from_slice(s.as_bytes());
        self
    }

    pub fn int(&mut self, n: i64) -> &mut Self {
        let buf = self.sep();
        let _ = write!(buf, "{n}");
        self
    }

    pub fn float(&mut self, x: f64) -> &mut Self {
        let buf = self.sep();
        let _ = write!(buf, "{x:.6}");
        self
    }

    pub fn bool(&mut self, b: bool) -> &mut Self {
        self.raw(if b { "t" } else { "f" })
    }

    pub fn null(&mut self) -> &mut Self {
        self.raw("\\N")
    }

    pub fn uuid(&mut self, u: Uuid) -> &mut Self {
        let mut s = [0u8; 36];
        let s = u.hyphenated().encode_lower(&mut s);
        self.sep().extend_from_slice(s.as_bytes());
        self
    }

    pub fn opt_uuid(&mut self, u: Option<Uuid>) -> &mut Self {
        match u {
            Some(u) => self.uuid(u),
            None => self.null(),
        }
    }

    /// bytea in hex form (`\x…`, its backslash escaped for COPY).
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        let buf = self.sep();
        buf.extend_from_slice(b"\\\\x");
        push_hex(buf, b);
        self
    }

    /// `len` random bytes as bytea: ciphertexts and hashes of the real sizes.
    pub fn random_bytes(&mut self, r: &mut Rng, len: usize) -> &mut Self {
        let mut b = [0u8; 128];
        r.fill(&mut b[..len]);
        self.bytes(&b[..len])
    }

    /// A bytea[] literal; each element `"\\x…"` (escaped for the array
    /// parser, then for COPY).
    pub fn bytes_array(&mut self, items: &[&[u8]]) -> &mut Self {
        let buf = self.sep();
        buf.push(b'{');
        for (i, b) in items.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(b"\"\\\\\\\\x");
            push_hex(buf, b);
            buf.push(b'"');
        }
        buf.push(b'}');
        self
    }

    /// A text[] (or uuid[]) literal with every element quoted.
    pub fn array<S: AsRef<str>>(&mut self, items: &[S]) -> &mut Self {
        let buf = self.sep();
        buf.push(b'{');
        for (i, s) in items.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            buf.push(b'"');
            buf.extend_from_slice(s.as_ref().as_bytes());
            buf.push(b'"');
        }
        buf.push(b'}');
        self
    }

    /// A timestamptz from Unix seconds.
    pub fn ts(&mut self, secs: i64) -> &mut Self {
        let buf = self.sep();
        push_timestamp(buf, secs);
        self
    }

    pub fn opt_ts(&mut self, secs: Option<i64>) -> &mut Self {
        match secs {
            Some(s) => self.ts(s),
            None => self.null(),
        }
    }

    /// A date from Unix seconds.
    pub fn date(&mut self, secs: i64) -> &mut Self {
        let (y, m, d) = civil(secs.div_euclid(86_400));
        let buf = self.sep();
        let _ = write!(buf, "{y:04}-{m:02}-{d:02}");
        self
    }

    pub fn end(&mut self) {
        self.buf.push(b'\n');
    }
}

pub fn push_hex(buf: &mut Vec<u8>, b: &[u8]) {
    for &x in b {
        buf.push(HEX[usize::from(x >> 4)]);
        buf.push(HEX[usize::from(x & 15)]);
    }
}

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub fn push_timestamp(buf: &mut Vec<u8>, secs: i64) {
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let _ = write!(
        buf,
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}+00",
        s / 3600,
        s / 60 % 60,
        s % 60
    );
}

/// Where generated rows go: one buffer per table, sent in ~1 MiB chunks to
/// that table's COPY stream by `send` (false when the COPY side has gone
/// away).
pub struct Sink {
    buf: Vec<u8>,
    send: Box<dyn FnMut(Vec<u8>) -> bool + Send>,
}

impl Sink {
    const CHUNK: usize = 1 << 20;

    pub fn new(send: Box<dyn FnMut(Vec<u8>) -> bool + Send>) -> Self {
        Self {
            buf: Vec::with_capacity(Self::CHUNK + 8192),
            send,
        }
    }

    pub fn row(&mut self) -> Row<'_> {
        Row::new(&mut self.buf)
    }

    /// Sends the buffer when full; false when the COPY side has gone away.
    pub fn flush_if_full(&mut self) -> bool {
        if self.buf.len() < Self::CHUNK {
            return true;
        }
        self.flush()
    }

    pub fn flush(&mut self) -> bool {
        if self.buf.is_empty() {
            return true;
        }
        let full = std::mem::replace(&mut self.buf, Vec::with_capacity(Self::CHUNK + 8192));
        (self.send)(full)
    }
}
