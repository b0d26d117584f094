//! Reading an XLSX workbook ourselves, streaming, within [`Limits`].
//!
//! calamine could not be bounded: it reads the whole shared-string table,
//! copies a shared string into every cell that shows it (200 000 cells of
//! one 32 000-character string asked for gigabytes) and builds a sheet's
//! whole area at once. Here the zip directory is checked before it is read
//! (entry count), each part's declared size before it is inflated, and the
//! inflated bytes are counted as they come (the directory may lie); the XML
//! is read event by event, an event never longer than [`MAX_XML_RUN`] nor
//! nested deeper than [`MAX_DEPTH`]; rows, cells, each cell's length and
//! the text of all cells are counted as the grid is built.
use std::{
    borrow::Cow,
    io::{self, BufRead, BufReader, Cursor, Read},
};

use quick_xml::{
    Reader,
    events::{BytesRef, BytesStart, Event},
};
use zip::ZipArchive;

use super::{
    limits::{Budget, Limits, ReadError, human_bytes},
    read::{Cell, CellKind, Grid, Row, number_text},
};

/// The most bytes between two tag marks (`<`, `>`): one XML event. A real
/// cell of 32 767 characters, escaped, is under 200 KB.
pub const MAX_XML_RUN: usize = 1 << 20;
/// The deepest element nesting read (a worksheet's is about six).
pub const MAX_DEPTH: usize = 64;
/// Excel's own bounds.
const MAX_COLUMNS: u32 = 16_384;
const MAX_ROW_NUMBER: u32 = 1_048_576;
/// Days between the 1900 and the 1904 date systems' day zero.
const DAYS_1900_TO_1904: f64 = 1462.0;

fn invalid(detail: impl std::fmt::Display) -> ReadError {
    ReadError::Invalid(format!("无法读取 Excel 文件：{detail}"))
}

fn unzipped_too_large(limits: &Limits) -> ReadError {
    ReadError::TooLarge(format!(
        "Excel 文件解压后过大（超过{}的上限）；请删除多余内容或把文件拆分后分批导入",
        human_bytes(limits.max_unzipped_bytes)
    ))
}

/// A part being inflated: counts the bytes (all parts of the file together)
/// and the longest run without a tag mark, and stops at either limit.
struct Bounded<R> {
    inner: R,
    used: u64,
    limits: Limits,
    run: usize,
    hit: Option<ReadError>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.used += n as u64;
        if self.used > self.limits.max_unzipped_bytes {
            self.hit = Some(unzipped_too_large(&self.limits));
            return Err(io::Error::other("inflated beyond the limit"));
        }
        for &b in &buf[..n] {
            if b == b'<' || b == b'>' {
                self.run = 0;
            } else {
                self.run += 1;
            }
            if self.run > MAX_XML_RUN {
                self.hit = Some(ReadError::TooLarge(format!(
                    "Excel 文件中有一段内容过长（超过{}）；请检查文件是否损坏",
                    human_bytes(MAX_XML_RUN as u64)
                )));
                return Err(io::Error::other("an XML event beyond the limit"));
            }
        }
        Ok(n)
    }
}

/// Refuses a zip directory with more entries than [`Limits::max_zip_entries`]
/// before the zip library reads it (it keeps every entry in memory).
fn check_directory(body: &[u8], limits: &Limits) -> Result<(), ReadError> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const LOCATOR: &[u8] = b"PK\x06\x07";
    const EOCD64: &[u8] = b"PK\x06\x06";
    if body.len() < 22 {
        return Err(invalid("不是完整的 zip 文件"));
    }
    let last = body.len() - 22;
    let first = last.saturating_sub(65_535);
    let pos = (first..=last)
        .rev()
        .find(|&i| body[i..].starts_with(EOCD))
        .ok_or_else(|| invalid("不是完整的 zip 文件（找不到目录）"))?;
    let mut entries = u64::from(u16::from_le_bytes([body[pos + 10], body[pos + 11]]));
    if pos >= 20 && body[pos - 20..].starts_with(LOCATOR) {
        let at = &body[pos - 12..pos - 4];
        let offset = u64::from_le_bytes(at.try_into().unwrap_or_default());
        let record = usize::try_from(offset)
            .ok()
            .and_then(|o| body.get(o..o.checked_add(40)?))
            .filter(|r| r.starts_with(EOCD64))
            .ok_or_else(|| invalid("zip64 目录无效"))?;
        entries = entries.max(u64::from_le_bytes(
            record[32..40].try_into().unwrap_or_default(),
        ));
    }
    if entries > limits.max_zip_entries as u64 {
        return Err(ReadError::TooLarge(format!(
            "Excel 文件包含的内部文件过多（{entries}个，上限{}个）；请检查文件是否损坏",
            limits.max_zip_entries
        )));
    }
    Ok(())
}

