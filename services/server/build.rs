//! The release binary carries the console (`web/dist`, embedded by rust-embed): rebuild the
//! server when the console's build output changes, or appears.
fn main() {
    println!("cargo:rerun-if-changed=../../web/dist");
    println!("cargo:rerun-if-changed=build.rs");
}
