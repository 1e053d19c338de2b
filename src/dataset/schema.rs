//! The canonical dataset contract of PRODUCT.md, in one place: tables, columns, the type
//! variants each column accepts, keys, references between tables and allowed values.
//! Everything that reads, writes or checks a dataset (engine, `validate`, `generate`,
//! `schema`) takes its facts from here.

use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use serde::Serialize;

/// The logical type of a column; each accepts several physical Arrow types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Text: utf8, large utf8, utf8 view, or a dictionary of those.
    Text,
    /// Whole number: any signed or unsigned integer width.
    Integer,
    /// Money or another real number: float32/float64 or decimal128/256 (integers also accepted).
    Number,
    /// True/false.
    Boolean,
    /// A point in time: timestamp of any unit, with or without a time zone (naive = dataset zone).
    Timestamp,
    /// A calendar date: date32/date64 (a timestamp is accepted too).
    Date,
    /// JSON held in a text column.
    Json,
}

impl ColumnKind {
    /// Whether a physical Arrow type is an accepted variant of this kind.
    pub fn accepts(self, dt: &DataType) -> bool {
        match self {
            ColumnKind::Text | ColumnKind::Json => is_text(dt),
            ColumnKind::Integer => dt.is_integer(),
            ColumnKind::Number => {
                dt.is_floating()
                    || dt.is_integer()
                    || matches!(dt, DataType::Decimal128(..) | DataType::Decimal256(..))
            }
            ColumnKind::Boolean => matches!(dt, DataType::Boolean),
            ColumnKind::Timestamp => matches!(dt, DataType::Timestamp(..)),
            ColumnKind::Date => matches!(
                dt,
                DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)
            ),
        }
    }

    /// The type `crmlens generate` writes and the one `crmlens schema` shows as canonical.
    pub fn canonical(self) -> DataType {
        match self {
            ColumnKind::Text | ColumnKind::Json => DataType::Utf8,
            ColumnKind::Integer => DataType::Int64,
            ColumnKind::Number => DataType::Decimal128(14, 2),
            ColumnKind::Boolean => DataType::Boolean,
            ColumnKind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            ColumnKind::Date => DataType::Date32,
        }
    }

    /// The accepted variants, for messages and `crmlens schema`.
    pub fn accepted(self) -> &'static str {
        match self {
            ColumnKind::Text => "utf8 | large_utf8 | utf8_view | dictionary of those",
            ColumnKind::Json => "JSON text: utf8 | large_utf8 | utf8_view",
            ColumnKind::Integer => "int8..int64 | uint8..uint64",
            ColumnKind::Number => "float32 | float64 | decimal128 | decimal256 | integer",
            ColumnKind::Boolean => "boolean",
            ColumnKind::Timestamp => {
                "timestamp (s/ms/us/ns, any time zone; naive = dataset time zone)"
            }
            ColumnKind::Date => "date32 | date64 | timestamp",
        }
    }
}

fn is_text(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, value) => is_text(value),
        _ => false,
    }
}

/// One column of a canonical table.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnSpec {
    pub name: &'static str,
    pub kind: ColumnKind,
    /// A dataset without this column fails validation; optional columns only warn.
    pub required: bool,
    /// Nulls are an error (key columns and the facts analyses cannot do without).
    pub nullable: bool,
    /// Allowed values, for enumerations such as `orders.status`.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub values: &'static [&'static str],
    /// Allowed closed range for integers, such as `surveys.score`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<(i64, i64)>,
    pub doc: &'static str,
}

impl ColumnSpec {
    /// What is wrong with a physical type for this column ("found …, expected …"), if anything.
    pub fn type_problem(&self, found: &DataType) -> Option<String> {
        (!self.kind.accepts(found)).then(|| {
            format!(
                "found {}, expected {}",
                type_name(found),
                self.kind.accepted()
            )
        })
    }
}

/// A reference from a column to the key of another table (a foreign key).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Reference {
    pub column: &'static str,
    pub table: &'static str,
    pub target: &'static str,
}

/// One canonical table.
#[derive(Debug, Clone, Serialize)]
pub struct TableSpec {
    pub name: &'static str,
    /// Only `customers` and `orders` are required; analyses name the others they need.
    pub required: bool,
    /// The columns that identify a row (unique); empty when rows have no key.
    pub key: &'static [&'static str],
    pub columns: Vec<ColumnSpec>,
    pub references: Vec<Reference>,
    pub doc: &'static str,
}

impl TableSpec {
    /// The column of that name.
    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The canonical Arrow schema (what `generate` writes).
    pub fn arrow_schema(&self) -> Schema {
        Schema::new(
            self.columns
                .iter()
                .map(|c| Field::new(c.name, c.kind.canonical(), c.nullable))
                .collect::<Vec<_>>(),
        )
    }
}

