//! Status conditions (`meta/v1` `Condition`): find, set with upstream's transition rules, remove.
//!
//! Mirrors `k8s.io/apimachinery/pkg/api/meta` `SetStatusCondition`: `lastTransitionTime` changes
//! only when `status` changes; reason, message and observedGeneration are always updated.

use crate::api::meta::v1::Condition;
use crate::time::Time;

/// Finds the condition of the given type.
pub fn find<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Whether the condition of the given type has status `True`.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    find(conditions, type_).is_some_and(|c| c.status == "True")
}

/// Sets a condition; returns whether anything changed.
///
/// When the type is new or its status changes, `lastTransitionTime` becomes the new
/// condition's own time if set, else `now`.
pub fn set(conditions: &mut Vec<Condition>, mut new: Condition, now: Time) -> bool {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        None => {
            if new.last_transition_time.is_none() {
                new.last_transition_time = Some(now);
            }
            conditions.push(new);
            true
        }
        Some(existing) => {
            let mut changed = false;
            if existing.status != new.status {
                existing.status = new.status;
                existing.last_transition_time = new.last_transition_time.or(Some(now));
                changed = true;
            }
            if existing.reason != new.reason {
                existing.reason = new.reason;
                changed = true;
            }
            if existing.message != new.message {
                existing.message = new.message;
                changed = true;
            }
            if existing.observed_generation != new.observed_generation {
                existing.observed_generation = new.observed_generation;
                changed = true;
            }
            changed
        }
    }
}

/// Removes the condition of the given type; returns whether it was present.
pub fn remove(conditions: &mut Vec<Condition>, type_: &str) -> bool {
    let before = conditions.len();
    conditions.retain(|c| c.type_ != type_);
    before != conditions.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(status: &str, reason: &str) -> Condition {
        Condition {
            type_: "Ready".into(),
            status: status.into(),
            reason: reason.into(),
            ..Condition::default()
        }
    }

    #[test]
    fn transition_time_moves_only_on_status_change() {
        let t1: Time = "2024-01-01T00:00:00Z".parse().unwrap();
        let t2: Time = "2024-01-02T00:00:00Z".parse().unwrap();
        let mut cs = Vec::new();
        assert!(set(&mut cs, cond("False", "Starting"), t1));
        assert_eq!(cs[0].last_transition_time, Some(t1));
        // Same status, new reason: changed, but the transition time stays.
        assert!(set(&mut cs, cond("False", "Pulling"), t2));
        assert_eq!(cs[0].last_transition_time, Some(t1));
        assert_eq!(cs[0].reason, "Pulling");
        // Nothing new: unchanged.
        assert!(!set(&mut cs, cond("False", "Pulling"), t2));
        // Status flips: the transition time moves.
        assert!(set(&mut cs, cond("True", "Ready"), t2));
        assert_eq!(cs[0].last_transition_time, Some(t2));
        assert!(is_true(&cs, "Ready"));
        assert!(find(&cs, "Other").is_none());
        assert!(remove(&mut cs, "Ready"));
        assert!(!remove(&mut cs, "Ready"));
    }
}
