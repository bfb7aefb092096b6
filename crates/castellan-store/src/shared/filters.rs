//! Search filters (`castellan_core::search`) turned into a WHERE clause with numbered
//! placeholders.

use super::query::DbQuery;
use castellan_core::search::{Condition, Filter, Scalar, Test};

/// A value bound to a placeholder.
pub(crate) enum Bind {
    Text(String),
    Int(i64),
    Bool(bool),
}

/// The WHERE clause being written and the values its placeholders take, in order.
pub(crate) struct Where {
    pub(super) binds: Vec<Bind>,
}

impl Where {
    pub(super) fn new() -> Self {
        Self { binds: Vec::new() }
    }

    /// The placeholder for the next value.
    pub(crate) fn param(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    fn scalar(&mut self, value: &Scalar) -> String {
        self.param(match value {
            Scalar::Text(t) => Bind::Text(t.clone()),
            Scalar::Int(i) => Bind::Int(*i),
            Scalar::Bool(b) => Bind::Bool(*b),
        })
    }

    /// `filter` as SQL; `column` gives the SQL expression of a field (and may bind values).
    pub(super) fn filter<F>(
        &mut self,
        filter: &Filter<Condition<F>>,
        column: &dyn Fn(&F, &mut Where) -> String,
    ) -> String {
        let join = |w: &mut Where, parts: &[Filter<Condition<F>>], op: &str| {
            let sql: Vec<String> = parts.iter().map(|p| w.filter(p, column)).collect();
            format!("({})", sql.join(op))
        };
        match filter {
            Filter::And(parts) => join(self, parts, " AND "),
            Filter::Or(parts) => join(self, parts, " OR "),
            // A user without the field is "not" any value of it, as in Lucene.
            Filter::Not(inner) => format!("(NOT COALESCE({}, FALSE))", self.filter(inner, column)),
            Filter::Term(Condition { field, test }) => {
                let col = column(field, self);
                match test {
                    Test::Exists => format!("({col} IS NOT NULL)"),
                    Test::Equals(value) => format!("({col} = {})", self.scalar(value)),
                    // `substr` rather than LIKE: the same case rules on both backends and no
                    // wildcard characters to escape.
                    Test::Prefix(stem) => {
                        let length = self.param(Bind::Int(stem.chars().count() as i64));
                        let stem = self.param(Bind::Text(stem.clone()));
                        format!("(substr({col}, 1, CAST({length} AS INTEGER)) = {stem})")
                    }
                    Test::Suffix(stem) => {
                        let length = self.param(Bind::Int(stem.chars().count() as i64));
                        let stem = self.param(Bind::Text(stem.clone()));
                        format!(
                            "(substr({col}, CAST(length({col}) - {length} + 1 AS INTEGER)) = {stem})"
                        )
                    }
                    Test::Range {
                        from,
                        to,
                        inclusive,
                    } => {
                        let (lower, upper) = if *inclusive { (">=", "<=") } else { (">", "<") };
                        let mut parts = vec![format!("{col} IS NOT NULL")];
                        if let Some(from) = from {
                            parts.push(format!("{col} {lower} {}", self.scalar(from)));
                        }
                        if let Some(to) = to {
                            parts.push(format!("{col} {upper} {}", self.scalar(to)));
                        }
                        format!("({})", parts.join(" AND "))
                    }
                }
            }
        }
    }

    /// Binds the values to `query` in placeholder order.
    pub(super) fn bind_to<'q>(&self, mut query: DbQuery<'q>) -> DbQuery<'q> {
        for b in &self.binds {
            query = match b {
                Bind::Text(t) => query.bind(t.clone()),
                Bind::Int(i) => query.bind(*i),
                Bind::Bool(v) => query.bind(*v),
            };
        }
        query
    }
}
