//! Small values parsed once at the edge: e-mail addresses, locales, passwords.

use std::fmt;

use crate::Error;

/// An e-mail address, trimmed and lower-cased. Deliberately permissive (RFC 5322 is not worth
/// enforcing here): one `@`, a non-empty local part, a domain with a dot, no spaces, ≤ 254 bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Email, Error> {
        let normalized = text.trim().to_lowercase();
        let valid = normalized.len() <= 254
            && !normalized.chars().any(|c| c.is_whitespace() || c.is_control())
            && match normalized.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if valid { Ok(Email(normalized)) } else { Err(Error::invalid("email", "is not a valid e-mail address")) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The languages the park speaks. Chinese is the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, strum::EnumString, strum::IntoStaticStr)]
pub enum Locale {
    #[default]
    #[strum(serialize = "zh-CN")]
    ZhCn,
    #[strum(serialize = "en")]
    En,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(text: &str) -> Result<Locale, Error> {
        text.parse().map_err(|_| Error::invalid("locale", "must be \"zh-CN\" or \"en\""))
    }
}

/// A password in transit. Its `Debug` never shows it; it is never stored, only hashed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    /// A new password chosen by a user: 8 to 128 characters.
    pub fn new_chosen(text: &str) -> Result<Password, Error> {
        let n = text.chars().count();
        if n < Self::MIN_CHARS {
            return Err(Error::invalid("password", "must have at least 8 characters"));
        }
        if n > Self::MAX_CHARS {
            return Err(Error::invalid("password", "must have at most 128 characters"));
        }
        Ok(Password(text.to_owned()))
    }

    /// A password offered at login: anything up to the maximum length (longer cannot match).
    pub fn offered(text: &str) -> Password {
        Password(text.chars().take(Self::MAX_CHARS + 1).collect())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A required human-readable text field (a name), trimmed, 1..=max characters.
pub fn required_text(field: &str, text: &str, max_chars: usize) -> Result<String, Error> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(Error::invalid(field, format!("must have at most {max_chars} characters")));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Error::invalid(field, "must not contain control characters"));
    }
    Ok(trimmed.to_owned())
}

/// A required paragraph (a plan, a reason, a note), trimmed, 1..=max characters: as
/// [`required_text`], with line breaks and tabs allowed.
pub fn required_paragraph(field: &str, text: &str, max_chars: usize) -> Result<String, Error> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max_chars {
        return Err(Error::invalid(field, format!("must have at most {max_chars} characters")));
    }
    if trimmed.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(Error::invalid(field, "must not contain control characters other than line breaks and tabs"));
    }
    Ok(trimmed.to_owned())
}

/// A code: 2..=32 characters of A-Z, 0-9, '-' and '_' (service codes, certification codes).
pub fn code(field: &str, text: &str) -> Result<String, Error> {
    let t = text.trim();
    let ok = (2..=32).contains(&t.len())
        && t.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if ok { Ok(t.to_owned()) } else { Err(Error::invalid(field, "must be 2 to 32 characters of A-Z, 0-9, '-' or '_'")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(Email::parse("  Ops@VPark.Demo ").unwrap().as_str(), "ops@vpark.demo");
        for bad in ["", "a", "a@b", "@b.cn", "a@@b.cn", "a b@c.cn", "a@.cn", "a@cn."] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn password_debug_is_redacted() {
        let p = Password::new_chosen("correct horse").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
        assert!(Password::new_chosen("short").is_err());
    }

    #[test]
    fn locales_parse() {
        assert_eq!(Locale::parse("en").unwrap(), Locale::En);
        assert_eq!(Locale::parse("zh-CN").unwrap().as_str(), "zh-CN");
        assert!(Locale::parse("fr").is_err());
    }

    #[test]
    fn codes_and_text() {
        assert!(code("code", "ERP-L2").is_ok());
        assert!(code("code", "erp").is_err());
        assert_eq!(required_text("name", "  杭州云帆  ", 10).unwrap(), "杭州云帆");
        assert!(required_text("name", "   ", 10).is_err());
    }
}
