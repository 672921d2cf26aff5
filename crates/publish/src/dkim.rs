//! DKIM signing of SMTP mail (RFC 6376, with Ed25519 from RFC 8463).
//!
//! The signature itself is made by lettre's `dkim` feature, on the [`lettre::Message`] the
//! SMTP sender builds: relaxed/relaxed canonicalization, SHA-256, over the headers a
//! receiver judges the message by (From, To, Subject, Date, Message-ID, MIME-Version and the
//! List-Unsubscribe pair, which one-click unsubscribe requires to be signed).
//!
//! This module owns the keys: it reads a private key from PEM (PKCS#8 `PRIVATE KEY`, RSA or
//! Ed25519, as `openssl genpkey` writes; or PKCS#1 `RSA PRIVATE KEY`), generates new ones
//! (with aws-lc-rs, our TLS provider), and writes the public half as the DNS TXT record a
//! receiver looks up at `SELECTOR._domainkey.DOMAIN`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use halcytone_vault::Secret;
use lettre::Message;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{
    DecodePrivateKey, EncodePublicKey, LineEnding, ObjectIdentifier, PrivateKeyInfo, SecretDocument,
};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use std::fmt;
use std::path::Path;

/// rsaEncryption (PKCS#1).
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// id-Ed25519 (RFC 8410).
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// The selector `halcytone up` and `halcytone dkim generate` use when none is given.
pub const DEFAULT_SELECTOR: &str = "halcytone";

/// The headers every signature covers, in this order (each is present in every message the
/// SMTP sender builds; lettre signs the first of each name).
pub const SIGNED_HEADERS: [&str; 8] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// The two signing algorithms of DKIM today.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DkimAlgorithm {
    /// RSA with SHA-256 (`k=rsa`): what every receiver verifies.
    Rsa,
    /// Ed25519 with SHA-256 (`k=ed25519`, RFC 8463): short keys, fewer verifiers.
    Ed25519,
}

impl DkimAlgorithm {
    /// The `k=` tag of the DNS record.
    pub fn key_type(self) -> &'static str {
        match self {
            DkimAlgorithm::Rsa => "rsa",
            DkimAlgorithm::Ed25519 => "ed25519",
        }
    }

    /// `rsa` or `ed25519` (any case), as the command line takes it.
    pub fn parse(s: &str) -> Option<DkimAlgorithm> {
        match s.trim().to_ascii_lowercase().as_str() {
            "rsa" | "rsa-sha256" => Some(DkimAlgorithm::Rsa),
            "ed25519" | "ed25519-sha256" => Some(DkimAlgorithm::Ed25519),
            _ => None,
        }
    }
}

/// Why a private key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DkimKeyError(String);

impl DkimKeyError {
    fn new(s: impl Into<String>) -> Self {
        DkimKeyError(s.into())
    }
}

/// A DKIM private key, ready for lettre, with its public half.
#[derive(Clone)]
pub struct DkimKey {
    algorithm: DkimAlgorithm,
    /// What lettre reads: PKCS#1 PEM for RSA, the base64 seed for Ed25519.
    lettre_form: Secret,
    /// The `p=` of the record: SubjectPublicKeyInfo DER for RSA, the raw 32 bytes for Ed25519.
    public: Vec<u8>,
    /// RSA modulus size, in bits (256 for Ed25519).
    bits: usize,
}

impl fmt::Debug for DkimKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DkimKey")
            .field("algorithm", &self.algorithm)
            .field("bits", &self.bits)
            .finish_non_exhaustive()
    }
}

