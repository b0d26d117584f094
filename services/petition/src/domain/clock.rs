//! The statutory clock of a petition case (信访工作条例): whether to accept
//! within 15 days of receipt; handling within 60 days of acceptance,
//! extendable once by at most 30 days with a stated reason; a reply of 支持,
//! 解释 or 不予支持; a review (复查) may be requested within 30 days of the
//! reply and is decided within 30 days; a re-review (复核) likewise after the
//! review; after that the same claim is not accepted again. Hotline work
//! orders (12345 工单) may also be returned (退单), reassigned (改派) or
//! merged into another (并单).
//!
//! Every transition is a pure function of the case and the time, returning
//! the next case or the reason it is refused, so the service only stores
//! what these rules decide.
use chrono::{DateTime, Duration, Utc};

/// Days to decide on acceptance after receipt.
pub const ACCEPT_DAYS: i64 = 15;
/// Days to handle after acceptance.
pub const HANDLE_DAYS: i64 = 60;
/// The longest extension of handling, granted once.
pub const MAX_EXTENSION_DAYS: i64 = 30;
/// Days to ask for a review (or re-review) after the reply (or review).
pub const APPEAL_DAYS: i64 = 30;
/// Days to decide a review or re-review.
pub const APPEAL_DECISION_DAYS: i64 = 30;

/// A reply's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 支持.
    Supported,
    /// 解释.
    Explained,
    /// 不予支持.
    NotSupported,
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// 待受理: received, acceptance undecided.
    Received,
    /// 不予受理: refused; closed.
    NotAccepted,
    /// 办理中.
    Handling,
    /// 已答复: replied; a review may still be asked for.
    Replied(Outcome),
    /// 复查中.
    UnderReview,
    /// 已复查: a re-review may still be asked for.
    Reviewed(Outcome),
    /// 复核中.
    UnderReReview,
    /// 已办结: nothing more can be asked; the claim is final.
    Final(Outcome),
    /// 已退单 (hotline only): returned to the dispatcher.
    Returned,
    /// 已并单 (hotline only): merged into another work order.
    Merged,
}

/// The clock of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub stage: Stage,
    pub received_at: DateTime<Utc>,
    /// When the current stage must be done by (None once closed).
    pub due_at: Option<DateTime<Utc>>,
    /// Whether handling was extended (only once).
    pub extended: bool,
    /// When the last reply or decision went out (appeal windows run from it).
    pub answered_at: Option<DateTime<Utc>>,
    /// Hotline work order rather than a petition.
    pub hotline: bool,
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the case is {0:?}; this step does not apply")]
    WrongStage(Stage),
    #[error("handling may be extended only once")]
    AlreadyExtended,
    #[error("an extension is 1 to {MAX_EXTENSION_DAYS} days")]
    ExtensionTooLong,
    #[error("an extension needs a stated reason")]
    NoReason,
    #[error("the {APPEAL_DAYS}-day window to ask for it closed at {0}")]
    WindowClosed(DateTime<Utc>),
    #[error("only hotline work orders can be returned, reassigned or merged")]
    NotHotline,
    #[error(
        "the petitioner's case {0} on this claim is final (复核终结); the same claim is not \
         accepted again — accept only with new facts and reasons (new_facts)"
    )]
    RepeatOfFinal(String),
}

/// Whether a case may be accepted: one that repeats a final claim only when
/// it rests on new facts and reasons.
pub fn may_accept(repeat_of_final: Option<&str>, new_facts: bool) -> Result<(), Refusal> {
    match repeat_of_final {
        Some(prior) if !new_facts => Err(Refusal::RepeatOfFinal(prior.to_owned())),
        _ => Ok(()),
    }
}

fn days(n: i64) -> Duration {
    Duration::days(n)
}

impl Case {
    /// A case received at `at`: acceptance due in 15 days.
    pub fn received(at: DateTime<Utc>, hotline: bool) -> Self {
        Self {
            stage: Stage::Received,
            received_at: at,
            due_at: Some(at + days(ACCEPT_DAYS)),
            extended: false,
            answered_at: None,
            hotline,
        }
    }

    /// Whether the current stage's deadline has passed at `now`.
    pub fn overdue(&self, now: DateTime<Utc>) -> bool {
        self.due_at.is_some_and(|d| now > d)
    }

    fn expect(&self, stage: Stage) -> Result<(), Refusal> {
        if self.stage == stage {
            Ok(())
        } else {
            Err(Refusal::WrongStage(self.stage))
        }
    }

