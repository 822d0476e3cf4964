//! What the ranking and the eligibility checks read of every deliverer — its busy orders, its
//! deliveries and how many of them were on time, its ratings and their stars — kept as one row
//! per organisation instead of being counted over all orders and ratings on every request
//! (recommendations read every deliverer; a claim reads the claimer's).
//!
//! Triggers keep the row current in the same transaction as the change of an order or a rating,
//! whatever writes it (the marketplace, the sweeps, the bulk loaders), so the counters cannot
//! miss a code path. The migration fills them in from the orders and ratings that exist, with
//! the same definitions as `marketplace::store::recount_deliverer_stats`, which the tests compare
//! against the counters.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

const BUSY: &str = "CASE WHEN {r}.status IN ('dispatched', 'in_progress') THEN 1 ELSE 0 END";
const DELIVERED: &str = "CASE WHEN {r}.delivered_at IS NOT NULL THEN 1 ELSE 0 END";
const ON_TIME: &str = "CASE WHEN {r}.delivered_at IS NOT NULL AND {r}.on_time THEN 1 ELSE 0 END";

/// Adds the contributions of `row` (`NEW`) to its deliverer's counters, creating the row.
fn add(row: &str, cols: [&str; 5]) -> String {
    let [busy, delivered, on_time, ratings, stars] = cols.map(|c| c.replace("{r}", row));
    format!(
        "INSERT INTO deliverer_stats (org_id, busy, delivered, on_time, ratings, stars) \
         SELECT {row}.deliverer_id, {busy}, {delivered}, {on_time}, {ratings}, {stars} \
         WHERE {row}.deliverer_id IS NOT NULL \
         ON CONFLICT (org_id) DO UPDATE SET busy = deliverer_stats.busy + excluded.busy, \
         delivered = deliverer_stats.delivered + excluded.delivered, \
         on_time = deliverer_stats.on_time + excluded.on_time, \
         ratings = deliverer_stats.ratings + excluded.ratings, stars = deliverer_stats.stars + excluded.stars"
    )
}

/// Takes the contributions of `row` (`OLD`) off its deliverer's counters.
fn take(row: &str, cols: [&str; 5]) -> String {
    let [busy, delivered, on_time, ratings, stars] = cols.map(|c| c.replace("{r}", row));
    format!(
        "UPDATE deliverer_stats SET busy = busy - {busy}, delivered = delivered - {delivered}, \
         on_time = on_time - {on_time}, ratings = ratings - {ratings}, stars = stars - {stars} \
         WHERE org_id = {row}.deliverer_id"
    )
}

const ORDER: [&str; 5] = [BUSY, DELIVERED, ON_TIME, "0", "0"];
const RATING: [&str; 5] = ["0", "0", "0", "1", "{r}.overall"];

/// The columns of `table` whose change moves the counters.
fn watched(table: &str) -> &'static [&'static str] {
    if table == "orders" {
        &["status", "deliverer_id", "delivered_at", "on_time"]
    } else {
        &["deliverer_id", "overall"]
    }
}

fn changed(table: &str) -> String {
    watched(table).iter().map(|c| format!("OLD.{c} IS NOT NEW.{c}")).collect::<Vec<_>>().join(" OR ")
}

/// SQLite: triggers per row, the update's only when a counted column changed.
fn sqlite_triggers(table: &str, cols: [&str; 5]) -> Vec<String> {
    vec![
        format!("CREATE TRIGGER tr_{table}_stats_insert AFTER INSERT ON {table} BEGIN {}; END", add("NEW", cols)),
        format!("CREATE TRIGGER tr_{table}_stats_delete AFTER DELETE ON {table} BEGIN {}; END", take("OLD", cols)),
        format!(
            "CREATE TRIGGER tr_{table}_stats_update AFTER UPDATE ON {table} WHEN {} BEGIN {}; {}; END",
            changed(table),
            take("OLD", cols),
            add("NEW", cols)
        ),
    ]
}

