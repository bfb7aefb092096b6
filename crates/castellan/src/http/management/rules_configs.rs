//! Placeholder: filled in by the work on issue 4.

use crate::http::endpoint::Endpoint;

pub fn endpoints() -> Vec<Endpoint> {
    vec![]
}
