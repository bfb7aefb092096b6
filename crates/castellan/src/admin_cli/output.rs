//! How results are shown: aligned tables for people, JSON for scripts (`--json`).

use std::io::Write;

use serde_json::Value;

/// Columns padded to their widest cell (in characters), two spaces apart, no trailing blanks.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::new();
        for (cell, width) in cells.zip(&widths) {
            out.push_str(cell);
            out.extend(std::iter::repeat_n(' ', width + 2 - cell.chars().count()));
        }
        out.trim_end().to_string()
    };
    let mut out = line(&mut headers.iter().copied());
    out.push('\n');
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
        out.push('\n');
    }
    out
}

pub fn json(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// A timestamp (seconds) as `2026-11-26 18:15:00Z`, short enough for a column.
pub fn when(seconds: i64) -> String {
    castellan_core::oidc::claims::timestamp(seconds)
        .as_str()
        .map(|t| {
            let t = t.replacen('T', " ", 1);
            match t.split_once('.') {
                Some((head, _)) => format!("{head}Z"),
                None => t,
            }
        })
        .unwrap_or_default()
}

/// Shows a result: `text` for people, `value` as JSON with `--json`.
pub fn show(json_wanted: bool, value: Value, text: impl FnOnce() -> String) {
    let out = if json_wanted {
        format!("{}\n", json(&value))
    } else {
        text()
    };
    // A reader that stopped early (`| head`) closed the pipe; the work is done by then, and
    // `print!` would panic.
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(out.as_bytes())
        .and_then(|()| stdout.flush());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_on_the_widest_cell() {
        let out = table(
            &["ID", "NAME"],
            &[
                vec!["rol_1".into(), "member".into()],
                vec!["r".into(), "éé".into()],
            ],
        );
        assert_eq!(out, "ID     NAME\nrol_1  member\nr      éé\n");
    }

    #[test]
    fn timestamps_are_short() {
        assert_eq!(when(0), "1970-01-01 00:00:00Z");
    }
}