impl DkimKey {
    /// Reads a PEM private key: PKCS#8 (`-----BEGIN PRIVATE KEY-----`, RSA or Ed25519) or
    /// PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`). A value whose line breaks were written as
    /// `\n` (one line in an environment file) is accepted too. RSA keys need 1024 bits at
    /// least (RFC 8301); 2048 is the usual size.
    pub fn from_pem(pem: &str) -> Result<DkimKey, DkimKeyError> {
        let unescaped;
        let mut pem = pem.trim();
        if !pem.contains('\n') && pem.contains("\\n") {
            unescaped = pem.replace("\\n", "\n");
            pem = unescaped.trim();
        }
        if !pem.starts_with("-----BEGIN ") {
            return Err(DkimKeyError::new(
                "not a PEM private key: expected -----BEGIN PRIVATE KEY----- (PKCS#8, RSA or Ed25519) or -----BEGIN RSA PRIVATE KEY----- (PKCS#1)",
            ));
        }
        if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            let key = RsaPrivateKey::from_pkcs1_pem(pem)
                .map_err(|e| DkimKeyError::new(format!("not a valid PKCS#1 RSA key: {e}")))?;
            return Self::rsa(key);
        }
        if pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(DkimKeyError::new(
                "the key is encrypted with a passphrase; give an unencrypted PKCS#8 key (openssl pkcs8 -in KEY -nocrypt … or halcytone dkim generate)",
            ));
        }
        if !pem.starts_with("-----BEGIN PRIVATE KEY-----") {
            let label = pem.lines().next().unwrap_or_default();
            return Err(DkimKeyError::new(format!(
                "{label}: not a private key this reader knows; use PKCS#8 (BEGIN PRIVATE KEY) or PKCS#1 (BEGIN RSA PRIVATE KEY)"
            )));
        }
        let (_, doc) = SecretDocument::from_pem(pem)
            .map_err(|e| DkimKeyError::new(format!("not a valid PKCS#8 private key (PEM): {e}")))?;
        Self::from_pkcs8_der(doc.as_bytes())
    }

    /// Reads a PKCS#8 DER private key (RSA or Ed25519).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<DkimKey, DkimKeyError> {
        let info = PrivateKeyInfo::try_from(der)
            .map_err(|e| DkimKeyError::new(format!("not a valid PKCS#8 private key: {e}")))?;
        if info.algorithm.oid == OID_RSA {
            let key = RsaPrivateKey::from_pkcs8_der(der)
                .map_err(|e| DkimKeyError::new(format!("not a valid RSA key: {e}")))?;
            Self::rsa(key)
        } else if info.algorithm.oid == OID_ED25519 {
            // CurvePrivateKey ::= OCTET STRING (32 bytes), inside the privateKey OCTET STRING.
            let seed: [u8; 32] = match info.private_key {
                [0x04, 0x20, rest @ ..] => rest.try_into().ok(),
                _ => None,
            }
            .ok_or_else(|| DkimKeyError::new("not a valid Ed25519 key (32-byte seed expected)"))?;
            Ok(Self::ed25519(seed))
        } else {
            Err(DkimKeyError::new(format!(
                "a key of algorithm {} cannot sign DKIM; use RSA or Ed25519",
                info.algorithm.oid
            )))
        }
    }

    fn rsa(key: RsaPrivateKey) -> Result<DkimKey, DkimKeyError> {
        let bits = key.size() * 8;
        if bits < 1024 {
            return Err(DkimKeyError::new(format!(
                "the RSA key has {bits} bits; DKIM needs at least 1024 (2048 is usual)"
            )));
        }
        let pkcs1 = key
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(|e| DkimKeyError::new(format!("cannot encode the RSA key: {e}")))?;
        let public = RsaPublicKey::from(&key)
            .to_public_key_der()
            .map_err(|e| DkimKeyError::new(format!("cannot encode the public key: {e}")))?;
        Ok(DkimKey {
            algorithm: DkimAlgorithm::Rsa,
            lettre_form: Secret::new(pkcs1.as_str()),
            public: public.into_vec(),
            bits,
        })
    }

    fn ed25519(seed: [u8; 32]) -> DkimKey {
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        DkimKey {
            algorithm: DkimAlgorithm::Ed25519,
            lettre_form: Secret::new(B64.encode(seed)),
            public: key.verifying_key().to_bytes().to_vec(),
            bits: 256,
        }
    }

    /// A new key and its PKCS#8 PEM: RSA 2048 or Ed25519.
    pub fn generate(algorithm: DkimAlgorithm) -> Result<(DkimKey, Secret), DkimKeyError> {
        use aws_lc_rs::encoding::AsDer;
        let failed = |e: aws_lc_rs::error::Unspecified| {
            DkimKeyError::new(format!("cannot generate the key: {e}"))
        };
        let der: Vec<u8> = match algorithm {
            DkimAlgorithm::Rsa => {
                let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                    .map_err(failed)?;
                pair.as_der().map_err(failed)?.as_ref().to_vec()
            }
            DkimAlgorithm::Ed25519 => {
                let pair = aws_lc_rs::signature::Ed25519KeyPair::generate().map_err(failed)?;
                pair.to_pkcs8v1().map_err(failed)?.as_ref().to_vec()
            }
        };
        let doc = SecretDocument::try_from(der.as_slice())
            .map_err(|e| DkimKeyError::new(format!("cannot encode the key: {e}")))?;
        let pem = doc
            .to_pem("PRIVATE KEY", LineEnding::LF)
            .map_err(|e| DkimKeyError::new(format!("cannot encode the key: {e}")))?;
        let key = Self::from_pkcs8_der(&der)?;
        Ok((key, Secret::new(pem.as_str())))
    }

    pub fn algorithm(&self) -> DkimAlgorithm {
        self.algorithm
    }

    /// Key size in bits (the RSA modulus; 256 for Ed25519).
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// The public key as the record's `p=` carries it (base64).
    pub fn public_base64(&self) -> String {
        B64.encode(&self.public)
    }

    /// The TXT record's value: `v=DKIM1; k=rsa; p=…`.
    pub fn record_value(&self) -> String {
        format!(
            "v=DKIM1; k={}; p={}",
            self.algorithm.key_type(),
            self.public_base64()
        )
    }

    fn signing_key(&self) -> Result<DkimSigningKey, DkimKeyError> {
        let algorithm = match self.algorithm {
            DkimAlgorithm::Rsa => DkimSigningAlgorithm::Rsa,
            DkimAlgorithm::Ed25519 => DkimSigningAlgorithm::Ed25519,
        };
        DkimSigningKey::new(self.lettre_form.expose(), algorithm)
            .map_err(|e| DkimKeyError::new(format!("the signer refused the key: {e}")))
    }
}

