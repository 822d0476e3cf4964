//! Rendering notification templates in the recipient's locale.
//!
//! Templates live in `templates/<locale>.toml` (embedded in the binary) and are compiled once at
//! start-up; a missing template or a variable a payload does not provide is an error, caught by
//! the tests for every template in every locale.

use std::collections::HashMap;

use kernel::Locale;
use minijinja::{Environment, UndefinedBehavior};
use serde::Deserialize;
use serde_json::Value;
use strum::IntoEnumIterator;

use crate::domain::Template;

const LAYOUT: &str = include_str!("../templates/layout.html");
const SOURCES: &[(Locale, &str)] =
    &[(Locale::ZhCn, include_str!("../templates/zh-CN.toml")), (Locale::En, include_str!("../templates/en.toml"))];

#[derive(Deserialize)]
struct Parts {
    subject: String,
    text: String,
    html: String,
}

#[derive(Deserialize)]
struct LayoutStrings {
    park_name: String,
    footer: String,
}

/// A rendered e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub struct Templates {
    env: Environment<'static>,
    layout: HashMap<&'static str, (String, String)>,
}

impl Templates {
    /// Compiles every template of every locale; fails on a missing or malformed one.
    pub fn load() -> anyhow::Result<Templates> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.add_template("layout.html", LAYOUT)?;
        let mut layout = HashMap::new();
        for (locale, source) in SOURCES {
            let mut table: HashMap<String, toml::Value> = toml::from_str(source)?;
            let strings: LayoutStrings = table
                .remove("_layout")
                .ok_or_else(|| anyhow::anyhow!("{} templates lack [_layout]", locale.as_str()))?
                .try_into()?;
            layout.insert(locale.as_str(), (strings.park_name, strings.footer));
            for template in Template::iter() {
                let parts: Parts = table
                    .remove(template.as_str())
                    .ok_or_else(|| anyhow::anyhow!("template {} missing in {}", template.as_str(), locale.as_str()))?
                    .try_into()?;
                let base = format!("{}/{}", locale.as_str(), template.as_str());
                env.add_template_owned(format!("{base}.subject.txt"), parts.subject.trim().to_owned())?;
                env.add_template_owned(format!("{base}.txt"), parts.text.trim_start().to_owned())?;
                env.add_template_owned(format!("{base}.html"), parts.html)?;
            }
            if let Some(extra) = table.keys().next() {
                anyhow::bail!("{} templates define unknown template [{extra}]", locale.as_str());
            }
        }
        Ok(Templates { env, layout })
    }

    pub fn render(&self, template: Template, locale: Locale, name: &str, payload: &Value) -> anyhow::Result<Rendered> {
        let mut vars = match payload {
            Value::Object(map) => map.clone(),
            _ => serde_json::Map::new(),
        };
        vars.insert("name".into(), Value::String(name.to_owned()));
        let base = format!("{}/{}", locale.as_str(), template.as_str());
        let subject = self.env.get_template(&format!("{base}.subject.txt"))?.render(&vars)?;
        let text = self.env.get_template(&format!("{base}.txt"))?.render(&vars)?;
        let body = self.env.get_template(&format!("{base}.html"))?.render(&vars)?;
        let (park_name, footer) = self
            .layout
            .get(locale.as_str())
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no layout for {}", locale.as_str()))?;
        let html = self.env.get_template("layout.html")?.render(minijinja::context! {
            lang => locale.as_str(),
            subject => &subject,
            park_name => park_name,
            footer => footer,
            body => minijinja::Value::from_safe_string(body),
        })?;
        Ok(Rendered { subject: subject.trim().to_owned(), text, html })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_in_every_locale() {
        let t = Templates::load().unwrap();
        for template in Template::iter() {
            for (locale, _) in SOURCES {
                let r = t.render(template, *locale, "王小明", &template.example_payload()).unwrap();
                assert!(!r.subject.is_empty() && !r.subject.contains('\n'));
                assert!(r.text.contains("王小明"), "{template:?} {locale:?}");
                assert!(r.html.contains("王小明") && r.html.contains("<html"));
            }
        }
    }

    #[test]
    fn a_missing_variable_is_an_error_not_an_empty_string() {
        let t = Templates::load().unwrap();
        assert!(t.render(Template::UserInvited, Locale::En, "A", &serde_json::json!({})).is_err());
    }

    #[test]
    fn html_escapes_variables_but_text_does_not() {
        let t = Templates::load().unwrap();
        let mut payload = Template::UserInvited.example_payload();
        payload["org_name"] = Value::String("<b>Acme & Co</b>".into());
        let r = t.render(Template::UserInvited, Locale::En, "A", &payload).unwrap();
        assert!(r.html.contains("&lt;b&gt;Acme &amp; Co&lt;"), "{}", r.html);
        assert!(!r.html.contains("<b>Acme"));
        assert!(r.text.contains("<b>Acme & Co</b>"));
    }

    #[test]
    fn chinese_is_the_chinese_template() {
        let t = Templates::load().unwrap();
        let zh =
            t.render(Template::PasswordReset, Locale::ZhCn, "A", &Template::PasswordReset.example_payload()).unwrap();
        let en =
            t.render(Template::PasswordReset, Locale::En, "A", &Template::PasswordReset.example_payload()).unwrap();
        assert!(zh.subject.contains("密码"));
        assert!(en.subject.contains("password"));
    }
}
