//! The event catalogue: every routing key on the `zoufang.events` exchange,
//! spelled once, and the payload each one carries ([`Event`]). Publishers
//! and consumers name keys from here; `docs/events.md` says what each means.

use crate::events::v1::{
    CadreChanged, CallbackCompleted, CallbackTask, HouseholdRegistered, IssueChanged,
    PetitionCaseChanged, SessionsRevoked, VisitDisputed, VisitRecorded,
};

/// An event payload and the routing keys it travels under
/// (`<service>.<entity>.<verb>`). Every payload message of `events.v1`
/// implements it here, so a key and its payload are paired once.
pub trait Event: prost::Message + Default + 'static {
    /// Every routing key this payload is published under.
    const KEYS: &'static [&'static str];

    /// What a queue binds to take every event of this payload: its keys,
    /// or its family's wildcard (`petition.case.*`), so that an event under
    /// a key this build does not know yet reaches the consumer and is
    /// parked there instead of being dropped by the broker.
    const BINDINGS: &'static [&'static str] = Self::KEYS;

    /// The routing key this payload travels under: its only key, or the one
    /// its typed change names (`IssueChanged.change`,
    /// `PetitionCaseChanged.change`, `CallbackTask.change`); `None` when
    /// the change is `UNSPECIFIED` or unknown, and for `CallbackCompleted`,
    /// whose two keys its publisher names (the outcome, not a field, tells
    /// completed from unreachable).
    fn routing_key(&self) -> Option<&'static str>;
}

/// A payload published under one routing key only.
pub trait SingleKey: Event {
    /// Its routing key.
    const KEY: &'static str;
}

/// The registry's events.
pub mod registry {
    /// A visit was recorded, with the items residents raised.
    pub const VISIT_RECORDED: &str = "registry.visit.recorded";
    /// A visit was flagged disputed (a callback could not confirm it).
    pub const VISIT_DISPUTED: &str = "registry.visit.disputed";
    /// A household entered the register.
    pub const HOUSEHOLD_REGISTERED: &str = "registry.household.registered";

    /// What every cadre key starts with; the rest is the verb.
    pub const CADRE_PREFIX: &str = "registry.cadre.";
    /// Binds every cadre event.
    pub const CADRE_ANY: &str = "registry.cadre.*";
    /// A new cadre entered the register (`CadreChanged`).
    pub const CADRE_REGISTERED: &str = "registry.cadre.registered";
    /// The registry states a cadre as it stands (`CadreChanged`, `AnnounceCadres`).
    pub const CADRE_ANNOUNCED: &str = "registry.cadre.announced";
    /// Every cadre key.
    pub const CADRE_ALL: &[&str] = &[CADRE_REGISTERED, CADRE_ANNOUNCED];

    use crate::events::v1::CadreChange;

    /// Every change of a cadre with its key, in the order of [`CADRE_ALL`].
    pub const CADRE_CHANGES: [(CadreChange, &str); 2] = [
        (CadreChange::Registered, CADRE_REGISTERED),
        (CadreChange::Announced, CADRE_ANNOUNCED),
    ];

    /// The routing key of a cadre's `change`; `None` for `UNSPECIFIED`.
    pub fn cadre_key_of(change: CadreChange) -> Option<&'static str> {
        CADRE_CHANGES
            .iter()
            .find(|(c, _)| *c == change)
            .map(|(_, k)| *k)
    }

    /// The verb of a cadre's `change`, the last word of its key (`announced`).
    pub fn cadre_verb_of(change: CadreChange) -> Option<&'static str> {
        cadre_key_of(change).and_then(|k| k.strip_prefix(CADRE_PREFIX))
    }

    /// The change a routing key names; `None` for a key outside
    /// `registry.cadre.*` or one of it this build does not know.
    pub fn cadre_change_of(key: &str) -> Option<CadreChange> {
        CADRE_CHANGES
            .iter()
            .find(|(_, k)| *k == key)
            .map(|(c, _)| *c)
    }
}