/// Reads a private key file for [`DkimKey::from_pem`], naming the file in every error.
pub fn read_key_file(path: &Path) -> Result<DkimKey, DkimKeyError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| DkimKeyError::new(format!("cannot read {}: {e}", path.display())))?;
    DkimKey::from_pem(&text).map_err(|e| DkimKeyError::new(format!("{}: {e}", path.display())))
}

/// Writes a new private key to `path` (mode 0600 on Unix), refusing to replace a file.
pub fn write_key_file(path: &Path, pem: &Secret) -> Result<(), DkimKeyError> {
    use std::io::Write;
    let fail =
        |e: std::io::Error| DkimKeyError::new(format!("cannot write {}: {e}", path.display()));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            DkimKeyError::new(format!(
                "{} exists; it is not replaced (a published record may use it): choose another --out or remove it",
                path.display()
            ))
        } else {
            fail(e)
        }
    })?;
    file.write_all(pem.expose().as_bytes()).map_err(fail)?;
    Ok(())
}

/// The key kept at `path`, made (RSA 2048) the first time: `halcytone up`'s own key, so a
/// rehearsal signs with no set-up. Returns the key and whether it was just made.
pub fn load_or_create(path: &Path) -> Result<(DkimKey, bool), DkimKeyError> {
    if path.exists() {
        return read_key_file(path).map(|k| (k, false));
    }
    let (key, pem) = DkimKey::generate(DkimAlgorithm::Rsa)?;
    write_key_file(path, &pem)?;
    Ok((key, true))
}

