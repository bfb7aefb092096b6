//! A token request's parameters read into core's `TokenRequest`: the grant named by
//! `grant_type`, with what it needs taken out by name; anything else is ignored.

use castellan_core::oauth::MissingParameter;
use castellan_core::oauth::authorization_code::{self, CodeExchange};
use castellan_core::oauth::client_auth::PresentedCredentials;
use castellan_core::oauth::client_credentials::{self, ClientCredentialsRequest};
use castellan_core::oauth::device_code::{self, DeviceCodeExchange};
use castellan_core::oauth::mfa_grant::{self, MfaGrantRequest, MfaProof};
use castellan_core::oauth::password::{self, PasswordGrant, PasswordGrantRequest};
use castellan_core::oauth::refresh::{self, RefreshRequest};
use castellan_core::oauth::token_request::{Params, TokenRequest};

use super::params::{Basic, RawParams, RequestError, presented};

/// In the order clients have always been answered: `grant_type`, then the client's
/// credentials, then whether the grant is one we serve.
pub(super) fn read(
    mut params: RawParams,
    basic: Option<Basic>,
) -> Result<(PresentedCredentials, TokenRequest), RequestError> {
    let grant_type = params.require("grant_type")?;
    let credentials = presented(&mut params, basic)?;
    let request = match grant_type.as_str() {
        authorization_code::GRANT_TYPE => TokenRequest::AuthorizationCode(code_exchange(params)),
        password::PASSWORD => password_request(PasswordGrant::Password, params),
        password::PASSWORD_REALM => password_request(PasswordGrant::PasswordRealm, params),
        refresh::GRANT_TYPE => TokenRequest::RefreshToken(refresh_request(params)),
        client_credentials::GRANT_TYPE => {
            TokenRequest::ClientCredentials(ClientCredentialsRequest {
                audience: params.take("audience"),
                scope: params.take("scope"),
            })
        }
        device_code::GRANT_TYPE => TokenRequest::DeviceCode(
            params
                .require("device_code")
                .map(|device_code| DeviceCodeExchange { device_code }),
        ),
        mfa_grant::OTP => TokenRequest::Mfa(
            mfa_grant::OTP,
            mfa_request(params, |p| {
                Ok(MfaProof::Otp {
                    otp: p.require("otp")?,
                })
            }),
        ),
        mfa_grant::OOB => TokenRequest::Mfa(
            mfa_grant::OOB,
            mfa_request(params, |p| {
                Ok(MfaProof::Oob {
                    oob_code: p.require("oob_code")?,
                    binding_code: p.require("binding_code")?,
                })
            }),
        ),
        mfa_grant::RECOVERY_CODE => TokenRequest::Mfa(
            mfa_grant::RECOVERY_CODE,
            mfa_request(params, |p| {
                Ok(MfaProof::RecoveryCode {
                    recovery_code: p.require("recovery_code")?,
                })
            }),
        ),
        _ => return Err(RequestError::UnsupportedGrant(grant_type)),
    };
    Ok((credentials, request))
}

fn code_exchange(mut params: RawParams) -> Params<CodeExchange> {
    Ok(CodeExchange {
        code: params.require("code")?,
        redirect_uri: params.require("redirect_uri")?,
        code_verifier: params.take("code_verifier"),
    })
}

fn password_request(grant: PasswordGrant, mut params: RawParams) -> TokenRequest {
    let mut checked = || {
        let (Some(username), Some(password)) = (params.take("username"), params.take("password"))
        else {
            return Err(MissingParameter("username and password"));
        };
        let realm = params.take("realm");
        if grant == PasswordGrant::PasswordRealm && realm.is_none() {
            return Err(MissingParameter("realm"));
        }
        Ok(PasswordGrantRequest {
            username,
            password,
            realm,
            audience: params.take("audience"),
            scope: params.take("scope"),
        })
    };
    TokenRequest::Password(grant, checked())
}

