//! API forms of the shared vocabulary (enums as the wire knows them), and the small response
//! types every API uses. Unknown enum values in a request are refused with 400.

use poem_openapi::{ApiResponse, Enum};

/// The kinds of organisation.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "snake_case", remote = "kernel::OrgKind")]
pub enum OrgKindName {
    Vendor,
    DirectTeam,
    EquityPartner,
    SubcontractPartner,
    Client,
}

/// The roles a user can hold.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[oai(rename_all = "snake_case", remote = "kernel::Role")]
pub enum RoleName {
    PlatformAdmin,
    VendorOps,
    VendorFinance,
    TeamAdmin,
    TeamMember,
    EquityAdmin,
    EquityStaff,
    SubAdmin,
    SubStaff,
    Implementer,
    ClientAdmin,
    ClientUser,
}

/// The languages of the park.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(remote = "kernel::Locale")]
pub enum LocaleName {
    #[oai(rename = "zh-CN")]
    ZhCn,
    #[oai(rename = "en")]
    En,
}

/// An operation that succeeded and has nothing to return.
#[derive(ApiResponse, Debug)]
pub enum Done {
    /// Done.
    #[oai(status = 204)]
    NoContent,
}

/// A request that was accepted for processing (e.g. an e-mail will be sent).
#[derive(ApiResponse, Debug)]
pub enum Accepted {
    /// Accepted.
    #[oai(status = 202)]
    Accepted,
}

/// A decimal number written as a JSON *string*: money ("40000.00") and rates ("0.40").
///
/// JSON numbers are refused (400): a client that sends `0.1` as a float has already lost
/// precision before the request left it, and money must never pass through a float.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecimalText(pub String);

impl DecimalText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl poem_openapi::types::Type for DecimalText {
    const IS_REQUIRED: bool = true;
    type RawValueType = Self;
    type RawElementValueType = Self;

    fn name() -> std::borrow::Cow<'static, str> {
        "string_decimal".into()
    }

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        let mut schema = poem_openapi::registry::MetaSchema::new_with_format("string", "decimal");
        schema.pattern = Some(r"^-?[0-9]+(\.[0-9]+)?$".into());
        schema.example = Some(serde_json::Value::String("40000.00".into()));
        poem_openapi::registry::MetaSchemaRef::Inline(Box::new(schema))
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(self)
    }

    fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
        Box::new(self.as_raw_value().into_iter())
    }
}

impl poem_openapi::types::ParseFromJSON for DecimalText {
    fn parse_from_json(value: Option<serde_json::Value>) -> poem_openapi::types::ParseResult<Self> {
        match value {
            Some(serde_json::Value::String(s)) => Ok(DecimalText(s)),
            _ => Err(poem_openapi::types::ParseError::custom(
                "a decimal amount or rate is written as a JSON string, e.g. \"40000.00\" or \"0.40\"",
            )),
        }
    }
}

impl poem_openapi::types::ParseFromParameter for DecimalText {
    fn parse_from_parameter(value: &str) -> poem_openapi::types::ParseResult<Self> {
        Ok(DecimalText(value.to_owned()))
    }
}

impl poem_openapi::types::ToJSON for DecimalText {
    fn to_json(&self) -> Option<serde_json::Value> {
        Some(serde_json::Value::String(self.0.clone()))
    }
}

impl From<String> for DecimalText {
    fn from(s: String) -> Self {
        DecimalText(s)
    }
}

// ---- the strings of requests --------------------------------------------------------------
//
// poem-openapi reads a JSON number or boolean into a `String` field as its text (`false` becomes
// "false"), and a plain `String` in the spec says nothing of what the server accepts. Every text
// of a request is one of the types below instead: a JSON string and nothing else (400
// otherwise), with its rule declared in the spec (pattern, lengths) and checked by `checked`
// against the same pattern — so the spec and the server cannot disagree. A value that breaks
// its rule is 422 `invalid_field` naming the field.

