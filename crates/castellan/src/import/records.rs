//! The records of an export file with the line each starts on. Auth0's export job and its
//! password-hash export write JSON lines (one object per line); the bulk-import schema is
//! one JSON array. A file whose first character is `[` is an array; any other is JSON lines.
//! A line that is not JSON is reported and the next lines are still read; in an array, the
//! first syntax error ends the reading, since what follows cannot be told apart.

use serde_json::Value;

/// One record: the line it starts on, the byte offset where it ends, and the object or
/// why it is not JSON.
pub struct Record {
    pub line: usize,
    pub end: usize,
    pub value: Result<Value, String>,
}

pub fn for_each(text: &str, mut each: impl FnMut(Record)) {
    if text.trim_start().starts_with('[') {
        array(text, &mut each);
    } else {
        lines(text, &mut each);
    }
}

/// serde_json's message without its " at line L column C" (the caller knows the line).
fn message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let cause = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(m, _)| m);
    format!("{cause} (column {})", e.column())
}

fn lines(text: &str, each: &mut impl FnMut(Record)) {
    let mut end = 0;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        end += line.len();
        if line.trim().is_empty() {
            continue;
        }
        each(Record {
            line: index + 1,
            end,
            value: serde_json::from_str(line).map_err(|e| message(&e)),
        });
    }
}

/// Counts lines up to a position, moving forward only, so a large array is read in one pass.
struct Lines<'a> {
    text: &'a str,
    counted: usize,
    line: usize,
}

impl Lines<'_> {
    fn at(&mut self, position: usize) -> usize {
        self.line += self.text.as_bytes()[self.counted..position]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.counted = position;
        self.line
    }
}

fn skip_space(text: &str, position: usize) -> usize {
    position
        + text[position..]
            .bytes()
            .take_while(u8::is_ascii_whitespace)
            .count()
}

fn array(text: &str, each: &mut impl FnMut(Record)) {
    let mut lines = Lines {
        text,
        counted: 0,
        line: 1,
    };
    let stop = |each: &mut dyn FnMut(Record), lines: &mut Lines, position: usize, why: String| {
        each(Record {
            line: lines.at(position),
            end: text.len(),
            value: Err(why),
        })
    };
    // Just after the `[`.
    let mut position = skip_space(text, 0) + 1;
    let mut first = true;
    loop {
        position = skip_space(text, position);
        let rest = &text[position..];
        if rest.starts_with(']') && first {
            position += 1;
            break;
        }
        let start = lines.at(position);
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        match stream.next() {
            Some(Ok(value)) => {
                position += stream.byte_offset();
                each(Record {
                    line: start,
                    end: position,
                    value: Ok(value),
                });
            }
            Some(Err(e)) => {
                let line = start + e.line().saturating_sub(1);
                each(Record {
                    line,
                    end: text.len(),
                    value: Err(message(&e)),
                });
                return;
            }
            None => return stop(each, &mut lines, position, "the array is not closed".into()),
        }
        first = false;
        position = skip_space(text, position);
        match text[position..].chars().next() {
            Some(',') => position += 1,
            Some(']') => {
                position += 1;
                break;
            }
            Some(c) => {
                return stop(
                    each,
                    &mut lines,
                    position,
                    format!("expected ',' or ']' after an entry, found '{c}'"),
                );
            }
            None => return stop(each, &mut lines, position, "the array is not closed".into()),
        }
    }
    let trailing = skip_space(text, position);
    if trailing < text.len() {
        stop(
            each,
            &mut lines,
            trailing,
            "unexpected text after the closing ']'".into(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<(usize, Result<Value, String>)> {
        let mut out = Vec::new();
        for_each(text, |r| out.push((r.line, r.value)));
        out
    }

    #[test]
    fn json_lines_are_numbered_and_a_bad_line_does_not_stop_the_rest() {
        let records = read("{\"a\":1}\n\n{\"a\":2\n{\"a\":3}\r\n");
        assert_eq!(records.len(), 3);
        assert_eq!(records[0], (1, Ok(serde_json::json!({"a": 1}))));
        assert_eq!(records[1].0, 3);
        let e = records[1].1.as_ref().unwrap_err();
        assert!(e.contains("EOF") && e.contains("column"), "{e}");
        assert!(!e.contains("line"), "{e}");
        assert_eq!(records[2], (4, Ok(serde_json::json!({"a": 3}))));
    }

    #[test]
    fn array_entries_carry_the_line_they_start_on() {
        let text = "[\n  {\"a\": 1},\n  {\n    \"a\": 2\n  },\n  {\"a\": 3}\n]\n";
        let lines: Vec<usize> = read(text)
            .into_iter()
            .map(|(l, v)| {
                assert!(v.is_ok());
                l
            })
            .collect();
        assert_eq!(lines, [2, 3, 6]);
        assert!(read("[]").is_empty());
        assert!(read("  [ ]  ").is_empty());
    }

    #[test]
    fn array_syntax_errors_name_their_line_and_stop() {
        let records = read("[\n {\"a\": 1},\n {\"a\": 2,,\n {\"a\": 3}\n]");
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].0, 3);
        for (text, line, expected) in [
            ("[\n{\"a\": 1}\n{\"a\": 2}]", 3, "expected ','"),
            ("[\n{\"a\": 1},\n", 3, "not closed"),
            ("[{\"a\": 1}]\nx", 2, "after the closing"),
            ("[{\"a\": 1},]", 1, "expected value"),
        ] {
            let last = read(text).pop().unwrap();
            assert_eq!(last.0, line, "{text}");
            let e = last.1.unwrap_err();
            assert!(e.contains(expected), "{text}: {e}");
        }
    }
}
