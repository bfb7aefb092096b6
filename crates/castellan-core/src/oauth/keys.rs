//! Key pairs for RS256, ES256 and EdDSA, kept parsed in memory so signing a token costs one
//! signature and nothing else (RFC 7518 §3).

use aws_lc_rs::digest::{SHA256, digest};
use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, ED25519, EcdsaKeyPair,
    Ed25519KeyPair, KeyPair, ParsedPublicKey, RSA_PKCS1_SHA256, RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Serialize;
use serde_json::{Value, json};

use crate::model::{Named, SigningAlg, SigningKeyRecord};
use crate::secrets::MasterKey;

enum Material {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

pub struct Signer {
    pub kid: String,
    pub alg: SigningAlg,
    material: Material,
}

#[derive(Debug, thiserror::Error)]
#[error("signing key {kid}: {reason}")]
pub struct KeyError {
    pub kid: String,
    pub reason: String,
}

impl Signer {
    /// A fresh key pair and its PKCS#8 encoding (to be sealed for storage).
    pub fn generate(alg: SigningAlg) -> (Self, Vec<u8>) {
        let pkcs8 = match alg {
            SigningAlg::Rs256 => RsaKeyPair::generate(KeySize::Rsa2048)
                .and_then(|k| k.as_der())
                .map(|d| d.as_ref().to_vec()),
            SigningAlg::Es256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|k| k.to_pkcs8v1())
                .map(|d| d.as_ref().to_vec()),
            SigningAlg::EdDsa => Ed25519KeyPair::generate()
                .and_then(|k| k.to_pkcs8v1())
                .map(|d| d.as_ref().to_vec()),
        }
        .expect("key generation with the system random source");
        let kid = crate::ids::alphanumeric(22);
        let signer = Self::from_pkcs8(kid, alg, &pkcs8).expect("a key we just generated parses");
        (signer, pkcs8)
    }

    pub fn from_pkcs8(kid: String, alg: SigningAlg, pkcs8: &[u8]) -> Result<Self, KeyError> {
        let material = match alg {
            SigningAlg::Rs256 => RsaKeyPair::from_pkcs8(pkcs8)
                .map(Material::Rsa)
                .map_err(|e| e.to_string()),
            SigningAlg::Es256 => EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                .map(Material::Ec)
                .map_err(|e| e.to_string()),
            SigningAlg::EdDsa => Ed25519KeyPair::from_pkcs8(pkcs8)
                .map(Material::Ed)
                .map_err(|e| e.to_string()),
        }
        .map_err(|reason| KeyError {
            kid: kid.clone(),
            reason,
        })?;
        Ok(Self { kid, alg, material })
    }

    /// Opens a stored key with the master key.
    pub fn from_record(record: &SigningKeyRecord, master: &MasterKey) -> Result<Self, KeyError> {
        let pkcs8 = master
            .open(&record.sealed_private_key, &record.kid)
            .map_err(|e| KeyError {
                kid: record.kid.clone(),
                reason: e.to_string(),
            })?;
        Self::from_pkcs8(record.kid.clone(), record.alg, &pkcs8)
    }

    /// A new stored key, published from `now` and not yet scheduled to sign (a `next`
    /// key): the public JWK in clear, the private half sealed.
    pub fn generate_record(
        alg: SigningAlg,
        master: &MasterKey,
        now: i64,
    ) -> (Self, SigningKeyRecord) {
        let (signer, pkcs8) = Self::generate(alg);
        let record = SigningKeyRecord {
            kid: signer.kid.clone(),
            alg,
            public_jwk: signer.public_jwk(),
            sealed_private_key: master.seal(&pkcs8, &signer.kid),
            created_at: now,
            current_since: None,
            retired_at: None,
            revoked_at: None,
        };
        (signer, record)
    }