fn mfa_request(
    mut params: RawParams,
    proof: impl FnOnce(&mut RawParams) -> Params<MfaProof>,
) -> Params<MfaGrantRequest> {
    let mfa_token = params.require("mfa_token")?;
    Ok(MfaGrantRequest {
        mfa_token,
        proof: proof(&mut params)?,
    })
}

fn refresh_request(mut params: RawParams) -> Params<RefreshRequest> {
    Ok(RefreshRequest {
        refresh_token: params.require("refresh_token")?,
        scope: params.take("scope"),
    })
}

#[cfg(test)]
mod tests {
    use castellan_core::model::TokenEndpointAuthMethod;

    use super::*;

    fn form(body: &str) -> RawParams {
        RawParams::from_body("application/x-www-form-urlencoded", body.as_bytes()).unwrap()
    }

    fn request(body: &str) -> TokenRequest {
        read(form(body), None).map(|(_, request)| request).unwrap()
    }

    fn refusal(body: &str, basic: Option<Basic>) -> String {
        read(form(body), basic).unwrap_err().to_string()
    }

    #[test]
    fn authorization_code_names_its_first_missing_parameter() {
        let TokenRequest::AuthorizationCode(exchange) =
            request("grant_type=authorization_code&client_id=c&code=k&redirect_uri=u&x=1")
        else {
            panic!("not an authorization code request")
        };
        let expected = CodeExchange {
            code: "k".into(),
            redirect_uri: "u".into(),
            code_verifier: None,
        };
        assert_eq!(exchange, Ok(expected));
        for (body, missing) in [
            ("grant_type=authorization_code&client_id=c", "code"),
            (
                "grant_type=authorization_code&client_id=c&code=k",
                "redirect_uri",
            ),
        ] {
            let TokenRequest::AuthorizationCode(Err(e)) = request(body) else {
                panic!("{body}")
            };
            assert_eq!(
                e.to_string(),
                format!("Missing required parameter: {missing}")
            );
        }
    }

    #[test]
    fn password_grants_need_both_credentials_and_realm_only_with_realm() {
        let realm = password::PASSWORD_REALM;
        for (body, missing) in [
            (
                "grant_type=password&client_id=c&username=u",
                "username and password",
            ),
            (
                &format!("grant_type={realm}&client_id=c&password=p"),
                "username and password",
            ),
            (
                &format!("grant_type={realm}&client_id=c&username=u&password=p"),
                "realm",
            ),
        ] {
            let TokenRequest::Password(_, Err(e)) = request(body) else {
                panic!("{body}")
            };
            assert_eq!(
                e.to_string(),
                format!("Missing required parameter: {missing}")
            );
        }
        let TokenRequest::Password(grant, Ok(plain)) =
            request("grant_type=password&client_id=c&username=u&password=p&scope=openid")
        else {
            panic!("password")
        };
        assert_eq!(grant, PasswordGrant::Password);
        assert_eq!(
            (plain.realm, plain.scope.as_deref()),
            (None, Some("openid"))
        );
        let TokenRequest::Password(grant, Ok(with_realm)) = request(&format!(
            "grant_type={realm}&client_id=c&username=u&password=p&realm=db&audience=a"
        )) else {
            panic!("password-realm")
        };
        assert_eq!(grant, PasswordGrant::PasswordRealm);
        assert_eq!(with_realm.realm.as_deref(), Some("db"));
        assert_eq!(with_realm.audience.as_deref(), Some("a"));
    }

