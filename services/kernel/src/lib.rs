//! The shared vocabulary of vpark.
//!
//! Everything here is pure: no I/O, no async, no database or HTTP types. Other crates speak in
//! these terms — money in integer fen, rates, e-mail addresses, organisation kinds, roles,
//! pages and cursors, and the error vocabulary that one function per API maps to HTTP.

pub mod access;
pub mod agreement;
pub mod clock;
pub mod error;
pub mod money;
pub mod page;
pub mod reference;
pub mod text;

pub use access::{Action, OrgKind, Relation, Resource, Role};
pub use agreement::{Agreement, Stream};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Error, Result};
pub use money::{Fen, MoneyError, Rate};
pub use page::{Cursor, Page, PageRequest};
pub use text::{Email, Locale, Password};
