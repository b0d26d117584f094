//! Names of places, learned from the visit events that carry them.
use sqlx::{PgConnection, PgExecutor};

/// Records the names of `(code, name)` places of `county` (empty names are
/// skipped); a renamed place takes its new name.
pub async fn learn(
    conn: &mut PgConnection,
    county: &str,
    places: &[(&str, &str)],
) -> sqlx::Result<()> {
    let (codes, names): (Vec<String>, Vec<String>) = places
        .iter()
        .filter(|(code, name)| !code.is_empty() && !name.trim().is_empty())
        .map(|(code, name)| ((*code).to_owned(), name.trim().to_owned()))
        .unzip();
    if codes.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO places (county, code, name)
         SELECT $1::char(6), c, n FROM UNNEST($2::text[], $3::text[]) AS p(c, n)
         ON CONFLICT (county, code) DO UPDATE SET name = EXCLUDED.name
           WHERE places.name <> EXCLUDED.name",
    )
    .bind(county)
    .bind(codes)
    .bind(names)
    .execute(conn)
    .await?;
    Ok(())
}

/// The names of a 12-digit code's township and of the code itself when it
/// is a village: (township name, village name), '' for what is unknown.
pub async fn names_of(ex: impl PgExecutor<'_>, code: &str) -> sqlx::Result<(String, String)> {
    if code.len() != 12 {
        return Ok(Default::default());
    }
    let township = format!("{}000", &code[..9]);
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT code::text, name FROM places WHERE county = $1::char(6) AND code IN ($2, $3)",
    )
    .bind(&code[..6])
    .bind(&township)
    .bind(code)
    .fetch_all(ex)
    .await?;
    let name = |c: &str| {
        rows.iter()
            .find(|(k, _)| k == c)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    if code == township {
        return Ok((name(&township), String::new()));
    }
    Ok((name(&township), name(code)))
}
