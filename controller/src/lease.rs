//! Leader election per Cluster with a coordination.k8s.io/v1 Lease: a replica runs a Cluster's
//! hooks only while it holds `<cluster>-bdp-controller`. Every write carries the Lease's
//! resourceVersion, so two replicas racing for an expired Lease cannot both win (the API
//! server refuses the second with a conflict).

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, ObjectMeta, PostParams};

/// Is a Lease held by `holder` expired at `now`? (pure; unit-tested)
pub fn expired(spec: &LeaseSpec, now: Timestamp) -> bool {
    let Some(renew) = spec.renew_time.as_ref().or(spec.acquire_time.as_ref()) else { return true };
    let dur = spec.lease_duration_seconds.unwrap_or(15) as i64;
    renew.0 + SignedDuration::from_secs(dur) < now
}

/// Takes or renews the Lease `name`; true when `me` holds it afterwards.
pub async fn try_lead(api: &Api<Lease>, name: &str, me: &str, seconds: i32) -> Result<bool, String> {
    let now = Timestamp::now();
    match api.get_opt(name).await.map_err(|e| e.to_string())? {
        None => {
            let l = Lease {
                metadata: ObjectMeta {
                    name: Some(name.to_string()),
                    labels: Some([("app.kubernetes.io/managed-by".to_string(), "bdp-controller".to_string())].into()),
                    ..Default::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(me.to_string()),
                    lease_duration_seconds: Some(seconds),
                    acquire_time: Some(MicroTime(now)),
                    renew_time: Some(MicroTime(now)),
                    lease_transitions: Some(0),
                    ..Default::default()
                }),
            };
            match api.create(&PostParams::default(), &l).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e.to_string()),
            }
        }
        Some(mut l) => {
            let spec = l.spec.get_or_insert_with(Default::default);
            let mine = spec.holder_identity.as_deref() == Some(me);
            let free = spec.holder_identity.as_deref().unwrap_or("").is_empty() || expired(spec, now);
            if !mine && !free {
                return Ok(false);
            }
            if !mine {
                spec.holder_identity = Some(me.to_string());
                spec.acquire_time = Some(MicroTime(now));
                spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
            }
            spec.lease_duration_seconds = Some(seconds);
            spec.renew_time = Some(MicroTime(now));
            match api.replace(name, &PostParams::default(), &l).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

/// Gives the Lease up (on SIGTERM), so that another replica takes over without waiting for it
/// to expire.
pub async fn release(api: &Api<Lease>, name: &str, me: &str) -> Result<(), String> {
    let Some(mut l) = api.get_opt(name).await.map_err(|e| e.to_string())? else { return Ok(()) };
    let spec = l.spec.get_or_insert_with(Default::default);
    if spec.holder_identity.as_deref() != Some(me) {
        return Ok(());
    }
    spec.holder_identity = None;
    spec.renew_time = None;
    api.replace(name, &PostParams::default(), &l).await.map(|_| ()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_expires_after_its_duration() {
        let t0: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let spec = LeaseSpec { holder_identity: Some("a".into()), lease_duration_seconds: Some(15), renew_time: Some(MicroTime(t0)), ..Default::default() };
        assert!(!expired(&spec, t0 + SignedDuration::from_secs(15)));
        assert!(expired(&spec, t0 + SignedDuration::from_secs(16)));
        assert!(expired(&LeaseSpec::default(), t0), "never renewed: free");
    }
}
