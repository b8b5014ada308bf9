//! Image profiles (podrun/images.yaml, embedded): how an image reference is assembled here.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const IMAGES_YAML: &str = include_str!("../images.yaml");

/// Files named `podrun:P` in a profile, shipped inside the binary.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "images/zookeeper-3.8.4/zkEnv.sh",
        include_str!("../images/zookeeper-3.8.4/zkEnv.sh"),
    ),
    (
        "images/hadoop-3.3.6/hdfs",
        include_str!("../images/hadoop-3.3.6/hdfs"),
    ),
    (
        "images/hadoop-3.3.6/passwd",
        include_str!("../images/hadoop-3.3.6/passwd"),
    ),
    (
        "images/hadoop-3.3.6/group",
        include_str!("../images/hadoop-3.3.6/group"),
    ),
    (
        "images/hbase-2.6.1/hbase",
        include_str!("../images/hbase-2.6.1/hbase"),
    ),
    (
        "images/hbase-2.6.1/passwd",
        include_str!("../images/hbase-2.6.1/passwd"),
    ),
    (
        "images/hbase-2.6.1/group",
        include_str!("../images/hbase-2.6.1/group"),
    ),
    (
        "images/kafka-3.9.1/kafka-run-class.sh",
        include_str!("../images/kafka-3.9.1/kafka-run-class.sh"),
    ),
    (
        "images/kafka-3.9.1/tools-log4j.properties",
        include_str!("../images/kafka-3.9.1/tools-log4j.properties"),
    ),
    (
        "images/hive-4.0.1/hive",
        include_str!("../images/hive-4.0.1/hive"),
    ),
    (
        "images/hive-4.0.1/passwd",
        include_str!("../images/hive-4.0.1/passwd"),
    ),
    (
        "images/hive-4.0.1/group",
        include_str!("../images/hive-4.0.1/group"),
    ),
];

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    pub real: String,
    pub jvm: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<u32>,
    pub group: Option<u32>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub dirs: Vec<String>,
    #[serde(default)]
    pub files: Vec<FileSrc>,
    #[serde(default)]
    pub differences: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSrc {
    pub path: String,
    pub from: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    images: BTreeMap<String, Profile>,
}

pub fn load(text: &str) -> Result<BTreeMap<String, Profile>, String> {
    let docs =
        yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| format!("images.yaml: {e}"))?;
    let d = docs.first().ok_or("images.yaml: empty")?;
    let v = crate::stream::yaml_to_json(d).map_err(|e| format!("images.yaml: {e}"))?;
    let doc: Doc = serde_json::from_value(v).map_err(|e| format!("images.yaml: {e}"))?;
    Ok(doc.images)
}

pub fn cache_dir() -> PathBuf {
    std::env::var_os("PODRUN_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/bdp-podrun"))
}

/// The host path behind a profile source; `embedded_dir` holds the `podrun:` files.
pub fn resolve_source(from: &str, embedded_dir: &Path) -> Result<PathBuf, String> {
    let p = if let Some(rest) = from.strip_prefix("cache:") {
        cache_dir().join(rest)
    } else if let Some(rest) = from.strip_prefix("host:") {
        PathBuf::from(rest)
    } else if let Some(rest) = from.strip_prefix("podrun:") {
        if !EMBEDDED.iter().any(|(n, _)| *n == rest) {
            return Err(format!("{from}: not a file shipped with podrun"));
        }
        embedded_dir.join(rest)
    } else if from == "java-home:" {
        let java = std::fs::canonicalize("/usr/bin/java")
            .map_err(|e| format!("java-home: /usr/bin/java: {e}"))?;
        java.parent()
            .and_then(Path::parent)
            .ok_or("java-home: no home above the java binary")?
            .to_path_buf()
    } else {
        return Err(format!(
            "{from}: a source is cache:, host:, podrun: or java-home:"
        ));
    };
    if !p.exists() {
        return Err(format!(
            "{from}: {} does not exist (run tests/e2e/podrun/install.sh to fill the cache)",
            p.display()
        ));
    }
    Ok(p)
}

