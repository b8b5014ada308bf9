//! Stable-Rust fuzz driver: mutates the seed corpus (examples/, golden/) with the shared
//! structure-aware mutator (tests/fuzzing/) and runs the `bdp` binary on every case:
//! `render CASE` and `diff --rendered OLD NEW`. Invariants: no panic (exit 101), no signal,
//! exit 0/1/2 only, no run over 2 s, exit 0 ⇒ the stream and every embedded file parse with
//! nothing injected, exit 1 ⇒ stdout empty and every error located in the user's file.
//!
//! Plain `cargo test` runs a small deterministic set (seed 1, 24 cases). Knobs (fuzz/README.md):
//! `BDP_FUZZ_SECONDS` (time budget), `BDP_FUZZ_CASES`, `BDP_FUZZ_SEED` (replay: a failure's
//! seed with `BDP_FUZZ_CASES=1`), `BDP_FUZZ_TARGET=render|diff`, `BDP_FUZZ_SLOW_MS` (2000),
//! `BDP_FUZZ_MEM_MB` (2048), `BDP_FUZZ_MINIMIZE_SECONDS` (20). Failures go to
//! `target/fuzz-failures/`.

mod fuzzing;

use arbitrary::Unstructured;
use fuzzing::check::{self, Env, Finding, Stats};
use fuzzing::mutate::{self, Op, Seed};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn env_num(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let r = match v.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16),
        None => v.parse(),
    };
    Some(r.unwrap_or_else(|_| panic!("{name}={v} is not a number")))
}

/// splitmix64: the per-case byte stream the mutator draws its decisions from.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn case_bytes(seed: u64) -> Vec<u8> {
    let mut st = seed;
    (0..1024).flat_map(|_| splitmix(&mut st).to_le_bytes()).collect()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Render,
    Diff,
}

/// One generated case: which seed, and the ops (for diff, `old` is the OLD side's ops).
#[derive(Clone, Debug)]
struct Case {
    seed: u64,
    target: Target,
    base: usize,
    old: Vec<Op>,
    ops: Vec<Op>,
    format: &'static str,
}

struct Harness {
    bin: PathBuf,
    corpus: fuzzing::Corpus,
    work: PathBuf,
    canary: PathBuf,
    slow: Duration,
    kill: Duration,
    mem_kb: u64,
    stats: Stats,
    targets: Vec<Target>,
    last_stderr: String,
}

struct Outcome {
    findings: Vec<Finding>,
    elapsed: Duration,
}

