//! Rebuilds the crate when a migration is added or changed: the migrations
//! are embedded in the binary (`embed_migrations!`), and cargo does not
//! otherwise look inside those folders.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations/sqlite");
    println!("cargo:rerun-if-changed=../../migrations/postgres");
}