use std::sync::OnceLock;

use kernel::Error;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::types::{ParseError, ParseFromJSON, ParseFromParameter, ParseResult, ToJSON, Type};

/// No control character (Unicode Cc: U+0000–U+001F, U+007F–U+009F), at least one that is not
/// white space: one line of text a person writes (a name, a title, a reason).
pub const LINE_PATTERN: &str =
    r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";
/// As `LINE_PATTERN`, with tabs and line breaks: a paragraph (a plan, a comment, a note).
pub const PARA_PATTERN: &str = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$";

fn compiled(cell: &'static OnceLock<Option<regex::Regex>>, pattern: &str) -> Option<&'static regex::Regex> {
    cell.get_or_init(|| regex::Regex::new(pattern).ok()).as_ref()
}

/// A JSON string, and nothing else.
fn json_string<T: Type>(value: Option<serde_json::Value>, what: &str) -> Result<String, ParseError<T>> {
    match value {
        Some(serde_json::Value::String(s)) => Ok(s),
        None => Err(ParseError::custom("a required field is missing")),
        Some(serde_json::Value::Null) => Err(ParseError::custom(format!("{what} may not be null"))),
        Some(_) => Err(ParseError::custom(format!("{what} is a JSON string"))),
    }
}

/// Declares a string type with a fixed rule.
macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, pattern = $pattern:expr, min = $min:expr, max = $max:expr,
     example = $example:expr, format = $format:expr, rule = $rule:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(pub String);

        impl $name {
            pub const PATTERN: &'static str = $pattern;

            /// The text if it keeps its rule; 422 `invalid_field` naming `field` otherwise.
            pub fn checked(&self, field: &str) -> Result<&str, Error> {
                static RE: OnceLock<Option<regex::Regex>> = OnceLock::new();
                let n = self.0.chars().count();
                let fits = ($min..=$max).contains(&n) && compiled(&RE, $pattern).is_some_and(|re| re.is_match(&self.0));
                if fits { Ok(&self.0) } else { Err(Error::invalid(field, $rule)) }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> std::borrow::Cow<'static, str> {
                concat!("string_", stringify!($name)).into()
            }

            fn schema_ref() -> MetaSchemaRef {
                let mut schema = match $format {
                    Some(f) => MetaSchema::new_with_format("string", f),
                    None => MetaSchema::new("string"),
                };
                schema.pattern = Some($pattern.into());
                schema.min_length = Some($min);
                schema.max_length = Some($max);
                schema.example = Some(serde_json::Value::String($example.into()));
                MetaSchemaRef::Inline(Box::new(schema))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }

        impl ParseFromJSON for $name {
            fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
                json_string(value, stringify!($name)).map($name)
            }
        }

        impl ParseFromParameter for $name {
            fn parse_from_parameter(value: &str) -> ParseResult<Self> {
                Ok($name(value.to_owned()))
            }
        }

        impl ToJSON for $name {
            fn to_json(&self) -> Option<serde_json::Value> {
                Some(serde_json::Value::String(self.0.clone()))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }
    };
}

// Amounts of money are written in their canonical decimal form: at most two decimals, no
// leading zeros, at most 1,000,000,000.00 (`kernel::money::MAX_INPUT_FEN`).

text_type!(
    /// An amount of money, zero or more: "40000.00" (at most two decimals, at most
    /// 1,000,000,000.00).
    Amount,
    pattern = r"^((0|[1-9][0-9]{0,8})(\.[0-9]{1,2})?|1000000000(\.00?)?)$",
    min = 1, max = 13, example = "18000.00", format = Some("decimal"),
    rule = "must be an amount such as \"40000.00\": at most two decimals, from 0 to 1000000000.00"
);