impl Harness {
    fn ctx(&self, rendered: bool) -> mutate::Ctx<'_> {
        mutate::Ctx { dict: &self.corpus.dict, files: &self.corpus.files, settings: &self.corpus.settings, services: &self.corpus.services, canary: self.canary.to_str().unwrap(), rendered }
    }

    fn generate(&self, seed: u64) -> Case {
        let bytes = case_bytes(seed);
        let mut u = Unstructured::new(&bytes);
        let target = *u.choose(&self.targets).unwrap_or(&Target::Render);
        let seeds = self.seeds(target);
        let base = u.choose_index(seeds.len()).unwrap_or(0);
        let cx = self.ctx(target == Target::Diff);
        let old = if target == Target::Diff && u.ratio(1, 3).unwrap_or(false) { mutate::gen_ops(&mut u, &seeds[base], &cx).unwrap_or_default() } else { Vec::new() };
        let ops = mutate::gen_ops(&mut u, &seeds[base], &cx).unwrap_or_default();
        let format = *u.choose(&["text", "json", "markdown"]).unwrap_or(&"text");
        Case { seed, target, base, old, ops, format }
    }

    fn seeds(&self, t: Target) -> &[Seed] {
        match t {
            Target::Render => &self.corpus.inputs,
            Target::Diff => &self.corpus.rendered,
        }
    }

    /// The files of a case, relative to the work directory.
    fn files(&self, c: &Case) -> Vec<(PathBuf, Vec<u8>)> {
        let seed = &self.seeds(c.target)[c.base];
        match c.target {
            Target::Render => vec![(PathBuf::from("case.yaml"), mutate::build(seed, &c.ops))],
            Target::Diff => vec![(PathBuf::from("old.yaml"), mutate::build(seed, &c.old)), (PathBuf::from("new.yaml"), mutate::build(seed, &c.ops))],
        }
    }

    fn run_bdp(&self, args: &[&str]) -> std::io::Result<Option<check::Ran>> {
        // a memory ceiling, so an input that makes bdp allocate without bound aborts instead of
        // taking the machine with it
        let mut cmd = Command::new("bash");
        cmd.arg("-c").arg("ulimit -v \"$0\" && exec \"$@\"").arg(self.mem_kb.to_string()).arg(&self.bin).args(args).current_dir(&self.work);
        check::run_limited(&mut cmd, self.kill)
    }

    fn run(&mut self, c: &Case) -> Outcome {
        let files = self.files(c);
        for (p, b) in &files {
            std::fs::write(self.work.join(p), b).expect("write case");
        }
        let args: Vec<&str> = match c.target {
            Target::Render => vec!["render", "case.yaml"],
            Target::Diff => vec!["diff", "--rendered", "old.yaml", "new.yaml", "--format", c.format],
        };
        let mut out = Vec::new();
        let mut r = self.run_bdp(&args);
        // a slow run is confirmed once, so a busy machine does not make a failure
        if matches!(&r, Ok(Some((_, _, _, el))) if *el > self.slow) {
            self.stats.bump("slow runs re-run");
            r = self.run_bdp(&args);
        }
        let (status, stdout, stderr, elapsed) = match r {
            Ok(Some(x)) => x,
            Ok(None) => {
                return Outcome { findings: vec![Finding::new("time-limit", format!("killed after {} s", self.kill.as_secs()))], elapsed: self.kill };
            }
            Err(e) => panic!("cannot run {}: {e}", self.bin.display()),
        };
        if elapsed > self.slow {
            out.push(Finding::new("time-limit", format!("took {} ms (limit {} ms)", elapsed.as_millis(), self.slow.as_millis())));
        }
        let stderr_s = String::from_utf8_lossy(&stderr).into_owned();
        self.last_stderr = stderr_s.clone();
        let code = status.code();
        let tname = if c.target == Target::Render { "render" } else { "diff" };
        self.stats.counts.entry(Box::leak(format!("{tname} exit {}", code.map_or("signal".into(), |c| c.to_string())).into_boxed_str())).and_modify(|n| *n += 1).or_insert(1);
        let inputs: Vec<(PathBuf, &[u8])> = files.iter().map(|(p, b)| (p.clone(), b.as_slice())).collect();
        let env = Env { work: &self.work, canary: &self.canary };
        match code {
            None => {
                use std::os::unix::process::ExitStatusExt;
                let sig = status.signal().unwrap_or(0);
                let why = stderr_s.lines().find(|l| !l.trim().is_empty()).unwrap_or("").chars().take(100).collect::<String>();
                out.push(Finding::new("no-abort", format!("killed by signal {sig}: {why}")));
            }
            Some(101) => {
                // "thread 'main' (ID) panicked at FILE:LINE:COL:" then the message
                let lines: Vec<&str> = stderr_s.lines().collect();
                let i = lines.iter().position(|l| l.contains(" panicked at ")).unwrap_or(0);
                let at = lines.get(i).and_then(|l| l.split(" panicked at ").nth(1)).unwrap_or("?").trim_end_matches(':');
                let msg: String = lines.get(i + 1).unwrap_or(&"").chars().take(100).collect();
                out.push(Finding::new("no-panic", format!("panic at {at}: {msg}")));
            }
            Some(0) if c.target == Target::Render => {
                if files[0].1.contains(&0) {
                    out.push(Finding::new("nul-refused", "an input with a NUL byte rendered with exit 0"));
                }
                // one case in eight: the same file behind a UTF-8 byte order mark renders the same
                if c.seed.is_multiple_of(8) && !files[0].1.starts_with(b"\xEF\xBB\xBF") {
                    self.stats.bump("render re-run behind a BOM");
                    let mut b = b"\xEF\xBB\xBF".to_vec();
                    b.extend_from_slice(&files[0].1);
                    std::fs::write(self.work.join("bom.yaml"), &b).expect("write case");
                    match self.run_bdp(&["render", "bom.yaml"]) {
                        Ok(Some((st, so, _, _))) if st.code() == Some(0) && so == stdout => {}
                        Ok(Some((st, _, se, _))) => out.push(Finding::new(
                            "bom-accepted",
                            format!("behind a BOM: exit {:?}: {}", st.code(), String::from_utf8_lossy(&se).lines().next().unwrap_or("").replace("bom.yaml", "INPUT")),
                        )),
                        _ => out.push(Finding::new("bom-accepted", "behind a BOM: killed")),
                    }
                }
                let text = String::from_utf8_lossy(&stdout);
                if std::str::from_utf8(&stdout).is_err() {
                    out.push(Finding::new("yaml-parses", "the rendered stream is not UTF-8"));
                }
                out.extend(check::check_stream(&text, &env, &mut self.stats));
            }
            Some(1) if c.target == Target::Render => {
                if !stdout.is_empty() {
                    out.push(Finding::new("no-output-on-error", "exit 1 but objects on stdout"));
                }
                out.extend(check::check_error_locations(&stderr_s, &inputs));
            }
            Some(2) if c.target == Target::Render => self.stats.bump("render exit 2 (usage/internal)"),
            Some(0 | 1) => {
                if c.format == "json" {
                    self.stats.bump("diff json parsed");
                    if let Err(e) = serde_json::from_slice::<serde_json::Value>(&stdout) {
                        out.push(Finding::new("diff-json-parses", format!("diff --format json output does not parse: {e}")));
                    }
                }
            }
            Some(2) => out.extend(check::check_error_locations(&stderr_s, &inputs)),
            Some(n) => out.push(Finding::new("exit-code", format!("exit {n}"))),
        }
        if self.canary.exists() {
            let _ = std::fs::remove_file(&self.canary);
            out.push(Finding::new("canary", "the canary file was created while running bdp"));
        }
        Outcome { findings: out, elapsed }
    }

    /// Drops ops (one at a time, repeatedly) while the case still breaks the same invariant.
    fn minimise(&mut self, c: &Case, sig: &str, budget: Duration) -> Case {
        let t = Instant::now();
        let mut best = c.clone();
        let tn = if c.target == Target::Render { "render" } else { "diff" };
        let still = |h: &mut Harness, cand: &Case| h.run(cand).findings.iter().any(|f| format!("{tn} {}", f.signature()) == sig);
        let mut progress = true;
        while progress && t.elapsed() < budget {
            progress = false;
            for side in [1, 0] {
                let n = if side == 1 { best.ops.len() } else { best.old.len() };
                for i in (0..n).rev() {
                    if t.elapsed() >= budget {
                        break;
                    }
                    let mut cand = best.clone();
                    if side == 1 { cand.ops.remove(i) } else { cand.old.remove(i) };
                    if still(self, &cand) {
                        best = cand;
                        progress = true;
                    }
                }
            }
        }
        best
    }
}

