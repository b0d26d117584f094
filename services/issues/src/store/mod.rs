//! All of the ledger's SQL, one module per table family.
pub mod cadres;
pub mod categories;
pub mod issues;
pub mod places;
pub mod sla;
pub mod stats;
pub mod timeline;

/// Escapes `%`, `_` and `\` so a region prefix is matched literally by LIKE.
pub fn like_prefix(prefix: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}