/// A column builder: `col("customer_id", Text).key()` and so on.
struct Col(ColumnSpec);

fn col(name: &'static str, kind: ColumnKind, doc: &'static str) -> Col {
    Col(ColumnSpec {
        name,
        kind,
        required: true,
        nullable: true,
        values: &[],
        range: None,
        doc,
    })
}

impl Col {
    /// Required and never null.
    fn not_null(mut self) -> Self {
        self.0.nullable = false;
        self
    }
    fn optional(mut self) -> Self {
        self.0.required = false;
        self
    }
    fn values(mut self, values: &'static [&'static str]) -> Self {
        self.0.values = values;
        self
    }
    fn range(mut self, lo: i64, hi: i64) -> Self {
        self.0.range = Some((lo, hi));
        self
    }
}

const fn r(column: &'static str, table: &'static str, target: &'static str) -> Reference {
    Reference {
        column,
        table,
        target,
    }
}

use ColumnKind::*;

fn table(
    name: &'static str,
    required: bool,
    key: &'static [&'static str],
    references: Vec<Reference>,
    doc: &'static str,
    columns: Vec<Col>,
) -> TableSpec {
    TableSpec {
        name,
        required,
        key,
        columns: columns.into_iter().map(|c| c.0).collect(),
        references,
        doc,
    }
}

/// Allowed values of `customers.kind`.
pub const CUSTOMER_KINDS: &[&str] = &["person", "organization"];
/// Allowed values of `orders.status`.
pub const ORDER_STATUSES: &[&str] = &["paid", "cancelled", "refunded"];
/// Allowed values of `deals.status`.
pub const DEAL_STATUSES: &[&str] = &["open", "won", "lost"];
/// Allowed values of `activities.kind`.
pub const ACTIVITY_KINDS: &[&str] = &["call", "meeting", "email", "task"];
/// Allowed values of `activities.direction`.
pub const ACTIVITY_DIRECTIONS: &[&str] = &["inbound", "outbound"];
/// Allowed values of `tickets.kind`.
pub const TICKET_KINDS: &[&str] = &["bug", "wish", "question"];

/// The canonical tables of PRODUCT.md, in dependency order (referenced tables first).
pub fn tables() -> &'static [TableSpec] {
    static TABLES: std::sync::OnceLock<Vec<TableSpec>> = std::sync::OnceLock::new();
    TABLES.get_or_init(build_tables)
}

/// The table of that name.
pub fn table_spec(name: &str) -> Option<&'static TableSpec> {
    tables().iter().find(|t| t.name == name)
}

