//! Unit tests for [`super`]: token round trips, refusals, scope and role checks.

use super::*;
use chrono::Duration;
use serde_json::json;
use tonic::Code;

const EC_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgnsTbSbtCDxDpntF/
DIVh7CiCc9TH05u4lDIU1H6PYGKhRANCAAQfY7aYR/yq75mEw+Fooy/BPZProC4L
G1w3trhlFdmt8sr907KYv0QV//r2QV/kYh4xOTeM/f/e0U8QpZWDdRPO
-----END PRIVATE KEY-----";
const EC_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEH2O2mEf8qu+ZhMPhaKMvwT2T66Au
CxtcN7a4ZRXZrfLK/dOymL9EFf/69kFf5GIeMTk3jP3/3tFPEKWVg3UTzg==
-----END PUBLIC KEY-----";

fn dev() -> JwtKeys {
    JwtKeys::hs256(DEV_JWT_SECRET.as_bytes()).unwrap()
}

/// A token for `u1` in `scope` expiring `secs` from now.
fn tok(k: &JwtKeys, roles: &[&str], scope: &str, secs: i64) -> String {
    k.mint_for("u1", roles, scope, Duration::seconds(secs))
        .unwrap()
}

/// The Unauthenticated reason `token` is refused with.
fn refusal(k: &JwtKeys, token: &str) -> String {
    match k.verify(token) {
        Err(ServiceError::Unauthenticated(m)) => m,
        other => panic!("expected Unauthenticated, got {other:?}"),
    }
}

fn with_scope(scope: &str) -> Claims {
    let (sub, roles) = ("u1".into(), vec![roles::CADRE.into()]);
    Claims {
        sub,
        roles,
        scope: scope.into(),
        exp: 0,
        sid: None,
    }
}

#[test]
fn round_trip() {
    let k = dev();
    let c = k.verify(&tok(&k, &[roles::CADRE, roles::SUPERVISOR], "370102", 3600));
    let c = c.unwrap();
    assert_eq!((c.sub.as_str(), c.scope.as_str()), ("u1", "370102"));
    assert!(c.has_role(roles::SUPERVISOR) && !c.has_role(roles::COUNTY_ADMIN));
    assert!(c.has_any_role(&[roles::COUNTY_ADMIN, roles::CADRE]));
}

#[test]
fn expired_wrong_secret_and_garbage_are_refused() {
    let k = dev();
    assert_eq!(refusal(&k, &tok(&k, &[], "", -120)), "token expired");
    // Within the 30 s leeway a just-expired token still passes.
    assert!(k.verify(&tok(&k, &[], "", -5)).is_ok());
    let other = JwtKeys::hs256(b"another-secret-of-enough-length").unwrap();
    assert_eq!(
        refusal(&k, &tok(&other, &[], "", 60)),
        "bad token signature"
    );
    assert!(refusal(&k, "not.a.jwt").starts_with("malformed token"));
    assert!(JwtKeys::hs256(b"").is_err());
}

#[test]
fn claim_shape_is_enforced() {
    let (k, header) = (dev(), Header::new(Algorithm::HS256));
    let ek = EncodingKey::from_secret(DEV_JWT_SECRET.as_bytes()).unwrap();
    let exp = chrono::Utc::now().timestamp() + 3600;
    let forge = |v: serde_json::Value| jsonwebtoken::encode(&header, &v, &ek).unwrap();
    let empty_sub = forge(json!({"sub": "", "roles": [], "scope": "", "exp": exp}));
    assert!(refusal(&k, &empty_sub).contains("empty sub"));
    let bad_scope = forge(json!({"sub": "u", "scope": "37a", "exp": exp}));
    assert!(refusal(&k, &bad_scope).contains("scope"));
    let no_scope = forge(json!({"sub": "u", "roles": [], "exp": exp}));
    assert!(refusal(&k, &no_scope).contains("scope"));
    let thirteen_digits = Claims {
        exp,
        ..with_scope("3701020010011")
    };
    assert!(k.mint(&thirteen_digits).is_err());
}

