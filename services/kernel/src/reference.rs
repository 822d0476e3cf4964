//! Reference data every area shares: the regions (provincial-level divisions of China),
//! industries and service categories. Codes are stable ASCII slugs; names are bilingual.

use crate::Error;

/// A code with its Chinese and English names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Named {
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
}

const fn n(code: &'static str, name_zh: &'static str, name_en: &'static str) -> Named {
    Named { code, name_zh, name_en }
}

/// The 34 provincial-level divisions.
pub const REGIONS: &[Named] = &[
    n("beijing", "北京市", "Beijing"),
    n("tianjin", "天津市", "Tianjin"),
    n("hebei", "河北省", "Hebei"),
    n("shanxi", "山西省", "Shanxi"),
    n("inner_mongolia", "内蒙古自治区", "Inner Mongolia"),
    n("liaoning", "辽宁省", "Liaoning"),
    n("jilin", "吉林省", "Jilin"),
    n("heilongjiang", "黑龙江省", "Heilongjiang"),
    n("shanghai", "上海市", "Shanghai"),
    n("jiangsu", "江苏省", "Jiangsu"),
    n("zhejiang", "浙江省", "Zhejiang"),
    n("anhui", "安徽省", "Anhui"),
    n("fujian", "福建省", "Fujian"),
    n("jiangxi", "江西省", "Jiangxi"),
    n("shandong", "山东省", "Shandong"),
    n("henan", "河南省", "Henan"),
    n("hubei", "湖北省", "Hubei"),
    n("hunan", "湖南省", "Hunan"),
    n("guangdong", "广东省", "Guangdong"),
    n("guangxi", "广西壮族自治区", "Guangxi"),
    n("hainan", "海南省", "Hainan"),
    n("chongqing", "重庆市", "Chongqing"),
    n("sichuan", "四川省", "Sichuan"),
    n("guizhou", "贵州省", "Guizhou"),
    n("yunnan", "云南省", "Yunnan"),
    n("tibet", "西藏自治区", "Tibet"),
    n("shaanxi", "陕西省", "Shaanxi"),
    n("gansu", "甘肃省", "Gansu"),
    n("qinghai", "青海省", "Qinghai"),
    n("ningxia", "宁夏回族自治区", "Ningxia"),
    n("xinjiang", "新疆维吾尔自治区", "Xinjiang"),
    n("hong_kong", "香港特别行政区", "Hong Kong"),
    n("macao", "澳门特别行政区", "Macao"),
    n("taiwan", "台湾省", "Taiwan"),
];

pub const INDUSTRIES: &[Named] = &[
    n("manufacturing", "制造业", "Manufacturing"),
    n("software", "软件和信息技术服务", "Software & IT services"),
    n("biotech", "生物医药", "Biotech & pharma"),
    n("new_energy", "新能源", "New energy"),
    n("new_materials", "新材料", "New materials"),
    n("electronics", "电子信息", "Electronics"),
    n("retail", "批发和零售", "Wholesale & retail"),
    n("logistics", "交通运输和物流", "Transport & logistics"),
    n("construction", "建筑业", "Construction"),
    n("agriculture", "农业", "Agriculture"),
    n("food", "食品饮料", "Food & beverage"),
    n("culture", "文化创意", "Culture & media"),
    n("finance", "金融服务", "Financial services"),
    n("education", "教育培训", "Education"),
];

pub const SERVICE_CATEGORIES: &[Named] = &[
    n("finance_tax", "财税服务", "Finance & tax"),
    n("financing", "融资服务", "Financing"),
    n("ip", "知识产权", "Intellectual property"),
    n("high_tech", "高企认定", "High-tech certification"),
    n("erp", "ERP 实施", "ERP implementation"),
    n("consulting", "管理咨询", "Consulting"),
    n("hr", "人力资源", "HR"),
    n("marketing", "市场营销", "Marketing"),
];

fn lookup(list: &'static [Named], field: &str, what: &str, code: &str) -> Result<&'static Named, Error> {
    list.iter().find(|r| r.code == code).ok_or_else(|| Error::invalid(field, format!("unknown {what} {code:?}")))
}

pub fn region(field: &str, code: &str) -> Result<&'static Named, Error> {
    lookup(REGIONS, field, "region", code)
}

pub fn industry(field: &str, code: &str) -> Result<&'static Named, Error> {
    lookup(INDUSTRIES, field, "industry", code)
}

pub fn category(field: &str, code: &str) -> Result<&'static Named, Error> {
    lookup(SERVICE_CATEGORIES, field, "service category", code)
}

/// Checks a list of codes against a reference list: known, no duplicates, at most `max`.
pub fn codes(list: &'static [Named], field: &str, what: &str, items: &[String]) -> Result<Vec<String>, Error> {
    if items.len() > list.len() {
        return Err(Error::invalid(field, format!("lists more {what}s than exist")));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        lookup(list, field, what, item)?;
        if out.contains(item) {
            return Err(Error::invalid(field, format!("lists {what} {item:?} twice")));
        }
        out.push(item.clone());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_slugs() {
        for list in [REGIONS, INDUSTRIES, SERVICE_CATEGORIES] {
            for (i, a) in list.iter().enumerate() {
                assert!(a.code.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
                assert!(list[i + 1..].iter().all(|b| b.code != a.code));
            }
        }
        assert_eq!(REGIONS.len(), 34);
    }

    #[test]
    fn lists_are_checked() {
        let ok = codes(REGIONS, "regions", "region", &["zhejiang".into(), "jiangsu".into()]);
        assert_eq!(ok.unwrap().len(), 2);
        assert!(codes(REGIONS, "regions", "region", &["mars".into()]).is_err());
        assert!(codes(REGIONS, "regions", "region", &["zhejiang".into(), "zhejiang".into()]).is_err());
    }
}
