//! Reading the spreadsheets people really have: Excel
//! workbooks (XLSX) and CSV in UTF-8 or GBK, within [`Limits`], as rows of text
//! cells that remember how Excel stored them; and mapping the Chinese
//! column names people write (with their common variants, under a title row
//! or two) to the fields of an import.
//!
//! A service describes its columns with [`FieldSpec`]s, reads the body
//! ([`read`], or [`sniff`] then [`workbook`] / [`csv()`]), finds the header
//! with [`choose`] (or [`locate`] for one grid) and reads each data row's
//! cells through the [`Mapping`]. Errors are in Chinese, for the people who
//! fix the file.
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

mod header;
mod limits;
mod read;
mod xlsx;

pub use header::{
    FieldSpec, Located, Mapping, choose, locate, map_header, missing, missing_message, normalize,
};
pub use limits::{Limits, ReadError, human_bytes};
pub use read::{
    Cell, CellKind, Format, Grid, Row, check_file_size, csv, csv_with, decode_text,
    excel_serial_datetime, file_too_large, number_text, read, read_with, sniff, workbook,
    workbook_with,
};
pub use xlsx::{MAX_DEPTH, MAX_XML_RUN, column_name};
