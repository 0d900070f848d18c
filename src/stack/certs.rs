//! Real client certificates for rotations: a fresh key pair and a self-signed
//! X.509 certificate for the client's CN; the fingerprint is SHA-256 of its DER.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, SerialNumber};

use crate::domain::Fingerprint;
use crate::secret::Secret;

pub struct IssuedCert {
    pub serial: String,
    pub fingerprint: Fingerprint,
    pub pem: String,
    /// Returned once to the caller; never stored or logged.
    pub private_key_pem: Secret,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

pub fn issue(cn: &str, tenant: &str, now: DateTime<Utc>) -> Result<IssuedCert, rcgen::Error> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec![cn.to_string()])?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn.push(DnType::OrganizationName, format!("tenant-{tenant}"));
    dn.push(DnType::OrganizationalUnitName, "STOA Platform Clients");
    params.distinguished_name = dn;
    // Positive 20-byte serial, as RFC 5280 allows at most.
    let mut serial: [u8; 20] = rand::rng().random();
    serial[0] &= 0x7f;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    let not_before = now;
    let not_after = now + Duration::days(365);
    params.not_before = to_offset(not_before);
    params.not_after = to_offset(not_after);
    let cert = params.self_signed(&key)?;
    Ok(IssuedCert {
        serial: hex::encode(serial),
        fingerprint: Fingerprint::of_der(cert.der()),
        pem: cert.pem(),
        private_key_pem: Secret::new(key.serialize_pem()),
        not_before,
        not_after,
    })
}

fn to_offset(t: DateTime<Utc>) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(t.timestamp())
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn fingerprint_is_sha256_of_the_der_in_the_pem() {
        let c = issue("a.client.stoa.internal", "acme", Utc::now()).unwrap();
        let b64: String = c.pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        assert_eq!(Fingerprint::of_der(&der), c.fingerprint);
        assert!(
            c.private_key_pem
                .expose()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        assert_eq!(c.serial.len(), 40);
        let other = issue("a.client.stoa.internal", "acme", Utc::now()).unwrap();
        assert_ne!(
            other.fingerprint, c.fingerprint,
            "each rotation gets a new key"
        );
    }
}
