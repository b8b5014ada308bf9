//! Rebuild when the embedded stacks change (include_dir! does not track new files).
fn main() {
    println!("cargo:rerun-if-changed=stacks");
    println!("cargo:rerun-if-changed=schemas");
}
