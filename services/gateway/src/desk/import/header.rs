//! The columns of the gateway's imports: the names townships write (户主姓名,
//! 身份证号码, 联系电话, 所属村 …, with their common variants) for
//! households, cadres and the region table. Mapping them and finding the
//! header row is `zoufang_tabular`'s.
use zoufang_tabular::FieldSpec;

const fn field(
    key: &'static str,
    label: &'static str,
    aliases: &'static [&'static str],
    required: bool,
) -> FieldSpec {
    FieldSpec::new(key, label, aliases, required)
}

/// Households (户).
pub const HOUSEHOLD_FIELDS: &[FieldSpec] = &[
    field(
        "head_name",
        "户主姓名",
        &[
            "户主姓名",
            "户主",
            "户主名",
            "户主名称",
            "姓名",
            "head_name",
        ],
        true,
    ),
    field(
        "id_number",
        "身份证号",
        &[
            "身份证号",
            "身份证号码",
            "公民身份号码",
            "公民身份证号码",
            "户主身份证号",
            "户主身份证号码",
            "身份证",
            "证件号码",
            "id_number",
        ],
        true,
    ),
    field(
        "phone",
        "联系电话",
        &[
            "联系电话",
            "电话",
            "手机号",
            "手机号码",
            "手机",
            "联系方式",
            "电话号码",
            "户主电话",
            "phone",
        ],
        false,
    ),
    field(
        "village",
        "所属村",
        &[
            "所属村",
            "村",
            "村(社区)",
            "村(居)",
            "村/社区",
            "村社区",
            "所属村(社区)",
            "所在村",
            "村名",
            "行政村",
            "村委会",
            "村居",
            "社区",
            "村代码",
            "所属村代码",
            "village_code",
            "village",
        ],
        true,
    ),
    field(
        "township",
        "所属乡镇",
        &[
            "所属乡镇",
            "乡镇",
            "乡镇(街道)",
            "乡(镇)",
            "乡镇街道",
            "镇",
            "乡",
            "街道",
            "township",
        ],
        false,
    ),
    field(
        "group_name",
        "村民小组",
        &["村民小组", "组", "小组", "所属组", "组别", "group_name"],
        false,
    ),
    field(
        "address",
        "家庭住址",
        &[
            "家庭住址",
            "住址",
            "地址",
            "详细地址",
            "家庭地址",
            "address",
        ],
        false,
    ),
    field(
        "member_count",
        "家庭人口",
        &[
            "家庭人口",
            "人口数",
            "家庭人口数",
            "人口",
            "户人口数",
            "家庭成员数",
            "家庭成员人数",
            "member_count",
        ],
        true,
    ),
    field(
        "tags",
        "标签",
        &[
            "标签",
            "户类型",
            "户类别",
            "户别",
            "人员类别",
            "重点人群",
            "类别",
            "tags",
        ],
        false,
    ),
];

/// Cadres (干部).
pub const CADRE_FIELDS: &[FieldSpec] = &[
    field("name", "姓名", &["姓名", "干部姓名", "名字", "name"], true),
    field(
        "phone",
        "联系电话",
        &[
            "联系电话",
            "手机号",
            "手机号码",
            "电话",
            "手机",
            "联系方式",
            "phone",
        ],
        false,
    ),
    field(
        "unit",
        "单位类型",
        &[
            "单位类型",
            "单位类别",
            "单位",
            "所在单位",
            "单位性质",
            "unit",
        ],
        true,
    ),
    field(
        "position",
        "职务",
        &["职务", "职位", "岗位", "position"],
        true,
    ),
    field(
        "region",
        "工作区域",
        &[
            "工作区域",
            "所属区域",
            "区域",
            "所属村",
            "所属乡镇",
            "联系村",
            "工作范围",
            "区划代码",
            "区划",
            "region_code",
        ],
        true,
    ),
    field(
        "roles",
        "角色",
        &["角色", "系统角色", "权限", "roles"],
        false,
    ),
    field(
        "team",
        "所属工作队",
        &[
            "所属工作队",
            "工作队",
            "工作队名称",
            "驻村工作队",
            "队别",
            "team",
        ],
        false,
    ),
    field(
        "leader",
        "是否队长",
        &["是否队长", "队长", "是否为队长", "队长标记", "leader"],
        false,
    ),
    field(
        "cadre_id",
        "干部编号",
        &["干部编号", "干部ID", "干部id", "cadre_id"],
        false,
    ),
    field(
        "username",
        "登录账号",
        &["登录账号", "账号", "用户名", "登录名", "username"],
        false,
    ),
];