fn describe(c: &Case, seeds: &[Seed]) -> String {
    let mut s = format!("case seed: {}\ntarget: {:?}\nseed file: {}\n", c.seed, c.target, seeds[c.base].name);
    if c.target == Target::Diff {
        s += &format!("format: {}\nOLD ops:\n", c.format);
        c.old.iter().for_each(|o| s += &format!("  - {o}\n"));
        s += "NEW ops:\n";
    } else {
        s += "ops:\n";
    }
    c.ops.iter().for_each(|o| s += &format!("  - {o}\n"));
    s
}

fn slug(s: &str) -> String {
    let mut o: String = s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    while o.contains("--") {
        o = o.replace("--", "-");
    }
    o.trim_matches('-').chars().take(60).collect()
}

#[test]
fn fuzz() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let seconds = env_num("BDP_FUZZ_SECONDS");
    let cases = env_num("BDP_FUZZ_CASES").or(if seconds.is_some() { None } else { Some(24) });
    let run_seed = env_num("BDP_FUZZ_SEED").unwrap_or_else(|| {
        if seconds.is_some() {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(1)
        } else {
            1
        }
    });
    let targets = match std::env::var("BDP_FUZZ_TARGET").as_deref() {
        Ok("render") => vec![Target::Render],
        Ok("diff") => vec![Target::Diff],
        Ok("") | Ok("both") | Err(_) => vec![Target::Render, Target::Render, Target::Diff],
        Ok(t) => panic!("BDP_FUZZ_TARGET={t}: expected render, diff or both"),
    };
    let work = std::env::temp_dir().join(format!("bdp-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let corpus = fuzzing::corpus(&root);
    assert!(!corpus.inputs.is_empty() && !corpus.rendered.is_empty() && !corpus.files.is_empty() && !corpus.settings.is_empty(), "empty seed corpus");
    let canary = work.join("CANARY");
    let mut h = Harness {
        bin: PathBuf::from(env!("CARGO_BIN_EXE_bdp")),
        corpus,
        canary,
        work: work.clone(),
        // the 2 s limit is for an optimised build; a debug build is about 10x slower
        slow: Duration::from_millis(env_num("BDP_FUZZ_SLOW_MS").unwrap_or(if cfg!(debug_assertions) { 10_000 } else { 2000 })),
        kill: Duration::from_secs(env_num("BDP_FUZZ_KILL_SECONDS").unwrap_or(6)),
        mem_kb: env_num("BDP_FUZZ_MEM_MB").unwrap_or(2048) * 1024,
        stats: Stats::default(),
        targets,
        last_stderr: String::new(),
    };
    // the harness must be able to check what it claims: bash sources env files
    let bash = Command::new("bash").args(["-c", "exit 0"]).status();
    assert!(bash.is_ok_and(|s| s.success()), "bash is needed to source env files and is not runnable");
    println!(
        "fuzz: seed {run_seed} (replay one case with BDP_FUZZ_SEED=<case seed> BDP_FUZZ_CASES=1), {} input seeds, {} rendered seeds, budget {}",
        h.corpus.inputs.len(),
        h.corpus.rendered.len(),
        match (seconds, cases) {
            (Some(s), Some(n)) => format!("{s} s or {n} cases"),
            (Some(s), None) => format!("{s} s"),
            (None, Some(n)) => format!("{n} cases"),
            (None, None) => unreachable!(),
        }
    );
    let verbose = std::env::var_os("BDP_FUZZ_VERBOSE").is_some();
    let minimise_budget = Duration::from_secs(env_num("BDP_FUZZ_MINIMIZE_SECONDS").unwrap_or(20));
    let fail_dir = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target")).join("fuzz-failures");
    let start = Instant::now();
    let deadline = seconds.map(|s| start + Duration::from_secs(s));
    // signature → (count, first case (minimised), finding, file)
    let mut distinct: BTreeMap<String, (u64, Case, Finding, PathBuf)> = BTreeMap::new();
    let (mut passed, mut failed) = (0u64, 0u64);
    let mut slowest = (Duration::ZERO, 0u64);
    let mut i = 0u64;
    loop {
        if cases.is_some_and(|n| i >= n) || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let seed = run_seed.wrapping_add(i);
        i += 1;
        let case = h.generate(seed);
        let o = h.run(&case);
        if verbose {
            println!("case {seed}: {:?} {} -> {} ms {:?}\n{}", case.target, h.seeds(case.target)[case.base].name, o.elapsed.as_millis(), o.findings, describe(&case, h.seeds(case.target)));
            println!("  stderr: {}", h.last_stderr.lines().take(3).collect::<Vec<_>>().join("\n          "));
        }
        if o.elapsed > slowest.0 {
            slowest = (o.elapsed, seed);
        }
        if o.findings.is_empty() {
            passed += 1;
            continue;
        }
        failed += 1;
        let t = if case.target == Target::Render { "render" } else { "diff" };
        let mut sigs: Vec<(String, Finding)> = o.findings.iter().map(|f| (format!("{t} {}", f.signature()), f.clone())).collect();
        sigs.dedup_by(|a, b| a.0 == b.0);
        for (sig, f) in sigs {
            if let Some(e) = distinct.get_mut(&sig) {
                e.0 += 1;
                continue;
            }
            // minimising stays within the time budget
            let budget = deadline.map_or(minimise_budget, |d| minimise_budget.min(d.saturating_duration_since(Instant::now())));
            let min = h.minimise(&case, &sig, budget);
            std::fs::create_dir_all(&fail_dir).unwrap();
            let stem = format!("{}-{seed:016x}", slug(&sig));
            for (p, b) in h.files(&min) {
                std::fs::write(fail_dir.join(format!("{stem}.{}", p.display())), b).unwrap();
            }
            let report = format!(
                "invariant: {}\ndetail: {}\nsignature: {sig}\nreplay (unminimised): BDP_FUZZ_SEED={seed} BDP_FUZZ_CASES=1 cargo test --test fuzz -- --nocapture fuzz\nminimised input: next to this file\n{}",
                f.invariant,
                f.detail,
                describe(&min, h.seeds(min.target))
            );
            let txt = fail_dir.join(format!("{stem}.txt"));
            std::fs::write(&txt, &report).unwrap();
            println!("fuzz: NEW FAILURE [{}] {}\n  case seed {seed}, written to {}", f.invariant, f.detail, txt.display());
            distinct.insert(sig, (1, min, f, txt));
        }
    }
    let _ = std::fs::remove_dir_all(&work);
    println!("fuzz: {i} cases in {:.1} s, slowest run {} ms (case seed {})", start.elapsed().as_secs_f64(), slowest.0.as_millis(), slowest.1);
    for (k, v) in &h.stats.counts {
        println!("fuzz:   {k}: {v}");
    }
    if !distinct.is_empty() {
        println!("fuzz: {} distinct failure(s):", distinct.len());
        for (sig, (n, min, f, txt)) in &distinct {
            println!("--- [{}] x{n}: {}\n    {sig}\n    minimised ({}), in {}:", f.invariant, f.detail, h.seeds(min.target)[min.base].name, txt.display());
            for o in min.old.iter().map(|o| format!("OLD {o}")).chain(min.ops.iter().map(|o| o.to_string())) {
                println!("      {}", o.chars().take(200).collect::<String>());
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    assert!(distinct.is_empty(), "{} distinct fuzz failure(s) in {failed} case(s); see above and {}", distinct.len(), fail_dir.display());
}


/// The checkers catch each kind of breakage the issue reports, and pass what bdp renders today
/// from the examples: a checker that cannot fail would make the fuzzer useless.
#[test]
fn checkers_fail_bad_and_pass_good() {
    let work = std::env::temp_dir().join(format!("bdp-fuzz-selftest-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let canary = work.join("CANARY");
    let env = Env { work: &work, canary: &canary };
    let c = canary.display().to_string();
    let inv = |f: Vec<Finding>| f.iter().map(|f| f.invariant).collect::<Vec<_>>();
    // shell: a value that runs a command, one that defines another variable, one that breaks quoting
    assert_eq!(inv(check::check_env(&format!("export ZK_SERVER_HEAP=\"512$(touch {c})\"\n"), &env)), ["env-canary"]);
    assert_eq!(inv(check::check_env("export A=\"x\"\nFZKEY=1\n", &env)), ["env-no-injection"]);
    assert_eq!(inv(check::check_env("export A=\"x\n", &env)), ["env-sources"]);
    assert!(check::check_env(&format!("export A='512$(touch {c})'\nexport B='x\nFZKEY=1'\n"), &env).is_empty());
    assert!(!canary.exists());
    // XML: a raw control character, a reference to one, an injected property
    assert_eq!(inv(check::check_xml("<configuration><property><name>a</name><value>a\u{1}b</value></property></configuration>")), ["xml-parses"]);
    assert_eq!(inv(check::check_xml("<configuration><value>&#1;</value></configuration>")), ["xml-parses"]);
    assert_eq!(
        inv(check::check_xml("<configuration><property><name>a</name><value>x</value></property><property><name>FZKEY</name><value>1</value></property></configuration>")),
        ["xml-no-injection"]
    );
    assert!(check::check_xml("<?xml version=\"1.0\"?>\n<configuration><property><name>a</name><value>&lt;&#10;</value></property><x/></configuration>\n").is_empty());
    // properties: a lone CR ends a line for java.util.Properties
    assert_eq!(inv(check::check_file("zoo.cfg", "tickTime=x\rFZKEY=1\n", &env, &mut Stats::default())), ["properties-no-injection"]);
    assert!(check::check_file("zoo.cfg", "a=x\\nFZKEY\\=1\nb=\\\n  FZKEY\n", &env, &mut Stats::default()).is_empty());
    // krb5: an injected section, a realm with a blank, a map rendered as a value
    assert_eq!(inv(check::check_profile("[libdefaults]\n default_realm = EVIL.COM\n[FZSECT]\n")), ["krb5-profile"]);
    assert_eq!(inv(check::check_profile("[realms]\n MY REALM = {\n kdc = a\n }\n")), ["krb5-profile"]);
    assert_eq!(inv(check::check_profile("[realms]\n R = {\n kdc = {'a': 'b'}\n }\n")), ["krb5-profile"]);
    assert_eq!(inv(check::check_profile("[libdefaults]\n a = 1\n[libdefaults]\n")), ["krb5-profile"]);
    assert!(check::check_profile("# c\n[libdefaults]\n a = 1\n[realms]\n R = {\n  kdc = h:88\n }\n").is_empty());
    // JAAS: a section left open, a value that breaks its quotes, an entry without `;`
    assert_eq!(inv(check::check_file("jaas.conf", "Server {\n  M required\n  principal=\"a\";\n};\nOther {\n", &env, &mut Stats::default())), ["jaas-config"]);
    assert_eq!(inv(check::check_file("jaas.conf", "Server {\n  M required\n  principal=\"a\"b\";\n};\n", &env, &mut Stats::default())), ["jaas-config"]);
    assert_eq!(inv(check::check_file("jaas.conf", "Server {\n  M required\n  useKeyTab=true\n};\n", &env, &mut Stats::default())), ["jaas-config"]);
    assert!(check::check_file("zk-jaas.conf", "// c\nClient {\n  com.sun.X required\n  keyTab=\"/k\"\n  principal=\"nn/h@R\";\n};\n", &env, &mut Stats::default()).is_empty());
    // the YAML stream: a raw U+2028 and a `name` that is a map
    let mut st = Stats::default();
    assert_eq!(inv(check::check_stream("---\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  A: x\u{2028}y\n", &env, &mut st)), ["yaml-portable"]);
    assert_eq!(inv(check::check_stream("---\nkind: Certificate\nmetadata:\n  name: a\nspec:\n  issuerRef:\n    name: {a: b}\n", &env, &mut st)), ["k8s-types"]);
    // error locations
    let input = [(PathBuf::from("case.yaml"), &b"a: 1\nb: 2\n"[..])];
    assert!(check::check_error_locations("error[E012]: case.yaml:2:4: b: bad\n  hint: x\nbdp: 1 error(s)\n", &input).is_empty());
    for bad in ["error[E012]: case.yaml:0:0: bad\n", "error[E025]: stacks/hadoop-3.3/hdfs.yaml:3:1: bad\n", "error[E099]: bad\n", "error[E012]: case.yaml:9:1: bad\n", "bdp: 1 error(s)\n"] {
        assert_eq!(inv(check::check_error_locations(bad, &input)), ["error-location"], "{bad}");
    }
    // what bdp renders from the examples passes every check
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for s in fuzzing::corpus(&root).rendered {
        let text = std::fs::read_to_string(root.join(&s.name)).unwrap();
        let f = check::check_stream(&text, &env, &mut st);
        assert!(f.is_empty(), "{}: {f:?}", s.name);
    }
    for k in ["xml files parsed", "properties files parsed", "krb5 profiles parsed", "env files sourced by bash", "scripts checked with bash -n"] {
        assert!(st.counts.get(k).is_some_and(|n| *n > 0), "no {k} in the golden streams");
    }
    let _ = std::fs::remove_dir_all(&work);
}

/// The mutator is deterministic, and writing a seed back without ops keeps its meaning.
#[test]
fn mutator_replays_and_round_trips() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = fuzzing::corpus(&root);
    for s in corpus.inputs.iter().chain(&corpus.rendered) {
        let text = std::fs::read_to_string(root.join(&s.name)).unwrap();
        let written = String::from_utf8(mutate::build(s, &[])).unwrap();
        assert_eq!(
            yaml_rust2::YamlLoader::load_from_str(&written).unwrap(),
            yaml_rust2::YamlLoader::load_from_str(&text).unwrap(),
            "{} does not round-trip",
            s.name
        );
    }
    // hostile strings reach bdp as they were chosen
    let hostile = mutate::Node::Str("a\u{1}\u{2028}\"\\\n\r\t\u{feff}\u{85}b".into());
    let doc = mutate::emit_docs(&[mutate::Node::Map(vec![(mutate::Node::Str("k".into()), hostile)])]);
    let back = yaml_rust2::YamlLoader::load_from_str(&doc).unwrap();
    assert_eq!(back[0]["k"].as_str(), Some("a\u{1}\u{2028}\"\\\n\r\t\u{feff}\u{85}b"));
    let cx = mutate::Ctx { dict: &corpus.dict, files: &corpus.files, settings: &corpus.settings, services: &corpus.services, canary: "/nonexistent/CANARY", rendered: false };
    for seed in [1u64, 2, 99] {
        let bytes = case_bytes(seed);
        let a = mutate::gen_ops(&mut Unstructured::new(&bytes), &corpus.inputs[0], &cx).unwrap();
        let b = mutate::gen_ops(&mut Unstructured::new(&bytes), &corpus.inputs[0], &cx).unwrap();
        assert_eq!(a, b);
        assert_eq!(mutate::build(&corpus.inputs[0], &a), mutate::build(&corpus.inputs[0], &b));
    }
}