text_type!(
    /// An amount of money more than zero: "40000.00".
    PositiveAmount,
    pattern = r"^([1-9][0-9]{0,8}(\.[0-9]{1,2})?|0\.([1-9][0-9]?|0[1-9])|1000000000(\.00?)?)$",
    min = 1, max = 13, example = "40000.00", format = Some("decimal"),
    rule = "must be an amount more than zero such as \"40000.00\": at most two decimals, at most 1000000000.00"
);

text_type!(
    /// An amount of money that is not zero; negative for a refund: "20000.00", "-5000.00".
    SignedAmount,
    pattern = r"^-?([1-9][0-9]{0,8}(\.[0-9]{1,2})?|0\.([1-9][0-9]?|0[1-9])|1000000000(\.00?)?)$",
    min = 1, max = 14, example = "20000.00", format = Some("decimal"),
    rule = "must be a non-zero amount such as \"20000.00\" (negative for a refund): at most two decimals, at most 1000000000.00 either way"
);

text_type!(
    /// A rate from 0 to 1 with at most four decimals: "0.40".
    RateText,
    pattern = r"^(0(\.[0-9]{1,4})?|1(\.0{1,4})?)$",
    min = 1, max = 6, example = "0.40", format = Some("decimal"),
    rule = "must be a rate from \"0\" to \"1\" with at most four decimals, such as \"0.40\""
);

text_type!(
    /// A share strictly between 0 and 1 with at most four decimals: "0.70".
    ShareText,
    pattern = r"^0\.([1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9])$",
    min = 3, max = 6, example = "0.70", format = Some("decimal"),
    rule = "must be more than 0 and less than 1 with at most four decimals, such as \"0.70\""
);

text_type!(
    /// The vendor's stake in an equity partner: more than 0 and less than 0.5 (at 50 % or more
    /// the firm is direct, not a channel), at most four decimals: "0.30".
    StakeText,
    pattern = r"^0\.([1-4][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9])$",
    min = 3, max = 6, example = "0.30", format = Some("decimal"),
    rule = "must be more than 0 and less than 0.5 with at most four decimals, such as \"0.30\""
);

text_type!(
    /// A number of stars from "1.00" to "5.00", at most two decimals: "3.80".
    StarsText,
    pattern = r"^([1-4](\.[0-9]{1,2})?|5(\.00?)?)$",
    min = 1, max = 4, example = "3.80", format = Some("decimal"),
    rule = "must be a number of stars from \"1.00\" to \"5.00\", at most two decimals"
);

text_type!(
    /// A code of the catalog: 2 to 32 characters of A-Z, 0-9, '-' and '_' ("ERP-L2"). Lower case
    /// is taken as upper case.
    CodeText,
    pattern = r"^[A-Za-z0-9_-]{2,32}$",
    min = 2, max = 32, example = "ERP-L2", format = None,
    rule = "must be 2 to 32 characters of A-Z, 0-9, '-' or '_'"
);

text_type!(
    /// The code of an agreement template: 2 to 32 characters of a-z, 0-9, '-' and '_'
    /// ("standard"). Upper case is taken as lower case.
    TemplateCode,
    pattern = r"^[A-Za-z0-9_-]{2,32}$",
    min = 2, max = 32, example = "standard", format = None,
    rule = "must be 2 to 32 characters of a-z, 0-9, '-' or '_'"
);

text_type!(
    /// A lower-case code within a record (a delivery milestone's): 2 to 32 characters of a-z,
    /// 0-9 and '_' ("go_live").
    SlugText,
    pattern = r"^[a-z0-9_]{2,32}$",
    min = 2, max = 32, example = "go_live", format = None,
    rule = "must be 2 to 32 characters of a-z, 0-9 and '_'"
);

text_type!(
    /// An e-mail address (ASCII).
    EmailText,
    pattern = r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$",
    min = 6, max = 254, example = "sub@vpark.demo", format = Some("email"),
    rule = "must be an e-mail address such as \"name@example.cn\""
);