    #[test]
    fn mfa_grants_need_the_token_and_their_code() {
        let otp = mfa_grant::OTP;
        let TokenRequest::Mfa(grant, Err(e)) =
            request(&format!("grant_type={otp}&client_id=c&otp=1"))
        else {
            panic!("mfa-otp")
        };
        assert_eq!(
            (grant, e.to_string().as_str()),
            (otp, "Missing required parameter: mfa_token")
        );
        let oob = mfa_grant::OOB;
        let TokenRequest::Mfa(_, Err(e)) = request(&format!(
            "grant_type={oob}&client_id=c&mfa_token=t&oob_code=o"
        )) else {
            panic!("mfa-oob")
        };
        assert_eq!(e.to_string(), "Missing required parameter: binding_code");
        let recovery = mfa_grant::RECOVERY_CODE;
        let TokenRequest::Mfa(_, Ok(asked)) = request(&format!(
            "grant_type={recovery}&client_id=c&mfa_token=t&recovery_code=r"
        )) else {
            panic!("mfa-recovery-code")
        };
        assert_eq!(
            asked.proof,
            MfaProof::RecoveryCode {
                recovery_code: "r".into()
            }
        );
    }

    #[test]
    fn refresh_and_client_credentials() {
        let TokenRequest::RefreshToken(Err(e)) = request("grant_type=refresh_token&client_id=c")
        else {
            panic!("refresh")
        };
        assert_eq!(e.to_string(), "Missing required parameter: refresh_token");
        let TokenRequest::RefreshToken(Ok(refresh)) =
            request("grant_type=refresh_token&client_id=c&refresh_token=r&scope=a")
        else {
            panic!("refresh")
        };
        assert_eq!(refresh.refresh_token, "r");
        assert_eq!(refresh.scope.as_deref(), Some("a"));
        let TokenRequest::ClientCredentials(cc) =
            request("grant_type=client_credentials&client_id=c&client_secret=s&audience=a")
        else {
            panic!("client credentials")
        };
        assert_eq!((cc.audience.as_deref(), cc.scope), (Some("a"), None));
    }

    #[test]
    fn grant_type_then_client_then_grant_are_checked_in_order() {
        assert_eq!(
            refusal("client_id=c", None),
            "Missing required parameter: grant_type"
        );
        assert_eq!(
            refusal("grant_type=nope", None),
            "Missing required parameter: client_id"
        );
        assert_eq!(
            refusal("grant_type=nope&client_id=c", None),
            "Unsupported grant type: nope"
        );
    }

    #[test]
    fn basic_credentials_and_body_credentials() {
        let basic = || {
            Some(Basic {
                client_id: "c".into(),
                client_secret: "s".into(),
            })
        };
        let (credentials, _) =
            read(form("grant_type=client_credentials&client_id=c"), basic()).unwrap();
        assert_eq!(
            credentials.method,
            TokenEndpointAuthMethod::ClientSecretBasic
        );
        assert_eq!(credentials.client_secret.as_deref(), Some("s"));
        assert_eq!(
            refusal("grant_type=client_credentials&client_secret=s", basic()),
            "Use one client authentication method, not Basic and client_secret both"
        );
        assert_eq!(
            refusal("grant_type=client_credentials&client_id=d", basic()),
            "client_id in the body differs from the Basic credentials"
        );
        let (post, _) = read(
            form("grant_type=client_credentials&client_id=c&client_secret=s"),
            None,
        )
        .unwrap();
        assert_eq!(post.method, TokenEndpointAuthMethod::ClientSecretPost);
        let (public, _) = read(form("grant_type=client_credentials&client_id=c"), None).unwrap();
        assert_eq!(
            (public.method, public.client_secret),
            (TokenEndpointAuthMethod::None, None)
        );
    }

    #[test]
    fn device_code_needs_its_code() {
        let grant = device_code::GRANT_TYPE;
        let TokenRequest::DeviceCode(Err(e)) = request(&format!("grant_type={grant}&client_id=c"))
        else {
            panic!("device code")
        };
        assert_eq!(e.to_string(), "Missing required parameter: device_code");
        let TokenRequest::DeviceCode(Ok(exchange)) =
            request(&format!("grant_type={grant}&client_id=c&device_code=d"))
        else {
            panic!("device code")
        };
        assert_eq!(exchange.device_code, "d");
    }
}
