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
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
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
