//! SHA-256 certificate fingerprints in the three forms STOA's components use:
//! plain hex (seeded rows, the legacy proxy header), colon-separated hex (rotated
//! rows) and unpadded base64url (the JWT `cnf.x5t#S256` claim).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The 32 raw bytes of a certificate's SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

/// The textual form an input was recognized as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FingerprintForm {
    Hex,
    ColonHex,
    Base64Url,
    /// Not recognizably any of the above (wrong length for every form).
    Unknown,
}

impl fmt::Display for FingerprintForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Hex => "hex",
            Self::ColonHex => "colon-separated hex",
            Self::Base64Url => "base64url",
            Self::Unknown => "unrecognized",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FingerprintError {
    #[error("empty fingerprint")]
    Empty,
    #[error("{form} fingerprint has {got} bytes, expected 32")]
    WrongLength { form: FingerprintForm, got: usize },
    #[error("{form} fingerprint has an invalid character {ch:?} at position {pos}")]
    BadCharacter {
        form: FingerprintForm,
        ch: char,
        pos: usize,
    },
}

impl FingerprintError {
    pub fn form(&self) -> Option<FingerprintForm> {
        match self {
            Self::Empty => None,
            Self::WrongLength { form, .. } | Self::BadCharacter { form, .. } => Some(*form),
        }
    }
}

impl Fingerprint {
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// SHA-256 of a DER-encoded certificate.
    pub fn of_der(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses hex (any case), colon-separated hex or base64url (padded or not).
    /// Surrounding whitespace is ignored.
    pub fn parse(input: &str) -> Result<Self, FingerprintError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(FingerprintError::Empty);
        }
        if s.contains(':') {
            return parse_hex(s, FingerprintForm::ColonHex);
        }
        let all_hex = s.bytes().all(|b| b.is_ascii_hexdigit());
        if all_hex && s.len() == 64 {
            return parse_hex(s, FingerprintForm::Hex);
        }
        let unpadded = s.trim_end_matches('=');
        if unpadded.len() == 43 {
            return parse_base64url(unpadded);
        }
        // Wrong length: name the form the input most looks like.
        let form = if all_hex || s.len() == 64 {
            FingerprintForm::Hex
        } else if unpadded.bytes().all(is_base64url_byte) {
            FingerprintForm::Base64Url
        } else {
            FingerprintForm::Unknown
        };
        match form {
            FingerprintForm::Hex if s.len() == 64 => parse_hex(s, form),
            FingerprintForm::Hex => Err(FingerprintError::WrongLength {
                form,
                got: s.len() / 2,
            }),
            FingerprintForm::Base64Url => Err(FingerprintError::WrongLength {
                form,
                got: unpadded.len() * 3 / 4,
            }),
            _ => {
                let (pos, ch) = s
                    .chars()
                    .enumerate()
                    .find(|(_, c)| !c.is_ascii_hexdigit() && *c != ':')
                    .unwrap_or((0, s.chars().next().unwrap_or(' ')));
                Err(FingerprintError::BadCharacter { form, ch, pos })
            }
        }
    }

    /// Lowercase hex, 64 characters: the canonical form of the registry and the legacy header.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Lowercase colon-separated hex, 95 characters (how STOA stores a rotated certificate).
    pub fn to_colon_hex(&self) -> String {
        let mut out = String::with_capacity(95);
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(':');
            }
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// Unpadded base64url, 43 characters: the `x5t#S256` confirmation claim.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Equality that takes the same time whatever the inputs, for binding checks.
    pub fn ct_eq(&self, other: &Fingerprint) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    /// The first characters of the hex form, for tables and tiles.
    pub fn short(&self) -> String {
        self.to_hex()[..12].to_string()
    }
}

fn is_base64url_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn parse_hex(s: &str, form: FingerprintForm) -> Result<Fingerprint, FingerprintError> {
    let mut out = [0u8; 32];
    let mut n = 0usize;
    let mut high: Option<u8> = None;
    for (pos, ch) in s.chars().enumerate() {
        if ch == ':' && form == FingerprintForm::ColonHex {
            if high.is_some() {
                return Err(FingerprintError::BadCharacter { form, ch, pos });
            }
            continue;
        }
        let v = ch
            .to_digit(16)
            .ok_or(FingerprintError::BadCharacter { form, ch, pos })? as u8;
        match high.take() {
            None => high = Some(v),
            Some(h) => {
                if n < 32 {
                    out[n] = (h << 4) | v;
                }
                n += 1;
            }
        }
    }
    if n != 32 || high.is_some() {
        return Err(FingerprintError::WrongLength { form, got: n });
    }
    Ok(Fingerprint(out))
}

