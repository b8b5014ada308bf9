//! The StatefulSet controller's decisions, as pure functions of the spec and the observed pods:
//! OrderedReady creates and deletes one pod at a time in ordinal order (scale-down from the highest),
//! each waiting for the others to be Ready; Parallel creates and deletes at once. A RollingUpdate
//! replaces one pod at a time from the highest ordinal down to the partition, only while every pod
//! is Ready; OnDelete replaces nothing.

#[derive(Debug, Clone)]
pub struct Observed {
    pub ordinal: u32,
    pub revision: String,
    pub ready: bool,
    pub terminating: bool,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub replicas: u32,
    pub parallel: bool,
    pub rolling: bool,
    pub partition: u32,
    pub update_revision: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Create(u32),
    Delete(u32),
}

pub fn next(spec: &Spec, pods: &[Observed]) -> Vec<Action> {
    let get = |o: u32| pods.iter().find(|p| p.ordinal == o);
    let mut condemned: Vec<&Observed> = pods
        .iter()
        .filter(|p| p.ordinal >= spec.replicas && !p.terminating)
        .collect();
    condemned.sort_by_key(|p| std::cmp::Reverse(p.ordinal));
    let any_terminating = pods.iter().any(|p| p.terminating);
    let mut acts = Vec::new();
    if spec.parallel {
        acts.extend(
            (0..spec.replicas)
                .filter(|o| get(*o).is_none())
                .map(Action::Create),
        );
        acts.extend(condemned.iter().map(|p| Action::Delete(p.ordinal)));
        if !acts.is_empty() {
            return acts;
        }
    } else {
        for o in 0..spec.replicas {
            match get(o) {
                None => return vec![Action::Create(o)],
                Some(p) if !p.ready || p.terminating => return vec![],
                Some(_) => {}
            }
        }
        if let Some(p) = condemned.first() {
            return if any_terminating {
                vec![]
            } else {
                vec![Action::Delete(p.ordinal)]
            };
        }
    }
    if !spec.rolling || any_terminating {
        return acts;
    }
    let all_ready = (0..spec.replicas).all(|o| get(o).is_some_and(|p| p.ready));
    if !all_ready {
        return acts;
    }
    for o in (spec.partition..spec.replicas).rev() {
        if get(o).is_some_and(|p| p.revision != spec.update_revision) {
            return vec![Action::Delete(o)];
        }
    }
    acts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(replicas: u32, parallel: bool, partition: u32) -> Spec {
        Spec {
            replicas,
            parallel,
            rolling: true,
            partition,
            update_revision: "new".into(),
        }
    }
    fn pod(o: u32, rev: &str, ready: bool) -> Observed {
        Observed {
            ordinal: o,
            revision: rev.into(),
            ready,
            terminating: false,
        }
    }

    #[test]
    fn ordered_ready_creates_one_at_a_time_in_order() {
        assert_eq!(next(&spec(3, false, 0), &[]), [Action::Create(0)]);
        assert_eq!(next(&spec(3, false, 0), &[pod(0, "new", false)]), []);
        assert_eq!(
            next(&spec(3, false, 0), &[pod(0, "new", true)]),
            [Action::Create(1)]
        );
    }

    #[test]
    fn parallel_creates_all_and_scales_down_all() {
        assert_eq!(
            next(&spec(3, true, 0), &[pod(1, "new", false)]),
            [Action::Create(0), Action::Create(2)]
        );
        let pods = [
            pod(0, "new", true),
            pod(1, "new", true),
            pod(2, "new", true),
            pod(3, "new", true),
        ];
        assert_eq!(
            next(&spec(2, true, 0), &pods),
            [Action::Delete(3), Action::Delete(2)]
        );
        assert_eq!(
            next(&spec(2, false, 0), &pods),
            [Action::Delete(3)],
            "OrderedReady: highest first, one at a time"
        );
    }

    #[test]
    fn rolling_update_goes_from_the_highest_ordinal_and_waits_for_ready() {
        let mut pods = vec![
            pod(0, "old", true),
            pod(1, "old", true),
            pod(2, "old", true),
        ];
        assert_eq!(next(&spec(3, true, 0), &pods), [Action::Delete(2)]);
        pods[2] = pod(2, "new", false);
        assert_eq!(
            next(&spec(3, true, 0), &pods),
            [],
            "waits for the updated pod to be Ready"
        );
        pods[2].ready = true;
        assert_eq!(next(&spec(3, true, 0), &pods), [Action::Delete(1)]);
        pods[1].terminating = true;
        assert_eq!(
            next(&spec(3, true, 0), &pods),
            [],
            "waits for the deleted pod to be gone"
        );
    }

    #[test]
    fn partition_and_on_delete_keep_old_pods() {
        let pods = [
            pod(0, "old", true),
            pod(1, "old", true),
            pod(2, "new", true),
        ];
        assert_eq!(next(&spec(3, true, 2), &pods), []);
        assert_eq!(next(&spec(3, true, 1), &pods), [Action::Delete(1)]);
        let mut s = spec(3, true, 0);
        s.rolling = false;
        assert_eq!(next(&s, &pods), []);
    }
}
