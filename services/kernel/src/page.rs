//! Cursor pagination. Every list is ordered by a key and the record id, and continues after an
//! opaque cursor; offsets are never used (they drift under inserts and get slow).

use crate::Error;

pub const DEFAULT_LIMIT: u64 = 50;
pub const MAX_LIMIT: u64 = 200;

/// Where a page starts: after the record with this sort key (if the list has one) and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub key: Option<String>,
    pub id: i64,
}

/// The grammar of a cursor: the id after which the page starts, and, for lists ordered by a
/// key, `~` and the key's bytes in hex. Every text of this form is a cursor (a key that is not
/// UTF-8 is read as far as it is), so a client can only send a valid one or none.
pub const CURSOR_PATTERN: &str = "^-?[0-9]{1,18}(~([0-9a-f]{2}){1,512})?$";

impl Cursor {
    pub fn after_id(id: i64) -> Cursor {
        Cursor { key: None, id }
    }

    pub fn encode(&self) -> String {
        match &self.key {
            Some(k) if !k.is_empty() => format!("{}~{}", self.id, hex::encode(k.as_bytes())),
            _ => self.id.to_string(),
        }
    }

    pub fn decode(text: &str) -> Result<Cursor, Error> {
        let bad =
            || Error::bad_request("invalid_cursor", "the pagination cursor is not valid; start again without a cursor");
        let (id, key) = match text.split_once('~') {
            Some((id, key)) => (id, Some(key)),
            None => (text, None),
        };
        let digits = id.strip_prefix('-').unwrap_or(id);
        if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let id: i64 = id.parse().map_err(|_| bad())?;
        let key = match key {
            None => None,
            Some(k)
                if k.is_empty()
                    || k.len() > 1024
                    || !k.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
            {
                return Err(bad());
            }
            Some(k) => Some(String::from_utf8_lossy(&hex::decode(k).map_err(|_| bad())?).into_owned()),
        };
        Ok(Cursor { key, id })
    }
}

/// A request for one page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u64,
    pub after: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest { limit: DEFAULT_LIMIT, after: None }
    }
}

impl PageRequest {
    /// Parses the `limit` and `cursor` query parameters.
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> Result<PageRequest, Error> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(n) if (1..=MAX_LIMIT as i64).contains(&n) => n as u64,
            Some(_) => {
                return Err(Error::bad_request("invalid_limit", format!("limit must be between 1 and {MAX_LIMIT}")));
            }
        };
        let after = cursor.map(Cursor::decode).transpose()?;
        Ok(PageRequest { limit, after })
    }

    pub fn after_id(&self) -> Option<i64> {
        self.after.as_ref().map(|c| c.id)
    }
}

/// One page of results and the cursor of the next one, if there is more.
#[derive(Clone, Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only tells that more exist.
    pub fn from_rows(mut rows: Vec<T>, limit: u64, cursor_of: impl Fn(&T) -> Cursor) -> Page<T> {
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next = if more { rows.last().map(cursor_of) } else { None };
        Page { items: rows, next }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next: self.next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip() {
        let c = Cursor { key: Some("2026-11-30".into()), id: 42 };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        let c = Cursor::after_id(7);
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
    }

    #[test]
    fn bad_cursors_are_400() {
        for bad in ["", "zz", "abc", "1~", "1~g0", "1~abc", "1234567890123456789", "--1", "1.5"] {
            match Cursor::decode(bad) {
                Err(Error::BadRequest { code, .. }) => assert_eq!(code, "invalid_cursor"),
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    /// Every text of the declared grammar decodes: a client cannot send a cursor the spec
    /// allows and the server refuses.
    #[test]
    fn every_cursor_of_the_grammar_decodes() {
        for ok in ["0", "-5", "123456789012345678", "7~00", "7~ff80", "42~323032362d31312d3330"] {
            assert!(Cursor::decode(ok).is_ok(), "{ok}");
        }
        assert_eq!(Cursor::decode("42~323032362d31312d3330").unwrap().key.as_deref(), Some("2026-11-30"));
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(PageRequest::parse(None, None).unwrap().limit, DEFAULT_LIMIT);
        assert!(PageRequest::parse(Some(0), None).is_err());
        assert!(PageRequest::parse(Some(201), None).is_err());
        assert_eq!(PageRequest::parse(Some(200), None).unwrap().limit, 200);
    }

    #[test]
    fn pages_know_when_there_is_more() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |n| Cursor::after_id(*n));
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next, Some(Cursor::after_id(2)));
        let page = Page::from_rows(vec![1, 2], 2, |n| Cursor::after_id(*n));
        assert_eq!(page.next, None);
    }
}