/// The ledger's events: `issues.issue.<verb>`, all carrying `IssueChanged`.
pub mod issues {
    /// What every ledger key starts with; the rest is the verb.
    pub const PREFIX: &str = "issues.issue.";
    /// Binds every ledger event.
    pub const ANY: &str = "issues.issue.*";
    pub const CREATED: &str = "issues.issue.created";
    pub const ASSIGNED: &str = "issues.issue.assigned";
    pub const STARTED: &str = "issues.issue.started";
    pub const RESOLVED: &str = "issues.issue.resolved";
    pub const EXPLAINED: &str = "issues.issue.explained";
    pub const ESCALATED: &str = "issues.issue.escalated";
    pub const SIGNED: &str = "issues.issue.signed";
    pub const RETURNED: &str = "issues.issue.returned";
    pub const SUPERVISED: &str = "issues.issue.supervised";
    pub const VERIFIED: &str = "issues.issue.verified";
    pub const REOPENED: &str = "issues.issue.reopened";
    pub const MERGED: &str = "issues.issue.merged";
    pub const DUE_SOON: &str = "issues.issue.due_soon";
    pub const OVERDUE: &str = "issues.issue.overdue";
    pub const SIGN_OVERDUE: &str = "issues.issue.sign_overdue";
    /// Every ledger key.
    pub const ALL: &[&str] = &[
        CREATED,
        ASSIGNED,
        STARTED,
        RESOLVED,
        EXPLAINED,
        ESCALATED,
        SIGNED,
        RETURNED,
        SUPERVISED,
        VERIFIED,
        REOPENED,
        MERGED,
        DUE_SOON,
        OVERDUE,
        SIGN_OVERDUE,
    ];

    use crate::events::v1::IssueChange;

    /// Every change of a ledger item with its key, in the order of [`ALL`].
    pub const CHANGES: [(IssueChange, &str); 15] = [
        (IssueChange::Created, CREATED),
        (IssueChange::Assigned, ASSIGNED),
        (IssueChange::Started, STARTED),
        (IssueChange::Resolved, RESOLVED),
        (IssueChange::Explained, EXPLAINED),
        (IssueChange::Escalated, ESCALATED),
        (IssueChange::Signed, SIGNED),
        (IssueChange::Returned, RETURNED),
        (IssueChange::Supervised, SUPERVISED),
        (IssueChange::Verified, VERIFIED),
        (IssueChange::Reopened, REOPENED),
        (IssueChange::Merged, MERGED),
        (IssueChange::DueSoon, DUE_SOON),
        (IssueChange::Overdue, OVERDUE),
        (IssueChange::SignOverdue, SIGN_OVERDUE),
    ];

    /// The routing key of `change`; `None` for `UNSPECIFIED`.
    pub fn key_of(change: IssueChange) -> Option<&'static str> {
        CHANGES.iter().find(|(c, _)| *c == change).map(|(_, k)| *k)
    }

    /// The verb of `change`, the last word of its key (`due_soon`).
    pub fn verb_of(change: IssueChange) -> Option<&'static str> {
        key_of(change).and_then(|k| k.strip_prefix(PREFIX))
    }

    /// The change a routing key names; `None` for a key outside
    /// `issues.issue.*` or one of it this build does not know.
    pub fn change_of(key: &str) -> Option<IssueChange> {
        CHANGES.iter().find(|(_, k)| *k == key).map(|(c, _)| *c)
    }
}

/// Supervision's events about callbacks.
pub mod supervision {
    /// A callback reached an outcome (`CallbackCompleted`).
    pub const CALLBACK_COMPLETED: &str = "supervision.callback.completed";
    /// The resident could not be reached after the last attempt (`CallbackCompleted`).
    pub const CALLBACK_UNREACHABLE: &str = "supervision.callback.unreachable";
    /// A callback task reached a supervisor's worklist (`CallbackTask`).
    pub const CALLBACK_ASSIGNED: &str = "supervision.callback.assigned";
    /// An open callback task passed its due time (`CallbackTask`).
    pub const CALLBACK_OVERDUE: &str = "supervision.callback.overdue";

    use crate::events::v1::CallbackTaskChange;

    /// Every change of a callback task with its key.
    pub const TASK_CHANGES: [(CallbackTaskChange, &str); 2] = [
        (CallbackTaskChange::Assigned, CALLBACK_ASSIGNED),
        (CallbackTaskChange::Overdue, CALLBACK_OVERDUE),
    ];

    /// The routing key of a task's `change`; `None` for `UNSPECIFIED`.
    pub fn task_key_of(change: CallbackTaskChange) -> Option<&'static str> {
        TASK_CHANGES
            .iter()
            .find(|(c, _)| *c == change)
            .map(|(_, k)| *k)
    }

    /// The verb of a task's `change`, the last word of its key (`overdue`).
    pub fn task_verb_of(change: CallbackTaskChange) -> Option<&'static str> {
        task_key_of(change).and_then(|k| k.rsplit('.').next())
    }
}