#[test]
fn es256_signs_verifies_and_rejects_hs256() {
    let k = JwtKeys::from_pem_es256(Some(EC_PRIVATE.as_bytes()), EC_PUBLIC.as_bytes());
    let t = tok(&k.unwrap(), &[roles::SERVICE], "", 60);
    let verify_only = JwtKeys::from_pem_es256(None, EC_PUBLIC.as_bytes()).unwrap();
    assert_eq!(verify_only.verify(&t).unwrap().sub, "u1");
    let c = with_scope("");
    assert!(verify_only.mint(&Claims { exp: i64::MAX, ..c }).is_err());
    assert!(refusal(&verify_only, &tok(&dev(), &[], "", 60)).contains("algorithm"));
    assert!(JwtKeys::from_pem_es256(None, b"junk").is_err());
    assert!(!format!("{verify_only:?}").contains("PUBLIC"));
}

#[test]
fn scope_and_role_checks() {
    let c = with_scope("370103");
    assert!(c.covers("370103001001") && !c.covers("370102001001"));
    assert!(c.require_scope("370103001").is_ok());
    let err = c.require_scope("370102001001").unwrap_err();
    let want = "permission denied: region 370102001001 is outside your scope 370103";
    assert_eq!(err.to_string(), want);
    assert!(with_scope("").covers("110000000000"));
    let err = c.require_any_role(&[roles::SUPERVISOR, roles::COUNTY_ADMIN]);
    assert!(
        err.unwrap_err()
            .to_string()
            .contains("[supervisor, county_admin]")
    );
    assert!(c.require_any_role(&[roles::CADRE]).is_ok());
}

#[test]
fn effective_prefix_cases() {
    let (c, all) = (with_scope("3701"), with_scope(""));
    for (claims, requested, want) in [
        (&c, "", "3701"),
        (&c, "37", "3701"),
        (&c, "3701", "3701"),
        (&c, "370102", "370102"),
        (&all, "", ""),
        (&all, "3702", "3702"),
    ] {
        assert_eq!(
            claims.effective_prefix(requested).unwrap(),
            want,
            "{requested}"
        );
    }
    let disjoint = c.effective_prefix("3702");
    assert!(matches!(disjoint, Err(ServiceError::PermissionDenied(_))));
    let wildcard = all.effective_prefix("37%");
    assert!(matches!(wildcard, Err(ServiceError::InvalidArgument(_))));
}

#[test]
fn interceptor_with_and_without_metadata() {
    let keys = Arc::new(dev());
    let mut auth = AuthInterceptor {
        keys: keys.clone(),
        revoked: RevokedSessions::default(),
    };
    let err = auth.call(Request::new(())).unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert!(err.message().contains("missing authorization"));
    let unwrapped = claims(&Request::new(())).unwrap_err();
    assert_eq!(unwrapped.code(), Code::Unauthenticated);

    let mut bearer = BearerInterceptor(tok(&keys, &[roles::CADRE], "3701", 60));
    let req = auth.call(bearer.call(Request::new(())).unwrap()).unwrap();
    assert_eq!(claims(&req).unwrap().scope, "3701");

    let mut basic = Request::new(());
    let value = "Basic dTpw".parse().unwrap();
    basic.metadata_mut().insert("authorization", value);
    assert!(auth.call(basic).unwrap_err().message().contains("Bearer"));
    let bad = BearerInterceptor("x.y.z".into()).call(Request::new(()));
    assert_eq!(
        auth.call(bad.unwrap()).unwrap_err().code(),
        Code::Unauthenticated
    );
    assert_eq!(format!("{bearer:?}"), "BearerInterceptor([redacted])");
}

#[test]
fn tokens_of_a_revoked_session_are_refused() {
    let keys = Arc::new(dev());
    let auth = AuthInterceptor {
        keys: keys.clone(),
        revoked: RevokedSessions::default(),
    };
    let mut claims = with_scope("3701");
    claims.exp = (chrono::Utc::now() + Duration::minutes(5)).timestamp();
    claims.sid = Some("s-1".into());
    let token = keys.mint(&claims).unwrap();
    assert_eq!(auth.check(&token).unwrap().sid.as_deref(), Some("s-1"));
    auth.revoked
        .revoke("s-1", chrono::Utc::now().timestamp() as u64);
    match auth.check(&token) {
        Err(ServiceError::Unauthenticated(m)) => assert!(m.contains("session has ended"), "{m}"),
        other => panic!("expected Unauthenticated, got {other:?}"),
    }
    // Tokens without a session (services acting for themselves) are not affected.
    let service = tok(&keys, &[roles::SERVICE], "", 60);
    assert!(auth.check(&service).is_ok());
}
