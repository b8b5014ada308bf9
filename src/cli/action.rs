//! `bdp action`: a management action of a service rendered as a Kubernetes Job on stdout.

use super::{fail, out};
use crate::Options;
use std::path::PathBuf;

/// `NAME=VALUE` of `--arg`; a word without `=` or with an empty name is a usage error.
fn parse_arg(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("--arg {s:?}: expected NAME=VALUE, e.g. --arg threshold=5")),
    }
}

/// Runs `bdp action`; returns the exit code (0, 1 invalid input or request, 2 usage).
pub fn run(words: &[String], args: &[String], cluster: Option<String>, opts: &Options) -> i32 {
    let [inputs @ .., service, action] = words else {
        return fail("bdp action needs CLUSTER.yaml… SERVICE ACTION, e.g. `bdp action prod.yaml hdfs fsck --arg path=/`");
    };
    if inputs.is_empty() {
        return fail("bdp action needs a Cluster file before SERVICE ACTION, e.g. `bdp action prod.yaml hdfs fsck`");
    }
    let mut parsed = Vec::new();
    for a in args {
        match parse_arg(a) {
            Ok(kv) => parsed.push(kv),
            Err(e) => return fail(e),
        }
    }
    let inputs: Vec<PathBuf> = inputs.iter().map(PathBuf::from).collect();
    let plan = match super::plan_args(&inputs, opts) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let req = crate::action::Request { cluster, service: service.clone(), action: action.clone(), args: parsed };
    match crate::action::render(&plan, &req) {
        Ok(job) => {
            eprintln!(
                "bdp: Job {}/{} (`kubectl create -f FILE`; the same action with the same arguments has the same name: `kubectl delete job -n {} {}` before running it again)",
                job.namespace, job.name, job.namespace, job.name
            );
            out(&crate::emit::stream(&[job]))
        }
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn arg_words_need_a_name_and_an_equals_sign() {
        assert_eq!(super::parse_arg("path=/a=b").unwrap(), ("path".into(), "/a=b".into()));
        assert_eq!(super::parse_arg("path=").unwrap(), ("path".into(), String::new()));
        assert!(super::parse_arg("path").is_err());
        assert!(super::parse_arg("=x").is_err());
    }
}