/// The petition bridge's events: `petition.case.<verb>`, all carrying
/// `PetitionCaseChanged`.
pub mod petition {
    /// What every case key starts with; the rest is the verb.
    pub const PREFIX: &str = "petition.case.";
    /// Binds every case event.
    pub const ANY: &str = "petition.case.*";
    pub const RECEIVED: &str = "petition.case.received";
    pub const UPDATED: &str = "petition.case.updated";
    pub const ACCEPTED: &str = "petition.case.accepted";
    pub const NOT_ACCEPTED: &str = "petition.case.not_accepted";
    pub const EXTENDED: &str = "petition.case.extended";
    pub const REPLIED: &str = "petition.case.replied";
    pub const REVIEW_REQUESTED: &str = "petition.case.review_requested";
    pub const REVIEWED: &str = "petition.case.reviewed";
    pub const REREVIEW_REQUESTED: &str = "petition.case.rereview_requested";
    pub const REREVIEWED: &str = "petition.case.rereviewed";
    pub const RETURNED: &str = "petition.case.returned";
    pub const REASSIGNED: &str = "petition.case.reassigned";
    pub const MERGED: &str = "petition.case.merged";
    pub const FINALIZED: &str = "petition.case.finalized";
    /// Every case key.
    pub const ALL: &[&str] = &[
        RECEIVED,
        UPDATED,
        ACCEPTED,
        NOT_ACCEPTED,
        EXTENDED,
        REPLIED,
        REVIEW_REQUESTED,
        REVIEWED,
        REREVIEW_REQUESTED,
        REREVIEWED,
        RETURNED,
        REASSIGNED,
        MERGED,
        FINALIZED,
    ];

    use crate::events::v1::CaseChange;

    /// Every change of a case with its key, in the order of [`ALL`].
    pub const CHANGES: [(CaseChange, &str); 14] = [
        (CaseChange::Received, RECEIVED),
        (CaseChange::Updated, UPDATED),
        (CaseChange::Accepted, ACCEPTED),
        (CaseChange::NotAccepted, NOT_ACCEPTED),
        (CaseChange::Extended, EXTENDED),
        (CaseChange::Replied, REPLIED),
        (CaseChange::ReviewRequested, REVIEW_REQUESTED),
        (CaseChange::Reviewed, REVIEWED),
        (CaseChange::RereviewRequested, REREVIEW_REQUESTED),
        (CaseChange::Rereviewed, REREVIEWED),
        (CaseChange::Returned, RETURNED),
        (CaseChange::Reassigned, REASSIGNED),
        (CaseChange::Merged, MERGED),
        (CaseChange::Finalized, FINALIZED),
    ];

    /// The routing key of `change`; `None` for `UNSPECIFIED`.
    pub fn key_of(change: CaseChange) -> Option<&'static str> {
        CHANGES.iter().find(|(c, _)| *c == change).map(|(_, k)| *k)
    }

    /// The verb of `change`, the last word of its key (`not_accepted`).
    pub fn verb_of(change: CaseChange) -> Option<&'static str> {
        key_of(change).and_then(|k| k.strip_prefix(PREFIX))
    }

    /// The change a routing key names; `None` for a key outside
    /// `petition.case.*` or one of it this build does not know.
    pub fn change_of(key: &str) -> Option<CaseChange> {
        CHANGES.iter().find(|(_, k)| *k == key).map(|(c, _)| *c)
    }
}

/// The gateway's events.
pub mod gateway {
    /// Sessions were revoked (carried on the stream `zoufang.sessions.revoked`).
    pub const SESSION_REVOKED: &str = "gateway.session.revoked";
}

macro_rules! single {
    ($($ty:ty => $key:expr),* $(,)?) => {$(
        impl Event for $ty {
            const KEYS: &'static [&'static str] = &[$key];
            fn routing_key(&self) -> Option<&'static str> {
                Some($key)
            }
        }
        impl SingleKey for $ty {
            const KEY: &'static str = $key;
        }
    )*};
}

single! {
    VisitRecorded => registry::VISIT_RECORDED,
    VisitDisputed => registry::VISIT_DISPUTED,
    HouseholdRegistered => registry::HOUSEHOLD_REGISTERED,
    SessionsRevoked => gateway::SESSION_REVOKED,
}