text_type!(
    /// A unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters; its last one
    /// is a check character over the others.
    CreditCodeText,
    pattern = r"^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{10}$",
    min = 18, max = 18, example = "91330106MA2B0C1X3K", format = None,
    rule = "must be a unified social credit code: 18 characters (GB 32100-2015)"
);

text_type!(
    /// A password someone already has: 1 to 1024 characters (one longer than 128 cannot match).
    SecretText,
    pattern = r"^[\s\S]{1,1024}$",
    min = 1, max = 1024, example = "vpark-demo", format = Some("password"),
    rule = "must have 1 to 128 characters"
);

text_type!(
    /// A password: 8 to 128 characters.
    PasswordText,
    pattern = r"^[\s\S]{8,128}$",
    min = 8, max = 128, example = "correct-horse-battery", format = Some("password"),
    rule = "must have 8 to 128 characters"
);

text_type!(
    /// A telephone number: digits, spaces, '+', '-', '(' and ')'.
    PhoneText,
    pattern = r"^[0-9+()\- ]*[0-9][0-9+()\- ]*$",
    min = 3, max = 40, example = "+86 571 8888 0000", format = None,
    rule = "must be a telephone number: digits, spaces, '+', '-', '(' and ')', 3 to 40 characters"
);

text_type!(
    /// The `next_cursor` of a page: where the next page starts.
    CursorText,
    pattern = kernel::page::CURSOR_PATTERN,
    min = 1, max = 1044, example = "42", format = None,
    rule = "must be the next_cursor of a previous page"
);

text_type!(
    /// A month: "2026-10".
    MonthText,
    pattern = r"^[2-9][0-9]{3}-(0[1-9]|1[0-2])$",
    min = 7, max = 7, example = "2026-10", format = None,
    rule = "must be a month such as \"2026-10\""
);

macro_rules! money_of {
    ($($name:ident),*) => {$(
        impl $name {
            /// The amount in fen; 422 `invalid_field` naming `field` when it breaks its rule.
            pub fn fen(&self, field: &str) -> Result<kernel::Fen, Error> {
                kernel::Fen::parse_yuan(self.checked(field)?).map_err(|e| Error::invalid(field, e.to_string()))
            }
        }
    )*};
}
money_of!(Amount, PositiveAmount, SignedAmount);

macro_rules! rate_of {
    ($($name:ident),*) => {$(
        impl $name {
            /// The rate; 422 `invalid_field` naming `field` when it breaks its rule.
            pub fn rate(&self, field: &str) -> Result<kernel::Rate, Error> {
                kernel::Rate::parse(self.checked(field)?).map_err(|e| Error::invalid(field, e.to_string()))
            }
        }
    )*};
}
rate_of!(RateText, ShareText, StakeText);

impl StarsText {
    /// Hundredths of a star (100–500); 422 `invalid_field` naming `field` otherwise.
    pub fn centi(&self, field: &str) -> Result<i32, Error> {
        let t = self.checked(field)?;
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        let frac = format!("{frac:0<2}");
        match (whole.parse::<i32>(), frac.parse::<i32>()) {
            (Ok(w), Ok(f)) => Ok(w * 100 + f),
            _ => Err(Error::invalid(field, "must be a number of stars from \"1.00\" to \"5.00\"")),
        }
    }
}

impl CodeText {
    /// The code, upper case; 422 `invalid_field` naming `field` when it breaks its rule.
    pub fn code(&self, field: &str) -> Result<String, Error> {
        Ok(self.checked(field)?.to_ascii_uppercase())
    }
}

impl TemplateCode {
    /// The code, lower case; 422 `invalid_field` naming `field` when it breaks its rule.
    pub fn code(&self, field: &str) -> Result<String, Error> {
        Ok(self.checked(field)?.to_ascii_lowercase())
    }
}

