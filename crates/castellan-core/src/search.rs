//! The Lucene subset that Auth0's search strings use (`q` of `/api/v2/users` with
//! `search_engine=v3`, `q`/`search` of `/api/v2/logs`): `field:value`, `field:"quoted value"`,
//! a `*` at the end of a value (prefix) or at its start (suffix), `field:*` (has a value), ranges `field:[a TO b]`
//! (`{}` exclusive, `*` open), `AND`, `OR`, `NOT` and parentheses.
//!
//! Terms must be joined with `AND` or `OR`: Elasticsearch and Lucene disagree on what two
//! terms side by side mean, so Castellan refuses to guess and says so.
//!
//! Parsing yields `Filter<Term>` with the field names as written; each collection turns it
//! into `Filter<Condition<F>>` with its own field enum and typed values (`typed`), which is
//! what the store receives.

use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime};

/// A boolean combination of conditions.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter<T> {
    Term(T),
    And(Vec<Filter<T>>),
    Or(Vec<Filter<T>>),
    Not(Box<Filter<T>>),
}

impl<T> Filter<T> {
    /// Replaces every term by the filter `f` makes of it.
    pub fn try_map<U, E>(
        self,
        f: &mut dyn FnMut(T) -> Result<Filter<U>, E>,
    ) -> Result<Filter<U>, E> {
        let mut all = |parts: Vec<Filter<T>>| {
            parts
                .into_iter()
                .map(|p| p.try_map(&mut *f))
                .collect::<Result<Vec<_>, E>>()
        };
        Ok(match self {
            Filter::Term(t) => return f(t),
            Filter::And(parts) => Filter::And(all(parts)?),
            Filter::Or(parts) => Filter::Or(all(parts)?),
            Filter::Not(inner) => Filter::Not(Box::new(inner.try_map(f)?)),
        })
    }

    /// Both must hold; `None` stands for "no restriction".
    pub fn and(a: Option<Self>, b: Option<Self>) -> Option<Self> {
        match (a, b) {
            (Some(a), Some(b)) => Some(Filter::And(vec![a, b])),
            (a, b) => a.or(b),
        }
    }
}

/// One term as written: `field:value`, or a bare value (`field` is `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub field: Option<String>,
    pub pattern: Pattern,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Range {
        from: Option<String>,
        to: Option<String>,
        inclusive: bool,
    },
    /// `field:*`
    Any,
}

/// A term made typed for one collection's field `F`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition<F> {
    pub field: F,
    pub test: Test,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    Equals(Scalar),
    /// Text starting with this.
    Prefix(String),
    /// Text ending with this.
    Suffix(String),
    Range {
        from: Option<Scalar>,
        to: Option<Scalar>,
        inclusive: bool,
    },
    /// The field has a value.
    Exists,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Text(String),
    Int(i64),
    Bool(bool),
}

/// How a field's values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Exactly, case-sensitively (ids, type codes, metadata values).
    Text,
    /// Case-insensitively: the value is lower-cased and the store compares lower-cased text.
    Folded,
    Int,
    Bool,
    /// Seconds since the epoch, written as a date (`2024-05-01`) or RFC 3339 instant; a
    /// bare date means that whole day (UTC).
    Time,
}

/// A query string that cannot be read; the text says where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SyntaxError(pub String);

impl From<SyntaxError> for crate::Error {
    fn from(e: SyntaxError) -> Self {
        crate::Error::InvalidQuery(e.0)
    }
}

/// Longest query string read; Auth0's own limit is in this region too.
const MAX_QUERY: usize = 2048;
const MAX_DEPTH: usize = 16;