fn build_tables() -> Vec<TableSpec> {
    vec![
        table(
            "managers",
            false,
            &["manager_id"],
            vec![],
            "sales reps and their teams",
            vec![
                col("manager_id", Text, "manager identifier").not_null(),
                col("name", Text, "full name"),
                col("department", Text, "sales department / team"),
                col("region", Text, "region the manager covers").optional(),
                col("active", Boolean, "still employed and assignable").optional(),
            ],
        ),
        table(
            "customers",
            true,
            &["customer_id"],
            vec![r("owner_manager_id", "managers", "manager_id")],
            "the buying entity: a B2C person or a B2B account",
            vec![
                col("customer_id", Text, "customer identifier").not_null(),
                col("kind", Text, "'person' or 'organization'").values(CUSTOMER_KINDS),
                col("name", Text, "person or organisation name, any script"),
                col("email", Text, "primary e-mail").optional(),
                col("phone", Text, "primary phone, as entered").optional(),
                col("country", Text, "ISO 3166-1 alpha-2 country code"),
                col("region", Text, "region / state").optional(),
                col("city", Text, "city").optional(),
                col("created_at", Timestamp, "when the card was created"),
                col(
                    "acquisition_source",
                    Text,
                    "lead source that brought the customer",
                )
                .optional(),
                col(
                    "owner_manager_id",
                    Text,
                    "manager who owns the customer (scope)",
                )
                .optional(),
            ],
        ),
        table(
            "contacts",
            false,
            &["contact_id"],
            vec![r("customer_id", "customers", "customer_id")],
            "people who speak for an organisation",
            vec![
                col("contact_id", Text, "contact identifier").not_null(),
                col("customer_id", Text, "the organisation").not_null(),
                col("name", Text, "full name"),
                col("role", Text, "job title or role").optional(),
                col("email", Text, "e-mail").optional(),
                col("phone", Text, "phone, as entered").optional(),
            ],
        ),
        table(
            "products",
            false,
            &["product_id"],
            vec![],
            "for margin and ABC by product",
            vec![
                col("product_id", Text, "product identifier").not_null(),
                col("name", Text, "product name"),
                col("category", Text, "product category"),
                col("unit_cost", Number, "cost of one unit, dataset currency").optional(),
            ],
        ),
        table(
            "orders",
            true,
            &["order_id"],
            vec![
                r("customer_id", "customers", "customer_id"),
                r("manager_id", "managers", "manager_id"),
            ],
            "revenue facts",
            vec![
                col("order_id", Text, "order identifier").not_null(),
                col("customer_id", Text, "buyer").not_null(),
                col("ordered_at", Timestamp, "when the order was placed").not_null(),
                col("amount", Number, "net amount, dataset currency").not_null(),
                col("currency", Text, "ISO 4217 code").optional(),
                col("status", Text, "'paid', 'cancelled' or 'refunded'")
                    .not_null()
                    .values(ORDER_STATUSES),
                col("channel", Text, "sales channel").optional(),
                col("manager_id", Text, "manager credited with the sale").optional(),
            ],
        ),
        table(
            "order_items",
            false,
            &[],
            vec![
                r("order_id", "orders", "order_id"),
                r("product_id", "products", "product_id"),
            ],
            "order lines (optional detail)",
            vec![
                col("order_id", Text, "the order").not_null(),
                col("product_id", Text, "the product").not_null(),
                col("quantity", Integer, "units").not_null(),
                col("unit_price", Number, "net price of one unit").not_null(),
            ],
        ),
        table(
            "campaigns",
            false,
            &["campaign_id"],
            vec![],
            "marketing campaigns",
            vec![
                col("campaign_id", Text, "campaign identifier").not_null(),
                col("name", Text, "campaign name"),
                col("channel", Text, "email, sms, ads, …"),
                col("started_at", Timestamp, "start"),
                col("ended_at", Timestamp, "end (null while running)"),
                col("cost", Number, "total cost, dataset currency"),
            ],
        ),
        table(
            "deals",
            false,
            &["deal_id"],
            vec![
                r("customer_id", "customers", "customer_id"),
                r("manager_id", "managers", "manager_id"),
                r("campaign_id", "campaigns", "campaign_id"),
            ],
            "sales opportunities",
            vec![
                col("deal_id", Text, "deal identifier").not_null(),
                col("customer_id", Text, "customer").not_null(),
                col("manager_id", Text, "responsible manager"),
                col("source", Text, "lead source"),
                col("campaign_id", Text, "campaign that produced the lead").optional(),
                col("created_at", Timestamp, "when the deal was opened").not_null(),
                col("amount", Number, "expected or final amount"),
                col("status", Text, "'open', 'won' or 'lost'")
                    .not_null()
                    .values(DEAL_STATUSES),
                col("closed_at", Timestamp, "when won or lost; null while open"),
                col("lost_reason", Text, "why it was lost").optional(),
                col("product_category", Text, "what is being sold").optional(),
            ],
        ),
        table(
            "deal_stage_history",
            false,
            &["deal_id", "stage", "entered_at"],
            vec![r("deal_id", "deals", "deal_id")],
            "one row per stage entry; stage order is configuration (pipeline.stages)",
            vec![
                col("deal_id", Text, "the deal").not_null(),
                col("stage", Text, "stage name from the configured pipeline").not_null(),
                col("entered_at", Timestamp, "when the deal entered the stage").not_null(),
            ],
        ),
        table(
            "activities",
            false,
            &["activity_id"],
            vec![
                r("customer_id", "customers", "customer_id"),
                r("contact_id", "contacts", "contact_id"),
                r("deal_id", "deals", "deal_id"),
                r("manager_id", "managers", "manager_id"),
            ],
            "interactions: calls, meetings, e-mails, tasks",
            vec![
                col("activity_id", Text, "activity identifier").not_null(),
                col("customer_id", Text, "customer"),
                col("contact_id", Text, "contact person").optional(),
                col("deal_id", Text, "deal it belongs to").optional(),
                col("manager_id", Text, "manager who logged it").not_null(),
                col("kind", Text, "'call', 'meeting', 'email' or 'task'")
                    .not_null()
                    .values(ACTIVITY_KINDS),
                col("direction", Text, "'inbound' or 'outbound'")
                    .optional()
                    .values(ACTIVITY_DIRECTIONS),
                col("occurred_at", Timestamp, "when it happened").not_null(),
                col("duration_s", Integer, "duration in seconds").optional(),
                col("outcome", Text, "result as logged").optional(),
            ],
        ),
        table(
            "campaign_members",
            false,
            &["campaign_id", "customer_id"],
            vec![
                r("campaign_id", "campaigns", "campaign_id"),
                r("customer_id", "customers", "customer_id"),
            ],
            "who a campaign targeted, treatment and holdout",
            vec![
                col("campaign_id", Text, "campaign").not_null(),
                col("customer_id", Text, "member").not_null(),
                col("is_control", Boolean, "true = holdout, not contacted").not_null(),
                col("sent_at", Timestamp, "when contacted (null for control)"),
                col("responded_at", Timestamp, "when they responded"),
                col("converted_at", Timestamp, "when they bought because of it"),
            ],
        ),
        table(
            "events",
            false,
            &[],
            vec![r("customer_id", "customers", "customer_id")],
            "web/app events for event funnels",
            vec![
                col("customer_id", Text, "who").not_null(),
                col("event", Text, "event name").not_null(),
                col("occurred_at", Timestamp, "when").not_null(),
                col("properties", Json, "event properties as a JSON object").optional(),
            ],
        ),
        table(
            "tickets",
            false,
            &["ticket_id"],
            vec![
                r("customer_id", "customers", "customer_id"),
                r("manager_id", "managers", "manager_id"),
            ],
            "service requests",
            vec![
                col("ticket_id", Text, "ticket identifier").not_null(),
                col("customer_id", Text, "who asked"),
                col("kind", Text, "'bug', 'wish' or 'question'")
                    .not_null()
                    .values(TICKET_KINDS),
                col("opened_at", Timestamp, "opened").not_null(),
                col("closed_at", Timestamp, "closed; null while open"),
                col("manager_id", Text, "who handled it").optional(),
            ],
        ),
        table(
            "surveys",
            false,
            &["survey_id"],
            vec![r("customer_id", "customers", "customer_id")],
            "satisfaction answers on the five-level scale",
            vec![
                col("survey_id", Text, "answer identifier").not_null(),
                col("customer_id", Text, "who answered; null = anonymous"),
                col("answered_at", Timestamp, "when").not_null(),
                col(
                    "score",
                    Integer,
                    "1 Weak, 2 Acceptable, 3 Good, 4 Very good, 5 Excellent",
                )
                .not_null()
                .range(1, 5),
            ],
        ),
        table(
            "plans",
            false,
            &[],
            vec![r("manager_id", "managers", "manager_id")],
            "monthly sales targets",
            vec![
                col("period", Date, "first day of the month").not_null(),
                col("manager_id", Text, "manager (null = department target)"),
                col("department", Text, "department"),
                col("product_category", Text, "product category (null = all)").optional(),
                col("target_amount", Number, "target revenue, dataset currency").not_null(),
            ],
        ),
    ]
}

