//! What a user holds in the end: direct roles plus the roles of every group they are in
//! (directly, through a connection mapping, or through nesting), and the permissions of all
//! of them plus those given directly.

use crate::error::Result;
use crate::model::{HeldPermission, Role};
use crate::paging::{Page, PageRequest};
use crate::store::Store;

fn page_of<T>(items: Vec<T>, page: PageRequest) -> Page<T> {
    let total = items.len() as u64;
    let items = items
        .into_iter()
        .skip(usize::try_from(page.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(page.limit).unwrap_or(usize::MAX))
        .collect();
    Page { items, total }
}

pub async fn roles(store: &dyn Store, user_id: &str, page: PageRequest) -> Result<Page<Role>> {
    super::users::find(store, user_id).await?;
    Ok(page_of(store.effective_roles(user_id).await?, page))
}

/// Every permission the user holds, with its sources (Auth0's `GET /users/{id}/permissions`
/// lists those of the user's roles too, each with where it comes from).
pub async fn permissions(
    store: &dyn Store,
    user_id: &str,
    page: PageRequest,
) -> Result<Page<HeldPermission>> {
    super::users::find(store, user_id).await?;
    let mut held: Vec<HeldPermission> = Vec::new();
    for (permission, source) in store.effective_permission_sources(user_id).await? {
        match held.last_mut() {
            Some(last) if last.permission == permission => last.sources.push(source),
            _ => held.push(HeldPermission {
                permission,
                sources: vec![source],
            }),
        }
    }
    Ok(page_of(held, page))
}
