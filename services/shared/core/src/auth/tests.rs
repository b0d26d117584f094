//! Unit tests for [`super`]: token round trips, refusals, scope and role checks.

use super::*;
use chrono::Duration;
use serde_json::json;
use tonic::Code;

/// A second key pair (not the development one): an impostor's.
const OTHER_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgOpv1eFoKoG5ZTk/y
h8KYldUcLvZZv9gKnq3p5IR0aWOhRANCAAQb1lqp7rP8b81zfp/mtmbooh9Rxg6G
J61co9lKPRM7+zKRGmOL6LTX2BSbBlONjTSUygY66Cy+KQorXksiz9dX
-----END PRIVATE KEY-----";
const OTHER_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEG9Zaqe6z/G/Nc36f5rZm6KIfUcYO
hietXKPZSj0TO/sykRpji+i019gUmwZTjY00lMoGOugsvikKK15LIs/XVw==
-----END PUBLIC KEY-----";

fn dev() -> JwtKeys {
    JwtKeys::development()
}

fn other() -> JwtKeys {
    JwtKeys::from_pem_es256(Some(OTHER_PRIVATE.as_bytes()), OTHER_PUBLIC.as_bytes()).unwrap()
}

/// Signs arbitrary JSON with the development private key.
fn forge(header: Header, v: serde_json::Value) -> String {
    let ek = EncodingKey::from_ec_pem(DEV_JWT_PRIVATE_KEY_PEM.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, &v, &ek).unwrap()
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
        ..Claims::default()
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
fn expired_wrong_key_and_garbage_are_refused() {
    let k = dev();
    assert_eq!(refusal(&k, &tok(&k, &[], "", -120)), "token expired");
    // Within the 30 s leeway a just-expired token still passes.
    assert!(k.verify(&tok(&k, &[], "", -5)).is_ok());
    assert_eq!(
        refusal(&k, &tok(&other(), &[], "", 60)),
        "bad token signature"
    );
    assert_eq!(refusal(&k, "not.a.jwt"), "malformed token");
    // A private key that is not the public key's half is refused at start.
    let mismatched = JwtKeys::from_pem_es256(
        Some(OTHER_PRIVATE.as_bytes()),
        DEV_JWT_PUBLIC_KEY_PEM.as_bytes(),
    );
    assert!(
        mismatched
            .unwrap_err()
            .to_string()
            .contains("does not match")
    );
}

#[test]
fn claim_shape_is_enforced() {
    let (k, header) = (dev(), Header::new(Algorithm::ES256));
    let exp = chrono::Utc::now().timestamp() + 3600;
    let (iss, aud) = (ISSUER, AUDIENCE);
    let empty_sub = forge(
        header.clone(),
        json!({"sub": "", "roles": [], "scope": "", "exp": exp, "iss": iss, "aud": aud}),
    );
    assert!(refusal(&k, &empty_sub).contains("empty sub"));
    let bad_scope = forge(
        header.clone(),
        json!({"sub": "u", "scope": "37a", "exp": exp, "iss": iss, "aud": aud}),
    );
    assert!(refusal(&k, &bad_scope).contains("scope"));
    let no_scope = forge(
        header.clone(),
        json!({"sub": "u", "roles": [], "exp": exp, "iss": iss, "aud": aud}),
    );
    assert_eq!(refusal(&k, &no_scope), "malformed token");
    let thirteen_digits = Claims {
        exp,
        ..with_scope("3701020010011")
    };
    assert!(k.mint(&thirteen_digits).is_err());
}

#[test]
fn issuer_and_audience_are_required() {
    let (k, header) = (dev(), Header::new(Algorithm::ES256));
    let exp = chrono::Utc::now().timestamp() + 3600;
    let claims = |iss: Option<&str>, aud: Option<&str>| {
        let mut v = json!({"sub": "u", "roles": ["county_admin"], "scope": "", "exp": exp});
        if let Some(iss) = iss {
            v["iss"] = json!(iss);
        }
        if let Some(aud) = aud {
            v["aud"] = json!(aud);
        }
        forge(header.clone(), v)
    };
    let want = "token was not issued by the sign-in authority";
    assert_eq!(refusal(&k, &claims(Some("someone"), Some(AUDIENCE))), want);
    let want = "token is not meant for this service";
    assert_eq!(refusal(&k, &claims(Some(ISSUER), Some("other"))), want);
    assert_eq!(
        refusal(&k, &claims(None, Some(AUDIENCE))),
        "token lacks the iss claim"
    );
    assert_eq!(
        refusal(&k, &claims(Some(ISSUER), None)),
        "token lacks the aud claim"
    );
    assert!(k.verify(&claims(Some(ISSUER), Some(AUDIENCE))).is_ok());
}

#[test]
fn a_service_audience_reaches_that_service_only() {
    let signer = dev();
    let c = Claims {
        exp: chrono::Utc::now().timestamp() + 60,
        purpose: Some("callback-phone".into()),
        act: Some(Actor {
            sub: "supervision".into(),
        }),
        ..with_scope("3701")
    };
    let t = signer.mint_to(&c, &service_audience("registry")).unwrap();
    let registry = dev().accepting(&service_audience("registry"));
    assert_eq!(registry.verify(&t).unwrap(), c);
    let issues = dev().accepting(&service_audience("issues"));
    assert_eq!(refusal(&issues, &t), "token is not meant for this service");
    // A person's access token is accepted by both.
    let access = tok(&signer, &[], "", 60);
    assert!(registry.verify(&access).is_ok() && issues.verify(&access).is_ok());
}

#[test]
fn hs256_and_none_are_refused_without_naming_algorithms() {
    let k = dev();
    let exp = chrono::Utc::now().timestamp() + 3600;
    let v = json!({"sub": "u", "roles": ["county_admin"], "scope": "", "exp": exp,
        "iss": ISSUER, "aud": AUDIENCE});
    // Signed with the old public development secret of the HS256 days.
    let hs = EncodingKey::from_secret(b"zoufang-dev-secret").unwrap();
    let hs256 = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &v, &hs).unwrap();
    assert!(refusal(&k, &hs256).contains("algorithm"));
    // HS256 "signed" with the public key as the secret (algorithm confusion).
    let confused = EncodingKey::from_secret(DEV_JWT_PUBLIC_KEY_PEM.as_bytes()).unwrap();
    let confused = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &v, &confused).unwrap();
    assert!(refusal(&k, &confused).contains("algorithm"));
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let none = format!(
        "{}.{}.",
        b64(r#"{"alg":"none","typ":"JWT"}"#),
        b64(&v.to_string())
    );
    assert_eq!(refusal(&k, &none), "malformed token");
}

#[test]
fn verify_only_keys_cannot_mint() {
    let verify_only = JwtKeys::from_pem_es256(None, DEV_JWT_PUBLIC_KEY_PEM.as_bytes()).unwrap();
    let t = tok(&dev(), &[roles::SERVICE], "", 60);
    assert_eq!(verify_only.verify(&t).unwrap().sub, "u1");
    let c = with_scope("");
    assert!(verify_only.mint(&Claims { exp: i64::MAX, ..c }).is_err());
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
