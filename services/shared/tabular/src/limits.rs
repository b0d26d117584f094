//! The limits every spreadsheet is read within, and the error that names
//! the one a file broke. A hostile file is small on the wire and huge
//! inside (a zip bomb, a shared string referenced 200 000 times, a CSV of
//! empty cells): each limit is checked while reading, before the memory it
//! guards is allocated, so no file can take a service down.

/// What a spreadsheet may hold. The defaults fit the largest real import (a
/// county's households, 200 000 rows of about ten columns) with room to
/// spare and bound what one import can cost to roughly 200 MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The file as uploaded (the compressed size of an XLSX).
    pub max_file_bytes: usize,
    /// Entries in an XLSX's zip directory (a real workbook has a dozen).
    pub max_zip_entries: usize,
    /// Bytes inflated from an XLSX: the parts read, counted as they are
    /// inflated (the directory's sizes are checked too, never trusted).
    pub max_unzipped_bytes: u64,
    /// Rows of one sheet, from its first row with a value to its last.
    pub max_rows: u32,
    /// Cells of the whole file (a short row's missing cells not counted).
    pub max_cells: u64,
    /// Characters in one cell (Excel's own limit is 32 767).
    pub max_cell_chars: usize,
    /// The text of all cells together, in bytes: a shared string is
    /// counted once for every cell that shows it.
    pub max_text_bytes: u64,
    /// Entries of an XLSX's shared-string table.
    pub max_shared_strings: usize,
    /// The shared-string table's text, in bytes.
    pub max_shared_string_bytes: u64,
}

const MIB: u64 = 1024 * 1024;

impl Limits {
    /// The limits of every import.
    pub const DEFAULT: Self = Self {
        max_file_bytes: 20 * MIB as usize,
        max_zip_entries: 1_000,
        max_unzipped_bytes: 100 * MIB,
        max_rows: 200_000,
        max_cells: 2_000_000,
        max_cell_chars: 32_767,
        max_text_bytes: 40 * MIB,
        max_shared_strings: 500_000,
        max_shared_string_bytes: 16 * MIB,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a file could not be read: it is broken or its content is not what
/// an import needs (`Invalid`), it is in a format not read at all
/// (`Unsupported`: ODS, XLSB, a zip that is no workbook; both a 400), or
/// it breaks one of the [`Limits`] (`TooLarge`, a 413, the message naming
/// the limit). Messages are in Chinese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    Invalid(String),
    Unsupported(String),
    TooLarge(String),
}

impl ReadError {
    pub fn message(&self) -> &str {
        match self {
            Self::Invalid(m) | Self::Unsupported(m) | Self::TooLarge(m) => m,
        }
    }

    pub fn is_too_large(&self) -> bool {
        matches!(self, Self::TooLarge(_))
    }

    pub fn is_unsupported(&self) -> bool {
        matches!(self, Self::Unsupported(_))
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for ReadError {}

impl From<String> for ReadError {
    fn from(m: String) -> Self {
        Self::Invalid(m)
    }
}

impl From<&str> for ReadError {
    fn from(m: &str) -> Self {
        Self::Invalid(m.to_owned())
    }
}

impl From<ReadError> for String {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Invalid(m) | ReadError::Unsupported(m) | ReadError::TooLarge(m) => m,
        }
    }
}

/// Sizes in the units people read: "20 MB", "512 KB".
pub fn human_bytes(n: u64) -> String {
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MB", n / MIB)
    } else if n >= MIB {
        format!("{:.1} MB", n as f64 / MIB as f64)
    } else {
        format!("{} KB", n.div_ceil(1024))
    }
}

/// The running totals of one file against its limits.
#[derive(Debug)]
pub(crate) struct Budget {
    pub(crate) limits: Limits,
    cells: u64,
    text: u64,
}

impl Budget {
    pub(crate) fn new(limits: Limits) -> Self {
        Self {
            limits,
            cells: 0,
            text: 0,
        }
    }

    /// Counts `n` more cells.
    pub(crate) fn cells(&mut self, n: u64) -> Result<(), ReadError> {
        self.cells += n;
        if self.cells > self.limits.max_cells {
            return Err(ReadError::TooLarge(format!(
                "文件的单元格过多（超过{}个单元格的上限）；请删除多余的行列，或把文件拆分后分批导入",
                self.limits.max_cells
            )));
        }
        Ok(())
    }

    /// Counts one cell's text; `at` says where it is ("第3行第B列").
    pub(crate) fn text(
        &mut self,
        text: &str,
        at: impl FnOnce() -> String,
    ) -> Result<(), ReadError> {
        let chars = if text.len() > self.limits.max_cell_chars {
            text.chars().count()
        } else {
            0
        };
        if chars > self.limits.max_cell_chars {
            return Err(self.cell_too_long(&at()));
        }
        self.text += text.len() as u64;
        if self.text > self.limits.max_text_bytes {
            return Err(ReadError::TooLarge(format!(
                "文件的文字内容过多（所有单元格合计超过{}的上限）；请把文件拆分后分批导入",
                human_bytes(self.limits.max_text_bytes)
            )));
        }
        Ok(())
    }

    /// The error of a cell longer than [`Limits::max_cell_chars`].
    pub(crate) fn cell_too_long(&self, at: &str) -> ReadError {
        ReadError::TooLarge(format!(
            "{at}的单元格内容过长（超过每格{}个字的上限）",
            self.limits.max_cell_chars
        ))
    }

    /// The error of a sheet with too many rows.
    pub(crate) fn too_many_rows(&self, sheet: &str) -> ReadError {
        let which = if sheet.is_empty() {
            "文件".to_owned()
        } else {
            format!("工作表“{sheet}”")
        };
        ReadError::TooLarge(format!(
            "{which}的行数过多（超过{}行的上限）；请把文件拆分后分批导入",
            self.limits.max_rows
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_bytes(20 * MIB), "20 MB");
        assert_eq!(human_bytes(1536 * 1024), "1.5 MB");
        assert_eq!(human_bytes(1000), "1 KB");
    }

    #[test]
    fn the_budget_names_the_limit_it_hit() {
        let limits = Limits {
            max_cells: 3,
            max_cell_chars: 4,
            max_text_bytes: 14,
            ..Limits::DEFAULT
        };
        let mut b = Budget::new(limits);
        b.cells(3).unwrap();
        let e = b.cells(1).unwrap_err();
        assert!(e.is_too_large() && e.message().contains("3个单元格"), "{e}");
        let mut b = Budget::new(limits);
        b.text("四个汉字", || "A1".into()).unwrap();
        let e = b.text("五个汉字呀", || "第2行第A列".into()).unwrap_err();
        assert!(
            e.message().contains("第2行第A列") && e.message().contains("4个字"),
            "{e}"
        );
        b.text("ab", || "A1".into()).unwrap();
        let e = b.text("ab", || "A1".into()).unwrap_err();
        assert!(e.message().contains("1 KB"), "{e}");
    }
}
