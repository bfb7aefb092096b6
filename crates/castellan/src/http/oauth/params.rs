//! The wire of `POST /oauth/token` and `/oauth/revoke` (RFC 6749 §3.2): JSON and form bodies
//! alike (`null` fields ignored, as one official SDK sends `"organization": null`), and the
//! client's credentials from the body or HTTP Basic.

use std::collections::HashMap;

use axum::extract::Request;
use axum::http::{HeaderMap, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use castellan_core::model::TokenEndpointAuthMethod;
use castellan_core::oauth::MissingParameter;
use castellan_core::oauth::client_auth::PresentedCredentials;
use castellan_core::text::nul_refused;
use serde_json::Value;

use crate::http::body::{content_type, read_limited};
use crate::http::input::nul_in_pairs;

/// Why a request was refused before any grant looked at it; `http/error.rs` answers it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("The request body is too large")]
    TooLarge,
    #[error("Content-Type must be application/x-www-form-urlencoded or application/json")]
    ContentType,
    #[error("The form body is malformed")]
    MalformedForm,
    #[error("The JSON body is malformed or not an object")]
    MalformedJson,
    /// RFC 6749 §3.2: parameters must not be repeated.
    #[error("Parameter {0} is repeated")]
    Repeated(String),
    #[error("Parameter {0} must be a string")]
    NotAString(String),
    /// Refused before any lookup: PostgreSQL cannot compare NUL, where SQLite would find
    /// nothing.
    #[error("{}", nul_refused(.0))]
    Nul(String),
    #[error(transparent)]
    Missing(#[from] MissingParameter),
    #[error("Malformed Basic authentication")]
    MalformedBasic,
    #[error("Only Basic authentication is accepted at the token endpoint")]
    NotBasic,
    #[error("Use one client authentication method, not Basic and client_secret both")]
    BasicAndSecret,
    #[error("client_id in the body differs from the Basic credentials")]
    ClientIdDiffers,
    #[error("Unsupported grant type: {0}")]
    UnsupportedGrant(String),
}

/// The body's parameters, each once, as strings; readers take what they understand and
/// ignore the rest.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct RawParams(HashMap<String, String>);

impl RawParams {
    pub(super) fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name)
    }

    pub(super) fn require(&mut self, name: &'static str) -> Result<String, MissingParameter> {
        self.take(name).ok_or(MissingParameter(name))
    }

    pub(super) fn from_body(kind: &str, bytes: &[u8]) -> Result<Self, RequestError> {
        let mut map = HashMap::new();
        match kind {
            "application/x-www-form-urlencoded" => {
                let pairs: Vec<(String, String)> =
                    serde_urlencoded::from_bytes(bytes).map_err(|_| RequestError::MalformedForm)?;
                for (k, v) in pairs {
                    if map.insert(k.clone(), v).is_some() {
                        return Err(RequestError::Repeated(k));
                    }
                }
            }
            "application/json" => {
                let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(bytes) else {
                    return Err(RequestError::MalformedJson);
                };
                for (k, v) in object {
                    match v {
                        Value::Null => {}
                        Value::String(s) => {
                            map.insert(k, s);
                        }
                        _ => return Err(RequestError::NotAString(k)),
                    }
                }
            }
            _ => return Err(RequestError::ContentType),
        }
        Ok(Self(map))
    }
}

/// `Authorization: Basic` credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Basic {
    pub client_id: String,
    pub client_secret: String,
}

pub(super) async fn parse(request: Request) -> Result<(RawParams, Option<Basic>), RequestError> {
    let basic = basic_credentials(request.headers())?;
    let kind = content_type(&request);
    let bytes = read_limited(request)
        .await
        .map_err(|_| RequestError::TooLarge)?;
    let params = RawParams::from_body(&kind, &bytes)?;
    refuse_nul(&params, basic.as_ref())?;
    Ok((params, basic))
}

fn refuse_nul(params: &RawParams, basic: Option<&Basic>) -> Result<(), RequestError> {
    let presented = params.0.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let in_basic = basic.map(|basic| {
        [
            ("client_id", basic.client_id.as_str()),
            ("client_secret", basic.client_secret.as_str()),
        ]
    });
    match nul_in_pairs(presented.chain(in_basic.into_iter().flatten())) {
        Some(name) => Err(RequestError::Nul(name)),
        None => Ok(()),
    }
}