/// Splits a TXT value into character-strings of at most 255 bytes (RFC 1035 §3.3.14), the
/// limit of one string in a TXT record.
pub fn txt_strings(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = value;
    while rest.len() > 255 {
        let mut cut = 255;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out.push(rest);
    out
}

/// The zone-file line: `SELECTOR._domainkey.DOMAIN. IN TXT "v=DKIM1; k=rsa; p=…" "…"`.
pub fn txt_record(selector: &str, domain: &str, value: &str) -> String {
    let strings: Vec<String> = txt_strings(value)
        .into_iter()
        .map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!(
        "{}. IN TXT {}",
        record_name(selector, domain),
        strings.join(" ")
    )
}

/// `SELECTOR._domainkey.DOMAIN`, lower case, without a trailing dot.
pub fn record_name(selector: &str, domain: &str) -> String {
    format!(
        "{}._domainkey.{}",
        selector.trim(),
        domain.trim().trim_end_matches('.')
    )
    .to_ascii_lowercase()
}

/// The domain of a mailbox such as `Halcytone <newsletter@example.com>` (SMTP_FROM), lower case.
pub fn mailbox_domain(mailbox: &str) -> Option<String> {
    mailbox
        .parse::<lettre::message::Mailbox>()
        .ok()
        .map(|m| m.email.domain().to_ascii_lowercase())
}

/// Whether `s` is a usable selector or domain: dot-separated labels of letters, digits and
/// hyphens (and `_`), none empty or over 63 characters.
pub fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

/// What signs every outgoing message: selector, domain (`d=`) and key.
#[derive(Debug, Clone)]
pub struct DkimSettings {
    pub selector: String,
    pub domain: String,
    pub key: DkimKey,
}

impl DkimSettings {
    /// `SELECTOR._domainkey.DOMAIN`.
    pub fn record_name(&self) -> String {
        record_name(&self.selector, &self.domain)
    }

    /// The zone-file line of the public key.
    pub fn txt_record(&self) -> String {
        txt_record(&self.selector, &self.domain, &self.key.record_value())
    }
}

/// The signer built from [`DkimSettings`] once, used for every message.
pub struct DkimSigner {
    config: DkimConfig,
}

impl fmt::Debug for DkimSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DkimSigner").finish_non_exhaustive()
    }
}

impl DkimSigner {
    pub fn new(settings: &DkimSettings) -> Result<DkimSigner, DkimKeyError> {
        let headers = SIGNED_HEADERS
            .iter()
            .map(|h| HeaderName::new_from_ascii_str(h))
            .collect();
        Ok(DkimSigner {
            config: DkimConfig::new(
                settings.selector.clone(),
                settings.domain.clone(),
                settings.key.signing_key()?,
                headers,
                DkimCanonicalization {
                    header: DkimCanonicalizationType::Relaxed,
                    body: DkimCanonicalizationType::Relaxed,
                },
            ),
        })
    }

