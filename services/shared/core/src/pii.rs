//! Protection of personal data at rest: ID numbers, phone numbers, poverty
//! and health tags.
//!
//! Values are stored encrypted (AES-256-GCM) and, where the service must
//! find rows by value, next to a keyed hash (HMAC-SHA256) so equality lookup
//! needs no plaintext index. Both keys derive from one master key
//! (`ZF_PII_KEY`) under distinct labels, so the hash key reveals nothing
//! about the encryption key and vice versa.
use std::fmt;

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use anyhow::{Context as _, bail, ensure};
use hmac::{Hmac, Mac};
use rand::{RngCore, rngs::OsRng};
use sha2::Sha256;

/// The publicly known development key (hex of "zoufang-dev-pii-key-not-for-prod").
/// Data encrypted with it is not protected; services warn when it is in use.
pub const DEV_PII_KEY_HEX: &str =
    "7a6f7566616e672d6465762d7069692d6b65792d6e6f742d666f722d70726f64";

/// Label deriving the AES-256-GCM key from the master key.
const ENCRYPT_LABEL: &[u8] = b"zoufang/pii/encrypt/v1";
/// Label deriving the HMAC key for lookup hashes from the master key.
const HASH_LABEL: &[u8] = b"zoufang/pii/hash/v1";

/// First byte of every encrypted value, so the scheme can change later
/// while old rows stay readable.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Domain labels for [`PiiCipher::keyed_hash`].
pub mod hash_kinds {
    /// A resident identity card number (18 characters, normalized upper-case).
    pub const ID_NUMBER: &str = "id_number";
    /// A mobile or landline number (normalized digits).
    pub const PHONE: &str = "phone";
}

type HmacSha256 = Hmac<Sha256>;

/// The 32-byte master key for personal data.
#[derive(Clone, PartialEq, Eq)]
pub struct PiiKey([u8; 32]);

impl PiiKey {
    /// Parses 64 hex digits (surrounding whitespace ignored, as env files
    /// often carry a newline). Errors name `ZF_PII_KEY` and never echo the value.
    pub fn from_hex(hex_key: &str) -> anyhow::Result<Self> {
        let hex_key = hex_key.trim();
        ensure!(
            hex_key.len() == 64,
            "ZF_PII_KEY must be 64 hex digits (32 bytes); got {} characters",
            hex_key.len()
        );
        let mut key = [0u8; 32];
        hex::decode_to_slice(hex_key, &mut key)
            .map_err(|e| anyhow::anyhow!("ZF_PII_KEY is not valid hex: {e}"))?;
        Ok(Self(key))
    }

    /// The development key [`DEV_PII_KEY_HEX`], for tests and local runs.
    pub fn dev() -> Self {
        Self::from_hex(DEV_PII_KEY_HEX).expect("DEV_PII_KEY_HEX is valid hex")
    }

    /// Whether this is the public development key (so data is not protected).
    pub fn is_dev_key(&self) -> bool {
        *self == Self::dev()
    }
}

impl fmt::Debug for PiiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PiiKey([redacted])")
    }
}

/// Encrypts, decrypts and hashes personal data with keys derived from a [`PiiKey`].
#[derive(Clone)]
pub struct PiiCipher {
    aead: Aes256Gcm,
    /// HMAC keyed with the hash subkey; cloned per hash so the key schedule
    /// runs once.
    hasher: HmacSha256,
}

impl fmt::Debug for PiiCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PiiCipher([redacted])")
    }
}

/// HMAC-SHA256(master, label): a standard PRF-based key derivation; with
/// distinct labels the subkeys are independent.
fn derive(master: &PiiKey, label: &[u8]) -> [u8; 32] {
    let mut mac = new_hmac(&master.0);
    mac.update(label);
    mac.finalize().into_bytes().into()
}

fn new_hmac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC accepts any key length")
}

impl PiiCipher {
    /// A cipher with subkeys derived from `key`.
    pub fn new(key: &PiiKey) -> Self {
        let enc = derive(key, ENCRYPT_LABEL);
        let hash = derive(key, HASH_LABEL);
        Self {
            aead: Aes256Gcm::new(&enc.into()),
            hasher: new_hmac(&hash),
        }
    }

