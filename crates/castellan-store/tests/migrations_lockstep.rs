//! The SQLite and PostgreSQL migration folders must hold the same versions under the same
//! names, and the binary must embed exactly what the folders hold.

use std::path::Path;

fn folder(backend: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn embedded(list: &[castellan_store::migrations::Embedded]) -> Vec<String> {
    list.iter().map(|m| format!("{}.sql", m.name)).collect()
}

#[test]
fn folders_match_each_other_and_the_embedded_lists() {
    assert_eq!(folder("sqlite"), folder("postgres"));
    assert_eq!(
        folder("sqlite"),
        embedded(castellan_store::migrations::SQLITE)
    );
    assert_eq!(
        folder("postgres"),
        embedded(castellan_store::migrations::POSTGRES)
    );
    for m in castellan_store::migrations::SQLITE {
        let number: i64 = m.name.split('_').next().unwrap().parse().unwrap();
        assert_eq!(number, m.version, "{} has version {}", m.name, m.version);
    }
}