pub fn parse(query: &str) -> Result<Filter<Term>, SyntaxError> {
    if query.len() > MAX_QUERY {
        return Err(SyntaxError(format!(
            "the query is longer than {MAX_QUERY} characters"
        )));
    }
    let tokens = lex(query)?;
    if tokens.is_empty() {
        return Err(SyntaxError("the query is empty".into()));
    }
    let mut parser = Parser {
        tokens,
        at: 0,
        depth: 0,
    };
    let filter = parser.or()?;
    match parser.tokens.get(parser.at) {
        None => Ok(filter),
        Some(Token::Close) => Err(SyntaxError("a ')' has no matching '('".into())),
        Some(_) => Err(SyntaxError(
            "terms must be joined with AND or OR (for example email:\"a@example.com\" AND name:Ada)"
                .into(),
        )),
    }
}

/// Turns a written pattern into a test on a field of kind `kind`.
pub fn typed(field: &str, kind: Kind, pattern: Pattern) -> Result<Test, SyntaxError> {
    let scalar = |text: String| -> Result<Scalar, SyntaxError> {
        match kind {
            Kind::Text => Ok(Scalar::Text(text)),
            Kind::Folded => Ok(Scalar::Text(text.to_lowercase())),
            Kind::Int => text.parse().map(Scalar::Int).map_err(|_| {
                SyntaxError(format!("{field} takes a whole number, not \"{text}\""))
            }),
            Kind::Bool => match text.as_str() {
                "true" => Ok(Scalar::Bool(true)),
                "false" => Ok(Scalar::Bool(false)),
                _ => Err(SyntaxError(format!(
                    "{field} takes true or false, not \"{text}\""
                ))),
            },
            Kind::Time => instant(&text).map(|(t, _)| Scalar::Int(t)).ok_or_else(|| {
                SyntaxError(format!(
                    "{field} takes a date (2024-05-01) or an instant (2024-05-01T10:00:00Z), not \"{text}\""
                ))
            }),
        }
    };
    match pattern {
        Pattern::Any => Ok(Test::Exists),
        Pattern::Prefix(_) | Pattern::Suffix(_) if !matches!(kind, Kind::Text | Kind::Folded) => {
            Err(SyntaxError(format!(
                "{field} does not take a wildcard; use a range instead"
            )))
        }
        Pattern::Prefix(p) if kind == Kind::Folded => Ok(Test::Prefix(p.to_lowercase())),
        Pattern::Prefix(p) => Ok(Test::Prefix(p)),
        Pattern::Suffix(p) if kind == Kind::Folded => Ok(Test::Suffix(p.to_lowercase())),
        Pattern::Suffix(p) => Ok(Test::Suffix(p)),
        // A bare date is the whole day.
        Pattern::Exact(text) if kind == Kind::Time => match instant(&text) {
            Some((t, true)) => Ok(Test::Range {
                from: Some(Scalar::Int(t)),
                to: Some(Scalar::Int(t + 86_399)),
                inclusive: true,
            }),
            _ => scalar(text).map(Test::Equals),
        },
        Pattern::Exact(text) => scalar(text).map(Test::Equals),
        Pattern::Range {
            from,
            to,
            inclusive,
        } => {
            // A bare date as the upper bound of an inclusive range includes that day.
            let to = match (kind, inclusive, to) {
                (Kind::Time, true, Some(text)) => match instant(&text) {
                    Some((t, true)) => Some(Scalar::Int(t + 86_399)),
                    _ => Some(scalar(text)?),
                },
                (_, _, to) => to.map(scalar).transpose()?,
            };
            Ok(Test::Range {
                from: from.map(scalar).transpose()?,
                to,
                inclusive,
            })
        }
    }
}

/// Seconds since the epoch, and whether the text was a bare date.
fn instant(text: &str) -> Option<(i64, bool)> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some((t.unix_timestamp(), false));
    }
    let mut parts = text.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    let date = Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()?;
    Some((date.midnight().assume_utc().unix_timestamp(), true))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    And,
    Or,
    Not,
    /// `field:` (the name, without the colon).
    Field(String),
    /// A value as written; `quoted` values are taken literally.
    Word {
        text: String,
        quoted: bool,
    },
    Range {
        from: Option<String>,
        to: Option<String>,
        inclusive: bool,
    },
}

