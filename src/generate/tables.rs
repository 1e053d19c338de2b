//! In-memory column buffers, one struct per canonical table, that turn into Arrow record
//! batches with exactly the schema of `crate::dataset::schema` (the batch is built against
//! `TableSpec::arrow_schema()`, so a drift between this file and the contract is an error
//! at the first batch, not a silently different file).

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Int64Builder,
    StringBuilder, TimestampMicrosecondBuilder,
};
use datafusion::arrow::record_batch::RecordBatch;

use crate::dataset::schema::table_spec;
use crate::{Error, Result};

/// One column buffer.
pub trait Column: Default {
    fn finish_array(&mut self) -> Result<ArrayRef>;
    fn rows(&self) -> usize;
}

/// Utf8 column.
#[derive(Default)]
pub struct Text(StringBuilder);
/// Timestamp(µs, UTC) column; values are microseconds since the Unix epoch.
#[derive(Default)]
pub struct Ts(TimestampMicrosecondBuilder);
/// Decimal128(14, 2) column; values are cents.
#[derive(Default)]
pub struct Money(Decimal128Builder);
/// Int64 column.
#[derive(Default)]
pub struct Int(Int64Builder);
/// Boolean column.
#[derive(Default)]
pub struct Bool(BooleanBuilder);
/// Date32 column; values are days since the Unix epoch.
#[derive(Default)]
pub struct Date(Date32Builder);

impl Text {
    pub fn push(&mut self, v: &str) {
        self.0.append_value(v);
    }
    pub fn opt(&mut self, v: Option<&str>) {
        self.0.append_option(v);
    }
    pub fn null(&mut self) {
        self.0.append_null();
    }
    /// Formats straight into the column's buffer: no temporary String per identifier.
    pub fn fmt(&mut self, args: fmt::Arguments<'_>) {
        let _ = fmt::Write::write_fmt(&mut self.0, args);
        self.0.append_value("");
    }
}

impl Ts {
    pub fn push(&mut self, v: i64) {
        self.0.append_value(v);
    }
    pub fn opt(&mut self, v: Option<i64>) {
        self.0.append_option(v);
    }
}

impl Money {
    pub fn push(&mut self, cents: i64) {
        self.0.append_value(cents as i128);
    }
}

impl Int {
    pub fn push(&mut self, v: i64) {
        self.0.append_value(v);
    }
    pub fn opt(&mut self, v: Option<i64>) {
        self.0.append_option(v);
    }
}

impl Bool {
    pub fn push(&mut self, v: bool) {
        self.0.append_value(v);
    }
}

impl Date {
    pub fn push(&mut self, v: i32) {
        self.0.append_value(v);
    }
}

impl Column for Text {
    fn finish_array(&mut self) -> Result<ArrayRef> {
        Ok(Arc::new(self.0.finish()))
    }
    fn rows(&self) -> usize {
        self.0.len()
    }
}
impl Column for Ts {
    fn finish_array(&mut self) -> Result<ArrayRef> {
        Ok(Arc::new(self.0.finish().with_timezone("UTC")))
    }
    fn rows(&self) -> usize {
        self.0.len()
    }
}
impl Column for Money {
    fn finish_array(&mut self) -> Result<ArrayRef> {
        Ok(Arc::new(self.0.finish().with_precision_and_scale(14, 2)?))
    }
    fn rows(&self) -> usize {
        self.0.len()
    }
}
impl Column for Int {
    fn finish_array(&mut self) -> Result<ArrayRef> {
        Ok(Arc::new(self.0.finish()))
    }
    fn rows(&self) -> usize {
        self.0.len()
    }
}
impl Column for Bool {
    fn finish_array(&mut self) -> Result<ArrayRef> {
        Ok(Arc::new(self.0.finish()))
    }
    fn rows(&self) -> usize {
        self.0.len()
    }
}
impl Column for Date {
    fn finish_array(&mut self) -> Result<ArrayRef> {
        Ok(Arc::new(self.0.finish()))
    }
    fn rows(&self) -> usize {
        self.0.len()
    }
}

/// A record batch of `table` against the contract's canonical schema.
fn batch(table: &str, columns: Vec<ArrayRef>) -> Result<RecordBatch> {
    let spec = table_spec(table).ok_or_else(|| Error::Usage(format!("unknown table {table}")))?;
    Ok(RecordBatch::try_new(
        Arc::new(spec.arrow_schema()),
        columns,
    )?)
}

/// Common face of the table buffers.
pub trait TableBuf {
    const TABLE: &'static str;
    fn rows(&self) -> usize;
    /// The buffered rows as a batch; the buffer is empty afterwards.
    fn finish(&mut self) -> Result<RecordBatch>;
}

