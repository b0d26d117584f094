//! Every service's tables can be distributed by county (DESIGN.md §5):
//! migrated into a fresh database exactly as the services do, every table's
//! primary key must lead with `county`, and `deploy/citus/distribute.sql`
//! must classify every table — distributed on `county`, colocated within its
//! schema, or a reference table — with the reference tables exactly the
//! allow-list below.
use std::collections::{BTreeMap, BTreeSet};

use sqlx::{Connection, PgConnection, migrate::Migrator};
use zoufang_e2e::{cleanup_old_runs, pg_server, unique_name};

/// Every service's schema and migrations, as its `app` module runs them.
fn services() -> [(&'static str, &'static Migrator); 6] {
    [
        (zoufang_registry::SCHEMA, &zoufang_registry::app::MIGRATOR),
        (zoufang_issues::SCHEMA, &zoufang_issues::app::MIGRATOR),
        (
            zoufang_supervision::SCHEMA,
            &zoufang_supervision::app::MIGRATOR,
        ),
        (zoufang_notify::SCHEMA, &zoufang_notify::app::MIGRATOR),
        (zoufang_gateway::SCHEMA, &zoufang_gateway::app::MIGRATOR),
        (zoufang_petition::SCHEMA, &zoufang_petition::app::MIGRATOR),
    ]
}

/// Tables exempt from the county-first rule, with the reason. These are
/// exactly the tables `distribute.sql` makes reference tables (a copy on
/// every node). Each reason says which kind of exemption it is:
/// - `lookup:` reference data, small and read everywhere;
/// - `county-less:` the data has no county by nature (it belongs to an
///   account whose scope may span counties, or to a client address), so no
///   county can lead its key; a reference table until the gateway gets a
///   database of its own (deploy/citus/README.md, *Open points*), at the
///   price noted.
///
/// Any other reason (`VIOLATION: …`, a table that should be keyed by county
/// and is not) fails the test: fix the migration instead.
const REFERENCE_TABLES: &[(&str, &str)] = &[
    (
        "issues.categories",
        "lookup: a dozen built-in categories under county '000000' plus each \
         county's own, always read as county IN ('000000', $county) — one local \
         read as a reference table instead of two shards",
    ),
    (
        "notify.templates",
        "lookup: one message template per kind (a dozen), province-wide, keyed \
         by kind alone; read for every notification",
    ),
    (
        "petition.sources",
        "lookup: a handful of petition systems per county; webhooks name only \
         the source, so source_system is unique across counties (unique index \
         sources_by_name), which a table distributed by county cannot enforce",
    ),
    (
        "gateway.accounts",
        "county-less: an account's scope may span counties (\"\" is the whole \
         province); small, and read on every request",
    ),
    (
        "gateway.sessions",
        "county-less: one row per sign-in of an account, keyed by session_id, \
         and the account may be province-wide; not reference data — every \
         sign-in, refresh and sign-out writes to every node",
    ),
    (
        "gateway.import_jobs",
        "county-less: an import belongs to the caller, keyed by job_id, whose \
         scope may span counties (one workbook may hold several counties' \
         rows); not reference data — progress updates go to every node",
    ),
    (
        "gateway.import_errors",
        "county-less: the per-row errors of an import job (job_id, seq), as \
         county-less as the job; a 100k-row import's report is written to \
         every node",
    ),
    (
        "gateway.import_credentials",
        "county-less: the initial passwords of the accounts one import job \
         made (job_id, row), as county-less as the job and its accounts; \
         written once per job and deleted when fetched",
    ),
    (
        "gateway.sign_in_throttle",
        "county-less: keyed by client address — a sign-in attempt has no \
         account, let alone a region, yet; every failed sign-in writes to \
         every node",
    ),
    (
        "gateway.sign_in_attempts",
        "county-less: a log of password checks by account and address, before \
         any scope is known; every check writes to every node",
    ),
];

/// The migrators' bookkeeping in every schema: written only by the
/// migrations the services run on the coordinator, so it stays a plain
/// local table there; `distribute.sql` must not name it.
const COORDINATOR_LOCAL: &[(&str, &str)] = &[
    (
        "_sqlx_migrations",
        "sqlx's record of the service's migrations",
    ),
    (
        "_zf_runtime_migrations",
        "the runtime's record of its outbox/inbox migrations",
    ),
];

/// One table as the catalog describes it.
#[derive(Debug, sqlx::FromRow)]
struct Table {
    schema: String,
    name: String,
    /// Primary-key columns in key order (empty: no primary key).
    pk: Vec<String>,
    /// The `county` column's type, if there is one (`character(6)`).
    county_type: Option<String>,
}

