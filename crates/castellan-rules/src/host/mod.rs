//! Host functions: what modules and the Node globals need that JavaScript does slowly or
//! cannot do safely (URL parsing, hashes, signatures, random bytes). They are put on one
//! object, `host`, which the loader hands to module bodies and to `node.js`; scripts never
//! get it as a global.

mod bytes;
mod cipher;
mod digest;
mod jwt;
mod redirect_token;
mod web_url;

use rquickjs::{Ctx, Object};

/// A fresh `host` object for one context.
pub(crate) fn object<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
    let host = Object::new(ctx.clone())?;
    web_url::install(ctx, &host)?;
    digest::install(ctx, &host)?;
    cipher::install(ctx, &host)?;
    jwt::install(ctx, &host)?;
    redirect_token::install(ctx, &host)?;
    Ok(host)
}