macro_rules! table {
    ($name:ident = $table:literal { $($col:ident : $ty:ident),+ $(,)? }) => {
        #[doc = concat!("Column buffers of `", $table, "`.")]
        #[derive(Default)]
        pub struct $name {
            $(pub $col: $ty,)+
        }
        impl TableBuf for $name {
            const TABLE: &'static str = $table;
            fn rows(&self) -> usize {
                [$(self.$col.rows()),+].into_iter().max().unwrap_or(0)
            }
            fn finish(&mut self) -> Result<RecordBatch> {
                batch($table, vec![$(self.$col.finish_array()?),+])
            }
        }
    };
}

table!(Managers = "managers" { manager_id: Text, name: Text, department: Text, region: Text, active: Bool });
table!(Customers = "customers" {
    customer_id: Text, kind: Text, name: Text, email: Text, phone: Text, country: Text, region: Text,
    city: Text, created_at: Ts, acquisition_source: Text, owner_manager_id: Text,
});
table!(Contacts = "contacts" { contact_id: Text, customer_id: Text, name: Text, role: Text, email: Text, phone: Text });
table!(Products = "products" { product_id: Text, name: Text, category: Text, unit_cost: Money });
table!(Orders = "orders" {
    order_id: Text, customer_id: Text, ordered_at: Ts, amount: Money, currency: Text, status: Text,
    channel: Text, manager_id: Text,
});
table!(OrderItems = "order_items" { order_id: Text, product_id: Text, quantity: Int, unit_price: Money });
table!(Campaigns = "campaigns" { campaign_id: Text, name: Text, channel: Text, started_at: Ts, ended_at: Ts, cost: Money });
table!(Deals = "deals" {
    deal_id: Text, customer_id: Text, manager_id: Text, source: Text, campaign_id: Text, created_at: Ts,
    amount: Money, status: Text, closed_at: Ts, lost_reason: Text, product_category: Text,
});
table!(StageHistory = "deal_stage_history" { deal_id: Text, stage: Text, entered_at: Ts });
table!(Activities = "activities" {
    activity_id: Text, customer_id: Text, contact_id: Text, deal_id: Text, manager_id: Text, kind: Text,
    direction: Text, occurred_at: Ts, duration_s: Int, outcome: Text,
});
table!(Members = "campaign_members" {
    campaign_id: Text, customer_id: Text, is_control: Bool, sent_at: Ts, responded_at: Ts, converted_at: Ts,
});
table!(Events = "events" { customer_id: Text, event: Text, occurred_at: Ts, properties: Text });
table!(Tickets = "tickets" { ticket_id: Text, customer_id: Text, kind: Text, opened_at: Ts, closed_at: Ts, manager_id: Text });
table!(Surveys = "surveys" { survey_id: Text, customer_id: Text, answered_at: Ts, score: Int });
table!(Plans = "plans" { period: Date, manager_id: Text, department: Text, product_category: Text, target_amount: Money });

/// The tables written per block of customers, in the order of the contract.
pub const PER_CUSTOMER: &[&str] = &[
    "customers",
    "contacts",
    "orders",
    "order_items",
    "deals",
    "deal_stage_history",
    "activities",
    "campaign_members",
    "events",
    "tickets",
    "surveys",
];

/// The buffers of all per-customer tables of one block.
#[derive(Default)]
pub struct BlockTables {
    pub customers: Customers,
    pub contacts: Contacts,
    pub orders: Orders,
    pub order_items: OrderItems,
    pub deals: Deals,
    pub stages: StageHistory,
    pub activities: Activities,
    pub members: Members,
    pub events: Events,
    pub tickets: Tickets,
    pub surveys: Surveys,
}

impl BlockTables {
    /// Finishes every table holding at least `min_rows` rows (all tables with 0), as
    /// (index into [`PER_CUSTOMER`], batch).
    pub fn drain(&mut self, min_rows: usize, out: &mut Vec<(usize, RecordBatch)>) -> Result<()> {
        fn take<T: TableBuf>(
            t: &mut T,
            i: usize,
            min: usize,
            out: &mut Vec<(usize, RecordBatch)>,
        ) -> Result<()> {
            debug_assert_eq!(PER_CUSTOMER[i], T::TABLE);
            if t.rows() > 0 && t.rows() >= min {
                out.push((i, t.finish()?));
            }
            Ok(())
        }
        take(&mut self.customers, 0, min_rows, out)?;
        take(&mut self.contacts, 1, min_rows, out)?;
        take(&mut self.orders, 2, min_rows, out)?;
        take(&mut self.order_items, 3, min_rows, out)?;
        take(&mut self.deals, 4, min_rows, out)?;
        take(&mut self.stages, 5, min_rows, out)?;
        take(&mut self.activities, 6, min_rows, out)?;
        take(&mut self.members, 7, min_rows, out)?;
        take(&mut self.events, 8, min_rows, out)?;
        take(&mut self.tickets, 9, min_rows, out)?;
        take(&mut self.surveys, 10, min_rows, out)
    }
}
