//! `require('crypto')` and `require('jsonwebtoken')` as Auth0's rule templates use them:
//! known vectors for hashes, HMACs, PBKDF2 and AES, and JSON Web Tokens that cross between
//! the sandbox and the `jsonwebtoken` crate in both directions.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use castellan_rules::{Limits, Sandbox, ScriptError, Setup, WorkerProgram};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Map, Value, json};

fn sandbox() -> Sandbox {
    Sandbox::new(Limits {
        workers: 1,
        per_rule: Duration::from_secs(3),
        per_login: Duration::from_secs(6),
        worker: WorkerProgram::new(env!("CARGO_BIN_EXE_castellan-rules-worker"), &[]),
        ..Limits::default()
    })
}

async fn run_with(
    configuration: Value,
    rule: &str,
    context: Value,
) -> Result<(Value, Value), ScriptError> {
    let configuration: Map<String, Value> = serde_json::from_value(configuration).unwrap();
    let setup = Setup {
        configuration,
        ..Setup::default()
    };
    let outcome = sandbox()
        .open(setup)
        .run_rule(
            "crypto",
            rule,
            json!({"user_id": "auth0|1", "email": "user@example.com"}),
            context,
        )
        .await?;
    Ok((outcome.user, outcome.context))
}

async fn run(rule: &str) -> Value {
    run_with(json!({}), rule, json!({})).await.unwrap().0
}

