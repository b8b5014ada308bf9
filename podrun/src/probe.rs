//! Probe timing as the kubelet applies it: nothing before initialDelaySeconds, one run every
//! periodSeconds, a run that exceeds timeoutSeconds fails, successThreshold consecutive successes
//! make it pass, failureThreshold consecutive failures make it fail.

use k8s_openapi::api::core::v1::Probe;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    pub initial_delay: Duration,
    pub period: Duration,
    pub timeout: Duration,
    pub success_threshold: u32,
    pub failure_threshold: u32,
}

impl Timing {
    pub fn of(p: &Probe) -> Timing {
        let s = |v: Option<i32>, d: i32| Duration::from_secs(v.unwrap_or(d).max(0) as u64);
        Timing {
            initial_delay: s(p.initial_delay_seconds, 0),
            period: s(p.period_seconds, 10).max(Duration::from_secs(1)),
            timeout: s(p.timeout_seconds, 1).max(Duration::from_secs(1)),
            success_threshold: p.success_threshold.unwrap_or(1).max(1) as u32,
            failure_threshold: p.failure_threshold.unwrap_or(3).max(1) as u32,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    /// No decision yet (before the first result).
    Unknown,
    Pass,
    Fail,
}

#[derive(Debug, Clone)]
pub struct State {
    pub timing: Timing,
    started: Instant,
    last_run: Option<Instant>,
    successes: u32,
    failures: u32,
    pub verdict: Verdict,
}

impl State {
    pub fn new(timing: Timing, container_started: Instant) -> State {
        State {
            timing,
            started: container_started,
            last_run: None,
            successes: 0,
            failures: 0,
            verdict: Verdict::Unknown,
        }
    }
    /// Whether a run is due at `now` (the caller runs one probe at a time).
    pub fn due(&self, now: Instant) -> bool {
        if now < self.started + self.timing.initial_delay {
            return false;
        }
        self.last_run.is_none_or(|l| now >= l + self.timing.period)
    }
    pub fn started_run(&mut self, now: Instant) {
        self.last_run = Some(now);
    }
    pub fn record(&mut self, ok: bool) -> Verdict {
        if ok {
            self.successes += 1;
            self.failures = 0;
            if self.successes >= self.timing.success_threshold {
                self.verdict = Verdict::Pass;
            }
        } else {
            self.failures += 1;
            self.successes = 0;
            if self.failures >= self.timing.failure_threshold {
                self.verdict = Verdict::Fail;
            }
        }
        self.verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(delay: u64, period: u64, succ: u32, fail: u32) -> Timing {
        Timing {
            initial_delay: Duration::from_secs(delay),
            period: Duration::from_secs(period),
            timeout: Duration::from_secs(1),
            success_threshold: succ,
            failure_threshold: fail,
        }
    }

    #[test]
    fn initial_delay_and_period() {
        let t0 = Instant::now();
        let mut s = State::new(t(30, 10, 1, 3), t0);
        assert!(!s.due(t0 + Duration::from_secs(29)));
        assert!(s.due(t0 + Duration::from_secs(30)));
        s.started_run(t0 + Duration::from_secs(30));
        assert!(!s.due(t0 + Duration::from_secs(39)));
        assert!(s.due(t0 + Duration::from_secs(40)));
    }

    #[test]
    fn thresholds_count_consecutive_results() {
        let mut s = State::new(t(0, 1, 2, 3), Instant::now());
        assert_eq!(s.record(true), Verdict::Unknown);
        assert_eq!(s.record(true), Verdict::Pass);
        assert_eq!(s.record(false), Verdict::Pass);
        assert_eq!(s.record(false), Verdict::Pass);
        assert_eq!(
            s.record(true),
            Verdict::Pass,
            "a success resets the failures"
        );
        assert_eq!(s.record(false), Verdict::Pass);
        assert_eq!(s.record(false), Verdict::Pass);
        assert_eq!(s.record(false), Verdict::Fail);
        assert_eq!(
            s.record(true),
            Verdict::Fail,
            "one success is below successThreshold 2"
        );
        assert_eq!(s.record(true), Verdict::Pass);
    }

    #[test]
    fn defaults_are_the_kubelet_defaults() {
        let d = Timing::of(&Probe::default());
        assert_eq!(d, t(0, 10, 1, 3));
    }
}
