//! The gateway: the HTTP door and its desk (imports, exports, reports).
mod api;
mod export;
mod fuzz;
mod household_file;
mod import;
mod organisation;
mod report;