/// A text a person writes, of at most `MAX` characters: one line (`Line`) or a paragraph
/// (`Para`, with tabs and line breaks). Declared in the spec with its pattern and lengths.
macro_rules! free_text {
    ($(#[$doc:meta])* $name:ident, $pattern:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name<const MAX: usize>(pub String);

        impl<const MAX: usize> $name<MAX> {
            /// The text, trimmed, if it keeps its rule; 422 `invalid_field` naming `field`.
            pub fn checked(&self, field: &str) -> Result<String, Error> {
                static RE: OnceLock<Option<regex::Regex>> = OnceLock::new();
                let n = self.0.chars().count();
                if n == 0 || self.0.trim().is_empty() {
                    return Err(Error::invalid(field, "must not be empty"));
                }
                if n > MAX {
                    return Err(Error::invalid(field, format!("must have at most {MAX} characters")));
                }
                if !compiled(&RE, $pattern).is_some_and(|re| re.is_match(&self.0)) {
                    return Err(Error::invalid(field, concat!("must not contain control characters", $what)));
                }
                Ok(self.0.trim().to_owned())
            }
        }

        impl<const MAX: usize> Type for $name<MAX> {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> std::borrow::Cow<'static, str> {
                format!(concat!("string_", stringify!($name), "_{}"), MAX).into()
            }

            fn schema_ref() -> MetaSchemaRef {
                let mut schema = MetaSchema::new("string");
                schema.pattern = Some($pattern.into());
                schema.min_length = Some(1);
                schema.max_length = Some(MAX);
                MetaSchemaRef::Inline(Box::new(schema))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }

        impl<const MAX: usize> ParseFromJSON for $name<MAX> {
            fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
                json_string(value, "a text").map($name)
            }
        }

        impl<const MAX: usize> ParseFromParameter for $name<MAX> {
            fn parse_from_parameter(value: &str) -> ParseResult<Self> {
                Ok($name(value.to_owned()))
            }
        }

        impl<const MAX: usize> ToJSON for $name<MAX> {
            fn to_json(&self) -> Option<serde_json::Value> {
                Some(serde_json::Value::String(self.0.clone()))
            }
        }

        impl<const MAX: usize> From<&str> for $name<MAX> {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }
    };
}

free_text!(
    /// One line a person writes (a name, a title, a reference): no control characters.
    Line, LINE_PATTERN, ""
);
free_text!(
    /// A paragraph a person writes (a plan, a comment, a note): line breaks and tabs allowed.
    Para, PARA_PATTERN, " other than line breaks and tabs"
);

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn amounts_keep_their_canonical_form() {
        for ok in ["0", "0.00", "40000.00", "1000000000", "1000000000.00", "12.5"] {
            assert!(Amount(ok.into()).checked("a").is_ok(), "{ok}");
        }
        for bad in ["", "-1", "01", "1.", ".5", "1.001", "1000000000.01", "1e5", " 1", "1,000"] {
            assert!(Amount(bad.into()).checked("a").is_err(), "{bad}");
        }
        assert!(PositiveAmount("0.00".into()).checked("a").is_err());
        assert!(PositiveAmount("0.01".into()).checked("a").is_ok());
        assert!(SignedAmount("-5000.00".into()).checked("a").is_ok());
        assert!(SignedAmount("-0.00".into()).checked("a").is_err());
    }

    #[test]
    fn rates_shares_and_stars() {
        assert!(RateText("1.0000".into()).checked("r").is_ok());
        assert!(RateText("1.0001".into()).checked("r").is_err());
        for ok in ["0.7", "0.70", "0.0001", "0.05", "0.999"] {
            assert!(ShareText(ok.into()).checked("s").is_ok(), "{ok}");
        }
        for bad in ["0", "0.0", "0.0000", "1", "1.0", "0.12345", "40000.00"] {
            assert!(ShareText(bad.into()).checked("s").is_err(), "{bad}");
        }
        assert!(StakeText("0.4999".into()).checked("s").is_ok());
        assert!(StakeText("0.5".into()).checked("s").is_err());
        assert!(StarsText("5.00".into()).checked("q").is_ok());
        assert!(StarsText("5.01".into()).checked("q").is_err());
        assert!(StarsText("0.99".into()).checked("q").is_err());
    }

    #[test]
    fn free_text_has_no_control_characters_and_is_not_blank() {
        assert_eq!(Line::<10>(" 杭州云帆 ".into()).checked("n").ok().as_deref(), Some("杭州云帆"));
        assert!(Line::<10>("   ".into()).checked("n").is_err());
        assert!(Line::<10>("a\nb".into()).checked("n").is_err());
        assert!(Line::<3>("abcd".into()).checked("n").is_err());
        assert!(Line::<10>("a\u{85}b".into()).checked("n").is_err(), "a C1 control");
        assert_eq!(Para::<20>("第一行\n第二行".into()).checked("p").ok().as_deref(), Some("第一行\n第二行"));
        assert!(Para::<20>("a\u{7}".into()).checked("p").is_err());
    }

    #[test]
    fn only_json_strings_are_texts() {
        assert!(Line::<10>::parse_from_json(Some(serde_json::json!(false))).is_err());
        assert!(Amount::parse_from_json(Some(serde_json::json!(1))).is_err());
        assert!(CodeText::parse_from_json(Some(serde_json::json!("ERP"))).is_ok());
    }
}

