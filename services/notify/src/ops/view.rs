//! Rows as the API shows them, and the page tokens of keyset pagination.
use chrono::{DateTime, Utc};
use uuid::Uuid;
use zoufang_core::{ServiceError, ServiceResult, fields::to_timestamp};
use zoufang_proto::notify::v1::*;

use crate::store::{
    deliveries::DeliveryRow, notifications::NotificationRow, preferences::PreferencesRow,
    recipients::RecipientRow, subscriptions::SubscriptionRow, templates::TemplateRow,
};

/// The proto value of a stored channel name.
pub fn channel_of(name: &str) -> Channel {
    match name {
        "inbox" => Channel::Inbox,
        "sms" => Channel::Sms,
        "wecom" => Channel::Wecom,
        "dingtalk" => Channel::Dingtalk,
        "webhook" => Channel::Webhook,
        _ => Channel::Unspecified,
    }
}

/// The stored name of a proto channel.
pub fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Inbox => "inbox",
        Channel::Sms => "sms",
        Channel::Wecom => "wecom",
        Channel::Dingtalk => "dingtalk",
        Channel::Webhook => "webhook",
        Channel::Unspecified => "",
    }
}

/// The proto value of a stored delivery state (`sending` shows as pending).
pub fn state_of(name: &str) -> DeliveryState {
    match name {
        "pending" | "sending" => DeliveryState::Pending,
        "sent" => DeliveryState::Sent,
        "failed" => DeliveryState::Failed,
        _ => DeliveryState::Unspecified,
    }
}

pub fn delivery(d: &DeliveryRow) -> Delivery {
    Delivery {
        delivery_id: d.delivery_id.to_string(),
        channel: channel_of(&d.channel) as i32,
        target: d.target.clone(),
        state: state_of(&d.state) as i32,
        attempts: d.attempts,
        last_error: d.last_error.clone(),
        next_attempt_at: (d.state == "pending").then(|| to_timestamp(d.next_at)),
        sent_at: d.sent_at.map(to_timestamp),
        kind: d.kind.clone(),
        title: d.title.clone(),
        fact_key: d.fact_key.clone(),
    }
}

pub fn notification(n: &NotificationRow, deliveries: Vec<Delivery>) -> Notification {
    Notification {
        notification_id: n.notification_id.to_string(),
        recipient_id: n.recipient_id.clone(),
        kind: n.kind.clone(),
        title: n.title.clone(),
        body: n.body.clone(),
        link: n.link.clone(),
        subject_type: n.subject_type.clone(),
        subject_id: n.subject_id.clone(),
        region_code: n.region_code.clone(),
        urgent: n.urgent,
        created_at: Some(to_timestamp(n.created_at)),
        read_at: n.read_at.map(to_timestamp),
        deliveries,
    }
}

pub fn recipient(r: &RecipientRow) -> Recipient {
    Recipient {
        recipient_id: r.recipient_id.clone(),
        name: r.name.clone(),
        roles: r.roles.clone(),
        region_code: r.region_code.clone(),
        phone: r.phone_masked.clone(),
        active: r.active,
    }
}

pub fn preferences(p: &PreferencesRow) -> Preferences {
    Preferences {
        recipient_id: p.recipient_id.clone(),
        sms_enabled: p.sms_enabled,
        digest_enabled: p.digest_enabled,
        quiet_start_minute: p.quiet_start_minute,
        quiet_end_minute: p.quiet_end_minute,
        muted_kinds: p.muted_kinds.clone(),
    }
}

pub fn template(t: &TemplateRow) -> Template {
    Template {
        kind: t.kind.clone(),
        title: t.title.clone(),
        body: t.body.clone(),
        sms_body: t.sms_body.clone(),
        variables: crate::domain::template::variables(&t.kind)
            .unwrap_or_default()
            .iter()
            .map(|v| (*v).to_owned())
            .collect(),
        version: t.version,
        updated_at: Some(to_timestamp(t.updated_at)),
        updated_by: t.updated_by.clone(),
    }
}

/// A subscription without its secret (write-only).
pub fn subscription(s: &SubscriptionRow) -> Subscription {
    Subscription {
        subscription_id: s.subscription_id.to_string(),
        name: s.name.clone(),
        channel: channel_of(&s.channel) as i32,
        region_code: s.region_code.clone(),
        url: s.url.clone(),
        secret: String::new(),
        kinds: s.kinds.clone(),
        active: s.active,
        created_at: Some(to_timestamp(s.created_at)),
        request_id: String::new(),
    }
}

/// A page token: `<flag>.<micros>.<uuid>`.
pub fn token(flag: bool, at: DateTime<Utc>, id: Uuid) -> String {
    format!("{}.{}.{id}", u8::from(flag), at.timestamp_micros())
}

/// Reads a page token; empty is the first page.
pub fn parse_token(token: &str) -> ServiceResult<Option<(bool, DateTime<Utc>, Uuid)>> {
    if token.is_empty() {
        return Ok(None);
    }
    let bad = || ServiceError::invalid("page_token", "not a token from a previous page");
    let mut parts = token.splitn(3, '.');
    let flag = match parts.next() {
        Some("0") => false,
        Some("1") => true,
        _ => return Err(bad()),
    };
    let micros: i64 = parts.next().and_then(|m| m.parse().ok()).ok_or_else(bad)?;
    let at = DateTime::from_timestamp_micros(micros).ok_or_else(bad)?;
    let id = parts
        .next()
        .and_then(|i| Uuid::parse_str(i).ok())
        .ok_or_else(bad)?;
    Ok(Some((flag, at, id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_reject_garbage() {
        let at = DateTime::from_timestamp_micros(1_800_000_000_123_456).unwrap_or_default();
        let id = Uuid::now_v7();
        let t = token(true, at, id);
        assert_eq!(parse_token(&t).ok().flatten(), Some((true, at, id)));
        assert_eq!(parse_token("").ok().flatten(), None);
        for bad in [
            "x",
            "2.1.a",
            "1.zz.00000000-0000-0000-0000-000000000000",
            "0.1.nope",
        ] {
            assert!(parse_token(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn channels_round_trip() {
        for c in [
            Channel::Inbox,
            Channel::Sms,
            Channel::Wecom,
            Channel::Dingtalk,
            Channel::Webhook,
        ] {
            assert_eq!(channel_of(channel_name(c)), c);
        }
    }
}
