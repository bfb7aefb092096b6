//! The SQLite database is private to the user running the server: a new data folder is
//! 0700, the database file and SQLite's companions 0600.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn a_new_database_and_its_folder_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("data").join("castellan");
    let file = folder.join("castellan.db");
    let url = format!("sqlite://{}", file.display());
    let store = castellan_store::open(&url).await.unwrap();
    // A write, so that the write-ahead log exists.
    store.count_clients().await.unwrap();
    assert_eq!(mode(&folder), 0o700);
    assert_eq!(mode(&dir.path().join("data")), 0o700);
    assert_eq!(mode(&file), 0o600);
    for companion in ["castellan.db-wal", "castellan.db-shm"] {
        let path = folder.join(companion);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{companion}");
        }
    }
}