/// A unique index (or constraint) or a foreign key, by its columns.
#[derive(Debug, sqlx::FromRow)]
struct Key {
    schema: String,
    table: String,
    name: String,
    columns: Vec<String>,
    /// For a foreign key, the referenced `schema.table`.
    references: Option<String>,
}

/// How `distribute.sql` classifies a table.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Placement {
    /// `create_distributed_table(table, column, colocate_with => …)`.
    Distributed {
        column: String,
        colocate_with: Option<String>,
    },
    /// `create_reference_table(table)`.
    Reference,
}

#[tokio::test]
async fn every_table_leads_with_county_and_distribute_sql_covers_it() {
    cleanup_old_runs();
    let database = unique_name("zft");
    let url = format!("{}/{database}", pg_server());
    for (schema, migrator) in services() {
        let pool = zoufang_core::db::connect_and_migrate(&url, schema, 2, migrator)
            .await
            .unwrap_or_else(|e| panic!("migrating {schema}: {e:#}"));
        pool.close().await;
    }

    let mut conn = PgConnection::connect(&url).await.expect("connect");
    let schemas: Vec<String> = services().iter().map(|(s, _)| s.to_string()).collect();
    let tables = catalog_tables(&mut conn, &schemas).await;
    let keys = catalog_keys(&mut conn, &schemas).await;
    conn.close().await.ok();
    drop_database(&database).await;

    let local: BTreeSet<&str> = COORDINATOR_LOCAL.iter().map(|(t, _)| *t).collect();
    let allowed: BTreeMap<&str, &str> = REFERENCE_TABLES.iter().copied().collect();
    assert_eq!(
        allowed.len(),
        REFERENCE_TABLES.len(),
        "an allow-list entry is repeated"
    );
    let unexplained: Vec<String> = REFERENCE_TABLES
        .iter()
        .filter(|(_, reason)| {
            !["lookup: ", "county-less: "]
                .iter()
                .any(|kind| reason.starts_with(kind) && reason.len() > kind.len() + 10)
        })
        .map(|(table, reason)| format!("{table}: {reason:?}"))
        .collect();
    assert!(
        unexplained.is_empty(),
        "tables exempt from the county-first rule without being lookup data or \
         county-less by nature (a VIOLATION is to be fixed, not listed):\n  {}",
        unexplained.join("\n  ")
    );
    for (table, reason) in COORDINATOR_LOCAL {
        assert!(!reason.trim().is_empty(), "{table}: needs a reason");
    }

    // Every service schema has tables, and its migrators' bookkeeping.
    for schema in &schemas {
        let names: BTreeSet<&str> = tables
            .iter()
            .filter(|t| &t.schema == schema)
            .map(|t| t.name.as_str())
            .collect();
        assert!(
            names.iter().any(|n| !local.contains(n)),
            "schema {schema} has no tables: did its migrations run?"
        );
        for l in &local {
            assert!(names.contains(l), "schema {schema} has no {l}");
        }
    }
    let service_tables: Vec<&Table> = tables
        .iter()
        .filter(|t| !local.contains(t.name.as_str()))
        .collect();

    // 1. The rule: a primary key, `county` (char(6)) first — unless allow-listed.
    let mut violations = Vec::new();
    for t in &service_tables {
        let qualified = format!("{}.{}", t.schema, t.name);
        if allowed.contains_key(qualified.as_str()) {
            continue;
        }
        if t.pk.first().map(String::as_str) != Some("county") {
            violations.push(format!(
                "{qualified}: primary key ({}) does not lead with county",
                if t.pk.is_empty() {
                    "none".to_owned()
                } else {
                    t.pk.join(", ")
                }
            ));
        } else if t.county_type.as_deref() != Some("character(6)") {
            violations.push(format!(
                "{qualified}: county is {:?}, not character(6) like every other \
                 table's (colocation needs one type)",
                t.county_type
            ));
        }
    }
    for entry in allowed.keys() {
        if !service_tables
            .iter()
            .any(|t| format!("{}.{}", t.schema, t.name) == *entry)
        {
            violations.push(format!(
                "{entry}: allow-listed, but no such table (remove the entry)"
            ));
        }
    }
    assert!(
        violations.is_empty(),
        "tables not keyed by county (fix the migration, or allow-list the table \
         with a reason and make it a reference table in deploy/citus/distribute.sql):\n  {}",
        violations.join("\n  ")
    );

    // 2. What Citus requires of a table distributed by county: its unique keys
    //    include county, and its foreign keys include county and point at a
    //    table of the same schema (same colocation group) or a reference table.
    let mut unsupported = Vec::new();
    for k in &keys {
        let qualified = format!("{}.{}", k.schema, k.table);
        if allowed.contains_key(qualified.as_str()) || local.contains(k.table.as_str()) {
            continue;
        }
        let has_county = k.columns.iter().any(|c| c == "county");
        match &k.references {
            None if !has_county => unsupported.push(format!(
                "{qualified}: unique index {} ({}) lacks county",
                k.name,
                k.columns.join(", ")
            )),
            Some(target) => {
                let to_reference = allowed.contains_key(target.as_str());
                let same_schema = target.split('.').next() == Some(k.schema.as_str());
                let colocated = has_county && same_schema;
                if !(to_reference || colocated) {
                    unsupported.push(format!(
                        "{qualified}: foreign key {} ({}) to {target} is neither on \
                         county within the schema nor to a reference table",
                        k.name,
                        k.columns.join(", ")
                    ));
                }
            }
            None => {}
        }
    }
    assert!(
        unsupported.is_empty(),
        "keys Citus cannot keep on a table distributed by county:\n  {}",
        unsupported.join("\n  ")
    );

    // 3. distribute.sql classifies every table exactly once, in a usable order.
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../deploy/citus/distribute.sql"
    );
    let sql = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let calls = parse_distribute_sql(&sql);
    let mut problems = Vec::new();
    let mut placed: BTreeMap<String, (usize, Placement)> = BTreeMap::new();
    for (i, (table, placement)) in calls.iter().enumerate() {
        if placed
            .insert(table.clone(), (i, placement.clone()))
            .is_some()
        {
            problems.push(format!("{table}: named more than once"));
        }
    }
    let existing: BTreeSet<String> = service_tables
        .iter()
        .map(|t| format!("{}.{}", t.schema, t.name))
        .collect();
    for table in &existing {
        if !placed.contains_key(table) {
            problems.push(format!(
                "{table}: neither distributed nor a reference table"
            ));
        }
    }
    for (table, (_, placement)) in &placed {
        let name = table.split('.').nth(1).unwrap_or_default();
        if local.contains(name) {
            problems.push(format!(
                "{table}: migration bookkeeping stays local on the coordinator"
            ));
        } else if !existing.contains(table) {
            problems.push(format!("{table}: no such table"));
        }
        let is_reference = *placement == Placement::Reference;
        match (is_reference, allowed.get(table.as_str())) {
            (true, None) => problems.push(format!(
                "{table}: a reference table, but not in the test's allow-list"
            )),
            (false, Some(_)) => problems.push(format!(
                "{table}: allow-listed, but distributed instead of a reference table"
            )),
            _ => {}
        }
    }
    // Colocation: one group per schema, started by its first distributed
    // table (colocate_with => 'none') and joined by the rest.
    let mut anchors: BTreeMap<String, String> = BTreeMap::new();
    for (table, placement) in &calls {
        let Placement::Distributed {
            column,
            colocate_with,
        } = placement
        else {
            continue;
        };
        let schema = table.split('.').next().unwrap_or_default().to_owned();
        if column != "county" {
            problems.push(format!(
                "{table}: distributed on {column:?}, not \"county\""
            ));
        }
        match (anchors.get(&schema), colocate_with.as_deref()) {
            (None, Some("none")) => {
                anchors.insert(schema, table.clone());
            }
            (None, other) => problems.push(format!(
                "{table}: the first distributed table of {schema} must start its \
                 colocation group (colocate_with => 'none'), not {other:?}"
            )),
            (Some(anchor), Some(with)) if with == anchor => {}
            (Some(anchor), other) => problems.push(format!(
                "{table}: must colocate with {anchor}, the group of schema {schema}, \
                 not {other:?}"
            )),
        }
    }
    // A table comes after every table its foreign keys reference.
    for k in keys.iter().filter(|k| k.references.is_some()) {
        let from = format!("{}.{}", k.schema, k.table);
        let to = k.references.clone().unwrap_or_default();
        if let (Some((i, _)), Some((j, _))) = (placed.get(&from), placed.get(&to))
            && j > i
        {
            problems.push(format!(
                "{from}: distributed before {to}, which its foreign key {} references",
                k.name
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "deploy/citus/distribute.sql does not match the schemas:\n  {}",
        problems.join("\n  ")
    );
}

/// Every table of the schemas with its primary-key columns and county type.
async fn catalog_tables(conn: &mut PgConnection, schemas: &[String]) -> Vec<Table> {
    sqlx::query_as(
        "SELECT n.nspname::text AS schema, c.relname::text AS name,
                COALESCE((SELECT array_agg(a.attname::text ORDER BY k.ord)
                            FROM pg_constraint p
                            CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord)
                            JOIN pg_attribute a ON a.attrelid = p.conrelid AND a.attnum = k.attnum
                           WHERE p.conrelid = c.oid AND p.contype = 'p'), '{}') AS pk,
                (SELECT format_type(a.atttypid, a.atttypmod)
                   FROM pg_attribute a
                  WHERE a.attrelid = c.oid AND a.attname = 'county' AND NOT a.attisdropped)
                  AS county_type
           FROM pg_class c
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p')
          ORDER BY 1, 2",
    )
    .bind(schemas)
    .fetch_all(conn)
    .await
    .expect("reading the catalog's tables")
}

/// Unique indexes (constraints included) and foreign keys of the schemas.
async fn catalog_keys(conn: &mut PgConnection, schemas: &[String]) -> Vec<Key> {
    sqlx::query_as(
        "SELECT n.nspname::text AS schema, c.relname::text AS table, i.relname::text AS name,
                ARRAY(SELECT COALESCE(a.attname::text, '(expression)')
                        FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                        LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                       ORDER BY k.ord) AS columns,
                NULL::text AS references
           FROM pg_index x
           JOIN pg_class c ON c.oid = x.indrelid
           JOIN pg_class i ON i.oid = x.indexrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = ANY($1) AND x.indisunique
         UNION ALL
         SELECT n.nspname::text, c.relname::text, f.conname::text,
                ARRAY(SELECT a.attname::text
                        FROM unnest(f.conkey) WITH ORDINALITY AS k(attnum, ord)
                        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                       ORDER BY k.ord),
                format('%s.%s', rn.nspname, r.relname)
           FROM pg_constraint f
           JOIN pg_class c ON c.oid = f.conrelid
           JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_class r ON r.oid = f.confrelid
           JOIN pg_namespace rn ON rn.oid = r.relnamespace
          WHERE n.nspname = ANY($1) AND f.contype = 'f'
          ORDER BY 1, 2, 3",
    )
    .bind(schemas)
    .fetch_all(conn)
    .await
    .expect("reading the catalog's keys")
}

async fn drop_database(database: &str) {
    let mut admin = PgConnection::connect(&format!("{}/postgres", pg_server()))
        .await
        .expect("connect to postgres");
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .expect("dropping the test database");
    admin.close().await.ok();
}

/// The `create_distributed_table` / `create_reference_table` calls of
/// distribute.sql, in file order (comments skipped).
fn parse_distribute_sql(sql: &str) -> Vec<(String, Placement)> {
    let code: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let lower = code.to_lowercase();
    let mut calls = Vec::new();
    let mut at = 0;
    while let Some(found) = next_call(&lower[at..]) {
        let (offset, reference) = found;
        let start = at + offset;
        let open = start + lower[start..].find('(').expect("a call has '('");
        let close = open + lower[open..].find(')').expect("a call has ')'");
        let args = &code[open + 1..close];
        let quoted = quoted_strings(args);
        let table = quoted.first().cloned().unwrap_or_default();
        let placement = if reference {
            Placement::Reference
        } else {
            let colocate_with = args
                .to_lowercase()
                .find("colocate_with")
                .and_then(|p| quoted_strings(&args[p..]).into_iter().next());
            Placement::Distributed {
                column: quoted.get(1).cloned().unwrap_or_default(),
                colocate_with,
            }
        };
        calls.push((table, placement));
        at = close;
    }
    calls
}

/// Offset of the next call and whether it makes a reference table.
fn next_call(s: &str) -> Option<(usize, bool)> {
    let d = s.find("create_distributed_table(").map(|p| (p, false));
    let r = s.find("create_reference_table(").map(|p| (p, true));
    match (d, r) {
        (Some(d), Some(r)) => Some(if d.0 < r.0 { d } else { r }),
        (d, r) => d.or(r),
    }
}

/// The single-quoted strings in `s`, in order.
fn quoted_strings(s: &str) -> Vec<String> {
    s.split('\'')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, v)| v.to_owned())
        .collect()
}

#[test]
fn distribute_sql_parser_reads_both_kinds_of_call() {
    let calls = parse_distribute_sql(
        "-- create_reference_table('x.commented')\n\
         SELECT create_distributed_table('a.t', 'county', colocate_with => 'none');\n\
         SELECT Create_Reference_Table('a.r'); -- trailing\n\
         SELECT create_distributed_table('a.u', 'county', colocate_with => 'a.t');",
    );
    assert_eq!(
        calls,
        vec![
            (
                "a.t".to_owned(),
                Placement::Distributed {
                    column: "county".into(),
                    colocate_with: Some("none".into())
                }
            ),
            ("a.r".to_owned(), Placement::Reference),
            (
                "a.u".to_owned(),
                Placement::Distributed {
                    column: "county".into(),
                    colocate_with: Some("a.t".into())
                }
            ),
        ]
    );
}
