//! The words of the demo county: place names, occupations, materials,
//! policies, departments, tags and the topics residents raise.
#[rustfmt::skip]
pub const TOWNS: &[&str] = &[
    "白鹤铺镇", "太和堂镇", "归阳镇", "黄土铺镇", "官家嘴镇", "风石堰镇", "白地市镇", "双桥镇",
    "过水坪镇", "砖塘镇", "灵官镇", "步云桥镇", "石亭子镇", "蒋家桥镇", "粮市镇", "金桥镇",
];
pub const XIANG: &[&str] = &["马杜桥乡", "凤歧坪乡", "四明山乡"];
#[rustfmt::skip]
pub const VILLAGE_STEMS: &[&str] = &[
    "黄龙", "肖家", "桃源", "新塘", "石门", "双桥", "枫树", "杨柳", "竹山", "荷塘", "龙井", "凤凰",
    "金盆", "银杏", "白沙", "青山", "长冲", "高岭", "大坪", "小河", "东岭", "西湾", "南岳", "北斗",
    "上田", "下湾", "李家", "王家", "刘家", "周家", "唐家", "谢家", "蒋家", "曾家", "邓家", "罗家",
    "何家", "彭家", "油茶", "梅花", "松柏", "茶园", "清水", "太平", "和平", "永兴", "兴隆", "丰收",
    "红星", "光明", "胜利", "燎原", "团结", "新民", "建设", "民主", "幸福", "前进", "迎春", "向阳",
];
#[rustfmt::skip]
pub const FIRST: &[&str] = &[
    "黄", "肖", "桃", "新", "石", "双", "枫", "杨", "竹", "荷", "龙", "凤", "金", "白", "青", "长",
    "高", "大", "小", "东", "西", "南", "北", "上", "下", "樟", "杉", "泉", "柏", "花", "茶", "梅",
];
#[rustfmt::skip]
pub const SECOND: &[&str] = &[
    "冲", "湾", "坪", "岭", "田", "铺", "江", "湖", "园", "溪", "坝", "岗", "洲", "口", "埠", "圳",
    "坳", "垅", "塘", "桥", "山", "源",
];
pub const OCCUPATIONS: &[&str] = &[
    "户主在家务农，子女外出务工",
    "户主务农，种植水稻和油菜",
    "户主在镇上打零工",
    "户主养殖生猪十余头",
    "户主种植油茶二十余亩",
    "户主经营一家小卖部",
    "户主种植黄花菜",
    "户主常年在广东务工，家中老人带孩子",
];
pub const LEAFLET: &str = "惠民政策宣传资料";
pub const EXTRA_MATERIALS: &[&str] = &[
    "农技手册",
    "防范电信诈骗宣传单",
    "医保政策明白卡",
    "防汛安全告知书",
];
pub const POLICIES: &[&str] = &[
    "城乡居民医保政策",
    "耕地地力保护补贴",
    "产业奖补政策",
    "防返贫监测帮扶政策",
    "农村危房改造政策",
    "城乡居民养老保险",
];
/// The county departments cadres escalate to and that send cadres on case visits.
pub const DEPARTMENTS: &[&str] = &[
    "县交通运输局",
    "县民政局",
    "县水利局",
    "县住建局",
    "县农业农村局",
    "县信访局",
];

/// Poverty tags (all of them in the registry's list of poor-household tags).
pub const POOR_TAGS: &[&str] = &["低保", "脱贫户", "脱贫监测户", "特困户", "五保户"];
/// The tag of households with an old petition case.
pub const PETITION_TAG: &str = "重点信访";

/// Categories, descriptions and where to escalate, by kind.
pub struct Topic {
    pub category: &'static str,
    pub text: &'static str,
    pub department: &'static str,
    pub urgent_ok: bool,
}

pub const fn topic(
    category: &'static str,
    text: &'static str,
    department: &'static str,
    urgent_ok: bool,
) -> Topic {
    Topic {
        category,
        text,
        department,
        urgent_ok,
    }
}

#[rustfmt::skip]
pub const PROBLEMS: &[Topic] = &[
    topic("交通出行", "组级道路坑洼，雨天泥泞难行，希望硬化", "县交通运输局", false),
    topic("城镇建设", "村口路灯损坏，夜间出行不便", "县住建局", false),
    topic("农田水利", "山塘渗漏，灌溉用水不足", "县水利局", false),
    topic("农田水利", "渠道淤塞，需清淤疏浚", "县水利局", false),
    topic("民生工程", "自来水未通户，饮水水质差", "县水利局", true),
    topic("民生工程", "住房墙体开裂，属危房，需尽快改造", "县住建局", true),
    topic("社会保障", "残疾人两项补贴未按时到账", "县民政局", false),
    topic("环境卫生", "垃圾清运不及时，堆放在路边", "县住建局", false),
    topic("社会治安", "夜间有陌生车辆进村，希望加强巡逻", "县信访局", false),
    topic("民生工程", "低保评定有疑问，希望复核", "县民政局", false),
];
#[rustfmt::skip]
pub const SUGGESTIONS: &[Topic] = &[
    topic("经济发展", "建议发展油茶产业，统一提供种苗", "县农业农村局", false),
    topic("经济发展", "希望开展农技培训", "县农业农村局", false),
    topic("经济发展", "建议成立合作社统一销售黄花菜", "县农业农村局", false),
    topic("政策咨询", "咨询耕地地力保护补贴标准", "县农业农村局", false),
    topic("政策咨询", "咨询城乡居民养老保险缴费档次", "县民政局", false),
    topic("城镇建设", "建议在村部旁建设文化广场", "县住建局", false),
    topic("民生工程", "建议村卫生室增加常用药品", "县民政局", false),
];
#[rustfmt::skip]
pub const DISPUTES: &[Topic] = &[
    topic("矛盾纠纷", "与邻居宅基地边界争执", "县信访局", false),
    topic("矛盾纠纷", "山林权属纠纷", "县信访局", false),
    topic("矛盾纠纷", "田水灌溉先后引发纠纷", "县水利局", false),
    topic("矛盾纠纷", "子女赡养老人纠纷", "县民政局", false),
    topic("矛盾纠纷", "土地流转租金纠纷", "县农业农村局", false),
];
#[rustfmt::skip]
pub const PETITIONS: &[Topic] = &[
    topic("信访积案", "征地补偿款分配问题多年未解决", "县信访局", false),
    topic("信访积案", "历史遗留宅基地确权问题", "县信访局", false),
    topic("信访积案", "修路占地青苗补偿未到位，多次上访", "县交通运输局", false),
];
pub const ON_SPOT_NOTES: &[&str] = &[
    "现场协调解决",
    "当场讲解政策，群众表示认可",
    "现场联系村干部落实",
    "当场帮助办理",
];
