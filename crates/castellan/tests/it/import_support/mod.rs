//! Auth0 exports made up for the import tests and benchmark: users as Auth0's export job
//! writes them (JSON lines), with bcrypt hashes in both spellings the password-hash export
//! and the bulk-import schema use, and the Authorization Extension's export document.
//! Hashing is slow on purpose, so a handful of hashes (cost 4, made once) are shared.

#![allow(dead_code)]

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

pub const PASSWORDS: [&str; 4] = [
    "old password one",
    "old password two",
    "old password three",
    "old password four",
];

/// One bcrypt hash (cost 4) per password of `PASSWORDS`.
pub fn hashes() -> Vec<String> {
    PASSWORDS
        .iter()
        .map(|p| bcrypt::hash(p, 4).unwrap())
        .collect()
}

pub fn user_id(i: usize) -> String {
    format!(
        "auth0|{:024x}",
        0x5f00_0000_0000_0000_0000_0000u128 + i as u128
    )
}

pub fn email(i: usize) -> String {
    format!("user{i}@example.com")
}

pub fn password(i: usize) -> &'static str {
    PASSWORDS[i % PASSWORDS.len()]
}

/// Every 50th user has no password hash (Auth0 exports none for them); the others have
/// `passwordHash` or `custom_password_hash`, alternately.
pub fn has_hash(i: usize) -> bool {
    i % 50 != 49
}

pub fn user(i: usize, hashes: &[String]) -> Value {
    let mut user = json!({
        "user_id": user_id(i),
        "email": email(i),
        "email_verified": !i.is_multiple_of(3),
        "name": format!("User Number {i}"),
        "nickname": format!("user{i}"),
        "given_name": "User",
        "family_name": format!("Number {i}"),
        "picture": "https://s.gravatar.com/avatar/0.png",
        "created_at": "2021-03-04T05:06:07.890Z",
        "updated_at": "2023-01-02T03:04:05.000Z",
        "last_login": "2024-06-07T08:09:10.000Z",
        "logins_count": i % 17,
        "app_metadata": {"plan": if i.is_multiple_of(2) { "gold" } else { "free" }, "customer": i},
        "user_metadata": {"theme": "dark", "language": "en"},
        "identities": [{"connection": "Username-Password-Authentication", "provider": "auth0",
                        "user_id": user_id(i).trim_start_matches("auth0|"), "isSocial": false}],
    });
    let hash = &hashes[i % hashes.len()];
    if has_hash(i) {
        if i.is_multiple_of(2) {
            user["passwordHash"] = json!(hash);
        } else {
            user["custom_password_hash"] = json!({"algorithm": "bcrypt", "hash": {"value": hash}});
        }
    }
    user
}

/// `count` users as JSON lines.
pub fn write_users(path: &Path, count: usize, hashes: &[String]) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..count {
        serde_json::to_writer(&mut out, &user(i, hashes)).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
}

pub const READ_GUID: &str = "0a6f7e6e-1b1c-4c1d-8e1f-000000000001";
pub const WRITE_GUID: &str = "0a6f7e6e-1b1c-4c1d-8e1f-000000000002";
pub const READER_GUID: &str = "0a6f7e6e-1b1c-4c1d-8e1f-000000000101";
pub const EDITOR_GUID: &str = "0a6f7e6e-1b1c-4c1d-8e1f-000000000102";
pub const EDITORS_GUID: &str = "0a6f7e6e-1b1c-4c1d-8e1f-000000000201";
pub const COMPANY_GUID: &str = "0a6f7e6e-1b1c-4c1d-8e1f-000000000202";

/// The extension's export: `readers` hold the role Reader directly; `editors` are members of
/// the group Editors (nested in Company), whose role Editor grants reading and writing.
/// Both roles' permissions are on the API `api`, so access tokens for it carry them.
pub fn extension_export(api: &str, readers: &[String], editors: &[String]) -> Value {
    json!({
        "configuration": [{"_id": "v1", "groupsInToken": true, "rolesInToken": true, "permissionsInToken": true,
                           "persistGroups": false, "persistRoles": false, "persistPermissions": false,
                           "groupsPassthrough": false, "rolesPassthrough": false, "permissionsPassthrough": false}],
        "groups": [
            {"_id": EDITORS_GUID, "name": "Editors", "description": "Write the reports",
             "members": editors, "roles": [EDITOR_GUID], "nested": [], "mappings": []},
            {"_id": COMPANY_GUID, "name": "Company", "description": "Everyone",
             "members": [], "roles": [], "nested": [EDITORS_GUID], "mappings": []}
        ],
        "roles": [
            {"_id": READER_GUID, "name": "Reader", "description": "Reads reports",
             "applicationType": "resource_server", "applicationId": api,
             "permissions": [READ_GUID], "users": readers},
            {"_id": EDITOR_GUID, "name": "Editor", "description": "Edits reports",
             "applicationType": "resource_server", "applicationId": api,
             "permissions": [READ_GUID, WRITE_GUID], "users": []}
        ],
        "permissions": [
            {"_id": READ_GUID, "name": "read:reports", "description": "Read reports",
             "applicationType": "resource_server", "applicationId": api},
            {"_id": WRITE_GUID, "name": "write:reports", "description": "Write reports",
             "applicationType": "resource_server", "applicationId": api}
        ],
        "applications": [],
        "rules": []
    })
}
