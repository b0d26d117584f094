//! All of the supervision service's SQL.
pub mod callbacks;
pub mod facts;
pub mod inspections;
pub mod ledger;
pub mod policies;
pub mod teams;

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