/// A short human rendering of an Arrow type for messages.
pub fn type_name(dt: &DataType) -> String {
    match dt {
        DataType::Timestamp(unit, tz) => {
            let unit = match unit {
                TimeUnit::Second => "s",
                TimeUnit::Millisecond => "ms",
                TimeUnit::Microsecond => "us",
                TimeUnit::Nanosecond => "ns",
            };
            match tz {
                Some(tz) => format!("timestamp[{unit}, {tz}]"),
                None => format!("timestamp[{unit}]"),
            }
        }
        DataType::Decimal128(p, s) => format!("decimal128({p}, {s})"),
        DataType::Decimal256(p, s) => format!("decimal256({p}, {s})"),
        DataType::Dictionary(k, v) => format!("dictionary<{}, {}>", type_name(k), type_name(v)),
        other => other.to_string().to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_points_to_a_key_of_an_earlier_table() {
        let tables = tables();
        for (i, t) in tables.iter().enumerate() {
            for r in &t.references {
                assert!(t.column(r.column).is_some(), "{}.{}", t.name, r.column);
                let target = tables
                    .iter()
                    .position(|x| x.name == r.table)
                    .expect(r.table);
                assert_eq!(tables[target].key, &[r.target], "{} -> {}", t.name, r.table);
                assert!(
                    target < i || r.table == t.name,
                    "{} must come after {}",
                    t.name,
                    r.table
                );
            }
        }
    }

    #[test]
    fn variants_are_accepted() {
        use std::sync::Arc;
        assert!(Text.accepts(&DataType::Utf8View));
        assert!(Text.accepts(&DataType::Dictionary(
            Box::new(DataType::Int32),
            Box::new(DataType::LargeUtf8)
        )));
        assert!(!Text.accepts(&DataType::Int64));
        assert!(Integer.accepts(&DataType::Int32));
        assert!(Number.accepts(&DataType::Decimal128(10, 2)));
        assert!(Number.accepts(&DataType::Float64));
        assert!(Timestamp.accepts(&DataType::Timestamp(
            TimeUnit::Nanosecond,
            Some(Arc::from("Europe/Moscow"))
        )));
        assert!(!Timestamp.accepts(&DataType::Utf8));
        for t in tables() {
            for c in &t.columns {
                assert!(c.kind.accepts(&c.kind.canonical()), "{}.{}", t.name, c.name);
            }
        }
    }
}