    /// 受理: handling due 60 days from now.
    pub fn accept(&self, now: DateTime<Utc>) -> Result<Self, Refusal> {
        self.expect(Stage::Received)?;
        Ok(Self {
            stage: Stage::Handling,
            due_at: Some(now + days(HANDLE_DAYS)),
            ..self.clone()
        })
    }

    /// 不予受理: closed.
    pub fn refuse(&self, now: DateTime<Utc>) -> Result<Self, Refusal> {
        self.expect(Stage::Received)?;
        Ok(Self {
            stage: Stage::NotAccepted,
            due_at: None,
            answered_at: Some(now),
            ..self.clone()
        })
    }

    /// 延期: once, by 1–30 days, with a reason.
    pub fn extend(&self, by_days: i64, reason: &str) -> Result<Self, Refusal> {
        self.expect(Stage::Handling)?;
        if self.extended {
            return Err(Refusal::AlreadyExtended);
        }
        if !(1..=MAX_EXTENSION_DAYS).contains(&by_days) {
            return Err(Refusal::ExtensionTooLong);
        }
        if reason.trim().is_empty() {
            return Err(Refusal::NoReason);
        }
        Ok(Self {
            due_at: self.due_at.map(|d| d + days(by_days)),
            extended: true,
            ..self.clone()
        })
    }

    /// 答复: the outcome goes out; a review may be asked for within 30 days.
    pub fn reply(&self, outcome: Outcome, now: DateTime<Utc>) -> Result<Self, Refusal> {
        self.expect(Stage::Handling)?;
        Ok(Self {
            stage: Stage::Replied(outcome),
            due_at: None,
            answered_at: Some(now),
            ..self.clone()
        })
    }

    fn within_window(&self, now: DateTime<Utc>) -> Result<(), Refusal> {
        let closes = self.answered_at.unwrap_or(self.received_at) + days(APPEAL_DAYS);
        if now > closes {
            Err(Refusal::WindowClosed(closes))
        } else {
            Ok(())
        }
    }

    /// 申请复查 (after a reply) or 申请复核 (after a review), within 30 days;
    /// the decision is due 30 days later.
    pub fn appeal(&self, now: DateTime<Utc>) -> Result<Self, Refusal> {
        let next = match self.stage {
            Stage::Replied(_) => Stage::UnderReview,
            Stage::Reviewed(_) => Stage::UnderReReview,
            other => return Err(Refusal::WrongStage(other)),
        };
        self.within_window(now)?;
        Ok(Self {
            stage: next,
            due_at: Some(now + days(APPEAL_DECISION_DAYS)),
            ..self.clone()
        })
    }

    /// The review's or re-review's decision. A re-review's is final.
    pub fn decide(&self, outcome: Outcome, now: DateTime<Utc>) -> Result<Self, Refusal> {
        let next = match self.stage {
            Stage::UnderReview => Stage::Reviewed(outcome),
            Stage::UnderReReview => Stage::Final(outcome),
            other => return Err(Refusal::WrongStage(other)),
        };
        Ok(Self {
            stage: next,
            due_at: None,
            answered_at: Some(now),
            ..self.clone()
        })
    }

    /// The stage once the appeal windows have run out unused: a reply or a
    /// review not appealed within 30 days becomes final.
    pub fn settle(&self, now: DateTime<Utc>) -> Self {
        match self.stage {
            Stage::Replied(o) | Stage::Reviewed(o) if self.within_window(now).is_err() => Self {
                stage: Stage::Final(o),
                ..self.clone()
            },
            _ => self.clone(),
        }
    }

    /// Whether a new case with the same claim may be accepted: not once a
    /// case for it is final (the re-review ends the road).
    pub fn bars_repeat(&self) -> bool {
        matches!(self.stage, Stage::Final(_))
    }

    /// 退单 (hotline): back to the dispatcher, before it is replied.
    pub fn return_order(&self) -> Result<Self, Refusal> {
        if !self.hotline {
            return Err(Refusal::NotHotline);
        }
        match self.stage {
            Stage::Received | Stage::Handling => Ok(Self {
                stage: Stage::Returned,
                due_at: None,
                ..self.clone()
            }),
            other => Err(Refusal::WrongStage(other)),
        }
    }

    /// 改派 (hotline): a returned order goes to another handler, whose
    /// acceptance clock starts again at `now`.
    pub fn reassign(&self, now: DateTime<Utc>) -> Result<Self, Refusal> {
        if !self.hotline {
            return Err(Refusal::NotHotline);
        }
        self.expect(Stage::Returned)?;
        Ok(Self {
            stage: Stage::Received,
            due_at: Some(now + days(ACCEPT_DAYS)),
            ..self.clone()
        })
    }

