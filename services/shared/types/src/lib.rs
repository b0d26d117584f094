//! Domain value types shared by services — parse, don't validate: holding
//! one of these means the value is valid. Built on `zoufang-core` (their
//! errors are its `ServiceError`s, scopes read its `Claims`).
#![forbid(unsafe_code)]
#![deny(rust_2018_idioms)]

pub mod beijing;
pub mod id_number;
pub mod labels;
pub mod mask;
pub mod money;
pub mod phone;
pub mod region;
pub mod scope;

pub use id_number::IdNumber;
pub use mask::{mask_id_number, mask_numbers_in_text, mask_phone};
pub use money::Fen;
pub use phone::MobilePhone;
pub use region::{RegionCode, RegionLevel, TownshipKind, VillageKind, region_prefix};
pub use scope::{RegionScope, list_prefix};
