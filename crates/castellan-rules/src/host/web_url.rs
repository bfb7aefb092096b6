//! WHATWG URL parsing for the `URL` global (`node.js`), by the `url` crate: one parse for
//! the constructor and one for each setter, so the JavaScript side never parses.

use rquickjs::{Ctx, Exception, Function, Object};
use serde_json::json;

pub(super) fn install<'js>(ctx: &Ctx<'js>, host: &Object<'js>) -> rquickjs::Result<()> {
    host.set(
        "parseUrl",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, input: String, base: Option<String>| -> rquickjs::Result<String> {
                parse(&input, base.as_deref())
                    .map(|url| parts(&url))
                    .map_err(|message| Exception::throw_type(&ctx, &message))
            },
        )?,
    )?;
    host.set(
        "setUrl",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             href: String,
             part: String,
             value: String|
             -> rquickjs::Result<String> {
                let mut url = parse(&href, None).map_err(|m| Exception::throw_type(&ctx, &m))?;
                set(&mut url, &part, &value);
                Ok(parts(&url))
            },
        )?,
    )?;
    Ok(())
}

fn parse(input: &str, base: Option<&str>) -> Result<url::Url, String> {
    let invalid = || format!("Invalid URL: {input}");
    match base {
        Some(base) => url::Url::parse(base)
            .and_then(|base| base.join(input))
            .map_err(|_| invalid()),
        None => url::Url::parse(input).map_err(|_| invalid()),
    }
}

/// A setter that is given a value it cannot take leaves the URL as it was, as in browsers.
fn set(url: &mut url::Url, part: &str, value: &str) {
    let _ = match part {
        "href" => match url::Url::parse(value) {
            Ok(parsed) => {
                *url = parsed;
                Ok(())
            }
            Err(_) => Err(()),
        },
        "protocol" => url.set_scheme(value.trim_end_matches(':')),
        "username" => url.set_username(value),
        "password" => url.set_password(Some(value).filter(|v| !v.is_empty())),
        "host" => url::quirks::set_host(url, value),
        "hostname" => url::quirks::set_hostname(url, value),
        "port" => url::quirks::set_port(url, value),
        "pathname" => {
            url::quirks::set_pathname(url, value);
            Ok(())
        }
        "search" => {
            url::quirks::set_search(url, value);
            Ok(())
        }
        "hash" => {
            url::quirks::set_hash(url, value);
            Ok(())
        }
        _ => Err(()),
    };
}

fn parts(url: &url::Url) -> String {
    json!({
        "href": url::quirks::href(url),
        "origin": url::quirks::origin(url),
        "protocol": url::quirks::protocol(url),
        "username": url::quirks::username(url),
        "password": url::quirks::password(url),
        "host": url::quirks::host(url),
        "hostname": url::quirks::hostname(url),
        "port": url::quirks::port(url),
        "pathname": url::quirks::pathname(url),
        "search": url::quirks::search(url),
        "hash": url::quirks::hash(url),
    })
    .to_string()
}