    /// 并单 (hotline): a repeat order merged into the one already open.
    pub fn merge(&self) -> Result<Self, Refusal> {
        if !self.hotline {
            return Err(Refusal::NotHotline);
        }
        match self.stage {
            Stage::Received | Stage::Handling | Stage::Returned => Ok(Self {
                stage: Stage::Merged,
                due_at: None,
                ..self.clone()
            }),
            other => Err(Refusal::WrongStage(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_repeat_of_a_final_claim_is_accepted_only_on_new_facts() {
        assert!(may_accept(None, false).is_ok());
        assert_eq!(
            may_accept(Some("XF-1"), false),
            Err(Refusal::RepeatOfFinal("XF-1".into()))
        );
        assert!(may_accept(Some("XF-1"), true).is_ok());
    }

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 1, 2, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn run(case: Result<Case, Refusal>) -> Case {
        match case {
            Ok(c) => c,
            Err(e) => panic!("refused: {e}"),
        }
    }

    #[test]
    fn acceptance_is_due_15_days_after_receipt_and_handling_60_after_acceptance() {
        let c = Case::received(t0(), false);
        assert_eq!(c.due_at, Some(t0() + days(15)));
        assert!(!c.overdue(t0() + days(15)));
        assert!(c.overdue(t0() + days(15) + Duration::seconds(1)));
        let accepted = run(c.accept(t0() + days(3)));
        assert_eq!(accepted.due_at, Some(t0() + days(63)));
    }

    #[test]
    fn handling_extends_once_by_at_most_30_days_with_a_reason() {
        let c = run(Case::received(t0(), false).accept(t0()));
        assert_eq!(c.extend(31, "需要协调"), Err(Refusal::ExtensionTooLong));
        assert_eq!(c.extend(10, "  "), Err(Refusal::NoReason));
        let extended = run(c.extend(30, "涉及多部门，需要协调"));
        assert_eq!(extended.due_at, Some(t0() + days(90)));
        assert_eq!(extended.extend(5, "再延"), Err(Refusal::AlreadyExtended));
    }

    #[test]
    fn review_then_re_review_within_their_windows_then_final() {
        let c = run(Case::received(t0(), false).accept(t0()));
        let replied = run(c.reply(Outcome::NotSupported, t0() + days(40)));
        assert!(matches!(
            replied.appeal(t0() + days(71)),
            Err(Refusal::WindowClosed(_))
        ));
        let review = run(replied.appeal(t0() + days(70)));
        assert_eq!(review.stage, Stage::UnderReview);
        assert_eq!(review.due_at, Some(t0() + days(100)));
        let reviewed = run(review.decide(Outcome::NotSupported, t0() + days(90)));
        let re = run(reviewed.appeal(t0() + days(100)));
        let last = run(re.decide(Outcome::Explained, t0() + days(110)));
        assert_eq!(last.stage, Stage::Final(Outcome::Explained));
        assert!(last.bars_repeat());
        assert!(matches!(
            last.appeal(t0() + days(111)),
            Err(Refusal::WrongStage(_))
        ));
    }

    #[test]
    fn an_unappealed_reply_becomes_final_after_30_days() {
        let c = run(Case::received(t0(), false).accept(t0()));
        let replied = run(c.reply(Outcome::Supported, t0() + days(10)));
        assert_eq!(
            replied.settle(t0() + days(39)).stage,
            Stage::Replied(Outcome::Supported)
        );
        let settled = replied.settle(t0() + days(41));
        assert_eq!(settled.stage, Stage::Final(Outcome::Supported));
        assert!(settled.bars_repeat());
        assert!(!replied.bars_repeat());
    }

    #[test]
    fn steps_out_of_order_are_refused() {
        let c = Case::received(t0(), false);
        assert_eq!(
            c.reply(Outcome::Supported, t0()),
            Err(Refusal::WrongStage(Stage::Received))
        );
        let refused = run(c.refuse(t0()));
        assert_eq!(
            refused.accept(t0()),
            Err(Refusal::WrongStage(Stage::NotAccepted))
        );
        assert_eq!(refused.due_at, None);
    }

    #[test]
    fn hotline_orders_return_reassign_and_merge_petitions_do_not() {
        let order = Case::received(t0(), true);
        let returned = run(order.return_order());
        let again = run(returned.reassign(t0() + days(2)));
        assert_eq!(
            (again.stage, again.due_at),
            (Stage::Received, Some(t0() + days(17)))
        );
        assert_eq!(run(again.merge()).stage, Stage::Merged);
        let petition = Case::received(t0(), false);
        assert_eq!(petition.return_order(), Err(Refusal::NotHotline));
        assert_eq!(petition.merge(), Err(Refusal::NotHotline));
    }
}