const SPECIAL: &[char] = &['(', ')', '"', ':', '[', ']', '{', '}'];

fn lex(query: &str) -> Result<Vec<Token>, SyntaxError> {
    let mut tokens = Vec::new();
    let mut chars = query.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                tokens.push(Token::Open);
            }
            ')' => {
                chars.next();
                tokens.push(Token::Close);
            }
            '"' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        None => return Err(SyntaxError("a quoted value is not closed".into())),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(escaped) => text.push(escaped),
                            None => {
                                return Err(SyntaxError("a quoted value is not closed".into()));
                            }
                        },
                        Some(other) => text.push(other),
                    }
                }
                tokens.push(Token::Word { text, quoted: true });
            }
            '[' | '{' => {
                chars.next();
                let inclusive = c == '[';
                let close = if inclusive { ']' } else { '}' };
                let mut body = String::new();
                loop {
                    match chars.next() {
                        None => {
                            return Err(SyntaxError(format!(
                                "a range is not closed with '{close}'"
                            )));
                        }
                        Some(end) if end == close => break,
                        Some(other) => body.push(other),
                    }
                }
                let words: Vec<&str> = body.split_whitespace().collect();
                let [from, "TO", to] = words.as_slice() else {
                    return Err(SyntaxError(format!(
                        "a range is written [from TO to], not [{body}]"
                    )));
                };
                let bound = |w: &str| (w != "*").then(|| w.trim_matches('"').to_string());
                tokens.push(Token::Range {
                    from: bound(from),
                    to: bound(to),
                    inclusive,
                });
            }
            ']' | '}' | ':' => {
                return Err(SyntaxError(format!("unexpected '{c}'")));
            }
            _ => {
                let mut text = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || SPECIAL.contains(&c) {
                        break;
                    }
                    chars.next();
                    if c == '\\' {
                        match chars.next() {
                            Some(escaped) => text.push(escaped),
                            None => return Err(SyntaxError("the query ends with '\\'".into())),
                        }
                    } else {
                        text.push(c);
                    }
                }
                if chars.peek() == Some(&':') {
                    chars.next();
                    let valid = !text.is_empty()
                        && text
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || "_.-$".contains(c));
                    if !valid {
                        return Err(SyntaxError(format!("\"{text}\" is not a field name")));
                    }
                    tokens.push(Token::Field(text));
                    continue;
                }
                tokens.push(match text.as_str() {
                    "AND" | "&&" => Token::And,
                    "OR" | "||" => Token::Or,
                    "NOT" => Token::Not,
                    _ => Token::Word {
                        text,
                        quoted: false,
                    },
                });
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn or(&mut self) -> Result<Filter<Term>, SyntaxError> {
        let mut parts = vec![self.and()?];
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Filter<Term>, SyntaxError> {
        let mut parts = vec![self.unary()?];
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::And(parts)
        })
    }

    fn deeper(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(SyntaxError("the query nests too deeply".into()));
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Filter<Term>, SyntaxError> {
        match self.next() {
            // A `NOT` nests as deeply as a parenthesis does, in the parser and in the SQL.
            Some(Token::Not) => {
                self.deeper()?;
                let inner = self.unary()?;
                self.depth -= 1;
                Ok(Filter::Not(Box::new(inner)))
            }
            Some(Token::Open) => {
                self.deeper()?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    _ => Err(SyntaxError("a '(' is not closed".into())),
                }
            }
            Some(Token::Field(field)) => {
                let pattern = match self.next() {
                    Some(Token::Word { text, quoted }) => pattern(&field, text, quoted)?,
                    Some(Token::Range {
                        from,
                        to,
                        inclusive,
                    }) => Pattern::Range {
                        from,
                        to,
                        inclusive,
                    },
                    _ => return Err(SyntaxError(format!("{field}: has no value"))),
                };
                Ok(Filter::Term(Term {
                    field: Some(field),
                    pattern,
                }))
            }
            Some(Token::Word { text, quoted }) => Ok(Filter::Term(Term {
                pattern: pattern("a bare term", text, quoted)?,
                field: None,
            })),
            Some(Token::Range { .. }) => Err(SyntaxError("a range needs a field name".into())),
            Some(Token::And | Token::Or) => {
                Err(SyntaxError("AND and OR need a term on each side".into()))
            }
            Some(Token::Close) => Err(SyntaxError("a ')' has no matching '('".into())),
            None => Err(SyntaxError(
                "the query ends where a term was expected".into(),
            )),
        }
    }
}

