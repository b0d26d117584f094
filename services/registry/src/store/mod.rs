//! All of the registry's SQL, one module per aggregate. Functions take an
//! executor so callers decide the transaction.
pub mod audit;
pub mod cadres;
pub mod campaigns;
pub mod households;
pub mod progress;
pub mod regions;
pub mod teams;
pub mod visits;

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