impl Event for IssueChanged {
    const KEYS: &'static [&'static str] = issues::ALL;
    const BINDINGS: &'static [&'static str] = &[issues::ANY];
    fn routing_key(&self) -> Option<&'static str> {
        // An unknown value reads as UNSPECIFIED, which has no key.
        issues::key_of(self.change())
    }
}

impl Event for PetitionCaseChanged {
    const KEYS: &'static [&'static str] = petition::ALL;
    const BINDINGS: &'static [&'static str] = &[petition::ANY];
    fn routing_key(&self) -> Option<&'static str> {
        petition::key_of(self.change())
    }
}

impl Event for CadreChanged {
    const KEYS: &'static [&'static str] = registry::CADRE_ALL;
    const BINDINGS: &'static [&'static str] = &[registry::CADRE_ANY];
    fn routing_key(&self) -> Option<&'static str> {
        registry::cadre_key_of(self.change())
    }
}

impl Event for CallbackCompleted {
    const KEYS: &'static [&'static str] = &[
        supervision::CALLBACK_COMPLETED,
        supervision::CALLBACK_UNREACHABLE,
    ];
    fn routing_key(&self) -> Option<&'static str> {
        None
    }
}

impl Event for CallbackTask {
    const KEYS: &'static [&'static str] = &[
        supervision::CALLBACK_ASSIGNED,
        supervision::CALLBACK_OVERDUE,
    ];
    fn routing_key(&self) -> Option<&'static str> {
        supervision::task_key_of(self.change())
    }
}

/// Every routing key of the catalogue, each once.
pub fn all_keys() -> Vec<&'static str> {
    [
        VisitRecorded::KEYS,
        VisitDisputed::KEYS,
        HouseholdRegistered::KEYS,
        CadreChanged::KEYS,
        IssueChanged::KEYS,
        CallbackCompleted::KEYS,
        CallbackTask::KEYS,
        PetitionCaseChanged::KEYS,
        SessionsRevoked::KEYS,
    ]
    .concat()
}

