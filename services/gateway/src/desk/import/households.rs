//! Households (户): rows to RegisterHouseholdRequest, then batches of
//! RegisterHouseholds to the registry, several at a time.
use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use chrono::NaiveDate;
use futures::{StreamExt, stream};
use uuid::Uuid;
use zoufang_proto::registry::v1::{
    RegisterHouseholdRequest, RegisterHouseholdsRequest, RegisterHouseholdsResponse,
};
use zoufang_tabular::{Mapping, Row};

use super::{
    Cells, Parsed, RowError, Run, Upstream, check, directory::Directory, header::HOUSEHOLD_FIELDS,
};

/// Households per RegisterHouseholds call (the registry takes at most 1000).
pub const BATCH: usize = 1000;
/// RegisterHouseholds calls in flight at once.
pub const CONCURRENCY: usize = 4;

/// Checks every row; the good ones as requests (without ids yet), the bad
/// ones as errors, an ID number seen before in the file included.
pub fn parse(
    rows: &[Row],
    m: &Mapping,
    dir: &Directory,
    scope: &str,
    today: NaiveDate,
) -> Parsed<RegisterHouseholdRequest> {
    let mut out = Parsed::default();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for row in rows {
        let mut c = Cells::new(row, m, HOUSEHOLD_FIELDS);
        let head_name = c.check("head_name", |cell| check::required_text(cell, 50));
        let id_number = c.check("id_number", |cell| check::id_number(cell, today));
        let phone = c.check("phone", check::mobile);
        let township = match c.text("township") {
            t if t.is_empty() => Some(None),
            t => c.check("township", |_| dir.township(&t)).map(Some),
        };
        let village = township.and_then(|t| {
            let v = c.text("village");
            c.check("village", |_| dir.village(&v, t.as_deref(), scope))
        });
        let group_name = c.check("group_name", |cell| check::optional_text(cell, 50));
        let address = c.check("address", |cell| check::optional_text(cell, 200));
        let member_count = c.check("member_count", check::member_count);
        let tags = c.check("tags", check::tags);
        if let Some(id) = &id_number {
            match seen.get(id) {
                Some(first) => c.fail("id_number", format!("与第{first}行的身份证号重复")),
                None => {
                    seen.insert(id.clone(), row.number);
                }
            }
        }
        let errors = c.into_errors();
        match (
            head_name,
            id_number,
            phone,
            village,
            group_name,
            address,
            member_count,
            tags,
        ) {
            (
                Some(head_name),
                Some(id_number),
                Some(phone),
                Some(village_code),
                Some(group_name),
                Some(address),
                Some(member_count),
                Some(tags),
            ) if errors.is_empty() => out.good.push((
                row.number,
                RegisterHouseholdRequest {
                    household_id: String::new(),
                    village_code,
                    group_name,
                    address,
                    head_name,
                    id_number,
                    phone: phone.unwrap_or_default(),
                    member_count,
                    tags,
                },
            )),
            _ => out.errors.extend(errors),
        }
    }
    out
}

/// The column a registry field is in, for its errors.
fn column_of(m: &Mapping, field: &str) -> String {
    let key = match field {
        "village_code" => "village",
        f => f,
    };
    m.header(HOUSEHOLD_FIELDS, key).to_owned()
}

/// A registry refusal in the words of the rest of the report.
pub fn translate(field: &str, reason: &str) -> String {
    if reason.contains("ID number is already registered") {
        "该身份证号已登记（本县已有此户）".into()
    } else if reason.contains("not in the region table") {
        "村代码不在区划表中，请先导入区划".into()
    } else if reason.contains("outside your scope") {
        "不在您的管辖范围内".into()
    } else if field == "household_id" {
        format!("与同时进行的登记冲突，请重新导入此行（{reason}）")
    } else {
        format!("登记服务拒绝：{reason}")
    }
}

/// The rows of one response the registry refused, as errors.
fn refusals(
    m: &Mapping,
    batch: &[(u32, RegisterHouseholdRequest)],
    resp: &RegisterHouseholdsResponse,
) -> Vec<RowError> {
    resp.results
        .iter()
        .flat_map(|r| {
            let row = batch.get(r.index as usize).map(|(n, _)| *n).unwrap_or(0);
            r.errors.iter().map(move |e| RowError {
                row,
                column: column_of(m, &e.field),
                reason: translate(&e.field, &e.reason),
            })
        })
        .collect()
}

