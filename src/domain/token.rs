//! Certificate-bound access tokens (RFC 8705 §3): HS256 JWTs whose `cnf.x5t#S256`
//! claim carries the SHA-256 thumbprint of the client certificate.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::fingerprint::Fingerprint;
use crate::secret::Secret;

pub const ISSUER: &str = "https://demo.gostoa.dev/auth";
pub const AUDIENCE: &str = "stoa-api";
pub const LIFETIME_SECS: i64 = 3600;
/// The STOA demo's published secret: only ever a default for the built-in stack.
pub const DEMO_SECRET: &str = "stoa-demo-secret-key-do-not-use-in-production";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Confirmation {
    #[serde(rename = "x5t#S256", skip_serializing_if = "Option::is_none", default)]
    pub x5t_s256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub tenant_id: String,
    pub roles: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub cnf: Option<Confirmation>,
}

/// What the token's confirmation claim says about the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// `cnf.x5t#S256` = this fingerprint.
    Bound(Fingerprint),
    /// `cnf` present without `x5t#S256` (the gateway's `invalid_cnf`).
    CnfWithoutThumbprint,
    /// No `cnf` at all (a client-secret token).
    Unbound,
}

#[derive(Clone)]
pub struct TokenMinter {
    key: EncodingKey,
}

impl TokenMinter {
    /// Fails only for an empty secret, which HS256 cannot use.
    pub fn new(secret: &Secret) -> Result<Self, jsonwebtoken::errors::Error> {
        Ok(Self {
            key: EncodingKey::from_secret(secret.expose().as_bytes())?,
        })
    }

    pub fn claims(client_id: &str, tenant: &str, binding: Binding, iat: i64) -> Claims {
        Claims {
            sub: client_id.to_string(),
            iss: ISSUER.to_string(),
            aud: AUDIENCE.to_string(),
            iat,
            exp: iat + LIFETIME_SECS,
            tenant_id: tenant.to_string(),
            roles: vec!["api:read".into(), "api:write".into()],
            cnf: match binding {
                Binding::Bound(fp) => Some(Confirmation {
                    x5t_s256: Some(fp.to_base64url()),
                }),
                Binding::CnfWithoutThumbprint => Some(Confirmation::default()),
                Binding::Unbound => None,
            },
        }
    }

    pub fn mint(&self, client_id: &str, tenant: &str, binding: Binding, iat: i64) -> String {
        let claims = Self::claims(client_id, tenant, binding, iat);
        // HS256 over serializable claims cannot fail with a valid key.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.key)
            .expect("HS256 encoding of plain claims")
    }
}

/// Why a token was not accepted by [`verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRejection {
    Malformed,
    BadSignature,
    Expired,
}

pub fn decoding_key(secret: &Secret) -> Result<DecodingKey, jsonwebtoken::errors::Error> {
    DecodingKey::from_secret(secret.expose().as_bytes())
}

/// Checks signature (HS256 with `secret`) and expiry; audience and issuer are not
/// the binding layer's business.
pub fn verify(token: &str, key: &DecodingKey) -> Result<Claims, TokenRejection> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_aud = false;
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp"]);
    jsonwebtoken::decode::<Claims>(token, key, &validation)
        .map(|d| d.claims)
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => TokenRejection::BadSignature,
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenRejection::Expired,
            _ => TokenRejection::Malformed,
        })
}

/// Reads the claims without checking the signature, as the legacy gateway's binding
/// middleware does.
pub fn decode_unverified(token: &str) -> Option<Claims> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        payload.trim_end_matches('='),
    )
    .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::new(DEMO_SECRET)
    }

    fn fp() -> Fingerprint {
        Fingerprint::parse("7bf3dfcc299635b1454b818ccbda4784cca6206abfae858a595890f1239a223b")
            .unwrap()
    }

    #[test]
    fn minted_token_carries_the_contract_claims() {
        let now = chrono::Utc::now().timestamp();
        let token = TokenMinter::new(&secret()).unwrap().mint(
            "client-1",
            "acme",
            Binding::Bound(fp()),
            now,
        );
        let key = decoding_key(&secret()).unwrap();
        let claims = verify(&token, &key).unwrap();
        assert_eq!(claims.sub, "client-1");
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.aud, AUDIENCE);
        assert_eq!(claims.exp - claims.iat, 3600);
        assert_eq!(claims.tenant_id, "acme");
        assert_eq!(claims.roles, ["api:read", "api:write"]);
        let x5t = claims.cnf.unwrap().x5t_s256.unwrap();
        assert_eq!(x5t, "e_PfzCmWNbFFS4GMy9pHhMymIGq_roWKWViQ8SOaIjs");
        assert_eq!(Fingerprint::parse(&x5t).unwrap(), fp());
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, Algorithm::HS256);
    }

    #[test]
    fn cnf_variants_serialize_as_the_gateway_expects() {
        let json = |b| {
            serde_json::to_value(TokenMinter::claims("c", "acme", b, 0)).unwrap()["cnf"].clone()
        };
        assert_eq!(json(Binding::CnfWithoutThumbprint), serde_json::json!({}));
        assert_eq!(json(Binding::Unbound), serde_json::Value::Null);
        let token = TokenMinter::new(&secret())
            .unwrap()
            .mint("c", "acme", Binding::Unbound, 0);
        assert!(decode_unverified(&token).unwrap().cnf.is_none());
    }

    #[test]
    fn verify_tells_signature_from_expiry() {
        let now = chrono::Utc::now().timestamp();
        let minter = TokenMinter::new(&secret()).unwrap();
        let key = decoding_key(&secret()).unwrap();
        let other = TokenMinter::new(&Secret::new("another secret")).unwrap();
        assert_eq!(
            verify(&other.mint("c", "acme", Binding::Unbound, now), &key),
            Err(TokenRejection::BadSignature)
        );
        assert_eq!(
            verify(
                &minter.mint("c", "acme", Binding::Unbound, now - 7200),
                &key
            ),
            Err(TokenRejection::Expired)
        );
        assert_eq!(verify("not-a-jwt", &key), Err(TokenRejection::Malformed));
    }
}
