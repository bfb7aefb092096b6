//! Auth0's list conventions: offset paging (`page`, `per_page`, `include_totals`: a bare
//! array, or `{start, limit, total, <collection>}`) and checkpoint paging (`from`, `take`:
//! `{next, <collection>}`), with an empty page past the end.

use axum::Json;
use castellan_core::paging::{Page, PageRequest};
use serde::Serialize;
use serde_json::{Value, json};

use crate::http::body::QueryParams;
use crate::http::error::ApiError;

const DEFAULT_PER_PAGE: u64 = 50;
const MAX_PER_PAGE: u64 = 100;

#[derive(Debug, Clone, Copy)]
pub enum Listing {
    Offset {
        page: u64,
        per_page: u64,
        include_totals: bool,
    },
    /// `from` is an opaque cursor; here it is the offset of the next row.
    Checkpoint { from: u64, take: u64 },
}

impl Listing {
    /// `checkpoint` says whether the collection answers `from`/`take` too.
    pub fn from_query(q: &QueryParams, checkpoint: bool) -> Result<Self, ApiError> {
        let too_many = |name: &str| {
            ApiError::bad_request(
                "invalid_query_string",
                format!("Query validation error: '{name}' must be at most {MAX_PER_PAGE}"),
            )
        };
        if checkpoint
            && q.get("page").is_none()
            && (q.get("from").is_some() || q.get("take").is_some())
        {
            return Self::checkpoint(q);
        }
        let per_page = q.number("per_page")?.unwrap_or(DEFAULT_PER_PAGE);
        if per_page > MAX_PER_PAGE {
            return Err(too_many("per_page"));
        }
        Ok(Listing::Offset {
            page: q.number("page")?.unwrap_or(0),
            per_page,
            include_totals: q.flag("include_totals")?,
        })
    }

    /// Checkpoint paging only (`from`, `take`), for the collections Auth0 pages no other
    /// way (a user's sessions and refresh tokens).
    pub fn checkpoint(q: &QueryParams) -> Result<Self, ApiError> {
        let take = q.number("take")?.unwrap_or(DEFAULT_PER_PAGE);
        if take > MAX_PER_PAGE {
            return Err(ApiError::bad_request(
                "invalid_query_string",
                format!("Query validation error: 'take' must be at most {MAX_PER_PAGE}"),
            ));
        }
        let from = match q.get("from") {
            None => 0,
            Some(cursor) => cursor.parse().map_err(|_| {
                ApiError::bad_request(
                    "invalid_query_string",
                    "Query validation error: 'from' is not a valid cursor",
                )
            })?,
        };
        Ok(Listing::Checkpoint { from, take })
    }

    /// Auth0 serves only the first `window` results of a search (1000 for users and logs);
    /// a page reaching beyond them is refused rather than silently cut.
    pub fn within(self, window: u64) -> Result<Self, ApiError> {
        let r = self.request();
        if r.offset.saturating_add(r.limit) > window {
            return Err(ApiError::bad_request(
                "invalid_paging",
                format!(
                    "You can only page through the first {window} records; narrow the search instead"
                ),
            ));
        }
        Ok(self)
    }

    pub fn request(self) -> PageRequest {
        match self {
            Listing::Offset { page, per_page, .. } => PageRequest {
                offset: page.saturating_mul(per_page),
                limit: per_page,
            },
            Listing::Checkpoint { from, take } => PageRequest {
                offset: from,
                limit: take,
            },
        }
    }

    /// The answer in the shape the caller asked for. `collection` names the array.
    pub fn respond<T, W: Serialize>(
        self,
        collection: &str,
        page: Page<T>,
        wire: impl Fn(T) -> W,
    ) -> Json<Value> {
        let count = page.items.len() as u64;
        let items: Vec<W> = page.items.into_iter().map(wire).collect();
        Json(match self {
            Listing::Offset {
                include_totals: false,
                ..
            } => json!(items),
            Listing::Offset {
                page: number,
                per_page,
                ..
            } => json!({
                "start": number.saturating_mul(per_page),
                "limit": per_page,
                "total": page.total,
                collection: items,
            }),
            Listing::Checkpoint { from, .. } => {
                let next = from + count;
                let mut body = json!({ collection: items });
                if next < page.total {
                    body["next"] = json!(next.to_string());
                }
                body
            }
        })
    }
}

impl Listing {
    /// `respond`, with the `length` (items on this page) that users and logs carry too.
    pub fn respond_counted<T, W: Serialize>(
        self,
        collection: &str,
        page: Page<T>,
        wire: impl Fn(T) -> W,
    ) -> Json<Value> {
        let count = page.items.len();
        let Json(mut body) = self.respond(collection, page, wire);
        if body.get("total").is_some() {
            body["length"] = json!(count);
        }
        Json(body)
    }
}
