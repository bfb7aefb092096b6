//! Offset paging as the Management API does it: a page of rows plus the total count.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub offset: u64,
    pub limit: u64,
}

impl PageRequest {
    pub const ALL: PageRequest = PageRequest {
        offset: 0,
        limit: i64::MAX as u64,
    };
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
}
