//! Turning a `Scope` into a query filter: record ownership is enforced in SQL, so a list never
//! returns a row the caller may not see and a lookup of another tenant's id finds nothing.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition};

use crate::access::Scope;

/// The filter for records owned by the organisation in `org_col` (and, for `self`, the user in
/// `user_col`). `None` means no filter.
pub fn condition<O: ColumnTrait, U: ColumnTrait>(scope: &Scope, org_col: O, user_col: Option<U>) -> Option<Condition> {
    let Scope::Limited { own_org, supervised_by, user } = scope else {
        return None;
    };
    let mut any = Condition::any();
    if let Some(org) = own_org {
        any = any.add(org_col.eq(*org));
    }
    if let Some(vendor) = supervised_by {
        any = any.add(
            org_col.in_subquery(
                Query::select()
                    .column("id")
                    .from("organisations")
                    .and_where(Expr::col("parent_id").eq(*vendor))
                    .and_where(Expr::col("kind").is_in(["direct_team", "equity_partner"]))
                    .to_owned(),
            ),
        );
    }
    if let (Some(user), Some(col)) = (user, user_col) {
        any = any.add(col.eq(*user));
    }
    if any.is_empty() {
        // Nothing is in scope: a condition no row satisfies.
        any = any.add(Expr::val(1).eq(0));
    }
    Some(any)
}