    /// AES-256-GCM with a fresh random 96-bit nonce:
    /// `version (1) || nonce (12) || ciphertext || tag (16)`. The version byte
    /// is also the associated data, so it cannot be changed undetected.
    pub fn encrypt(&self, plaintext: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        // NIST allows 2^32 messages per key with random 96-bit nonces, far
        // beyond what one county's households produce.
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &[VERSION],
                },
            )
            // Only fails for messages over 64 GiB, which a `&str` field is not.
            .expect("AES-GCM encryption of a short value");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Reverses [`encrypt`](Self::encrypt); fails on an unknown version, a
    /// truncated value, tampering or a different key.
    pub fn decrypt(&self, blob: &[u8]) -> anyhow::Result<String> {
        let Some((&version, rest)) = blob.split_first() else {
            bail!("encrypted personal data is empty");
        };
        if version != VERSION {
            bail!(
                "unknown personal-data encryption version {version} (this build reads {VERSION})"
            );
        }
        ensure!(
            rest.len() >= NONCE_LEN + TAG_LEN,
            "encrypted personal data is truncated ({} bytes)",
            blob.len()
        );
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let plain = self
            .aead
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &[VERSION],
                },
            )
            .map_err(|_| {
                anyhow::anyhow!(
                    "personal data failed authentication: tampered, or encrypted under another ZF_PII_KEY"
                )
            })?;
        String::from_utf8(plain).context("decrypted personal data is not UTF-8")
    }

    /// HMAC-SHA256(hash key, `kind` || 0x00 || `normalized_value`): a
    /// deterministic lookup key. `kind` (see [`hash_kinds`]) separates
    /// domains, so the same digits as a phone and as an ID number hash
    /// differently; the 0x00 keeps `kind`/value boundaries unambiguous.
    /// Callers normalize first (e.g. upper-case X in ID numbers).
    pub fn keyed_hash(&self, kind: &str, normalized_value: &str) -> Vec<u8> {
        debug_assert!(!kind.contains('\0'), "hash kind must not contain NUL");
        let mut mac = self.hasher.clone();
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(normalized_value.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher() -> PiiCipher {
        PiiCipher::new(&PiiKey::dev())
    }

    #[test]
    fn round_trip_including_chinese() {
        let c = cipher();
        for text in [
            "370102199003071234",
            "13800138000",
            "低保户；慢性病（高血压）",
            "",
        ] {
            let blob = c.encrypt(text);
            assert_eq!(blob[0], VERSION);
            assert_eq!(blob.len(), 1 + NONCE_LEN + text.len() + TAG_LEN);
            assert_eq!(c.decrypt(&blob).unwrap(), text);
        }
    }

    #[test]
    fn nonces_are_random() {
        let c = cipher();
        let (a, b) = (c.encrypt("same"), c.encrypt("same"));
        assert_ne!(a, b);
        assert_ne!(a[1..1 + NONCE_LEN], b[1..1 + NONCE_LEN]);
    }

    #[test]
    fn tampering_and_bad_blobs_are_detected() {
        let c = cipher();
        let blob = c.encrypt("13800138000");
        for i in 1..blob.len() {
            let mut t = blob.clone();
            t[i] ^= 0x01;
            let e = c.decrypt(&t).unwrap_err().to_string();
            assert!(e.contains("failed authentication"), "{e}");
        }
        let mut v2 = blob.clone();
        v2[0] = 2;
        assert!(c.decrypt(&v2).unwrap_err().to_string().contains("unknown"));
        assert!(c.decrypt(&[]).unwrap_err().to_string().contains("empty"));
        assert!(
            c.decrypt(&blob[..20])
                .unwrap_err()
                .to_string()
                .contains("truncated")
        );
        let other = PiiCipher::new(&PiiKey([7; 32]));
        assert!(other.decrypt(&blob).is_err());
    }

    #[test]
    fn hashes_are_deterministic_and_domain_separated() {
        let c = cipher();
        let h = c.keyed_hash(hash_kinds::PHONE, "13800138000");
        assert_eq!(h.len(), 32);
        assert_eq!(h, cipher().keyed_hash(hash_kinds::PHONE, "13800138000"));
        assert_ne!(h, c.keyed_hash(hash_kinds::ID_NUMBER, "13800138000"));
        assert_ne!(h, c.keyed_hash(hash_kinds::PHONE, "13800138001"));
        // Moving bytes between kind and value must not collide.
        assert_ne!(c.keyed_hash("ab", "c"), c.keyed_hash("a", "bc"));
        let other = PiiCipher::new(&PiiKey([7; 32]));
        assert_ne!(h, other.keyed_hash(hash_kinds::PHONE, "13800138000"));
    }

    #[test]
    fn subkeys_are_independent_of_each_other_and_the_master() {
        let k = PiiKey::dev();
        let (e, h) = (derive(&k, ENCRYPT_LABEL), derive(&k, HASH_LABEL));
        assert_ne!(e, h);
        assert_ne!(e, k.0);
        assert_ne!(h, k.0);
    }

    #[test]
    fn key_parsing() {
        assert!(PiiKey::dev().is_dev_key());
        let upper = PiiKey::from_hex(&format!(" {}\n", DEV_PII_KEY_HEX.to_uppercase())).unwrap();
        assert!(upper.is_dev_key());
        let short = PiiKey::from_hex("abcd").unwrap_err().to_string();
        assert!(short.contains("ZF_PII_KEY") && short.contains("64"));
        let not_hex = PiiKey::from_hex(&"zz".repeat(32)).unwrap_err().to_string();
        assert!(not_hex.contains("ZF_PII_KEY") && not_hex.contains("hex"));
        let k = PiiKey::from_hex(&"11".repeat(32)).unwrap();
        assert!(!k.is_dev_key());
        assert_eq!(format!("{k:?}"), "PiiKey([redacted])");
        assert_eq!(format!("{:?}", PiiCipher::new(&k)), "PiiCipher([redacted])");
    }
}