#[tokio::test]
async fn hashes_and_hmacs_match_known_vectors() {
    let user = run(r#"function (user, context, callback) {
  const crypto = require('crypto');
  user.sha256 = crypto.createHash('sha256').update('abc').digest('hex');
  user.sha256b64 = crypto.createHash('sha256').update('a').update(Buffer.from('bc')).digest('base64');
  user.sha512url = crypto.createHash('sha512').update('616263', 'hex').digest('base64url');
  user.sha1 = crypto.createHash('sha1').update('abc').digest().toString('hex');
  user.md5empty = crypto.createHash('md5').update('').digest('hex');
  // As fraud-prevention-with-minfraud.js hashes the e-mail.
  user.md5email = crypto.createHash('md5').update(user.email).digest('hex');
  user.latin1 = crypto.createHash('md5').update('').digest('latin1').length;
  user.hmac = crypto.createHmac('sha256', 'Jefe').update('what do ya want for nothing?').digest('hex');
  user.hmacMd5 = crypto.createHmac('md5', Buffer.from('Jefe')).update('what do ya want for nothing?').digest('hex');
  try { crypto.createHash('whirlpool-ish'); } catch (e) { user.unknown = e.message; }
  try { crypto.createHmac('nope', 'k'); } catch (e) { user.unknownHmac = e.message; }
  const hash = crypto.createHash('sha256');
  hash.digest();
  try { hash.digest(); } catch (e) { user.twice = e.code; }
  user.hashes = crypto.getHashes();
  callback(null, user, context);
}"#)
    .await;
    assert_eq!(
        user["sha256"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    // printf abc | openssl dgst -sha256 -binary | base64
    assert_eq!(
        user["sha256b64"],
        "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
    );
    // printf abc | openssl dgst -sha512 -binary | base64 | tr '+/' '-_' | tr -d '='
    assert_eq!(
        user["sha512url"],
        "3a81oZNherrMQXNJriBBMRLm-k6JqX6iCp7u5ktV05ohkpkqJ0_BqDa6PCOj_uu9RU1EI2Q86A4qmslPpUyknw"
    );
    assert_eq!(user["sha1"], "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_eq!(user["md5empty"], "d41d8cd98f00b204e9800998ecf8427e");
    // printf 'user@example.com' | md5sum
    assert_eq!(user["md5email"], "b58996c504c5638798eb6b511e6f49af");
    assert_eq!(user["latin1"], 16);
    // RFC 4231, test case 2.
    assert_eq!(
        user["hmac"],
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    // RFC 2104's second test vector.
    assert_eq!(user["hmacMd5"], "750c783e6ab0b503eaa86e310a5db738");
    assert_eq!(user["unknown"], "Digest method not supported");
    assert_eq!(user["unknownHmac"], "Invalid digest: nope");
    assert_eq!(user["twice"], "ERR_CRYPTO_HASH_FINALIZED");
    assert_eq!(
        user["hashes"],
        json!(["md5", "sha1", "sha224", "sha256", "sha384", "sha512"])
    );
}

#[tokio::test]
async fn aes_cbc_and_gcm_round_trip_and_match_vectors() {
    let user = run(r#"function (user, context, callback) {
  const crypto = require('crypto');
  const key = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
  const iv = Buffer.from('0f0e0d0c0b0a09080706050403020100', 'hex');
  const cipher = crypto.createCipheriv('aes-256-cbc', key, iv);
  user.cbc = cipher.update('The quick ', 'utf8', 'hex') + cipher.update('brown fox', 'utf8', 'hex') + cipher.final('hex');
  const decipher = crypto.createDecipheriv('aes-256-cbc', key, iv);
  user.cbcPlain = decipher.update(user.cbc, 'hex', 'utf8') + decipher.final('utf8');

  const long = 'x'.repeat(100);
  for (const name of ['aes-128-cbc', 'aes-192-cbc']) {
    const k = crypto.randomBytes(name === 'aes-128-cbc' ? 16 : 24);
    const c = crypto.createCipheriv(name, k, iv);
    const sealed = Buffer.concat([c.update(long), c.final()]);
    const d = crypto.createDecipheriv(name, k, iv);
    const parts = [];
    for (let i = 0; i < sealed.length; i += 7) parts.push(d.update(sealed.slice(i, i + 7)));
    parts.push(d.final());
    user[name] = Buffer.concat(parts).toString() === long && sealed.length === 112;
  }

  const raw = crypto.createCipheriv('aes-128-cbc', key.slice(0, 16), iv).setAutoPadding(false);
  user.noPadding = Buffer.concat([raw.update(Buffer.alloc(32)), raw.final()]).length;
  const partial = crypto.createCipheriv('aes-128-cbc', key.slice(0, 16), iv);
  partial.setAutoPadding(false);
  partial.update('abc');
  try { partial.final(); } catch (e) { user.partial = e.message; }
  const wrong = crypto.createDecipheriv('aes-256-cbc', Buffer.alloc(32, 1), iv);
  try { wrong.update(user.cbc, 'hex'); wrong.final(); } catch (e) { user.badDecrypt = e.message; }
  try { crypto.createCipheriv('aes-256-cbc', Buffer.alloc(16), iv); } catch (e) { user.keyLength = e.message; }
  try { crypto.createCipheriv('aes-256-cbc', key, Buffer.alloc(8)); } catch (e) { user.ivLength = e.message; }
  try { crypto.createCipheriv('des-ede3', key, iv); } catch (e) { user.unknownCipher = e.message; }

  const zeroKey = Buffer.alloc(32), zeroIv = Buffer.alloc(12);
  const gcm = crypto.createCipheriv('aes-256-gcm', zeroKey, zeroIv);
  user.gcm = Buffer.concat([gcm.update(Buffer.alloc(16)), gcm.final()]).toString('hex');
  user.gcmTag = gcm.getAuthTag().toString('hex');

  const secretKey = crypto.randomBytes(32), nonce = crypto.randomBytes(12);
  const enc = crypto.createCipheriv('aes-256-gcm', secretKey, nonce);
  enc.setAAD(Buffer.from('header'));
  const sealed = Buffer.concat([enc.update('attack at dawn', 'utf8'), enc.final()]);
  const tag = enc.getAuthTag();
  const dec = crypto.createDecipheriv('aes-256-gcm', secretKey, nonce);
  dec.setAAD(Buffer.from('header'));
  dec.setAuthTag(tag);
  user.gcmPlain = dec.update(sealed, undefined, 'utf8') + dec.final('utf8');
  const forged = crypto.createDecipheriv('aes-256-gcm', secretKey, nonce);
  forged.setAAD(Buffer.from('header'));
  const badTag = Buffer.from(tag); badTag[0] ^= 1;
  forged.setAuthTag(badTag);
  forged.update(sealed);
  try { forged.final(); } catch (e) { user.forged = e.message; }
  user.ciphers = crypto.getCiphers();
  callback(null, user, context);
}"#)
    .await;
    // printf 'The quick brown fox' | openssl enc -aes-256-cbc \
    //   -K 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
    //   -iv 0f0e0d0c0b0a09080706050403020100 -nosalt | xxd -p   (OpenSSL 3.0.19)
    assert_eq!(
        user["cbc"],
        "925c81ee81fae7d66040fade89896324d5e56344eb8bc837ba31a773eeb145d4"
    );
    assert_eq!(user["cbcPlain"], "The quick brown fox");
    assert_eq!(user["aes-128-cbc"], true);
    assert_eq!(user["aes-192-cbc"], true);
    assert_eq!(user["noPadding"], 32);
    assert_eq!(
        user["partial"],
        "error:1C80006B:Provider routines::wrong final block length"
    );
    assert_eq!(
        user["badDecrypt"],
        "error:1C800064:Provider routines::bad decrypt"
    );
    assert_eq!(user["keyLength"], "Invalid key length");
    assert_eq!(user["ivLength"], "Invalid initialization vector");
    assert_eq!(user["unknownCipher"], "Unknown cipher");
    // McGrew and Viega, "The Galois/Counter Mode of Operation", test case 14.
    assert_eq!(user["gcm"], "cea7403d4d606b6e074ec5d3baf39d18");
    assert_eq!(user["gcmTag"], "d0d1c8a799996bf0265b98b5d48ab919");
    assert_eq!(user["gcmPlain"], "attack at dawn");
    assert_eq!(
        user["forged"],
        "Unsupported state or unable to authenticate data"
    );
    assert_eq!(user["ciphers"].as_array().unwrap().len(), 6);
}

#[tokio::test]
async fn random_values_comparison_and_pbkdf2() {
    let user = run(r#"function (user, context, callback) {
  const crypto = require('crypto');
  const a = crypto.randomBytes(32), b = crypto.randomBytes(32);
  user.length = a.length;
  user.differ = !a.equals(b);
  user.uuid = crypto.randomUUID();
  const ints = [];
  for (let i = 0; i < 200; i++) ints.push(crypto.randomInt(5, 10));
  user.intsInRange = ints.every((n) => n >= 5 && n < 10 && Number.isInteger(n));
  user.intsVary = new Set(ints).size > 1;
  user.same = crypto.timingSafeEqual(Buffer.from('secret'), Buffer.from('secret'));
  user.different = crypto.timingSafeEqual(Buffer.from('secret'), Buffer.from('secreT'));
  try { crypto.timingSafeEqual(Buffer.from('a'), Buffer.from('ab')); } catch (e) { user.lengths = [e.name, e.code, e.message]; }
  user.pbkdf2 = crypto.pbkdf2Sync('password', 'salt', 1, 20, 'sha1').toString('hex');
  user.pbkdf2Slow = crypto.pbkdf2Sync('password', 'salt', 4096, 20, 'sha1').toString('hex');
  try { crypto.pbkdf2Sync('p', 's', 1, 20, 'nope'); } catch (e) { user.pbkdf2Digest = e.message; }
  try { crypto.randomBytes(-1); } catch (e) { user.negative = e.code; }
  // Host memory is outside the runtime's limit, so the host caps what it hands back.
  try { crypto.randomBytes(2 ** 30); } catch (e) { user.huge = e.name; }
  try { crypto.pbkdf2Sync('p', 's', 1, 2 ** 30, 'sha256'); } catch (e) { user.hugeKey = e.name; }
  crypto.randomBytes(8, (err, bytes) => {
    user.asyncLength = bytes.length;
    callback(err, user, context);
  });
}"#)
    .await;
    assert_eq!(user["length"], 32);
    assert_eq!(user["differ"], true);
    let uuid = user["uuid"].as_str().unwrap();
    assert_eq!(uuid.len(), 36);
    assert_eq!(&uuid[14..15], "4", "{uuid}");
    assert!("89ab".contains(&uuid[19..20]), "{uuid}");
    assert_eq!(user["intsInRange"], true);
    assert_eq!(user["intsVary"], true);
    assert_eq!(user["same"], true);
    assert_eq!(user["different"], false);
    assert_eq!(
        user["lengths"],
        json!([
            "RangeError",
            "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH",
            "Input buffers must have the same byte length"
        ])
    );
    // RFC 6070, test vectors 1 and 3.
    assert_eq!(user["pbkdf2"], "0c60c80f961f0e71f3a9b524af6012062fe037a6");
    assert_eq!(
        user["pbkdf2Slow"],
        "4b007901b765489abead49d926f721d065a429c1"
    );
    assert_eq!(user["pbkdf2Digest"], "Invalid digest: nope");
    assert_eq!(user["negative"], "ERR_OUT_OF_RANGE");
    assert_eq!(user["huge"], "RangeError");
    assert_eq!(user["hugeKey"], "RangeError");
    assert_eq!(user["asyncLength"], 8);
}

#[derive(Debug, serde::Deserialize)]
struct Claims {
    sub: String,
    aud: String,
    iss: String,
    exp: u64,
    iat: u64,
    name: String,
}

#[tokio::test]
async fn a_token_signed_in_the_sandbox_verifies_in_rust() {
    let user = run(r#"function (user, context, callback) {
  const jwt = require('jsonwebtoken');
  user.token = jwt.sign({ name: 'Ada' }, 'shared secret', {
    expiresIn: '2h', audience: 'api', issuer: 'https://tenant.example.com/', subject: user.user_id, keyid: 'k1',
  });
  user.decoded = jwt.decode(user.token, { complete: true });
  callback(null, user, context);
}"#)
    .await;
    let token = user["token"].as_str().unwrap();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["api"]);
    validation.set_issuer(&["https://tenant.example.com/"]);
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(b"shared secret"),
        &validation,
    )
    .unwrap();
    assert_eq!(data.claims.sub, "auth0|1");
    assert_eq!(data.claims.aud, "api");
    assert_eq!(data.claims.iss, "https://tenant.example.com/");
    assert_eq!(data.claims.name, "Ada");
    assert_eq!(data.claims.exp - data.claims.iat, 7200);
    assert_eq!(data.header.kid.as_deref(), Some("k1"));
    assert_eq!(
        user["decoded"]["header"],
        json!({"alg": "HS256", "typ": "JWT", "kid": "k1"})
    );
    assert_eq!(user["decoded"]["payload"]["name"], "Ada");
}

fn pems(algorithm: &'static rcgen::SignatureAlgorithm) -> (String, String) {
    let key = rcgen::KeyPair::generate_for(algorithm).unwrap();
    (key.serialize_pem(), key.public_key_pem())
}

const VERIFY_FROM_CONFIGURATION: &str = r#"function (user, context, callback) {
  const jwt = require('jsonwebtoken');
  user.claims = jwt.verify(configuration.TOKEN, configuration.PUBLIC_KEY, { audience: 'api' });
  // The key as a Buffer, and the header's algorithm pinned.
  user.complete = jwt.verify(configuration.TOKEN, Buffer.from(configuration.PUBLIC_KEY), { algorithms: [configuration.ALG], complete: true }).header.alg;
  // The public key used as an HMAC secret is the classic confusion; refused.
  const forged = jwt.sign({ sub: 'admin' }, configuration.PUBLIC_KEY, { algorithm: 'HS256' });
  try { jwt.verify(forged, configuration.PUBLIC_KEY); } catch (e) { user.confusion = e.message; }
  user.signed = jwt.sign({ sub: 'back' }, configuration.PRIVATE_KEY, { algorithm: configuration.ALG, audience: 'rust' });
  callback(null, user, context);
}"#;

async fn asymmetric_round_trip(
    alg: Algorithm,
    name: &str,
    key: &'static rcgen::SignatureAlgorithm,
) {
    let (private_pem, public_pem) = pems(key);
    let encoding = match alg {
        Algorithm::ES256 => EncodingKey::from_ec_pem(private_pem.as_bytes()).unwrap(),
        _ => EncodingKey::from_rsa_pem(private_pem.as_bytes()).unwrap(),
    };
    let now = jsonwebtoken::get_current_timestamp();
    let token = jsonwebtoken::encode(
        &Header::new(alg),
        &json!({"sub": "auth0|1", "aud": "api", "exp": now + 600, "iat": now}),
        &encoding,
    )
    .unwrap();
    let configuration = json!({
        "TOKEN": token, "PUBLIC_KEY": public_pem, "PRIVATE_KEY": private_pem, "ALG": name,
    });
    let (user, _) = run_with(configuration, VERIFY_FROM_CONFIGURATION, json!({}))
        .await
        .unwrap();
    assert_eq!(user["claims"]["sub"], "auth0|1", "{user}");
    assert_eq!(user["complete"], name);
    assert_eq!(user["confusion"], "invalid algorithm");
    let decoding = match alg {
        Algorithm::ES256 => DecodingKey::from_ec_pem(public_pem.as_bytes()).unwrap(),
        _ => DecodingKey::from_rsa_pem(public_pem.as_bytes()).unwrap(),
    };
    let mut validation = Validation::new(alg);
    validation.set_audience(&["rust"]);
    validation.required_spec_claims.clear();
    let back =
        jsonwebtoken::decode::<Value>(user["signed"].as_str().unwrap(), &decoding, &validation)
            .unwrap();
    assert_eq!(back.claims["sub"], "back");
}

#[tokio::test]
async fn an_rs256_token_made_in_rust_verifies_in_the_sandbox() {
    asymmetric_round_trip(Algorithm::RS256, "RS256", &rcgen::PKCS_RSA_SHA256).await;
}

#[tokio::test]
async fn an_es256_token_made_in_rust_verifies_in_the_sandbox() {
    asymmetric_round_trip(Algorithm::ES256, "ES256", &rcgen::PKCS_ECDSA_P256_SHA256).await;
}

#[tokio::test]
async fn verify_refuses_what_jsonwebtoken_8_refuses_and_unsigned_tokens() {
    let user = run(r#"function (user, context, callback) {
  const jwt = require('jsonwebtoken');
  const now = Math.floor(Date.now() / 1000);
  const expired = jwt.sign({ sub: 'x', exp: now - 60 }, 'k');
  try { jwt.verify(expired, 'k'); } catch (e) {
    user.expired = [e.name, e.message, e instanceof jwt.TokenExpiredError, e instanceof jwt.JsonWebTokenError, e.expiredAt.getTime() === (now - 60) * 1000];
  }
  user.ignored = jwt.verify(expired, 'k', { ignoreExpiration: true }).sub;
  user.tolerated = jwt.verify(expired, 'k', { clockTolerance: 120 }).sub;
  const early = jwt.sign({ sub: 'x' }, 'k', { notBefore: '1h' });
  try { jwt.verify(early, 'k'); } catch (e) { user.early = [e.name, e.message, e.date instanceof Date]; }
  const forApi = jwt.sign({ sub: 'x' }, 'k', { audience: 'api', issuer: 'me', expiresIn: 60 });
  try { jwt.verify(forApi, 'k', { audience: 'other' }); } catch (e) { user.audience = e.message; }
  try { jwt.verify(forApi, 'k', { audience: ['a', 'b'] }); } catch (e) { user.audiences = e.message; }
  user.audienceRegExp = jwt.verify(forApi, 'k', { audience: /^ap/ }).aud;
  try { jwt.verify(forApi, 'k', { issuer: 'you' }); } catch (e) { user.issuer = e.message; }
  try { jwt.verify(forApi, 'wrong key'); } catch (e) { user.wrongKey = e.message; }
  const parts = forApi.split('.');
  const tampered = parts[0] + '.' + parts[1] + '.' + (parts[2][0] === 'A' ? 'B' : 'A') + parts[2].slice(1);
  try { jwt.verify(tampered, 'k'); } catch (e) { user.tampered = e.message; }
  const otherPayload = Buffer.from(JSON.stringify({ sub: 'admin', aud: 'api' })).toString('base64').replace(/=+$/, '');
  try { jwt.verify(parts[0] + '.' + otherPayload + '.' + parts[2], 'k'); } catch (e) { user.swapped = e.message; }
  const unsigned = jwt.sign({ sub: 'admin' }, null, { algorithm: 'none' });
  user.unsignedShape = unsigned.split('.')[2] === '';
  try { jwt.verify(unsigned, 'k'); } catch (e) { user.none = e.message; }
  try { jwt.verify(unsigned, null); } catch (e) { user.noneWithoutKey = e.message; }
  try { jwt.verify(unsigned, 'k', { algorithms: ['none'] }); } catch (e) { user.noneAllowed = e.message; }
  const noneHeader = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64').replace(/=+$/, '');
  try { jwt.verify(noneHeader + '.' + parts[1] + '.' + parts[2], 'k', { algorithms: ['none', 'HS256'] }); } catch (e) { user.noneSigned = e.message; }
  try { jwt.verify('not.a-token', 'k'); } catch (e) { user.malformed = e.message; }
  try { jwt.verify(forApi, 'k', { algorithms: ['HS512'] }); } catch (e) { user.algorithm = e.message; }
  try { jwt.verify(forApi, ''); } catch (e) { user.noKey = e.message; }
  try { jwt.sign({ sub: 'x' }, 'k', { expiresIn: 'soon' }); } catch (e) { user.badSpan = e.message; }
  try { jwt.sign({ sub: 'x' }, 'k', { colour: 'red' }); } catch (e) { user.unknownOption = e.message; }
  try { jwt.sign({ exp: 1 }, 'k', { expiresIn: 5 }); } catch (e) { user.doubleExp = e.message; }
  const spans = {};
  for (const span of ['7d', '10m', '2 hours', '1.5h', 90]) {
    const claims = jwt.decode(jwt.sign({}, 'k', { expiresIn: span }));
    spans[span] = claims.exp - claims.iat;
  }
  user.spans = spans;
  user.decodeString = jwt.decode(jwt.sign('plain text', 'k'));
  user.decodeNull = jwt.decode('garbage');
  callback(null, user, context);
}"#)
    .await;
    assert_eq!(
        user["expired"],
        json!(["TokenExpiredError", "jwt expired", true, true, true])
    );
    assert_eq!(user["ignored"], "x");
    assert_eq!(user["tolerated"], "x");
    assert_eq!(
        user["early"],
        json!(["NotBeforeError", "jwt not active", true])
    );
    assert_eq!(user["audience"], "jwt audience invalid. expected: other");
    assert_eq!(user["audiences"], "jwt audience invalid. expected: a or b");
    assert_eq!(user["audienceRegExp"], "api");
    assert_eq!(user["issuer"], "jwt issuer invalid. expected: you");
    assert_eq!(user["wrongKey"], "invalid signature");
    assert_eq!(user["tampered"], "invalid signature");
    assert_eq!(user["swapped"], "invalid signature");
    assert_eq!(user["unsignedShape"], true);
    assert_eq!(user["none"], "jwt signature is required");
    assert_eq!(user["noneWithoutKey"], "jwt signature is required");
    assert_eq!(user["noneAllowed"], "jwt signature is required");
    assert_eq!(user["noneSigned"], "jwt signature is required");
    assert_eq!(user["malformed"], "jwt malformed");
    assert_eq!(user["algorithm"], "invalid algorithm");
    assert_eq!(user["noKey"], "secret or public key must be provided");
    assert_eq!(
        user["badSpan"],
        "\"expiresIn\" should be a number of seconds or string representing a timespan eg: \"1d\", \"20h\", 60"
    );
    assert_eq!(
        user["unknownOption"],
        "\"colour\" is not allowed in \"options\""
    );
    assert_eq!(
        user["doubleExp"],
        "Bad \"options.expiresIn\" option the payload already has an \"exp\" property."
    );
    assert_eq!(
        user["spans"],
        json!({"7d": 604800, "10m": 600, "2 hours": 7200, "1.5h": 5400, "90": 90})
    );
    assert_eq!(user["decodeString"], "plain text");
    assert_eq!(user["decodeNull"], Value::Null);
}

#[tokio::test]
async fn sign_and_verify_take_callbacks() {
    let user = run(r#"function (user, context, callback) {
  const jwt = require('jsonwebtoken');
  jwt.sign({ sub: user.user_id }, 'k', { expiresIn: '1h' }, (err, token) => {
    if (err) return callback(err);
    jwt.verify(token, 'k', (err2, claims) => {
      user.sub = claims.sub;
      jwt.verify(token, 'other', {}, (err3) => {
        user.error = err3.message;
        jwt.sign({}, '', (err4) => {
          user.noSecret = err4.message;
          callback(null, user, context);
        });
      });
    });
  });
}"#)
    .await;
    assert_eq!(user["sub"], "auth0|1");
    assert_eq!(user["error"], "invalid signature");
    assert_eq!(user["noSecret"], "secretOrPrivateKey must have a value");
}

#[tokio::test]
async fn auth0s_jwt_template_puts_a_token_that_verifies_in_rust() {
    // Auth0's gallery template `jwt.js` (`gallery/templates/`, MIT, origin in
    // `gallery/ORIGIN.md`), unmodified.
    let jwt_template = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/gallery/templates/jwt.js"
    ))
    .unwrap();
    let secret = b"a downstream API's shared secret";
    let configuration = json!({
        "TARGET_API_CLIENT_SECRET": STANDARD.encode(secret),
        "TARGET_API_CLIENT_ID": "target-api",
    });
    let (_, context) = run_with(configuration, &jwt_template, json!({"idToken": {}}))
        .await
        .unwrap();
    let token = context["idToken"]["https://example.com/id_token"]
        .as_str()
        .unwrap();
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["target-api"]);
    validation.set_issuer(&["https://{your auth0 account}.auth0.com"]);
    let data = jsonwebtoken::decode::<Value>(token, &DecodingKey::from_secret(secret), &validation)
        .unwrap();
    assert_eq!(data.claims["sub"], "auth0|1");
    assert_eq!(data.claims["email"], "user@example.com");
    assert_eq!(data.claims["user_id"], "auth0|1");
    assert_eq!(
        data.claims["exp"].as_u64().unwrap() - data.claims["iat"].as_u64().unwrap(),
        36000
    );
}

