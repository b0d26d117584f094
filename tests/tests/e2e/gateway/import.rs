//! Imports through the gateway against the real services: an XLSX with good
//! and bad rows imports exactly the good ones (good_rows_only) or nothing
//! (all_or_nothing) and reports each bad one by row, column and reason; CSV
//! in UTF-8 and GBK; cadres and the region table; jobs with progress; a
//! township admin importing into another township is refused row by row.
use std::time::Duration;

use rust_xlsxwriter::Workbook;
use serde_json::{Value, json};
use zoufang_core::auth::roles;
use zoufang_e2e::{fixtures, gateway::TestGateway};

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// POSTs a file; (status, JSON body).
async fn upload(
    stack: &TestGateway,
    token: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let resp = stack
        .http()
        .post(stack.url(path))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("upload");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// Polls a job until it is no longer running.
async fn finished(stack: &TestGateway, token: &str, job_id: &str) -> Value {
    for _ in 0..600 {
        let (s, job) = stack
            .get(&format!("/v1/import/{job_id}"), Some(token))
            .await;
        assert_eq!(s, 200, "{job}");
        if job["state"] != "running" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import {job_id} never finished");
}

/// (row, column, reason) of every error of a job.
fn errors(job: &Value) -> Vec<(u64, String, String)> {
    job["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["row"].as_u64().unwrap_or_default(),
                e["column"].as_str().unwrap_or_default().to_owned(),
                e["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn counts(job: &Value) -> (i64, i64, i64, i64) {
    let n = |k: &str| job[k].as_i64().unwrap_or(-1);
    (
        n("rows_total"),
        n("rows_processed"),
        n("rows_imported"),
        n("rows_failed"),
    )
}

async fn household_names(stack: &TestGateway) -> Vec<String> {
    sqlx::query_scalar("SELECT head_name FROM households ORDER BY head_name")
        .fetch_all(&stack.registry.pool)
        .await
        .unwrap()
}

/// The county's region table, imported through the gateway from a CSV
/// with Chinese headers and level names.
async fn import_regions(stack: &TestGateway, admin: &str) {
    let csv = "区划代码,名称,级别,上级代码\n\
        430000000000,湖南省,省,\n\
        430400000000,衡阳市,市,430000000000\n\
        430426000000,祁东县,县,430400000000\n\
        430426104000,白鹤铺镇,乡镇,430426000000\n\
        430426104201,黄龙村,村,430426104000\n\
        430426104202,肖家村,村,430426104000\n\
        430426104203,桃源村,村,430426104000\n\
        430426105000,太和堂镇,乡镇,430426000000\n\
        430426105201,新塘村,村,430426105000\n";
    let (s, job) = upload(
        stack,
        admin,
        "/v1/import/regions?wait=true",
        "text/csv",
        csv.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(s, 200, "{job}");
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(counts(&job), (9, 9, 9, 0));
}

/// A cell: text, or a number as Excel would store it.
enum C<'a> {
    T(&'a str),
    N(f64),
}

/// A workbook like the townships': a notes sheet first, then the data
/// sheet with a title row above the header.
fn workbook(rows: &[Vec<C<'_>>]) -> Vec<u8> {
    let mut book = Workbook::new();
    let notes = book.add_worksheet();
    notes.set_name("填表说明").unwrap();
    notes.write_string(0, 0, "身份证号请设为文本格式").unwrap();
    let sheet = book.add_worksheet();
    sheet.set_name("农户信息").unwrap();
    sheet
        .merge_range(0, 0, 0, 7, "白鹤铺镇农户信息表", &Default::default())
        .unwrap();
    let header = [
        "序号",
        "户主姓名",
        "身份证号码",
        "联系电话",
        "所属村",
        "村民小组",
        "家庭人口",
        "标签",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(1, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 2, c as u16);
            match cell {
                C::T("") => {}
                C::T(s) => {
                    sheet.write_string(r, c, *s).unwrap();
                }
                C::N(n) => {
                    sheet.write_number(r, c, *n).unwrap();
                }
            }
        }
    }
    book.save_to_buffer().unwrap()
}

#[tokio::test]
async fn an_xlsx_with_good_and_bad_rows_imports_the_good_ones_and_reports_each_bad_one_exactly() {
    let stack = TestGateway::start().await;
    let admin = stack.admin_token().await;
    import_regions(&stack, &admin).await;
    let town = stack
        .account(
            &admin,
            "town104",
            &[roles::TOWNSHIP_ADMIN],
            "430426104",
            "town104",
        )
        .await;

    let id = |n: u32| fixtures::id_number("19700101", n);
    let good_check = id(2);
    let (body, right) = good_check.split_at(17);
    let wrong = if right == "0" { "1" } else { "0" };
    let bad_checksum = format!("{body}{wrong}");
    let (id1, id3, id4, id5, id6, id8, id9, id10) =
        (id(1), id(3), id(4), id(5), id(6), id(8), id(9), id(10));
    use C::{N, T};
    let rows = vec![
        // 3: good.
        vec![
            N(1.0),
            T("唐怀珠"),
            T(&id1),
            T("13807340001"),
            T("黄龙村"),
            T("肖家组"),
            N(4.0),
            T("低保、留守"),
        ],
        // 4: the ID's check digit is wrong.
        vec![
            N(2.0),
            T("李四"),
            T(&bad_checksum),
            T("13807340002"),
            T("肖家村"),
            T(""),
            N(3.0),
            T(""),
        ],
        // 5: good; the phone stored as a number.
        vec![
            N(3.0),
            T("王五"),
            T(&id3),
            N(13807340003.0),
            T("肖家村"),
            T(""),
            N(2.0),
            T(""),
        ],
        // 6: a phone too short.
        vec![
            N(4.0),
            T("赵六"),
            T(&id4),
            T("1380734"),
            T("黄龙村"),
            T(""),
            N(2.0),
            T(""),
        ],
        // 7: a village not in the region table.
        vec![
            N(5.0),
            T("钱七"),
            T(&id5),
            T(""),
            T("石门村"),
            T(""),
            N(1.0),
            T(""),
        ],
        // 8: no head's name.
        vec![
            N(6.0),
            T(""),
            T(&id6),
            T(""),
            T("黄龙村"),
            T(""),
            N(2.0),
            T(""),
        ],
        // 9: the ID number of row 3 again.
        vec![
            N(7.0),
            T("孙八"),
            T(&id1),
            T(""),
            T("桃源村"),
            T(""),
            N(2.0),
            T(""),
        ],
        // 10: good, the village by its code.
        vec![
            N(8.0),
            T("周九"),
            T(&id8),
            T(""),
            T("430426104203"),
            T(""),
            N(5.0),
            T("空巢老人"),
        ],
        // 11: a village of another township.
        vec![
            N(9.0),
            T("吴十"),
            T(&id9),
            T(""),
            T("430426105201"),
            T(""),
            N(3.0),
            T(""),
        ],
        // 12: blank (skipped).
        vec![],
        // 13: good.
        vec![
            N(10.0),
            T("郑十一"),
            T(&id10),
            T(""),
            T("肖家村"),
            T(""),
            N(1.0),
            T(""),
        ],
    ];
    let file = workbook(&rows);
    let expected_errors: Vec<(u64, String, String)> = vec![
        (
            4,
            "身份证号码".into(),
            format!("校验位错误：最后一位应为{right}，实际为{wrong}"),
        ),
        (6, "联系电话".into(), "手机号应为11位，实际为7位".into()),
        (
            7,
            "所属村".into(),
            "区划表中找不到名为“石门村”的村（社区），或它不在您的管辖范围内".into(),
        ),
        (8, "户主姓名".into(), "不能为空".into()),
        (9, "身份证号码".into(), "与第3行的身份证号重复".into()),
        (
            11,
            "所属村".into(),
            "430426105201不在您的管辖范围（430426104）内".into(),
        ),
    ];

    // All or nothing (the default): nothing is written, every bad row reported.
    let (s, job) = upload(
        &stack,
        &town,
        "/v1/import/households?wait=true",
        XLSX,
        file.clone(),
    )
    .await;
    assert_eq!(s, 200, "{job}");
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(
        (job["mode"].as_str(), job["format"].as_str()),
        (Some("all_or_nothing"), Some("xlsx"))
    );
    assert_eq!(
        (job["sheet"].as_str(), job["header_row"].as_i64()),
        (Some("农户信息"), Some(2))
    );
    assert_eq!(counts(&job), (10, 10, 0, 6));
    assert_eq!(errors(&job), expected_errors);
    assert!(
        job["message"].as_str().unwrap().contains("未写入任何数据"),
        "{job}"
    );
    assert!(household_names(&stack).await.is_empty());

    // Good rows only: exactly the four good ones.
    let (s, job) = upload(
        &stack,
        &town,
        "/v1/import/households?mode=good_rows_only&wait=true",
        XLSX,
        file.clone(),
    )
    .await;
    assert_eq!(s, 200, "{job}");
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(counts(&job), (10, 10, 4, 6));
    assert_eq!(errors(&job), expected_errors);
    assert_eq!(job["errors_total"], 6);
    assert_eq!(
        household_names(&stack).await,
        vec!["周九", "唐怀珠", "王五", "郑十一"]
    );
    // Stored like any registration: found by ID number, masked, tagged.
    let (s, found) = stack
        .post(
            "/v1/registry/FindHousehold",
            Some(&admin),
            json!({"id_number": id3}),
        )
        .await;
    assert_eq!(s, 200, "{found}");
    assert_eq!(found["household"]["phone"], "138****0003");
    assert_eq!(found["household"]["village_code"], "430426104202");
    let villages: Vec<(String, String, i32)> = sqlx::query_as(
        "SELECT head_name, village_code::text, member_count FROM households ORDER BY head_name",
    )
    .fetch_all(&stack.registry.pool)
    .await
    .unwrap();
    assert_eq!(
        villages,
        vec![
            ("周九".into(), "430426104203".into(), 5),
            ("唐怀珠".into(), "430426104201".into(), 4),
            ("王五".into(), "430426104202".into(), 2),
            ("郑十一".into(), "430426104202".into(), 1),
        ]
    );

    // The same file again: the registered rows are refused, nothing doubles.
    let (_, again) = upload(
        &stack,
        &town,
        "/v1/import/households?mode=good_rows_only&wait=true",
        XLSX,
        file,
    )
    .await;
    assert_eq!(counts(&again), (10, 10, 0, 10));
    let registered: Vec<u64> = errors(&again)
        .into_iter()
        .filter(|(_, c, r)| c == "身份证号码" && r == "该身份证号已登记（本县已有此户）")
        .map(|(row, _, _)| row)
        .collect();
    assert_eq!(registered, vec![3, 5, 10, 13]);
    assert_eq!(household_names(&stack).await.len(), 4);

    // Another township: refused up front as a lookup area, row by row in a file.
    let other = workbook(&[vec![
        N(1.0),
        T("冯十二"),
        T(&id(11)),
        T(""),
        T("430426105201"),
        T(""),
        N(2.0),
        T(""),
    ]]);
    let (s, e) = upload(
        &stack,
        &town,
        "/v1/import/households?region=430426105",
        XLSX,
        other.clone(),
    )
    .await;
    assert_eq!(s, 403, "{e}");
    let (s, job) = upload(
        &stack,
        &town,
        "/v1/import/households?mode=good_rows_only&wait=true",
        XLSX,
        other,
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(counts(&job), (1, 1, 0, 1));
    assert_eq!(
        errors(&job),
        vec![(
            3,
            "所属村".into(),
            "430426105201不在您的管辖范围（430426104）内".into()
        )]
    );

    // A job is its creator's (and their admins'): another township sees nothing.
    let job_id = job["job_id"].as_str().unwrap();
    let town105 = stack
        .account(
            &admin,
            "town105",
            &[roles::TOWNSHIP_ADMIN],
            "430426105",
            "town105",
        )
        .await;
    let (s, _) = stack
        .get(&format!("/v1/import/{job_id}"), Some(&town105))
        .await;
    assert_eq!(s, 404);
    let (s, seen) = stack
        .get(&format!("/v1/import/{job_id}"), Some(&admin))
        .await;
    assert_eq!((s, &seen["state"]), (200, &json!("done")));
    // Cadres may not import; a file without the required columns fails, naming them.
    let cadre = stack
        .account(&admin, "cadre1", &[roles::CADRE], "430426104201", "cadre1")
        .await;
    let (s, _) = upload(
        &stack,
        &cadre,
        "/v1/import/households",
        "text/csv",
        b"a,b\n1,2\n".to_vec(),
    )
    .await;
    assert_eq!(s, 403);
    let (s, job) = upload(
        &stack,
        &town,
        "/v1/import/households?wait=true",
        "text/csv",
        "户主姓名,电话,村\n张三,13807340001,黄龙村\n"
            .as_bytes()
            .to_vec(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(job["state"], "failed");
    let message = job["message"].as_str().unwrap();
    assert!(
        message.contains("“身份证号”（可写作：身份证号、身份证号码、公民身份号码"),
        "{message}"
    );
    assert!(message.contains("“家庭人口”"), "{message}");
    stack.stop().await;
}

#[tokio::test]
async fn csv_in_utf8_and_gbk_cadres_and_progress() {
    let stack = TestGateway::start().await;
    let admin = stack.admin_token().await;
    import_regions(&stack, &admin).await;
    let id = |n: u32| fixtures::id_number("19650505", n);

    // A county admin's CSV (UTF-8 with a BOM), names resolved in the county
    // given as `region`, one village name found through its township.
    let csv = format!(
        "\u{feff}户主,公民身份号码,手机号码,所属乡镇,村(社区),家庭人口数,户类型\n\
         陈一,{},138 0734 1001,白鹤铺镇,黄龙,3,退役军人\n\
         陈二,{},,太和堂镇,新塘村,2,\n\
         陈三,{},+86 13807341003,,桃源村,6,低保/五保\n",
        id(1),
        id(2),
        id(3)
    );
    let (s, job) = upload(
        &stack,
        &admin,
        "/v1/import/households?region=430426&mode=good_rows_only",
        "text/csv",
        csv.into_bytes(),
    )
    .await;
    assert_eq!(s, 202, "{job}");
    assert!(["running", "done"].contains(&job["state"].as_str().unwrap()));
    let job = finished(&stack, &admin, job["job_id"].as_str().unwrap()).await;
    assert_eq!(job["state"], "done", "{job}");
    assert_eq!(
        (job["format"].as_str(), job["phase"].as_str()),
        (Some("csv"), Some("finished"))
    );
    assert_eq!(counts(&job), (3, 3, 3, 0));
    assert!(job["finished_at"].is_string());
    let villages: Vec<String> =
        sqlx::query_scalar("SELECT village_code::text FROM households ORDER BY head_name")
            .fetch_all(&stack.registry.pool)
            .await
            .unwrap();
    // 陈一 陈三 陈二 in collation order may vary; compare as a set.
    let mut villages = villages;
    villages.sort();
    assert_eq!(
        villages,
        vec!["430426104201", "430426104203", "430426105201"]
    );

    // GBK, as Excel on Chinese Windows saves CSV; all or nothing with one
    // row already registered: the registry's check says so, nothing is written.
    let town = stack
        .account(
            &admin,
            "town104",
            &[roles::TOWNSHIP_ADMIN],
            "430426104",
            "town104",
        )
        .await;
    let text = format!(
        "户主姓名,身份证号,所属村,家庭人口\n新户一,{},肖家村,2\n老户,{},黄龙村,3\n新户二,{},桃源村,4\n",
        id(4),
        id(1),
        id(5)
    );
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    let (s, job) = upload(
        &stack,
        &town,
        "/v1/import/households?wait=true",
        "text/csv",
        gbk.to_vec(),
    )
    .await;
    assert_eq!(s, 200, "{job}");
    assert_eq!(job["state"], "failed", "{job}");
    assert_eq!(
        errors(&job),
        vec![(
            3,
            "身份证号".into(),
            "该身份证号已登记（本县已有此户）".into()
        )]
    );
    assert_eq!(job["rows_imported"], 0);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM households")
        .fetch_one(&stack.registry.pool)
        .await
        .unwrap();
    assert_eq!(n, 3, "all or nothing wrote nothing");

    // Cadres: units, positions, areas by name; a bad unit and an area
    // outside the township reported; importing again refuses the same people.
    let cadres = "姓名,手机号,单位类型,职务,工作区域,角色\n\
        周飞好,13807340001,乡镇机关,工作队员,白鹤铺镇,\n\
        刘村支书,13807340002,村两委,村干部,黄龙村,走访干部\n\
        王错,13807340003,合作社,村干部,肖家村,\n\
        李外,13807340004,乡镇机关,工作队员,太和堂镇,\n";
    let (s, job) = upload(
        &stack,
        &town,
        "/v1/import/cadres?mode=good_rows_only&wait=true",
        "text/csv",
        cadres.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(s, 200, "{job}");
    assert_eq!(counts(&job), (4, 4, 2, 2), "{job}");
    assert_eq!(
        errors(&job),
        vec![
            (
                4,
                "单位类型".into(),
                "“合作社”不是单位类型：应为 乡镇机关、村两委 或 县直部门".into()
            ),
            (
                5,
                "工作区域".into(),
                "区划表中找不到名为“太和堂镇”的乡镇或村（社区），或它不在您的管辖范围内".into()
            ),
        ]
    );
    let (s, listed) = stack
        .post(
            "/v1/registry/ListCadres",
            Some(&town),
            json!({"region_code": "430426104"}),
        )
        .await;
    assert_eq!(s, 200);
    let mut names: Vec<(String, String)> = listed["cadres"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["region_code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            ("刘村支书".to_owned(), "430426104201".to_owned()),
            ("周飞好".to_owned(), "430426104".to_owned()),
        ]
    );
    let (_, again) = upload(
        &stack,
        &town,
        "/v1/import/cadres?mode=good_rows_only&wait=true",
        "text/csv",
        cadres.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(counts(&again).2, 0);
    assert!(
        errors(&again)
            .iter()
            .any(|(row, _, r)| *row == 2 && r == "该干部已登记（姓名和手机号与已登记的干部相同）")
    );
    stack.stop().await;
}