pub fn write_embedded(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    for (name, text) in EMBEDDED {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&p, text)?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_profiles_load_and_name_their_differences() {
        let m = load(IMAGES_YAML).unwrap();
        let zk = &m["zookeeper:3.8.4"];
        assert!(!zk.differences.is_empty());
        assert!(zk.jvm.as_deref().unwrap().contains("17"));
        for f in &zk.files {
            if let Some(rest) = f.from.strip_prefix("podrun:") {
                assert!(
                    EMBEDDED.iter().any(|(n, _)| *n == rest),
                    "{rest} is not embedded"
                );
            }
        }
    }

    #[test]
    fn the_hadoop_profile_maps_bin_hdfs_and_the_image_user() {
        let m = load(IMAGES_YAML).unwrap();
        let h = &m["apache/hadoop:3.3.6"];
        assert_eq!((h.user, h.group), (Some(1000), Some(100)));
        assert!(h.jvm.as_deref().unwrap().contains("8"));
        assert!(h.differences.iter().any(|d| d.contains("Java 8")));
        for p in ["/opt/hadoop/bin/hdfs", "/opt/hadoop/bin/hadoop", "/etc/passwd", "/etc/group"] {
            let f = h.files.iter().find(|f| f.path == p).unwrap_or_else(|| panic!("{p}"));
            let rest = f.from.strip_prefix("podrun:").unwrap();
            assert!(EMBEDDED.iter().any(|(n, _)| *n == rest), "{rest} is not embedded");
        }
        let passwd = EMBEDDED.iter().find(|(n, _)| n.ends_with("hadoop-3.3.6/passwd")).unwrap().1;
        assert!(passwd.lines().any(|l| l.starts_with("hadoop:x:1000:100:")));
    }

    #[test]
    fn the_kafka_profile_binds_its_scripts_and_names_the_jvm_difference() {
        let m = load(IMAGES_YAML).unwrap();
        let k = &m["apache/kafka:3.9.1"];
        assert_eq!((k.user, k.group), (Some(1000), Some(1000)));
        assert!(k.jvm.as_deref().unwrap().contains("21"));
        for p in [
            "/opt/kafka/bin/kafka-server-start.sh",
            "/opt/kafka/bin/kafka-storage.sh",
            "/opt/kafka/bin/kafka-topics.sh",
            "/opt/kafka/config/tools-log4j.properties",
        ] {
            let f = k.files.iter().find(|f| f.path == p).unwrap_or_else(|| panic!("{p}"));
            let rest = f.from.strip_prefix("podrun:").unwrap();
            assert!(EMBEDDED.iter().any(|(n, _)| *n == rest), "{rest} is not embedded");
        }
        // every script name the profile binds is one the launcher knows
        let launcher = EMBEDDED.iter().find(|(n, _)| n.ends_with("kafka-run-class.sh")).unwrap().1;
        for f in k.files.iter().filter(|f| f.path.starts_with("/opt/kafka/bin/")) {
            let name = f.path.rsplit('/').next().unwrap();
            assert!(launcher.contains(&format!("  {name})")), "{name} has no case in the launcher");
        }
        assert!(k.differences.iter().any(|d| d.contains("Maven Central")));
    }

    #[test]
    fn the_krb5_profile_names_the_programs_and_the_version_difference() {
        let m = load(IMAGES_YAML).unwrap();
        let k = &m["oci.stackable.tech/sdp/krb5:1.21.1-stackable25.7.0"];
        assert!(k.jvm.is_none());
        for p in [
            "/usr/sbin/krb5kdc",
            "/usr/sbin/kadmind",
            "/usr/sbin/kdb5_util",
            "/usr/bin/kinit",
        ] {
            assert!(k.files.iter().any(|f| f.path == p), "{p} missing");
        }
        assert!(
            k.differences
                .iter()
                .any(|d| d.contains("1.20.1") && d.contains("1.21.1"))
        );
    }

    #[test]
    fn unknown_profile_keys_are_refused() {
        let e = load("images:\n  x:1:\n    real: r\n    colour: red\n").unwrap_err();
        assert!(e.contains("colour"), "{e}");
    }
}