    /// Adds the `DKIM-Signature` header to `message`.
    pub fn sign(&self, message: &mut Message) {
        message.sign(&self.config);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    /// `openssl genpkey -algorithm ed25519` output (RFC 8410 §10.3's example key).
    const ED25519_PEM: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";

    #[test]
    fn generated_keys_read_back_and_give_their_record() {
        for (alg, k, min_len) in [
            (DkimAlgorithm::Rsa, "rsa", 390),
            (DkimAlgorithm::Ed25519, "ed25519", 44),
        ] {
            let (key, pem) = DkimKey::generate(alg).unwrap();
            assert!(pem.expose().starts_with("-----BEGIN PRIVATE KEY-----\n"));
            let again = DkimKey::from_pem(pem.expose()).unwrap();
            assert_eq!(again.algorithm(), alg);
            assert_eq!(again.public_base64(), key.public_base64());
            let value = key.record_value();
            assert!(value.starts_with(&format!("v=DKIM1; k={k}; p=")), "{value}");
            assert!(key.public_base64().len() >= min_len, "{value}");
            // The Debug form names no key material.
            assert!(!format!("{key:?}").contains(&key.public_base64()[..20]));
        }
        let (rsa, _) = DkimKey::generate(DkimAlgorithm::Rsa).unwrap();
        assert_eq!(rsa.bits(), 2048);
    }

    #[test]
    fn ed25519_pkcs8_from_openssl_gives_the_rfc_8410_public_key() {
        let key = DkimKey::from_pem(ED25519_PEM).unwrap();
        assert_eq!(key.algorithm(), DkimAlgorithm::Ed25519);
        // RFC 8410 §10.1's public key, for the §10.3 private key.
        assert_eq!(
            key.public_base64(),
            "Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="
        );
        // One line with \n escapes, as an environment file holds it.
        let escaped = ED25519_PEM.replace('\n', "\\n");
        assert_eq!(
            DkimKey::from_pem(&escaped).unwrap().public_base64(),
            key.public_base64()
        );
    }

    #[test]
    fn pkcs1_rsa_keys_are_read_and_bad_keys_are_explained() {
        let (key, pem) = DkimKey::generate(DkimAlgorithm::Rsa).unwrap();
        let rsa = RsaPrivateKey::from_pkcs8_pem(pem.expose()).unwrap();
        let pkcs1 = rsa.to_pkcs1_pem(LineEnding::CRLF).unwrap();
        let read = DkimKey::from_pem(&pkcs1).unwrap();
        assert_eq!(read.public_base64(), key.public_base64());

        for (bad, why) in [
            ("", "not a PEM private key"),
            ("hello", "not a PEM private key"),
            (
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
                "PKCS#8",
            ),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
                "PKCS#1",
            ),
            (
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
                "encrypted",
            ),
            (
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
                "not a private key",
            ),
        ] {
            let err = DkimKey::from_pem(bad).unwrap_err().to_string();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        // A P-256 key (PKCS#8, id-ecPublicKey) is refused by name.
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let p256 = aws_lc_rs::signature::EcdsaKeyPair::generate_pkcs8(
            &aws_lc_rs::signature::ECDSA_P256_SHA256_ASN1_SIGNING,
            &rng,
        )
        .unwrap();
        let err = DkimKey::from_pkcs8_der(p256.as_ref())
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot sign DKIM"), "{err}");
    }

    #[test]
    fn the_txt_record_splits_long_values_into_255_byte_strings() {
        let value = format!("v=DKIM1; k=rsa; p={}", "A".repeat(392));
        let line = txt_record("Halcytone", "Example.com.", &value);
        let head = "halcytone._domainkey.example.com. IN TXT \"";
        assert!(line.starts_with(head), "{line}");
        let strings: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        assert_eq!(strings.len(), 2, "{line}");
        assert_eq!(strings[0].len(), 255);
        assert_eq!(strings.concat(), value);
        assert_eq!(txt_strings("short"), vec!["short"]);
        assert_eq!(txt_strings(&"x".repeat(510)).len(), 2);
        assert_eq!(txt_strings(&"x".repeat(511)).len(), 3);
        let ed = txt_record("s", "d.org", "v=DKIM1; k=ed25519; p=abc");
        assert_eq!(
            ed,
            "s._domainkey.d.org. IN TXT \"v=DKIM1; k=ed25519; p=abc\""
        );
    }

    #[test]
    fn names_are_checked_and_key_files_are_made_once() {
        assert!(valid_name("halcytone") && valid_name("mail.example.com"));
        for bad in ["", "a..b", "a b", "x/y", ".lead"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dkim/halcytone.pem");
        let (first, made) = load_or_create(&path).unwrap();
        assert!(made);
        let (second, made) = load_or_create(&path).unwrap();
        assert!(!made);
        assert_eq!(first.public_base64(), second.public_base64());
        let (_, pem) = DkimKey::generate(DkimAlgorithm::Ed25519).unwrap();
        let err = write_key_file(&path, &pem).unwrap_err().to_string();
        assert!(err.contains("is not replaced"), "{err}");
        let err = read_key_file(&dir.path().join("none.pem"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cannot read") && err.contains("none.pem"),
            "{err}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