fn pattern(field: &str, text: String, quoted: bool) -> Result<Pattern, SyntaxError> {
    if quoted {
        return Ok(Pattern::Exact(text));
    }
    if text == "*" {
        return Ok(Pattern::Any);
    }
    let (stem, pattern): (&str, fn(String) -> Pattern) = if let Some(stem) = text.strip_suffix('*')
    {
        (stem, Pattern::Prefix)
    } else if let Some(stem) = text.strip_prefix('*') {
        (stem, Pattern::Suffix)
    } else {
        (text.as_str(), Pattern::Exact)
    };
    if stem.contains(['*', '?']) {
        return Err(SyntaxError(format!(
            "{field}: a wildcard may only start or end a value, once"
        )));
    }
    Ok(pattern(stem.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(field: &str, pattern: Pattern) -> Filter<Term> {
        Filter::Term(Term {
            field: Some(field.into()),
            pattern,
        })
    }

    #[test]
    fn fields_quotes_prefixes_and_operators() {
        assert_eq!(
            parse(r#"email:"ada@example.com""#).unwrap(),
            term("email", Pattern::Exact("ada@example.com".into()))
        );
        assert_eq!(
            parse("user_id:auth0|abc").unwrap(),
            term("user_id", Pattern::Exact("auth0|abc".into()))
        );
        assert_eq!(
            parse("name:jo* OR (app_metadata.plan:gold AND NOT blocked:true)").unwrap(),
            Filter::Or(vec![
                term("name", Pattern::Prefix("jo".into())),
                Filter::And(vec![
                    term("app_metadata.plan", Pattern::Exact("gold".into())),
                    Filter::Not(Box::new(term("blocked", Pattern::Exact("true".into())))),
                ]),
            ])
        );
        assert_eq!(
            parse("date:[2024-01-01 TO *]").unwrap(),
            term(
                "date",
                Pattern::Range {
                    from: Some("2024-01-01".into()),
                    to: None,
                    inclusive: true
                }
            )
        );
    }

    #[test]
    fn bad_syntax_is_named() {
        for (q, says) in [
            ("email:\"open", "not closed"),
            ("(email:a", "not closed"),
            ("email:a)", "no matching"),
            ("email:", "has no value"),
            ("email:a name:b", "AND or OR"),
            ("email:a AND", "ends where"),
            ("name:a*b*", "wildcard"),
            ("name:*a*", "wildcard"),
            ("date:[1 2]", "[from TO to]"),
            ("", "empty"),
        ] {
            let e = parse(q).unwrap_err();
            assert!(e.0.contains(says), "{q}: {e}");
        }
    }

    #[test]
    fn typed_values() {
        assert_eq!(
            typed("email", Kind::Folded, Pattern::Exact("Ada@X.org".into())).unwrap(),
            Test::Equals(Scalar::Text("ada@x.org".into()))
        );
        assert!(typed("logins_count", Kind::Int, Pattern::Exact("x".into())).is_err());
        assert_eq!(
            typed("date", Kind::Time, Pattern::Exact("1970-01-02".into())).unwrap(),
            Test::Range {
                from: Some(Scalar::Int(86_400)),
                to: Some(Scalar::Int(2 * 86_400 - 1)),
                inclusive: true
            }
        );
        assert_eq!(
            typed(
                "date",
                Kind::Time,
                Pattern::Exact("1970-01-01T00:01:00Z".into())
            )
            .unwrap(),
            Test::Equals(Scalar::Int(60))
        );
    }
}