/// The open workbook: its zip, the bytes inflated so far, the limits.
struct Book<'b> {
    zip: ZipArchive<Cursor<&'b [u8]>>,
    names: Vec<String>,
    limits: Limits,
    inflated: u64,
}

impl Book<'_> {
    /// The entry index of a part, its name compared exactly, then ignoring case.
    fn find(&self, name: &str) -> Option<usize> {
        self.names
            .iter()
            .position(|n| n == name)
            .or_else(|| self.names.iter().position(|n| n.eq_ignore_ascii_case(name)))
    }

    /// Reads the part `name` with `f` (None when the workbook has no such
    /// part), within the limits.
    fn with_part<T>(
        &mut self,
        name: &str,
        f: impl FnOnce(
            &mut Reader<BufReader<Bounded<zip::read::ZipFile<'_, Cursor<&[u8]>>>>>,
        ) -> Result<T, ReadError>,
    ) -> Result<Option<T>, ReadError> {
        let Some(index) = self.find(name) else {
            return Ok(None);
        };
        let limits = self.limits;
        let file = self
            .zip
            .by_index(index)
            .map_err(|e| invalid(format!("{name}：{e}")))?;
        if self.inflated.saturating_add(file.size()) > limits.max_unzipped_bytes {
            return Err(unzipped_too_large(&limits));
        }
        let bounded = Bounded {
            inner: file,
            used: self.inflated,
            limits,
            run: 0,
            hit: None,
        };
        let mut reader = Reader::from_reader(BufReader::with_capacity(16 * 1024, bounded));
        reader.config_mut().trim_text(false);
        reader.config_mut().check_end_names = false;
        let result = f(&mut reader);
        let bounded = reader.into_inner().into_inner();
        self.inflated = bounded.used;
        match (result, bounded.hit) {
            (Err(_), Some(hit)) => Err(hit),
            (result, _) => result.map(Some),
        }
    }
}

/// Reads events, keeping the nesting depth within [`MAX_DEPTH`].
struct Events<'r, R> {
    reader: &'r mut Reader<R>,
    buf: Vec<u8>,
    depth: usize,
    part: &'static str,
}

impl<'r, R: BufRead> Events<'r, R> {
    fn new(reader: &'r mut Reader<R>, part: &'static str) -> Self {
        Self {
            reader,
            buf: Vec::new(),
            depth: 0,
            part,
        }
    }

    fn next(&mut self) -> Result<Event<'_>, ReadError> {
        self.buf.clear();
        let event = self
            .reader
            .read_event_into(&mut self.buf)
            .map_err(|e| invalid(format!("{}不是有效的 XML（{e}）", self.part)))?;
        match &event {
            Event::Start(_) => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(invalid(format!("{}的 XML 嵌套过深", self.part)));
                }
            }
            Event::End(_) => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        Ok(event)
    }
}

/// An attribute's value by its local name (`r:id` is "id").
fn attr<'a>(e: &'a BytesStart<'_>, local: &str) -> Option<Cow<'a, str>> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .map(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .unwrap_or(a.value)
        })
}

/// The text of a reference (`&amp;`, `&#x4E2D;`).
fn entity(r: &BytesRef<'_>) -> String {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return c.to_string();
    }
    quick_xml::escape::resolve_predefined_entity(r)
        .map(str::to_owned)
        .unwrap_or_default()
}