/// Sends the good rows. All or nothing: every batch is first checked by the
/// registry (validate_only) and nothing is written unless all pass; then
/// each batch is written all-or-nothing (a refusal then can only come from
/// a concurrent import, and stops the job). Good rows only: each batch
/// writes its good rows and reports the others. After a failure no new
/// batch starts; those in flight finish and are counted.
pub async fn write(
    run: &mut Run,
    m: &Mapping,
    mut good: Vec<(u32, RegisterHouseholdRequest)>,
) -> Result<(), String> {
    for (_, req) in &mut good {
        req.household_id = Uuid::now_v7().to_string();
    }
    let batches: Vec<Batch> = good.chunks(BATCH).map(|b| Arc::new(b.to_vec())).collect();
    drop(good);
    let all_or_nothing = run.mode.all_or_nothing();
    let up = run.up.clone();
    if all_or_nothing {
        let mut refused = Vec::new();
        let mut checks = stream::iter(batches.clone())
            .map(|b| send(up.clone(), b, true, true))
            .buffer_unordered(CONCURRENCY);
        while let Some(res) = checks.next().await {
            let (batch, resp) = res?;
            refused.extend(refusals(m, &batch, &resp));
        }
        drop(checks);
        if !refused.is_empty() {
            run.add_errors(refused).await?;
            return Err(run.nothing_written());
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let mut writes = stream::iter(batches)
        .map(|b| {
            let stopped = stop.load(Ordering::Relaxed);
            let up = up.clone();
            async move {
                if stopped {
                    return Ok(None);
                }
                send(up, b, all_or_nothing, false).await.map(Some)
            }
        })
        .buffer_unordered(CONCURRENCY);
    let mut failure: Option<String> = None;
    while let Some(res) = writes.next().await {
        match res {
            Ok(Some((batch, resp))) => {
                let refused = refusals(m, &batch, &resp);
                if !resp.committed {
                    stop.store(true, Ordering::Relaxed);
                    run.add_errors(refused).await?;
                    failure.get_or_insert_with(|| {
                        "写入时有行被登记服务拒绝（可能与同时进行的导入冲突），该批未写入".into()
                    });
                    continue;
                }
                let refused_rows: HashSet<u32> = refused.iter().map(|e| e.row).collect();
                run.batch_done(batch.len(), batch.len() - refused_rows.len(), refused)
                    .await?;
            }
            Ok(None) => {}
            Err(e) => {
                stop.store(true, Ordering::Relaxed);
                failure.get_or_insert(e);
            }
        }
    }
    match failure {
        Some(e) => Err(format!("{e}；已写入{}行", run.counts.imported)),
        None => Ok(()),
    }
}

type Batch = Arc<Vec<(u32, RegisterHouseholdRequest)>>;

/// One RegisterHouseholds call (retried while the registry is unavailable:
/// the household ids make it idempotent).
async fn send(
    up: Upstream,
    batch: Batch,
    all_or_nothing: bool,
    validate_only: bool,
) -> Result<(Batch, RegisterHouseholdsResponse), String> {
    let req = RegisterHouseholdsRequest {
        households: batch.iter().map(|(_, r)| r.clone()).collect(),
        all_or_nothing,
        validate_only,
    };
    let resp = up
        .retrying(move |mut client| {
            let req = req.clone();
            async move { client.register_households(req).await }
        })
        .await?;
    Ok((batch, resp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoufang_proto::registry::v1::Region;
    use zoufang_tabular::{Cell, map_header};
    use zoufang_types::id_number::check_char;

    fn row(number: u32, cells: &[&str]) -> Row {
        Row {
            number,
            cells: cells.iter().map(|c| Cell::text(c)).collect(),
        }
    }

    fn id(serial: u32) -> String {
        let body = format!("43042619800101{serial:03}");
        format!("{body}{}", check_char(&body).unwrap())
    }

    fn dir() -> Directory {
        let r = |code: &str, name: &str, parent: &str| Region {
            code: code.into(),
            name: name.into(),
            level: 0,
            parent_code: parent.into(),
            kind: String::new(),
        };
        let mut d = Directory::default();
        d.add(
            "430426",
            &[r("430426104000", "白鹤铺镇", "430426000000")],
            &[
                r("430426104201", "黄龙村", "430426104000"),
                r("430426104202", "肖家村", "430426104000"),
            ],
        );
        d
    }

    #[test]
    fn household_rows_to_requests_and_exact_errors() {
        let headers: Vec<String> = [
            "户主",
            "身份证号码",
            "手机号",
            "村（社区）",
            "组",
            "人口数",
            "户类型",
        ]
        .map(String::from)
        .into();
        let m = map_header(HOUSEHOLD_FIELDS, &headers);
        let mut bad_check = id(2);
        let last = bad_check.pop().unwrap();
        let wrong = if last == '0' { '1' } else { '0' };
        bad_check.push(wrong);
        let rows = [
            row(
                2,
                &[
                    "唐怀珠",
                    &id(1),
                    "13807340001",
                    "黄龙村",
                    "肖家组",
                    "4",
                    "低保、留守",
                ],
            ),
            row(
                3,
                &["李四", &bad_check, "13807340002", "肖家村", "", "3", ""],
            ),
            row(4, &["王五", &id(3), "1380734", "430426104202", "", "2", ""]),
            row(5, &["赵六", &id(4), "", "石门村", "", "1", ""]),
            row(6, &["", &id(5), "", "黄龙村", "", "5", ""]),
            row(7, &["钱七", &id(1), "", "黄龙村", "", "2", ""]),
            row(8, &["孙八", &id(6), "", "肖家", "", "", ""]),
        ];
        let p = parse(
            &rows,
            &m,
            &dir(),
            "430426104",
            zoufang_types::beijing::date_of(chrono::Utc::now()),
        );
        assert_eq!(p.good.len(), 1);
        let (n, req) = &p.good[0];
        assert_eq!(*n, 2);
        assert_eq!(
            (
                req.head_name.as_str(),
                req.village_code.as_str(),
                req.member_count
            ),
            ("唐怀珠", "430426104201", 4)
        );
        assert_eq!(req.tags, vec!["低保", "留守"]);
        assert_eq!(req.phone, "13807340001");
        let errors: Vec<(u32, &str, String)> = p
            .errors
            .iter()
            .map(|e| (e.row, e.column.as_str(), e.reason.clone()))
            .collect();
        assert_eq!(
            errors,
            vec![
                (
                    3,
                    "身份证号码",
                    format!("校验位错误：最后一位应为{last}，实际为{wrong}")
                ),
                (4, "手机号", "手机号应为11位，实际为7位".into()),
                (
                    5,
                    "村（社区）",
                    "区划表中找不到名为“石门村”的村（社区），或它不在您的管辖范围内".into()
                ),
                (6, "户主", "不能为空".into()),
                (7, "身份证号码", "与第2行的身份证号重复".into()),
                (8, "人口数", "不能为空".into()),
            ]
        );
    }
}
