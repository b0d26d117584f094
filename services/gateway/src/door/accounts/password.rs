//! Passwords: argon2id hashes (PHC strings) and the policy new passwords meet.
use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier},
};

use crate::door::error::ApiError;

/// Hashes a password with argon2id and a random salt.
pub fn hash(password: &str) -> anyhow::Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
}

/// Whether `password` matches the stored PHC string.
pub fn verify(password: &str, phc: &str) -> bool {
    argon2::password_hash::phc::PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A new password: 8–128 characters, letters and digits both.
pub fn check_policy(field: &str, password: &str) -> Result<(), ApiError> {
    let n = password.chars().count();
    if !(8..=128).contains(&n) {
        return Err(ApiError::invalid(field, "密码长度须为8至128位"));
    }
    let letters = password.chars().any(char::is_alphabetic);
    let digits = password.chars().any(|c| c.is_ascii_digit());
    if !(letters && digits) {
        return Err(ApiError::invalid(field, "密码须同时包含字母和数字"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let h = hash("secret123").expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify("secret123", &h));
        assert!(!verify("secret124", &h));
        assert!(!verify("secret123", "not a hash"));
    }

    #[test]
    fn the_policy_names_the_field() {
        assert!(check_policy("new_password", "abc12345").is_ok());
        for bad in ["short1", "onlyletters", "1234567890"] {
            let e = check_policy("new_password", bad).expect_err(bad);
            assert_eq!(e.field_errors[0].field, "new_password");
        }
    }
}