/// `Authorization: Basic` with form-encoded id and secret (RFC 6749 §2.3.1).
pub(super) fn basic_credentials(headers: &HeaderMap) -> Result<Option<Basic>, RequestError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    fn malformed<E>(_: E) -> RequestError {
        RequestError::MalformedBasic
    }
    let value = value.to_str().map_err(malformed)?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(RequestError::MalformedBasic);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(RequestError::NotBasic);
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(malformed)?;
    let text = String::from_utf8(decoded).map_err(malformed)?;
    let (id, secret) = text.split_once(':').ok_or(RequestError::MalformedBasic)?;
    let unescape = |s: &str| -> Result<String, RequestError> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&format!("v={s}")).map_err(malformed)?;
        Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
    };
    Ok(Some(Basic {
        client_id: unescape(id)?,
        client_secret: unescape(secret)?,
    }))
}

/// The client's credentials, and how they came, which the client must have registered.
pub(super) fn presented(
    params: &mut RawParams,
    basic: Option<Basic>,
) -> Result<PresentedCredentials, RequestError> {
    let body_id = params.take("client_id");
    let body_secret = params.take("client_secret");
    match basic {
        Some(basic) => {
            if body_secret.is_some() {
                return Err(RequestError::BasicAndSecret);
            }
            if body_id.is_some_and(|body_id| body_id != basic.client_id) {
                return Err(RequestError::ClientIdDiffers);
            }
            Ok(PresentedCredentials {
                client_id: basic.client_id,
                client_secret: Some(basic.client_secret),
                method: TokenEndpointAuthMethod::ClientSecretBasic,
            })
        }
        None => {
            let client_id = body_id.ok_or(MissingParameter("client_id"))?;
            let method = match body_secret {
                Some(_) => TokenEndpointAuthMethod::ClientSecretPost,
                None => TokenEndpointAuthMethod::None,
            };
            Ok(PresentedCredentials {
                client_id,
                client_secret: body_secret,
                method,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    const FORM: &str = "application/x-www-form-urlencoded";
    const JSON: &str = "application/json";

    fn with(pairs: &[(&str, &str)]) -> RawParams {
        RawParams(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn form_and_json_bodies_read_alike() {
        let expected = with(&[("grant_type", "password"), ("scope", "openid")]);
        let form = RawParams::from_body(FORM, b"grant_type=password&scope=openid");
        assert_eq!(form, Ok(expected));
        let json = br#"{"grant_type": "password", "scope": "openid", "organization": null}"#;
        let expected = with(&[("grant_type", "password"), ("scope", "openid")]);
        assert_eq!(RawParams::from_body(JSON, json), Ok(expected));
    }

    #[test]
    fn malformed_repeated_and_non_string_parameters_are_refused() {
        let refused = |kind, body: &str| {
            RawParams::from_body(kind, body.as_bytes())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            refused(FORM, "scope=a&scope=b"),
            "Parameter scope is repeated"
        );
        assert_eq!(
            refused(JSON, r#"{"grant_type": "password", "ttl": 5}"#),
            "Parameter ttl must be a string"
        );
        assert_eq!(
            refused(JSON, r#"["grant_type"]"#),
            "The JSON body is malformed or not an object"
        );
        assert_eq!(
            refused("text/plain", "grant_type=password"),
            "Content-Type must be application/x-www-form-urlencoded or application/json"
        );
    }

    #[test]
    fn nul_is_refused_in_the_body_and_in_basic() {
        let body = with(&[("username", "a\0b")]);
        assert_eq!(
            refuse_nul(&body, None).unwrap_err().to_string(),
            "username must not contain the NUL character (U+0000)"
        );
        let basic = Basic {
            client_id: "c".into(),
            client_secret: "s\0".into(),
        };
        assert_eq!(
            refuse_nul(&RawParams::default(), Some(&basic)),
            Err(RequestError::Nul("client_secret".into()))
        );
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let mut headers = HeaderMap::new();
        assert_eq!(basic_credentials(&headers), Ok(None));
        let encoded = STANDARD.encode("my%20client:p%3Ass");
        let value = HeaderValue::from_str(&format!("Basic {encoded}")).unwrap();
        headers.insert(header::AUTHORIZATION, value);
        let expected = Basic {
            client_id: "my client".into(),
            client_secret: "p:ss".into(),
        };
        assert_eq!(basic_credentials(&headers), Ok(Some(expected)));
        for (value, refusal) in [
            ("Basic !!", RequestError::MalformedBasic),
            ("Basic", RequestError::MalformedBasic),
            ("Bearer abc", RequestError::NotBasic),
        ] {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
            assert_eq!(basic_credentials(&headers), Err(refusal), "{value}");
        }
    }
}