#[tokio::test]
async fn ps256_and_hs512_tokens_signed_in_the_sandbox_verify_in_rust() {
    let (private_pem, public_pem) = pems(&rcgen::PKCS_RSA_SHA256);
    let (user, _) = run_with(
        json!({"PRIVATE_KEY": private_pem}),
        r#"function (user, context, callback) {
  const jwt = require('jsonwebtoken');
  user.ps = jwt.sign({ sub: 'ps' }, { key: configuration.PRIVATE_KEY }, { algorithm: 'PS256', noTimestamp: true });
  user.hs = jwt.sign({ sub: 'hs' }, Buffer.from('0102ff', 'hex'), { algorithm: 'HS512', noTimestamp: true });
  callback(null, user, context);
}"#,
        json!({}),
    )
    .await
    .unwrap();
    let mut validation = Validation::new(Algorithm::PS256);
    validation.required_spec_claims.clear();
    let ps = jsonwebtoken::decode::<Value>(
        user["ps"].as_str().unwrap(),
        &DecodingKey::from_rsa_pem(public_pem.as_bytes()).unwrap(),
        &validation,
    )
    .unwrap();
    assert_eq!(ps.claims, json!({"sub": "ps"}));
    let mut validation = Validation::new(Algorithm::HS512);
    validation.required_spec_claims.clear();
    let hs = jsonwebtoken::decode::<Value>(
        user["hs"].as_str().unwrap(),
        &DecodingKey::from_secret(&[1, 2, 0xff]),
        &validation,
    )
    .unwrap();
    assert_eq!(hs.claims, json!({"sub": "hs"}));
}

#[tokio::test]
async fn the_lifetime_in_minutes_of_jsonwebtoken_before_5_is_read_as_expires_in() {
    let user = run(r#"function (user, context, callback) {
  const jwt = require('jsonwebtoken');
  const token = jwt.sign({ sub: user.user_id }, 'secret', { expiresInMinutes: 5 });
  const claims = jwt.decode(token);
  user.lifetime = claims.exp - claims.iat;
  callback(null, user, context);
}"#)
    .await;
    assert_eq!(user["lifetime"], 300);
}