    /// The public key as a JWK (RFC 7517), with `kid`, `alg` and `use`.
    pub fn public_jwk(&self) -> Value {
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let mut jwk = match &self.material {
            Material::Rsa(k) => {
                let public = k.public_key();
                json!({
                    "kty": "RSA",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                })
            }
            Material::Ec(k) => {
                // Uncompressed SEC1 point: 0x04 || x || y.
                let point = k.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])})
            }
            Material::Ed(k) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(k.public_key().as_ref())})
            }
        };
        jwk["kid"] = json!(self.kid);
        jwk["alg"] = json!(self.alg.name());
        jwk["use"] = json!("sig");
        jwk
    }

    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.material {
            Material::Rsa(k) => {
                let mut signature = vec![0; k.public_modulus_len()];
                k.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .expect("RSA signing with a valid key");
                signature
            }
            Material::Ec(k) => k
                .sign(&SystemRandom::new(), message)
                .expect("ECDSA signing with a valid key")
                .as_ref()
                .to_vec(),
            Material::Ed(k) => k.sign(message).as_ref().to_vec(),
        }
    }

    /// A compact JWS (RFC 7515 §7.1) over `claims`.
    pub fn encode_jwt(&self, typ: &str, claims: &impl Serialize) -> String {
        let header = json!({"alg": self.alg.name(), "typ": typ, "kid": self.kid});
        let mut token = URL_SAFE_NO_PAD.encode(header.to_string());
        token.push('.');
        // Claims are string-keyed maps and structs of JSON values, which always serialise.
        let claims = serde_json::to_string(claims).expect("claims serialise to JSON");
        token.push_str(&URL_SAFE_NO_PAD.encode(claims));
        let signature = self.sign(token.as_bytes());
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(signature));
        token
    }
}

/// What the Management API shows of a key where Auth0 shows its X.509 certificate: Castellan
/// issues no certificates, so `pem` is the bare public key (`BEGIN PUBLIC KEY`, which
/// JWT libraries accept wherever they accept a certificate), and the fingerprints are
/// SHA-256 digests of that key's DER, in Auth0's two notations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyInfo {
    pub pem: String,
    /// `AB:CD:…`
    pub fingerprint: String,
    /// `ABCD…`
    pub thumbprint: String,
}

impl PublicKeyInfo {
    /// From a JWK of ours: only the public half is needed, so revoked keys can be shown too.
    pub fn from_jwk(jwk: &Value) -> Option<Self> {
        let field = |name: &str| {
            jwk.get(name)
                .and_then(Value::as_str)
                .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        };
        let der: PublicKeyX509Der<'static> = match jwk.get("kty").and_then(Value::as_str)? {
            "RSA" => aws_lc_rs::rsa::PublicKeyComponents {
                n: field("n")?,
                e: field("e")?,
            }
            .as_der()
            .ok()?,
            "EC" => {
                let mut point = vec![4u8];
                point.extend(field("x")?);
                point.extend(field("y")?);
                ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                    .ok()?
                    .as_der()
                    .ok()?
            }
            "OKP" => ParsedPublicKey::new(&ED25519, field("x")?)
                .ok()?
                .as_der()
                .ok()?,
            _ => return None,
        };
        let der = der.as_ref();
        let body = STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\r\n{}\r\n-----END PUBLIC KEY-----",
            lines.join("\r\n")
        );
        let hex: Vec<String> = digest(&SHA256, der)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        Some(Self {
            pem,
            fingerprint: hex.join(":"),
            thumbprint: hex.concat(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_signs_verifiably() {
        for alg in SigningAlg::ALL {
            let (signer, _) = Signer::generate(*alg);
            let token = signer.encode_jwt("JWT", &json!({"sub": "x"}));
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(signer.public_jwk()).unwrap();
            let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
            let algorithm: jsonwebtoken::Algorithm = alg.name().parse().unwrap();
            let mut validation = jsonwebtoken::Validation::new(algorithm);
            validation.required_spec_claims.clear();
            validation.validate_exp = false;
            validation.validate_aud = false;
            let data = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
            assert_eq!(data.claims["sub"], "x");
        }
    }

    #[test]
    fn stored_record_reopens_only_with_its_master_key() {
        let master = MasterKey::generate();
        let (signer, record) = Signer::generate_record(SigningAlg::Es256, &master, 1);
        assert!(!record.sealed_private_key.is_empty());
        let reopened = Signer::from_record(&record, &master).unwrap();
        assert_eq!(reopened.public_jwk(), signer.public_jwk());
        assert!(Signer::from_record(&record, &MasterKey::generate()).is_err());
    }

    #[test]
    fn public_key_info_is_the_der_of_the_signing_key() {
        for alg in SigningAlg::ALL {
            let (signer, _) = Signer::generate(*alg);
            let info = PublicKeyInfo::from_jwk(&signer.public_jwk()).unwrap();
            let der = match &signer.material {
                Material::Rsa(k) => k.public_key().as_der().unwrap(),
                Material::Ec(k) => k.public_key().as_der().unwrap(),
                Material::Ed(k) => k.public_key().as_der().unwrap(),
            };
            let body: String = info
                .pem
                .lines()
                .filter(|l| !l.starts_with("-----"))
                .map(str::trim)
                .collect();
            assert_eq!(STANDARD.decode(body).unwrap(), der.as_ref());
            assert_eq!(info.thumbprint.len(), 64);
            assert_eq!(info.fingerprint.replace(':', ""), info.thumbprint);
        }
    }
}