/// Declares a code of one of the reference lists (`kernel::reference`): a JSON string whose
/// values the spec lists (`enum`).
macro_rules! reference_code {
    ($(#[$doc:meta])* $name:ident, $list:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(pub String);

        impl $name {
            /// The code if the list has it; 422 `invalid_field` naming `field` otherwise.
            pub fn checked(&self, field: &str) -> Result<String, Error> {
                if $list.iter().any(|r| r.code == self.0) {
                    Ok(self.0.clone())
                } else {
                    Err(Error::invalid(field, format!(concat!("unknown ", $what, " {:?}"), self.0)))
                }
            }
        }

        impl Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn schema_ref() -> MetaSchemaRef {
                let mut schema = MetaSchema::new("string");
                schema.enum_items = $list.iter().map(|r| serde_json::Value::String(r.code.into())).collect();
                MetaSchemaRef::Inline(Box::new(schema))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn raw_element_iter<'a>(&'a self) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }

        impl ParseFromJSON for $name {
            fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
                json_string(value, $what).map($name)
            }
        }

        impl ParseFromParameter for $name {
            fn parse_from_parameter(value: &str) -> ParseResult<Self> {
                Ok($name(value.to_owned()))
            }
        }

        impl ToJSON for $name {
            fn to_json(&self) -> Option<serde_json::Value> {
                Some(serde_json::Value::String(self.0.clone()))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }
    };
}

reference_code!(
    /// A region: a provincial-level division of China ("zhejiang"); see `GET /api/v1/reference`.
    RegionCode, kernel::reference::REGIONS, "region"
);
reference_code!(
    /// An industry ("manufacturing"); see `GET /api/v1/reference`.
    IndustryCode, kernel::reference::INDUSTRIES, "industry"
);
reference_code!(
    /// A service category ("erp"); see `GET /api/v1/reference`.
    CategoryCode, kernel::reference::SERVICE_CATEGORIES, "service category"
);

/// The codes of a list of reference codes, each checked; 422 naming the field otherwise.
pub fn reference_codes<T>(
    items: &[T],
    field: &str,
    check: impl Fn(&T, &str) -> Result<String, Error>,
) -> Result<Vec<String>, Error> {
    items.iter().map(|i| check(i, field)).collect()
}

/// The body of a rejection: why, so the person who submitted it can put it right.
#[derive(poem_openapi::Object, Debug)]
#[oai(example, deny_unknown_fields)]
pub struct RejectRequest {
    /// What is wrong, for the person who submitted it.
    pub note: Para<2000>,
}

impl poem_openapi::types::Example for RejectRequest {
    fn example() -> Self {
        RejectRequest { note: "证明文件不清晰，请重新上传".into() }
    }
}