/// PostgreSQL: one trigger per statement over its transition tables, so a statement that writes
/// many orders (a bulk load, a sweep) moves each deliverer's row once, by the net change.
fn postgres_triggers(table: &str, cols: [&str; 5]) -> Vec<String> {
    let rows = |set: &str, sign: &str| {
        let [busy, delivered, on_time, ratings, stars] = cols.map(|c| c.replace("{r}", set));
        format!(
            "SELECT deliverer_id AS org_id, {sign}({busy}) AS busy, {sign}({delivered}) AS delivered, \
             {sign}({on_time}) AS on_time, {sign}({ratings}) AS ratings, {sign}({stars}) AS stars \
             FROM {set} WHERE deliverer_id IS NOT NULL"
        )
    };
    let upsert = |facts: String| {
        format!(
            "INSERT INTO deliverer_stats (org_id, busy, delivered, on_time, ratings, stars) \
             SELECT org_id, SUM(busy), SUM(delivered), SUM(on_time), SUM(ratings), SUM(stars) FROM ({facts}) AS f \
             GROUP BY org_id \
             HAVING SUM(busy) <> 0 OR SUM(delivered) <> 0 OR SUM(on_time) <> 0 OR SUM(ratings) <> 0 OR SUM(stars) <> 0 \
             ON CONFLICT (org_id) DO UPDATE SET busy = deliverer_stats.busy + excluded.busy, \
             delivered = deliverer_stats.delivered + excluded.delivered, \
             on_time = deliverer_stats.on_time + excluded.on_time, \
             ratings = deliverer_stats.ratings + excluded.ratings, stars = deliverer_stats.stars + excluded.stars"
        )
    };
    let added = upsert(rows("new_rows", ""));
    let taken = upsert(rows("old_rows", "-"));
    let moved = upsert(format!("{} UNION ALL {}", rows("new_rows", ""), rows("old_rows", "-")));
    vec![
        format!(
            "CREATE FUNCTION {table}_deliverer_stats() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF TG_OP = 'INSERT' THEN {added}; \
             ELSIF TG_OP = 'DELETE' THEN {taken}; \
             ELSE {moved}; END IF; \
             RETURN NULL; END $$"
        ),
        format!(
            "CREATE TRIGGER tr_{table}_stats_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows \
             FOR EACH STATEMENT EXECUTE FUNCTION {table}_deliverer_stats()"
        ),
        format!(
            "CREATE TRIGGER tr_{table}_stats_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows \
             FOR EACH STATEMENT EXECUTE FUNCTION {table}_deliverer_stats()"
        ),
        format!(
            "CREATE TRIGGER tr_{table}_stats_update AFTER UPDATE ON {table} \
             REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows \
             FOR EACH STATEMENT EXECUTE FUNCTION {table}_deliverer_stats()"
        ),
    ]
}

/// The counters of every deliverer, from the orders and ratings that exist.
const BACKFILL: &str = "INSERT INTO deliverer_stats (org_id, busy, delivered, on_time, ratings, stars) \
    SELECT org_id, SUM(busy), SUM(delivered), SUM(on_time), SUM(ratings), SUM(stars) FROM ( \
      SELECT deliverer_id AS org_id, \
        CASE WHEN status IN ('dispatched', 'in_progress') THEN 1 ELSE 0 END AS busy, \
        CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END AS delivered, \
        CASE WHEN delivered_at IS NOT NULL AND on_time THEN 1 ELSE 0 END AS on_time, \
        0 AS ratings, 0 AS stars \
      FROM orders WHERE deliverer_id IS NOT NULL \
      UNION ALL \
      SELECT deliverer_id, 0, 0, 0, 1, overall FROM ratings) AS facts \
    GROUP BY org_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("deliverer_stats")
                .col(ColumnDef::new("org_id").big_integer().not_null().primary_key())
                .col(ColumnDef::new("busy").big_integer().not_null().default(0))
                .col(ColumnDef::new("delivered").big_integer().not_null().default(0))
                .col(ColumnDef::new("on_time").big_integer().not_null().default(0))
                .col(ColumnDef::new("ratings").big_integer().not_null().default(0))
                .col(ColumnDef::new("stars").big_integer().not_null().default(0))
                .to_owned(),
        )
        .await?;
        let conn = m.get_connection();
        conn.execute_unprepared(BACKFILL).await?;
        let postgres = m.get_database_backend() == DbBackend::Postgres;
        for (table, cols) in [("orders", ORDER), ("ratings", RATING)] {
            let statements = if postgres { postgres_triggers(table, cols) } else { sqlite_triggers(table, cols) };
            for s in statements {
                conn.execute_unprepared(&s).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let conn = m.get_connection();
        let postgres = m.get_database_backend() == DbBackend::Postgres;
        for table in ["orders", "ratings"] {
            if postgres {
                conn.execute_unprepared(&format!("DROP FUNCTION {table}_deliverer_stats() CASCADE")).await?;
            } else {
                for event in ["insert", "delete", "update"] {
                    conn.execute_unprepared(&format!("DROP TRIGGER tr_{table}_stats_{event}")).await?;
                }
            }
        }
        m.drop_table(Table::drop().table("deliverer_stats").to_owned()).await
    }
}