/// OOXML's own escapes: `_x000D_` is a carriage return, `_x005F_` an underscore.
fn unescape_ooxml(s: &str) -> Cow<'_, str> {
    if !s.contains("_x") {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("_x") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let decoded = tail
            .get(2..6)
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .filter(|_| tail.as_bytes().get(6) == Some(&b'_'))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok())
            .and_then(char::from_u32);
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[7..];
            }
            None => {
                out.push_str("_x");
                rest = &tail[2..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// A sheet as the workbook lists it.
struct SheetRef {
    name: String,
    rel_id: String,
}

/// `xl/workbook.xml`: the sheets in order, and whether dates count from 1904.
fn parse_workbook<R: BufRead>(
    r: &mut Reader<R>,
    limits: &Limits,
) -> Result<(Vec<SheetRef>, bool), ReadError> {
    let mut events = Events::new(r, "xl/workbook.xml");
    let (mut sheets, mut date1904) = (Vec::new(), false);
    loop {
        match events.next()? {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "sheet" => {
                    if sheets.len() >= limits.max_zip_entries {
                        return Err(invalid("工作表过多"));
                    }
                    sheets.push(SheetRef {
                        name: attr(&e, "name").unwrap_or_default().into_owned(),
                        rel_id: attr(&e, "id").unwrap_or_default().into_owned(),
                    });
                }
                "workbookPr" => {
                    date1904 = matches!(attr(&e, "date1904").as_deref(), Some("1" | "true"));
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    Ok((sheets, date1904))
}

/// A relationship of the workbook.
struct Rel {
    id: String,
    target: String,
    kind: String,
}

/// `xl/_rels/workbook.xml.rels`.
fn parse_rels<R: BufRead>(r: &mut Reader<R>, limits: &Limits) -> Result<Vec<Rel>, ReadError> {
    let mut events = Events::new(r, "xl/_rels/workbook.xml.rels");
    let mut rels = Vec::new();
    loop {
        match events.next()? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                if rels.len() >= limits.max_zip_entries * 2 {
                    return Err(invalid("关系表过大"));
                }
                rels.push(Rel {
                    id: attr(&e, "Id").unwrap_or_default().into_owned(),
                    target: attr(&e, "Target").unwrap_or_default().into_owned(),
                    kind: attr(&e, "Type").unwrap_or_default().into_owned(),
                });
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(rels)
}

/// A relationship's target as a zip entry name (targets are relative to `xl/`).
fn part_name(target: &str) -> String {
    if let Some(abs) = target.strip_prefix('/') {
        return abs.to_owned();
    }
    let mut parts: Vec<&str> = vec!["xl"];
    for p in target.split('/') {
        match p {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// Whether a number format shows a date or time: the built-in ids Excel
/// uses for dates, or a custom code with date or time letters outside
/// quotes and brackets (`[h]:mm`, elapsed time, is not a date).
fn is_date_format(id: u32, code: Option<&str>) -> bool {
    if let Some(code) = code {
        let (mut quoted, mut bracket, mut escaped) = (false, false, false);
        let mut elapsed = false;
        for c in code.chars() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = !quoted,
                '[' if !quoted => bracket = true,
                ']' if !quoted => bracket = false,
                'h' | 'H' | 'm' | 'M' | 's' | 'S' if bracket => elapsed = true,
                'y' | 'Y' | 'm' | 'M' | 'd' | 'D' | 'h' | 'H' | 's' | 'S'
                    if !quoted && !bracket =>
                {
                    return !elapsed;
                }
                _ => {}
            }
        }
        return false;
    }
    matches!(id, 14..=22 | 27..=36 | 45..=47 | 50..=58 | 71..=81)
}

/// `xl/styles.xml`: for each cell style (`s`), whether it shows a date.
fn parse_styles<R: BufRead>(r: &mut Reader<R>) -> Result<Vec<bool>, ReadError> {
    const MAX_STYLES: usize = 65_536;
    let mut events = Events::new(r, "xl/styles.xml");
    let mut formats: Vec<(u32, String)> = Vec::new();
    let mut xfs: Vec<u32> = Vec::new();
    let mut in_cell_xfs = false;
    loop {
        let event = events.next()?;
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "numFmt" if formats.len() < MAX_STYLES => {
                    let id = attr(&e, "numFmtId").and_then(|v| v.parse().ok());
                    if let Some(id) = id {
                        let code = attr(&e, "formatCode").unwrap_or_default().into_owned();
                        formats.push((id, code));
                    }
                }
                "cellXfs" => in_cell_xfs = !empty,
                "xf" if in_cell_xfs => {
                    if xfs.len() >= MAX_STYLES {
                        return Err(invalid("单元格样式过多"));
                    }
                    xfs.push(
                        attr(&e, "numFmtId")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0),
                    );
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == "cellXfs" => in_cell_xfs = false,
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(xfs
        .into_iter()
        .map(|id| {
            let code = formats
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, c)| c.as_str());
            is_date_format(id, code)
        })
        .collect())
}

/// The shared-string table, one string after another in one buffer.
#[derive(Default)]
struct Shared {
    text: String,
    ends: Vec<usize>,
}

impl Shared {
    fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start..end)
    }
}

/// The most bytes one cell's text may take while it is read (a character
/// is at most four bytes).
fn cell_bytes(limits: &Limits) -> usize {
    limits.max_cell_chars * 4
}

/// `xl/sharedStrings.xml`, within the table's limits (the `count` it
/// declares is never used).
fn parse_shared<R: BufRead>(r: &mut Reader<R>, limits: &Limits) -> Result<Shared, ReadError> {
    let too_many = || {
        ReadError::TooLarge(format!(
            "Excel 文件的共享字符串表过大（超过{}条或{}的上限）；请把文件拆分后分批导入",
            limits.max_shared_strings,
            human_bytes(limits.max_shared_string_bytes)
        ))
    };
    let mut events = Events::new(r, "xl/sharedStrings.xml");
    let mut shared = Shared::default();
    let mut current = String::new();
    let (mut in_t, mut phonetic) = (false, 0usize);
    loop {
        let event = events.next()?;
        let piece: Option<Cow<'_, str>> = match event {
            Event::Start(e) => {
                match e.local_name().as_ref() {
                    "si" => current.clear(),
                    "t" if phonetic == 0 => in_t = true,
                    "rPh" => phonetic += 1,
                    _ => {}
                }
                None
            }
            Event::Empty(e) => {
                if e.local_name().as_ref() == "si" {
                    current.clear();
                    push_shared(&mut shared, &current, limits).ok_or_else(too_many)?;
                }
                None
            }
            Event::End(e) => {
                match e.local_name().as_ref() {
                    "t" => in_t = false,
                    "rPh" => phonetic = phonetic.saturating_sub(1),
                    "si" => {
                        let text = unescape_ooxml(&current).into_owned();
                        push_shared(&mut shared, &text, limits).ok_or_else(too_many)?;
                        current.clear();
                    }
                    _ => {}
                }
                None
            }
            Event::Text(t) if in_t => Some(Cow::Owned(t.xml10_content().into_owned())),
            Event::CData(t) if in_t => Some(Cow::Owned(t.xml10_content().into_owned())),
            Event::GeneralRef(r) if in_t => Some(Cow::Owned(entity(&r))),
            Event::Eof => break,
            _ => None,
        };
        if let Some(piece) = piece {
            if current.len() + piece.len() > cell_bytes(limits) {
                return Err(ReadError::TooLarge(format!(
                    "Excel 文件的共享字符串表中第{}条内容过长（超过每格{}个字的上限）",
                    shared.ends.len() + 1,
                    limits.max_cell_chars
                )));
            }
            current.push_str(&piece);
        }
    }
    Ok(shared)
}

fn push_shared(shared: &mut Shared, text: &str, limits: &Limits) -> Option<()> {
    if shared.ends.len() >= limits.max_shared_strings
        || (shared.text.len() + text.len()) as u64 > limits.max_shared_string_bytes
    {
        return None;
    }
    shared.text.push_str(text);
    shared.ends.push(shared.text.len());
    Some(())
}

/// What every sheet is read with.
struct Context {
    shared: Shared,
    date_styles: Vec<bool>,
    date1904: bool,
}

/// The column letters of a 0-based column index (0 → "A").
pub fn column_name(col: u32) -> String {
    let mut n = col + 1;
    let mut out = Vec::new();
    while n > 0 {
        let r = (n - 1) % 26;
        out.push(b'A' + r as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The 0-based column of a cell reference ("AB12" → 27); None when it has
/// no letters or lies beyond Excel's last column.
fn column_of(reference: &str) -> Option<u32> {
    let letters = reference
        .bytes()
        .take_while(|b| b.is_ascii_alphabetic())
        .collect::<Vec<_>>();
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let n = letters.iter().fold(0u32, |n, b| {
        n * 26 + u32::from(b.to_ascii_uppercase() - b'A') + 1
    });
    (n <= MAX_COLUMNS).then(|| n - 1)
}

/// One cell being read.
#[derive(Default)]
struct CellState {
    col: u32,
    kind: String,
    style: usize,
    value: String,
    has_value: bool,
}

/// One sheet, its rows as Excel numbers them: from the first row with a
/// value to the last, blank rows between kept (as empty rows).
fn parse_sheet<R: BufRead>(
    r: &mut Reader<R>,
    name: &str,
    ctx: &Context,
    budget: &mut Budget,
) -> Result<Grid, ReadError> {
    let limits = budget.limits;
    let mut events = Events::new(r, "工作表");
    let mut rows: Vec<Row> = Vec::new();
    let (mut first_row, mut last_row, mut row_no) = (None::<u32>, 0u32, 0u32);
    let mut cells: Vec<Cell> = Vec::new();
    let mut next_col = 0u32;
    let mut cell = CellState::default();
    let (mut in_data, mut in_value, mut in_inline, mut phonetic) = (false, false, false, 0usize);
    let at = |row: u32, col: u32| format!("工作表“{name}”第{row}行第{}列", column_name(col));
    loop {
        let event = events.next()?;
        let mut end_row = false;
        let mut end_cell = false;
        let mut piece: Option<Cow<'_, str>> = None;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                match e.local_name().as_ref() {
                    "sheetData" => in_data = !empty,
                    "row" if in_data => {
                        row_no = match attr(e, "r") {
                            Some(v) => v
                                .trim()
                                .parse::<u32>()
                                .ok()
                                .filter(|n| (1..=MAX_ROW_NUMBER).contains(n))
                                .ok_or_else(|| invalid(format!("工作表“{name}”的行号“{v}”无效")))?,
                            None => row_no + 1,
                        };
                        cells.clear();
                        next_col = 0;
                        end_row = empty;
                    }
                    "c" if in_data => {
                        let col = match attr(e, "r") {
                            Some(v) => column_of(&v).ok_or_else(|| {
                                invalid(format!("工作表“{name}”的单元格位置“{v}”无效"))
                            })?,
                            None if next_col < MAX_COLUMNS => next_col,
                            None => {
                                return Err(invalid(format!(
                                    "工作表“{name}”的列数超过Excel的上限"
                                )));
                            }
                        };
                        cell = CellState {
                            col,
                            kind: attr(e, "t").unwrap_or_default().into_owned(),
                            style: attr(e, "s").and_then(|v| v.parse().ok()).unwrap_or(0),
                            ..CellState::default()
                        };
                        end_cell = empty;
                    }
                    "v" if in_data && !empty => {
                        in_value = true;
                        cell.has_value = true;
                    }
                    "is" if in_data && !empty => {
                        in_inline = true;
                        cell.has_value = true;
                    }
                    "t" if in_inline && phonetic == 0 && !empty => in_value = true,
                    "rPh" if !empty => phonetic += 1,
                    _ => {}
                }
            }
            Event::End(ref e) => match e.local_name().as_ref() {
                "sheetData" => in_data = false,
                "row" if in_data => end_row = true,
                "c" if in_data => end_cell = true,
                "v" | "t" => in_value = false,
                "is" => in_inline = false,
                "rPh" => phonetic = phonetic.saturating_sub(1),
                _ => {}
            },
            Event::Text(ref t) if in_value => piece = Some(t.xml10_content()),
            Event::CData(ref t) if in_value => piece = Some(t.xml10_content()),
            Event::GeneralRef(ref g) if in_value => piece = Some(Cow::Owned(entity(g))),
            Event::Eof => break,
            _ => {}
        }
        if let Some(piece) = piece {
            if cell.value.len() + piece.len() > cell_bytes(&limits) {
                return Err(budget.cell_too_long(&at(row_no, cell.col)));
            }
            cell.value.push_str(&piece);
        }
        if end_cell {
            let c = std::mem::take(&mut cell);
            next_col = c.col.saturating_add(1);
            if c.has_value {
                let value = cell_value(c.kind.as_str(), c.style, &c.value, ctx)
                    .map_err(|why| invalid(format!("{}：{why}", at(row_no, c.col))))?;
                budget.text(&value.text, || at(row_no, c.col))?;
                let col = c.col as usize;
                if col < cells.len() {
                    cells[col] = value;
                } else {
                    budget.cells((col - cells.len() + 1) as u64)?;
                    cells.resize(col, Cell::text(""));
                    cells.push(value);
                }
            }
        }
        if end_row && !cells.is_empty() {
            match first_row {
                None => first_row = Some(row_no),
                Some(_) if row_no <= last_row => {
                    return Err(invalid(format!(
                        "工作表“{name}”的第{row_no}行出现在第{last_row}行之后（行的顺序无效）"
                    )));
                }
                Some(first) => {
                    if row_no - first >= limits.max_rows {
                        return Err(budget.too_many_rows(name));
                    }
                    for blank in last_row + 1..row_no {
                        rows.push(Row {
                            number: blank,
                            cells: vec![],
                        });
                    }
                }
            }
            last_row = row_no;
            rows.push(Row {
                number: row_no,
                cells: std::mem::take(&mut cells),
            });
        }
    }
    Ok(Grid {
        name: name.to_owned(),
        rows,
    })
}

/// A cell's value as text, by its type (`t`) and style (`s`).
fn cell_value(kind: &str, style: usize, value: &str, ctx: &Context) -> Result<Cell, String> {
    Ok(match kind {
        "s" => {
            let i: usize = value
                .trim()
                .parse()
                .map_err(|_| format!("共享字符串编号“{value}”无效"))?;
            let s = ctx
                .shared
                .get(i)
                .ok_or_else(|| format!("共享字符串编号{i}不存在"))?;
            Cell::text(s)
        }
        "str" | "inlineStr" => Cell::text(&unescape_ooxml(value)),
        "b" => Cell::text(if value.trim() == "1" { "是" } else { "否" }),
        "e" => Cell {
            text: value.trim().to_owned(),
            kind: CellKind::Error,
        },
        "d" => Cell::text(value),
        _ => match value.trim().parse::<f64>() {
            Ok(f) if ctx.date_styles.get(style).copied().unwrap_or(false) && f >= 0.0 => {
                let serial = if ctx.date1904 {
                    f + DAYS_1900_TO_1904
                } else {
                    f
                };
                Cell {
                    text: number_text(serial),
                    kind: CellKind::Date,
                }
            }
            Ok(f) => Cell {
                text: number_text(f),
                kind: CellKind::Number,
            },
            Err(_) => Cell::text(value),
        },
    })
}

/// The message for a zip that is not an XLSX workbook.
fn not_xlsx(names: &[String]) -> ReadError {
    let has = |n: &str| names.iter().any(|x| x.eq_ignore_ascii_case(n));
    ReadError::Unsupported(if has("mimetype") || has("content.xml") {
        "不支持 ODS（OpenDocument）表格，只接受 XLSX 和 CSV 文件；请用 Excel 或 WPS 另存为 .xlsx 后重新上传".into()
    } else if has("xl/workbook.bin") {
        "不支持 XLSB（二进制工作簿），只接受 XLSX 和 CSV 文件；请另存为 .xlsx 后重新上传".into()
    } else {
        "文件是 zip 压缩包，但不是 XLSX 工作簿（缺少 xl/workbook.xml）；只接受 XLSX 和 CSV 文件，请用 Excel 另存为 .xlsx 后重新上传".into()
    })
}

/// The sheets of an XLSX workbook, in order; `only` picks one by name.
pub fn read_xlsx(body: &[u8], only: Option<&str>, limits: &Limits) -> Result<Vec<Grid>, ReadError> {
    if body.len() > limits.max_file_bytes {
        return Err(ReadError::TooLarge(format!(
            "文件过大（超过{}的上限）；请把文件拆分后分批导入",
            human_bytes(limits.max_file_bytes as u64)
        )));
    }
    check_directory(body, limits)?;
    let zip = ZipArchive::new(Cursor::new(body)).map_err(invalid)?;
    let names = (0..zip.len())
        .map(|i| {
            zip.name_for_index(i)
                .and_then(Result::ok)
                .map(Cow::into_owned)
                .unwrap_or_default()
        })
        .collect::<Vec<_>>();
    let mut book = Book {
        zip,
        names,
        limits: *limits,
        inflated: 0,
    };
    let (sheets, date1904) = book
        .with_part("xl/workbook.xml", |r| parse_workbook(r, limits))?
        .ok_or_else(|| not_xlsx(&book.names))?;
    let rels = book
        .with_part("xl/_rels/workbook.xml.rels", |r| parse_rels(r, limits))?
        .unwrap_or_default();
    let target_of = |suffix: &str, default: &str| {
        rels.iter()
            .find(|r| r.kind.ends_with(suffix))
            .map(|r| part_name(&r.target))
            .unwrap_or_else(|| default.to_owned())
    };
    let names: Vec<&str> = sheets.iter().map(|s| s.name.as_str()).collect();
    if let Some(want) = only
        && !names.contains(&want)
    {
        return Err(ReadError::Invalid(format!(
            "工作簿中没有名为“{want}”的工作表（有：{}）",
            names.join("、")
        )));
    }
    let date_styles = book
        // A closure, not the function: it must take the part's reader for any lifetime.
        .with_part(&target_of("/styles", "xl/styles.xml"), |r| {
            #[allow(clippy::redundant_closure)]
            parse_styles(r)
        })?
        .unwrap_or_default();
    let shared = book
        .with_part(&target_of("/sharedStrings", "xl/sharedStrings.xml"), |r| {
            parse_shared(r, limits)
        })?
        .unwrap_or_default();
    let ctx = Context {
        shared,
        date_styles,
        date1904,
    };
    let mut budget = Budget::new(*limits);
    let mut grids = Vec::new();
    for sheet in sheets.iter().filter(|s| only.is_none_or(|w| w == s.name)) {
        let rel = rels.iter().find(|r| r.id == sheet.rel_id);
        let grid = match rel {
            Some(rel) if rel.kind.ends_with("/worksheet") => book
                .with_part(&part_name(&rel.target), |r| {
                    parse_sheet(r, &sheet.name, &ctx, &mut budget)
                })?
                .ok_or_else(|| invalid(format!("缺少工作表“{}”的内容", sheet.name)))?,
            // A chart sheet or dialog sheet has no cells.
            _ => Grid {
                name: sheet.name.clone(),
                rows: vec![],
            },
        };
        grids.push(grid);
    }
    Ok(grids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_and_references() {
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(16_383), "XFD");
        assert_eq!(column_of("AB12"), Some(27));
        assert_eq!(column_of("XFD1"), Some(16_383));
        assert_eq!(column_of("XFE1"), None);
        assert_eq!(column_of("12"), None);
        assert_eq!(column_of("ZZZZ1"), None);
    }

    #[test]
    fn ooxml_escapes_and_date_formats() {
        assert_eq!(unescape_ooxml("a_x000D_b"), "a\rb");
        assert_eq!(unescape_ooxml("_x_y_x12"), "_x_y_x12");
        assert!(is_date_format(14, None));
        assert!(!is_date_format(0, None));
        assert!(is_date_format(164, Some("yyyy\"年\"m\"月\"d\"日\"")));
        assert!(!is_date_format(165, Some("0.00\"元\"")));
        assert!(!is_date_format(166, Some("[h]:mm:ss")));
        assert!(!is_date_format(167, Some("[Red]0.00")));
        assert_eq!(
            part_name("worksheets/sheet1.xml"),
            "xl/worksheets/sheet1.xml"
        );
        assert_eq!(part_name("/xl/worksheets/s.xml"), "xl/worksheets/s.xml");
        assert_eq!(part_name("../xl/s.xml"), "xl/s.xml");
    }

    /// A minimal XLSX of one sheet `名单` from its parts' XML, deflated;
    /// `extra` parts added as they are.
    fn book(shared: &str, sheet: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
        use std::io::Write;
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let deflated = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let workbook = r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="名单" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
        let rels = r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#;
        let parts: [(&str, &[u8]); 4] = [
            ("xl/workbook.xml", workbook.as_bytes()),
            ("xl/_rels/workbook.xml.rels", rels.as_bytes()),
            ("xl/sharedStrings.xml", shared.as_bytes()),
            ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
        ];
        for (name, data) in parts.iter().chain(extra) {
            zip.start_file(*name, deflated).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    fn sheet_of(cells: impl Iterator<Item = String>) -> String {
        let mut s = String::from("<worksheet><sheetData>");
        cells.for_each(|c| s.push_str(&c));
        s.push_str("</sheetData></worksheet>");
        s
    }

    #[test]
    fn a_hand_made_workbook_reads_shared_inline_and_rich_text() {
        let shared = "<sst><si><t>姓名</t></si><si><r><t>张</t></r><r><t xml:space=\"preserve\">三&amp;</t></r><rPh><t>zhang</t></rPh></si><si/></sst>";
        let sheet = sheet_of(
            [
                r#"<row r="2"><c r="B2" t="s"><v>0</v></c></row>"#.to_owned(),
                r#"<row r="4"><c r="B4" t="s"><v>1</v></c><c r="D4" t="inlineStr"><is><t>a_x000D_b</t></is></c><c r="E4" t="b"><v>1</v></c><c r="F4"><v>13807340001</v></c></row>"#.to_owned(),
            ]
            .into_iter(),
        );
        let grids = read_xlsx(&book(shared, &sheet, &[]), None, &Limits::DEFAULT).unwrap();
        let g = &grids[0];
        assert_eq!(g.name, "名单");
        let numbers: Vec<u32> = g.rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, vec![2, 3, 4]);
        assert_eq!(g.rows[0].cells[1].text, "姓名");
        assert!(g.rows[1].cells.is_empty());
        let texts: Vec<&str> = g.rows[2].cells.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, vec!["", "张三&", "", "a\rb", "是", "13807340001"]);
        assert_eq!(g.rows[2].cells[5].kind, CellKind::Number);
    }

    /// The bomb of issue 18: 200 000 cells showing one 32 000-character
    /// shared string, a few hundred KB on the wire, gigabytes in calamine.
    #[test]
    fn cells_sharing_one_huge_string_stop_at_the_text_limit() {
        let shared = format!("<sst><si><t>{}</t></si></sst>", "访".repeat(32_000));
        let sheet = sheet_of(
            (1..=200_000).map(|r| format!(r#"<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>"#)),
        );
        let body = book(&shared, &sheet, &[]);
        assert!(body.len() < 2 << 20, "{} bytes on the wire", body.len());
        let e = read_xlsx(&body, None, &Limits::DEFAULT).unwrap_err();
        assert!(
            e.is_too_large() && e.message().contains("文字内容过多"),
            "{e}"
        );
        assert!(e.message().contains("40 MB"), "{e}");
    }

    #[test]
    fn every_limit_is_named_when_broken() {
        let small = Limits {
            max_rows: 3,
            max_cells: 5,
            max_cell_chars: 4,
            max_shared_strings: 2,
            ..Limits::DEFAULT
        };
        let rows = |n: u32| {
            sheet_of((1..=n).map(|r| format!(r#"<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>"#)))
        };
        let sst = "<sst><si><t>a</t></si></sst>";
        let e = read_xlsx(&book(sst, &rows(4), &[]), None, &small).unwrap_err();
        assert!(e.message().contains("超过3行"), "{e}");
        let wide = sheet_of(std::iter::once(
            r#"<row r="1"><c r="F1"><v>1</v></c></row>"#.to_owned(),
        ));
        let e = read_xlsx(&book(sst, &wide, &[]), None, &small).unwrap_err();
        assert!(e.message().contains("5个单元格"), "{e}");
        let long = sheet_of(std::iter::once(
            r#"<row r="7"><c r="C7" t="inlineStr"><is><t>五个字太长</t></is></c></row>"#.to_owned(),
        ));
        let e = read_xlsx(&book(sst, &long, &[]), None, &small).unwrap_err();
        assert!(
            e.message().contains("第7行第C列") && e.message().contains("4个字"),
            "{e}"
        );
        let e = read_xlsx(
            &book("<sst><si/><si/><si/></sst>", &rows(1), &[]),
            None,
            &small,
        )
        .unwrap_err();
        assert!(e.message().contains("共享字符串表过大"), "{e}");
        // Deflate makes 2 MB of one letter a few KB: refused by the
        // directory's size, then (a lie in the directory cannot help) by
        // the bytes counted while inflating.
        let tiny = Limits {
            max_unzipped_bytes: 1 << 20,
            ..Limits::DEFAULT
        };
        let padded = format!("<sst><si><t>{}</t></si></sst>", " ".repeat(2 << 20));
        let e = read_xlsx(&book(&padded, &rows(1), &[]), None, &tiny).unwrap_err();
        assert!(
            e.message().contains("解压后过大") && e.message().contains("1 MB"),
            "{e}"
        );
        let mut lying = book(&padded, &rows(1), &[]);
        patch_declared_sizes(&mut lying, "xl/sharedStrings.xml", 100);
        let e = read_xlsx(&lying, None, &tiny).unwrap_err();
        // zip itself stops a part at its declared size (the count here would
        // stop it at the limit): the lie is refused, nothing more inflated.
        assert!(e.message().contains("larger than its declared"), "{e}");
        // One endless text node, and endless nesting.
        let endless = format!(
            "<sst><si><t>{}</t></si></sst>",
            "a".repeat(MAX_XML_RUN + 10)
        );
        let e = read_xlsx(&book(&endless, &rows(1), &[]), None, &Limits::DEFAULT).unwrap_err();
        assert!(e.is_too_large() && e.message().contains("内容过长"), "{e}");
        let deep = format!("<sst>{}</sst>", "<a>".repeat(MAX_DEPTH + 1));
        let e = read_xlsx(&book(&deep, &rows(1), &[]), None, &Limits::DEFAULT).unwrap_err();
        assert!(e.message().contains("嵌套过深"), "{e}");
    }

    /// Writes `size` as the uncompressed size of `name` in its local header
    /// and its central directory entry.
    fn patch_declared_sizes(zip: &mut [u8], name: &str, size: u32) {
        let name = name.as_bytes();
        for (sig, size_at, name_at) in [(b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)] {
            let at = (0..zip.len() - name_at - name.len())
                .find(|&i| zip[i..].starts_with(sig) && zip[i + name_at..].starts_with(name))
                .expect("the entry");
            zip[at + size_at..at + size_at + 4].copy_from_slice(&size.to_le_bytes());
        }
    }

    #[test]
    fn other_formats_and_crowded_zips_are_refused() {
        use std::io::Write;
        let mut ods = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default();
        ods.start_file("mimetype", stored).unwrap();
        ods.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
            .unwrap();
        ods.start_file("content.xml", stored).unwrap();
        ods.write_all(br#"<table:table-row table:number-rows-repeated="1048576"/>"#)
            .unwrap();
        let ods = ods.finish().unwrap().into_inner();
        let e = read_xlsx(&ods, None, &Limits::DEFAULT).unwrap_err();
        assert!(
            !e.is_too_large() && e.message().contains("不支持 ODS"),
            "{e}"
        );

        let many: Vec<(String, Vec<u8>)> = (0..1_001).map(|i| (format!("x/{i}"), vec![])).collect();
        let extra: Vec<(&str, &[u8])> = many
            .iter()
            .map(|(n, d)| (n.as_str(), d.as_slice()))
            .collect();
        let crowded = book("<sst/>", "<worksheet/>", &extra);
        let e = read_xlsx(&crowded, None, &Limits::DEFAULT).unwrap_err();
        assert!(
            e.is_too_large() && e.message().contains("内部文件过多"),
            "{e}"
        );
    }
}