/// 包保 assignments: who (the cadre, by 干部编号 or by name, a phone to
/// tell namesakes apart) answers for what (a household by 户编号, a
/// village, or a work zone), of one campaign named in the upload's query.
pub const ASSIGNMENT_FIELDS: &[FieldSpec] = &[
    field(
        "cadre_id",
        "干部编号",
        &["干部编号", "干部ID", "干部id", "cadre_id"],
        false,
    ),
    field(
        "cadre_name",
        "干部姓名",
        &[
            "干部姓名",
            "包保干部",
            "包保责任人",
            "责任人",
            "联系干部",
            "干部",
            "姓名",
            "cadre_name",
        ],
        false,
    ),
    field(
        "cadre_phone",
        "干部手机号",
        &[
            "干部手机号",
            "干部手机",
            "干部电话",
            "干部联系电话",
            "手机号",
            "联系电话",
            "cadre_phone",
        ],
        false,
    ),
    field(
        "target",
        "包保类型",
        &["包保类型", "包保方式", "包保对象类型", "类型", "target"],
        false,
    ),
    field(
        "household_id",
        "户编号",
        &["户编号", "户ID", "户id", "农户编号", "household_id"],
        false,
    ),
    field(
        "village",
        "村",
        &[
            "村",
            "所属村",
            "包保村",
            "联系村",
            "村(社区)",
            "村/社区",
            "村代码",
            "village_code",
            "village",
        ],
        false,
    ),
    field(
        "township",
        "所属乡镇",
        &["所属乡镇", "乡镇", "乡镇(街道)", "乡(镇)", "township"],
        false,
    ),
    field(
        "zone",
        "工作片",
        &["工作片", "包片", "工作片名称", "片区", "zone"],
        false,
    ),
];

/// The region table (行政区划).
pub const REGION_FIELDS: &[FieldSpec] = &[
    field(
        "code",
        "区划代码",
        &["区划代码", "统计用区划代码", "行政区划代码", "代码", "code"],
        true,
    ),
    field(
        "name",
        "名称",
        &["名称", "区划名称", "单位名称", "地名", "name"],
        true,
    ),
    field(
        "level",
        "级别",
        &["级别", "层级", "区划级别", "level"],
        false,
    ),
    field(
        "parent",
        "上级代码",
        &[
            "上级代码",
            "上级区划代码",
            "父级代码",
            "上级",
            "pcode",
            "parent_code",
        ],
        false,
    ),
];

#[cfg(test)]
mod tests {
    use zoufang_tabular::{Cell, Grid, Row, choose, locate, map_header, missing};

    use super::*;

    fn row(number: u32, cells: &[&str]) -> Row {
        Row {
            number,
            cells: cells.iter().map(|c| Cell::text(c)).collect(),
        }
    }

    #[test]
    fn variants_map_to_fields_and_keep_the_written_header() {
        let headers: Vec<String> = [
            "序号",
            " 户主 ",
            "公民身份号码*",
            "手机号码（必填）",
            "村（社区）",
            "人口数",
            "户类型",
        ]
        .map(String::from)
        .into();
        let m = map_header(HOUSEHOLD_FIELDS, &headers);
        assert_eq!(m.column("head_name"), Some(1));
        assert_eq!(m.column("id_number"), Some(2));
        assert_eq!(m.column("phone"), Some(3));
        assert_eq!(m.column("village"), Some(4));
        assert_eq!(m.column("member_count"), Some(5));
        assert_eq!(m.column("tags"), Some(6));
        assert_eq!(m.column("address"), None);
        assert_eq!(m.header(HOUSEHOLD_FIELDS, "id_number"), "公民身份号码*");
        assert_eq!(m.header(HOUSEHOLD_FIELDS, "address"), "家庭住址");
        assert!(missing(HOUSEHOLD_FIELDS, &m).is_empty());
    }

    #[test]
    fn the_preferred_alias_wins_when_two_columns_could_serve() {
        let headers: Vec<String> = ["姓名", "户主姓名", "身份证号"].map(String::from).into();
        let m = map_header(HOUSEHOLD_FIELDS, &headers);
        assert_eq!(m.column("head_name"), Some(1));
    }

    #[test]
    fn the_header_is_found_under_a_title_row_and_missing_columns_are_named() {
        let grid = Grid {
            name: "花名册".into(),
            rows: vec![
                row(1, &["白鹤铺镇农户花名册"]),
                row(2, &["户主姓名", "身份证号码", "所属村", "家庭人口"]),
                row(3, &["张三", "x", "黄龙村", "3"]),
            ],
        };
        let located = locate(HOUSEHOLD_FIELDS, &grid).unwrap();
        assert_eq!((located.header_row, located.first_data), (2, 2));

        let grid = Grid {
            name: String::new(),
            rows: vec![row(1, &["户主姓名", "电话", "村"])],
        };
        let err = locate(HOUSEHOLD_FIELDS, &grid).unwrap_err();
        assert!(
            err.contains("“身份证号”（可写作：身份证号、身份证号码、公民身份号码"),
            "{err}"
        );
        assert!(err.contains("“家庭人口”"), "{err}");
        assert!(!err.contains("“所属村”"), "{err}");

        let grid = Grid {
            name: String::new(),
            rows: vec![row(1, &["a", "b"])],
        };
        assert!(
            locate(HOUSEHOLD_FIELDS, &grid)
                .unwrap_err()
                .starts_with("找不到表头")
        );
    }

    #[test]
    fn the_first_matching_sheet_is_chosen() {
        let notes = Grid {
            name: "说明".into(),
            rows: vec![row(1, &["填表说明"])],
        };
        let data = Grid {
            name: "数据".into(),
            rows: vec![row(1, &["代码", "名称"])],
        };
        let grids = [notes, data];
        let (g, _) = choose(REGION_FIELDS, &grids).unwrap();
        assert_eq!(g.name, "数据");
        assert!(
            choose(REGION_FIELDS, &grids[..1])
                .unwrap_err()
                .starts_with("工作表“说明”")
        );
    }
}