/// The payload type name of the events under `key` (for a decoder that
/// picks the type by key), or `None` for a key outside the catalogue.
pub fn payload_of(key: &str) -> Option<&'static str> {
    fn named<E: Event>(key: &str, name: &'static str) -> Option<&'static str> {
        E::KEYS.contains(&key).then_some(name)
    }
    named::<VisitRecorded>(key, "VisitRecorded")
        .or_else(|| named::<VisitDisputed>(key, "VisitDisputed"))
        .or_else(|| named::<HouseholdRegistered>(key, "HouseholdRegistered"))
        .or_else(|| named::<CadreChanged>(key, "CadreChanged"))
        .or_else(|| named::<IssueChanged>(key, "IssueChanged"))
        .or_else(|| named::<CallbackCompleted>(key, "CallbackCompleted"))
        .or_else(|| named::<CallbackTask>(key, "CallbackTask"))
        .or_else(|| named::<PetitionCaseChanged>(key, "PetitionCaseChanged"))
        .or_else(|| named::<SessionsRevoked>(key, "SessionsRevoked"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_key_is_service_entity_verb_and_appears_once() {
        let keys = all_keys();
        let unique: HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len(), "a key is listed twice");
        for key in &keys {
            let parts: Vec<_> = key.split('.').collect();
            assert_eq!(parts.len(), 3, "{key}");
            assert!(
                ["registry", "issues", "supervision", "petition", "gateway"].contains(&parts[0]),
                "{key}"
            );
            assert!(
                parts
                    .iter()
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '_')),
                "{key}"
            );
            assert!(payload_of(key).is_some(), "{key}");
        }
        assert_eq!(payload_of("issues.issue.changed"), None);
    }

    #[test]
    fn families_share_their_prefix_and_wildcard() {
        for (all, prefix, any) in [
            (issues::ALL, issues::PREFIX, issues::ANY),
            (petition::ALL, petition::PREFIX, petition::ANY),
            (
                registry::CADRE_ALL,
                registry::CADRE_PREFIX,
                registry::CADRE_ANY,
            ),
        ] {
            assert_eq!(any, format!("{prefix}*"));
            assert!(all.iter().all(|k| k.starts_with(prefix)), "{prefix}");
        }
    }

    /// Whether `s` is spelled like a routing key:
    /// `^(registry|issues|supervision|notify|petition|gateway)\.[a-z_]+\.[a-z_]+$`.
    fn looks_like_a_key(s: &str) -> bool {
        const SERVICES: [&str; 6] = [
            "registry",
            "issues",
            "supervision",
            "notify",
            "petition",
            "gateway",
        ];
        let parts: Vec<_> = s.split('.').collect();
        parts.len() == 3
            && SERVICES.contains(&parts[0])
            && parts[1..]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
    }

    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') || name == "target" {
                continue;
            }
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_case_change_has_its_key_and_back() {
        use crate::events::v1::CaseChange;
        let keys: Vec<_> = petition::CHANGES.iter().map(|(_, k)| *k).collect();
        assert_eq!(keys, petition::ALL);
        for (change, key) in petition::CHANGES {
            let name = change.as_str_name().strip_prefix("CASE_CHANGE_").unwrap();
            assert_eq!(key, format!("{}{}", petition::PREFIX, name.to_lowercase()));
            assert_eq!(petition::key_of(change), Some(key));
            assert_eq!(petition::change_of(key), Some(change));
            assert_eq!(petition::verb_of(change), Some(&*name.to_lowercase()));
        }
        // Every value of the enum is listed.
        let values = (0..64).filter(|v| CaseChange::try_from(*v).is_ok()).count();
        assert_eq!(
            values,
            petition::CHANGES.len() + 1,
            "UNSPECIFIED and the listed"
        );
        assert_eq!(petition::key_of(CaseChange::Unspecified), None);
        assert_eq!(petition::change_of(petition::ANY), None);
        assert_eq!(petition::change_of(issues::MERGED), None);
    }

    #[test]
    fn every_cadre_change_has_its_key_and_back() {
        use crate::events::v1::CadreChange;
        let keys: Vec<_> = registry::CADRE_CHANGES.iter().map(|(_, k)| *k).collect();
        assert_eq!(keys, registry::CADRE_ALL);
        assert_eq!(CadreChanged::KEYS, registry::CADRE_ALL);
        assert_eq!(CadreChanged::BINDINGS, [registry::CADRE_ANY]);
        for (change, key) in registry::CADRE_CHANGES {
            let name = change
                .as_str_name()
                .strip_prefix("CADRE_CHANGE_")
                .unwrap()
                .to_lowercase();
            assert_eq!(key, format!("{}{name}", registry::CADRE_PREFIX));
            assert_eq!(registry::cadre_key_of(change), Some(key));
            assert_eq!(registry::cadre_change_of(key), Some(change));
            assert_eq!(registry::cadre_verb_of(change), Some(&*name));
            let payload = CadreChanged {
                change: change.into(),
                ..Default::default()
            };
            assert_eq!(payload.routing_key(), Some(key));
        }
        let values = (0..64)
            .filter(|v| CadreChange::try_from(*v).is_ok())
            .count();
        assert_eq!(values, registry::CADRE_CHANGES.len() + 1);
        assert_eq!(registry::cadre_key_of(CadreChange::Unspecified), None);
        assert_eq!(registry::cadre_change_of(registry::CADRE_ANY), None);
        assert_eq!(CadreChanged::default().routing_key(), None);
    }

    #[test]
    fn every_issue_change_has_its_key_and_back() {
        use crate::events::v1::IssueChange;
        let keys: Vec<_> = issues::CHANGES.iter().map(|(_, k)| *k).collect();
        assert_eq!(keys, issues::ALL);
        for (change, key) in issues::CHANGES {
            let name = change.as_str_name().strip_prefix("ISSUE_CHANGE_").unwrap();
            assert_eq!(key, format!("{}{}", issues::PREFIX, name.to_lowercase()));
            assert_eq!(issues::key_of(change), Some(key));
            assert_eq!(issues::change_of(key), Some(change));
            assert_eq!(issues::verb_of(change), Some(&*name.to_lowercase()));
            let payload = IssueChanged {
                change: change.into(),
                ..Default::default()
            };
            assert_eq!(payload.routing_key(), Some(key));
        }
        let values = (0..64)
            .filter(|v| IssueChange::try_from(*v).is_ok())
            .count();
        assert_eq!(
            values,
            issues::CHANGES.len() + 1,
            "UNSPECIFIED and the listed"
        );
        assert_eq!(issues::key_of(IssueChange::Unspecified), None);
        assert_eq!(issues::change_of(issues::ANY), None);
        assert_eq!(issues::change_of(petition::MERGED), None);
        // An unspecified or unknown change names no key.
        assert_eq!(IssueChanged::default().routing_key(), None);
        let newer = IssueChanged {
            change: 99,
            ..Default::default()
        };
        assert_eq!(newer.routing_key(), None);
    }

    #[test]
    fn every_payload_names_its_own_key() {
        use crate::events::v1::{CallbackTaskChange, CaseChange};
        assert_eq!(
            VisitRecorded::default().routing_key(),
            Some(VisitRecorded::KEY)
        );
        assert_eq!(VisitRecorded::KEYS, [registry::VISIT_RECORDED]);
        assert_eq!(VisitRecorded::BINDINGS, VisitRecorded::KEYS);
        assert_eq!(IssueChanged::BINDINGS, [issues::ANY]);
        assert_eq!(PetitionCaseChanged::BINDINGS, [petition::ANY]);
        assert_eq!(CallbackTask::BINDINGS, CallbackTask::KEYS);
        assert_eq!(SessionsRevoked::KEY, gateway::SESSION_REVOKED);
        for (change, key) in petition::CHANGES {
            let payload = PetitionCaseChanged {
                change: change.into(),
                ..Default::default()
            };
            assert_eq!(payload.routing_key(), Some(key));
        }
        assert_eq!(PetitionCaseChanged::default().routing_key(), None);
        let keys: Vec<_> = supervision::TASK_CHANGES.iter().map(|(_, k)| *k).collect();
        assert_eq!(keys, CallbackTask::KEYS);
        for (change, key) in supervision::TASK_CHANGES {
            let name = change
                .as_str_name()
                .strip_prefix("CALLBACK_TASK_CHANGE_")
                .unwrap()
                .to_lowercase();
            assert_eq!(supervision::task_verb_of(change), Some(&*name));
            assert_eq!(key, format!("supervision.callback.{name}"));
            let payload = CallbackTask {
                change: change.into(),
                ..Default::default()
            };
            assert_eq!(payload.routing_key(), Some(key));
        }
        let values = (0..64)
            .filter(|v| CallbackTaskChange::try_from(*v).is_ok())
            .count();
        assert_eq!(values, supervision::TASK_CHANGES.len() + 1);
        assert_eq!(CallbackTask::default().routing_key(), None);
        assert_eq!(CallbackCompleted::default().routing_key(), None);
        assert!(CaseChange::try_from(0).is_ok());
    }

    #[test]
    fn the_key_spotter_spots_keys_only() {
        let key = ["issues", "issue", "due_soon"].join(".");
        assert!(looks_like_a_key(&key));
        for not in [
            "issues.issue.",
            "issues.issue.*",
            "zoufang.registry.visit.recorded",
            "issues.overdue",
            "ledger.issue.created",
            "issues.Issue.created",
        ] {
            assert!(!looks_like_a_key(not), "{not}");
        }
    }

    /// Every routing key is spelled here and nowhere else in the code:
    /// a string literal that is a routing key outside this file fails.
    #[test]
    fn no_routing_key_is_spelled_outside_the_catalogue() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for dir in ["services", "tests", "tools"] {
            rust_files(&root.join(dir), &mut files);
        }
        assert!(
            files.len() > 50,
            "found only {} files under {root:?}",
            files.len()
        );
        let mut spelled = Vec::new();
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            for (n, line) in text.lines().enumerate() {
                // The text between two quotes; a key has no quote or
                // backslash in it, so escapes do not matter.
                let pieces: Vec<_> = line.split('"').collect();
                for piece in pieces.iter().skip(1).take(pieces.len().saturating_sub(2)) {
                    if looks_like_a_key(piece) {
                        spelled.push(format!("{}:{}: {piece}", file.display(), n + 1));
                    }
                }
            }
        }
        assert!(
            spelled.is_empty(),
            "routing keys spelled outside proto/src/catalogue.rs (name its constants):\n{}",
            spelled.join("\n")
        );
    }

    #[test]
    fn the_docs_name_every_key() {
        let docs = include_str!("../../docs/events.md");
        for key in all_keys() {
            let (family, verb) = key.rsplit_once('.').unwrap();
            assert!(
                docs.contains(&format!("`{key}`"))
                    || (docs.contains(&format!("`{family}."))
                        && docs.contains(&format!("`{verb}`")))
                    || docs.contains(&format!("`.{verb}`")),
                "docs/events.md does not name {key}"
            );
        }
    }
}
