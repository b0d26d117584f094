//! Reading the spreadsheets people really have (feature `tabular`): Excel
//! workbooks (XLSX, XLS, XLSB, ODS) and CSV in UTF-8 or GBK, as rows of text
//! cells that remember how Excel stored them; and mapping the Chinese
//! column names people write (with their common variants, under a title row
//! or two) to the fields of an import.
//!
//! A service describes its columns with [`FieldSpec`]s, reads the body
//! ([`read`], or [`sniff`] then [`workbook`] / [`csv()`]), finds the header
//! with [`choose`] (or [`locate`] for one grid) and reads each data row's
//! cells through the [`Mapping`]. Errors are in Chinese, for the people who
//! fix the file.
mod header;
mod read;

pub use header::{
    FieldSpec, Located, Mapping, choose, locate, map_header, missing, missing_message, normalize,
};
pub use read::{
    Cell, CellKind, Format, Grid, Row, csv, decode_text, excel_serial_datetime, number_text, read,
    sniff, workbook,
};
