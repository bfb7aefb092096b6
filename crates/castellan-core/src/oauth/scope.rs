//! Scope strings: space-separated lists (RFC 6749 §3.3).

/// Splits on any run of spaces and drops repeats, keeping the first order.
pub fn parse(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    out
}

/// Requested scopes narrowed to the allowed ones; `Err` names the first that is not allowed.
/// Nothing requested means everything allowed.
pub fn narrow(allowed: &[String], requested: Option<&str>) -> Result<Vec<String>, String> {
    let Some(requested) = requested.map(parse).filter(|r| !r.is_empty()) else {
        return Ok(allowed.to_vec());
    };
    match requested.iter().find(|r| !allowed.contains(r)) {
        Some(missing) => Err(missing.clone()),
        None => Ok(requested),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn narrowing() {
        let allowed = owned(&["a", "b", "c"]);
        assert_eq!(narrow(&allowed, None).unwrap(), allowed);
        assert_eq!(narrow(&allowed, Some("  ")).unwrap(), allowed);
        assert_eq!(
            narrow(&allowed, Some("c  a c")).unwrap(),
            owned(&["c", "a"])
        );
        assert_eq!(narrow(&allowed, Some("a d")).unwrap_err(), "d");
    }
}