fn parse_base64url(s: &str) -> Result<Fingerprint, FingerprintError> {
    let form = FingerprintForm::Base64Url;
    if let Some((pos, ch)) = s.chars().enumerate().find(|(_, c)| {
        let b = *c as u32;
        b > 127 || !is_base64url_byte(b as u8)
    }) {
        return Err(FingerprintError::BadCharacter { form, ch, pos });
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| FingerprintError::WrongLength {
            form,
            got: s.len() * 3 / 4,
        })?;
    let arr: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| FingerprintError::WrongLength {
            form,
            got: bytes.len(),
        })?;
    Ok(Fingerprint(arr))
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.to_hex())
    }
}

impl std::str::FromStr for Fingerprint {
    type Err = FingerprintError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HEX: &str = "7bf3dfcc299635b1454b818ccbda4784cca6206abfae858a595890f1239a223b";

    #[test]
    fn parses_every_form_to_the_same_bytes() {
        let fp = Fingerprint::parse(HEX).unwrap();
        assert_eq!(Fingerprint::parse(&HEX.to_uppercase()).unwrap(), fp);
        assert_eq!(Fingerprint::parse(&fp.to_colon_hex()).unwrap(), fp);
        assert_eq!(
            Fingerprint::parse(&fp.to_colon_hex().to_uppercase()).unwrap(),
            fp
        );
        assert_eq!(Fingerprint::parse(&fp.to_base64url()).unwrap(), fp);
        assert_eq!(
            Fingerprint::parse(&format!("{}=", fp.to_base64url())).unwrap(),
            fp
        );
        assert_eq!(Fingerprint::parse(&format!("  {HEX}\n")).unwrap(), fp);
        assert_eq!(fp.to_colon_hex().len(), 95);
        assert_eq!(fp.to_base64url().len(), 43);
    }

    #[test]
    fn rotated_row_from_the_real_api_parses() {
        let colon = "03:0d:24:54:ac:8a:79:60:47:5a:1e:f8:20:71:15:ab:99:ed:cc:60:0e:47:8b:48:66:f7:74:3a:89:63:b3:58";
        let fp = Fingerprint::parse(colon).unwrap();
        assert_eq!(
            fp.to_hex(),
            "030d2454ac8a7960475a1ef8207115ab99edcc600e478b4866f7743a8963b358"
        );
    }

    #[test]
    fn errors_name_the_form() {
        let short_hex = Fingerprint::parse("abcd").unwrap_err();
        assert_eq!(short_hex.form(), Some(FingerprintForm::Hex));
        assert!(
            short_hex
                .to_string()
                .starts_with("hex fingerprint has 2 bytes")
        );

        let bad_hex = Fingerprint::parse(&format!("{}zz", &HEX[..62])).unwrap_err();
        assert!(
            bad_hex.to_string().contains("invalid character 'z'"),
            "{bad_hex}"
        );

        let colon = Fingerprint::parse("ab:cd:ef").unwrap_err();
        assert_eq!(
            colon,
            FingerprintError::WrongLength {
                form: FingerprintForm::ColonHex,
                got: 3
            }
        );
        let colon_bad = Fingerprint::parse("ab:c:de").unwrap_err();
        assert_eq!(colon_bad.form(), Some(FingerprintForm::ColonHex));

        let b64 =
            Fingerprint::parse("e3Ff3MwplgWxRUuBjMvaR4TMpiBqv66FilWQ8SOaIjs_abc").unwrap_err();
        assert_eq!(b64.form(), Some(FingerprintForm::Base64Url));
        let b64_bad =
            Fingerprint::parse("e3Ff3MwplgWxRUuBjMvaR4TMpiBqv66FilWQ8SOa+js").unwrap_err();
        assert!(matches!(
            b64_bad,
            FingerprintError::BadCharacter {
                form: FingerprintForm::Base64Url,
                ch: '+',
                ..
            }
        ));
        assert_eq!(
            Fingerprint::parse("  ").unwrap_err(),
            FingerprintError::Empty
        );
        assert_eq!(
            Fingerprint::parse("not a fingerprint!").unwrap_err().form(),
            Some(FingerprintForm::Unknown)
        );
    }

    #[test]
    fn constant_time_equality_agrees_with_eq() {
        let a = Fingerprint::parse(HEX).unwrap();
        let mut bytes = *a.as_bytes();
        bytes[31] ^= 1;
        let b = Fingerprint::from_bytes(bytes);
        assert!(a.ct_eq(&a));
        assert!(!a.ct_eq(&b));
    }

    proptest! {
        #[test]
        fn round_trips(bytes in proptest::array::uniform32(any::<u8>())) {
            let fp = Fingerprint::from_bytes(bytes);
            prop_assert_eq!(Fingerprint::parse(&fp.to_hex()).unwrap(), fp);
            prop_assert_eq!(Fingerprint::parse(&fp.to_hex().to_uppercase()).unwrap(), fp);
            prop_assert_eq!(Fingerprint::parse(&fp.to_colon_hex()).unwrap(), fp);
            prop_assert_eq!(Fingerprint::parse(&fp.to_base64url()).unwrap(), fp);
        }

        #[test]
        fn never_panics(s in "\\PC{0,100}") {
            let _ = Fingerprint::parse(&s);
        }
    }
}
