//! Segment rules: a small expression language over subscriber fields.
//!
//! ```text
//! status = "active" and (tags contains "beta" or engagement.opens_30d >= 3)
//! signed_up >= 2026-01-01 and not attr.plan in ["free", "trial"]
//! days_since_signup <= 30
//! ```
//!
//! Fields: `status`, `email`, `first_name`, `last_name` (text); `tags` (a list: `contains`,
//! `in`); `signed_up` (a date); `days_since_signup` (a number, from the caller's "today");
//! `engagement.<name>` (a number, 0 when the CRM gives none); `attr.<name>` (any attribute
//! the CRM returns). Operators: `=`, `!=`, `<`, `<=`, `>`, `>=`, `contains`, `in`; `and`,
//! `or`, `not` and parentheses. Text comparisons ignore letter case.

use crate::Subscriber;
use chrono::{Datelike, NaiveDate};
use serde_json::Value;
use std::fmt;

const MAX_CHARS: usize = 2000;
const MAX_DEPTH: usize = 32;
const MAX_LIST: usize = 200;

/// Why a rule does not parse: the 1-based column and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct RuleError {
    pub column: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Text(String),
    Number(f64),
    Date(NaiveDate),
    List(Vec<Lit>),
}

impl fmt::Display for Lit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lit::Text(s) => write!(f, "{s:?}"),
            Lit::Number(n) => write!(f, "{n}"),
            Lit::Date(d) => write!(f, "{d}"),
            Lit::List(l) => {
                let parts: Vec<String> = l.iter().map(ToString::to_string).collect();
                write!(f, "[{}]", parts.join(", "))
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    In,
}

#[derive(Debug, Clone, PartialEq)]
enum Field {
    Text(&'static str),
    Tags,
    SignedUp,
    DaysSinceSignup,
    Engagement(String),
    Attr(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Test(Field, Op, Lit),
}

/// A parsed segment rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    source: String,
    root: Node,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Text(String),
    Number(f64),
    Date(NaiveDate),
    Sym(&'static str),
}

fn err(column: usize, message: impl Into<String>) -> RuleError {
    RuleError {
        column,
        message: message.into(),
    }
}

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, RuleError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '"' || c == '\'' {
            let quote = c;
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => return Err(err(col, "this text has no closing quote")),
                    Some('\\') if chars.get(i + 1).is_some() => {
                        s.push(chars[i + 1]);
                        i += 2;
                    }
                    Some(q) if *q == quote => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        s.push(*ch);
                        i += 1;
                    }
                }
            }
            out.push((col, Tok::Text(s)));
            continue;
        }
        if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_digit() || chars[i] == '.' || chars[i] == '-')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word.len() == 10 && word.as_bytes().get(4) == Some(&b'-') {
                let d = NaiveDate::parse_from_str(&word, "%Y-%m-%d")
                    .map_err(|_| err(col, format!("{word} is not a date (YYYY-MM-DD)")))?;
                out.push((col, Tok::Date(d)));
            } else {
                let n: f64 = word
                    .parse()
                    .map_err(|_| err(col, format!("{word} is not a number")))?;
                out.push((col, Tok::Number(n)));
            }
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            out.push((col, Tok::Word(chars[start..i].iter().collect())));
            continue;
        }
        let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
        let sym = match two.as_str() {
            "!=" => Some("!="),
            "<=" => Some("<="),
            ">=" => Some(">="),
            "==" => Some("="),
            _ => None,
        };
        if let Some(s) = sym {
            out.push((col, Tok::Sym(s)));
            i += 2;
            continue;
        }
        let one = match c {
            '=' => "=",
            '<' => "<",
            '>' => ">",
            '(' => "(",
            ')' => ")",
            '[' => "[",
            ']' => "]",
            ',' => ",",
            other => return Err(err(col, format!("unexpected character {other:?}"))),
        };
        out.push((col, Tok::Sym(one)));
        i += 1;
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn col(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |(c, _)| *c)
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn sym(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(x)) if *x == s)
    }

    fn or(&mut self) -> Result<Node, RuleError> {
        self.joined("or", Self::and, Node::Or)
    }

    fn and(&mut self) -> Result<Node, RuleError> {
        self.joined("and", Self::unary, Node::And)
    }

    /// `operand (keyword operand)*`: a lone operand as it is, several joined by `join`.
    fn joined(
        &mut self,
        keyword: &str,
        operand: fn(&mut Self) -> Result<Node, RuleError>,
        join: fn(Vec<Node>) -> Node,
    ) -> Result<Node, RuleError> {
        let mut parts = vec![operand(self)?];
        while self.keyword(keyword) {
            self.pos += 1;
            parts.push(operand(self)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            join(parts)
        })
    }

    fn unary(&mut self) -> Result<Node, RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(
                self.col(),
                format!("nested more than {MAX_DEPTH} deep"),
            ));
        }
        let node = if self.keyword("not") {
            self.pos += 1;
            Node::Not(Box::new(self.unary()?))
        } else if self.sym("(") {
            let open = self.col();
            self.pos += 1;
            let inner = self.or()?;
            if !self.sym(")") {
                return Err(err(
                    self.col(),
                    format!("expected ) to close the ( at column {open}"),
                ));
            }
            self.pos += 1;
            inner
        } else {
            self.test()?
        };
        self.depth -= 1;
        Ok(node)
    }

    fn field(&mut self) -> Result<Field, RuleError> {
        let col = self.col();
        let Some(Tok::Word(w)) = self.peek().cloned() else {
            return Err(err(
                col,
                "expected a field (status, tags, signed_up, engagement.<name>, attr.<name>, …)",
            ));
        };
        self.pos += 1;
        let lower = w.to_ascii_lowercase();
        let f = match lower.as_str() {
            "status" => Field::Text("status"),
            "email" => Field::Text("email"),
            "first_name" => Field::Text("first_name"),
            "last_name" => Field::Text("last_name"),
            "tags" | "tag" => Field::Tags,
            "signed_up" | "signup_date" | "created_at" => Field::SignedUp,
            "days_since_signup" => Field::DaysSinceSignup,
            _ => match lower.split_once('.') {
                Some(("engagement", name)) if !name.is_empty() => {
                    Field::Engagement(name.to_string())
                }
                Some(("attr" | "attributes", name)) if !name.is_empty() => {
                    Field::Attr(w[w.find('.').map_or(0, |i| i + 1)..].to_string())
                }
                _ => {
                    return Err(err(
                        col,
                        format!(
                            "unknown field {w}; fields: status, email, first_name, last_name, tags, signed_up, days_since_signup, engagement.<name>, attr.<name>"
                        ),
                    ));
                }
            },
        };
        Ok(f)
    }

    fn op(&mut self) -> Result<Op, RuleError> {
        let col = self.col();
        let op = match self.peek() {
            Some(Tok::Sym("=")) => Op::Eq,
            Some(Tok::Sym("!=")) => Op::Ne,
            Some(Tok::Sym("<")) => Op::Lt,
            Some(Tok::Sym("<=")) => Op::Le,
            Some(Tok::Sym(">")) => Op::Gt,
            Some(Tok::Sym(">=")) => Op::Ge,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("contains") => Op::Contains,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => Op::In,
            _ => return Err(err(col, "expected an operator: = != < <= > >= contains in")),
        };
        self.pos += 1;
        Ok(op)
    }

    fn value(&mut self, in_list: bool) -> Result<Lit, RuleError> {
        let col = self.col();
        let v = match self.peek().cloned() {
            Some(Tok::Text(s)) => Lit::Text(s),
            Some(Tok::Number(n)) => Lit::Number(n),
            Some(Tok::Date(d)) => Lit::Date(d),
            Some(Tok::Word(w)) if w == "true" || w == "false" => Lit::Text(w),
            Some(Tok::Sym("[")) if !in_list => {
                self.pos += 1;
                let mut items = Vec::new();
                if !self.sym("]") {
                    loop {
                        items.push(self.value(true)?);
                        if items.len() > MAX_LIST {
                            return Err(err(
                                col,
                                format!("a list holds at most {MAX_LIST} values"),
                            ));
                        }
                        if self.sym(",") {
                            self.pos += 1;
                            continue;
                        }
                        break;
                    }
                }
                if !self.sym("]") {
                    return Err(err(self.col(), "expected , or ] in the list"));
                }
                self.pos += 1;
                return Ok(Lit::List(items));
            }
            Some(Tok::Word(w)) => {
                return Err(err(
                    col,
                    format!("expected a value; put text in quotes: \"{w}\""),
                ));
            }
            _ => {
                return Err(err(
                    col,
                    "expected a value: \"text\", a number, a date (YYYY-MM-DD) or a [list]",
                ));
            }
        };
        self.pos += 1;
        Ok(v)
    }

    fn test(&mut self) -> Result<Node, RuleError> {
        let field_col = self.col();
        let field = self.field()?;
        let op_col = self.col();
        let op = self.op()?;
        let value_col = self.col();
        let value = self.value(false)?;
        check(&field, op, &value, field_col, op_col, value_col)?;
        Ok(Node::Test(field, op, value))
    }
}

/// Rejects comparisons that can never mean anything, at parse time.
fn check(
    field: &Field,
    op: Op,
    value: &Lit,
    _fc: usize,
    oc: usize,
    vc: usize,
) -> Result<(), RuleError> {
    let list = matches!(value, Lit::List(_));
    if op == Op::In && !list {
        return Err(err(vc, "in takes a [list]"));
    }
    if op != Op::In && list {
        return Err(err(oc, "a [list] goes with in"));
    }
    match field {
        Field::Tags => {
            if !matches!(op, Op::Contains | Op::In) {
                return Err(err(
                    oc,
                    "tags is a list: use contains \"tag\" or in [\"a\", \"b\"]",
                ));
            }
        }
        Field::SignedUp => {
            let ok = match value {
                Lit::Date(_) => op != Op::Contains,
                Lit::List(l) => l.iter().all(|v| matches!(v, Lit::Date(_))),
                _ => false,
            };
            if !ok {
                return Err(err(
                    vc,
                    "signed_up compares with a date (YYYY-MM-DD) using = != < <= > >=",
                ));
            }
        }
        Field::DaysSinceSignup | Field::Engagement(_) => {
            let ok = match value {
                Lit::Number(_) => op != Op::Contains,
                Lit::List(l) => l.iter().all(|v| matches!(v, Lit::Number(_))),
                _ => false,
            };
            if !ok {
                return Err(err(vc, "this field is a number: compare it with a number"));
            }
        }
        Field::Text(_) => {
            if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) {
                return Err(err(oc, "text fields take = != contains in"));
            }
        }
        Field::Attr(_) => {}
    }
    Ok(())
}

impl Rule {
    pub fn parse(source: &str) -> Result<Rule, RuleError> {
        let trimmed = source.trim();
        if trimmed.is_empty() {
            return Err(err(1, "the rule is empty"));
        }
        if source.chars().count() > MAX_CHARS {
            return Err(err(
                MAX_CHARS,
                format!("a rule has at most {MAX_CHARS} characters"),
            ));
        }
        let toks = lex(source)?;
        let mut p = Parser {
            toks,
            pos: 0,
            end: source.chars().count() + 1,
            depth: 0,
        };
        let root = p.or()?;
        if p.pos < p.toks.len() {
            return Err(err(p.col(), "expected and, or, or the end of the rule"));
        }
        Ok(Rule {
            source: source.trim().to_string(),
            root,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether `s` belongs to the segment, on the day `today`.
    pub fn matches(&self, s: &Subscriber, today: NaiveDate) -> bool {
        eval(&self.root, s, today)
    }
}

fn eval(n: &Node, s: &Subscriber, today: NaiveDate) -> bool {
    match n {
        Node::And(v) => v.iter().all(|x| eval(x, s, today)),
        Node::Or(v) => v.iter().any(|x| eval(x, s, today)),
        Node::Not(x) => !eval(x, s, today),
        Node::Test(f, op, lit) => test(f, *op, lit, s, today),
    }
}

fn text_of(s: &Subscriber, name: &str) -> Option<String> {
    match name {
        "status" => s.status.clone(),
        "email" => Some(s.email.clone()),
        "first_name" => s.first_name.clone(),
        "last_name" => s.last_name.clone(),
        _ => None,
    }
}

fn cmp_num(a: f64, op: Op, b: f64) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        Op::Contains | Op::In => false,
    }
}

fn cmp_text(a: &str, op: Op, b: &str) -> bool {
    let (a, b) = (a.to_lowercase(), b.to_lowercase());
    match op {
        Op::Eq => a == b,
        Op::Ne => a != b,
        Op::Contains => a.contains(&b),
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        Op::In => false,
    }
}

fn lit_text(l: &Lit) -> String {
    match l {
        Lit::Text(s) => s.clone(),
        other => other.to_string(),
    }
}

fn test(f: &Field, op: Op, lit: &Lit, s: &Subscriber, today: NaiveDate) -> bool {
    let in_list = |one: &dyn Fn(&Lit) -> bool| match lit {
        Lit::List(l) => l.iter().any(one),
        _ => false,
    };
    match f {
        Field::Text(name) => match text_of(s, name) {
            None => op == Op::Ne,
            Some(v) if op == Op::In => in_list(&|x| cmp_text(&v, Op::Eq, &lit_text(x))),
            Some(v) => cmp_text(&v, op, &lit_text(lit)),
        },
        Field::Tags => {
            let has = |t: &str| s.tags.iter().any(|x| x.eq_ignore_ascii_case(t));
            match op {
                Op::Contains => has(&lit_text(lit)),
                Op::In => in_list(&|x| has(&lit_text(x))),
                _ => false,
            }
        }
        Field::SignedUp => {
            let Some(d) = s.signed_up else {
                return op == Op::Ne;
            };
            match lit {
                Lit::Date(b) => {
                    cmp_num(d.num_days_from_ce() as f64, op, b.num_days_from_ce() as f64)
                }
                Lit::List(l) => l.iter().any(|x| matches!(x, Lit::Date(b) if *b == d)),
                _ => false,
            }
        }
        Field::DaysSinceSignup => {
            let Some(d) = s.signed_up else {
                return op == Op::Ne;
            };
            let days = (today - d).num_days() as f64;
            match lit {
                Lit::Number(b) => cmp_num(days, op, *b),
                Lit::List(l) => l.iter().any(|x| matches!(x, Lit::Number(b) if *b == days)),
                _ => false,
            }
        }
        Field::Engagement(name) => {
            let v = s.engagement.get(name).copied().unwrap_or(0.0);
            match lit {
                Lit::Number(b) => cmp_num(v, op, *b),
                Lit::List(l) => l.iter().any(|x| matches!(x, Lit::Number(b) if *b == v)),
                _ => false,
            }
        }
        Field::Attr(name) => {
            let Some(v) = s.attributes.get(name).filter(|v| !v.is_null()) else {
                return op == Op::Ne;
            };
            let one = |l: &Lit, op: Op| match (v, l) {
                (Value::Number(a), Lit::Number(b)) => {
                    a.as_f64().is_some_and(|a| cmp_num(a, op, *b))
                }
                (Value::Array(items), _) if op == Op::Contains => items.iter().any(|i| {
                    i.as_str()
                        .is_some_and(|t| t.eq_ignore_ascii_case(&lit_text(l)))
                }),
                (Value::String(a), _) => cmp_text(a, op, &lit_text(l)),
                (other, _) => cmp_text(&other.to_string(), op, &lit_text(l)),
            };
            match op {
                Op::In => in_list(&|x| one(x, Op::Eq)),
                _ => one(lit, op),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sub(v: Value) -> Subscriber {
        Subscriber::from_json(&v).unwrap_or_default()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default()
    }

    fn yes(rule: &str, s: &Subscriber) -> bool {
        Rule::parse(rule)
            .unwrap_or_else(|e| unreachable!("{rule}: {e}"))
            .matches(s, today())
    }

    #[test]
    fn rules_select_by_every_kind_of_field() {
        let ann = sub(
            json!({"id": "1", "email": "ann@example.com", "first_name": "Ann", "status": "active",
            "tags": ["Beta", "clinician"], "signed_up": "2026-11-20", "engagement": {"opens_30d": 4, "clicks_30d": 1},
            "plan": "pro", "seats": 5}),
        );
        let bob = sub(
            json!({"id": "2", "email": "bob@example.org", "status": "unsubscribed", "tags": [],
            "signed_up": "2025-01-10", "plan": "free"}),
        );
        for (rule, a, b) in [
            (r#"status = "active""#, true, false),
            (r#"status != "active""#, false, true),
            (r#"tags contains "beta""#, true, false),
            (r#"tags in ["vip", "clinician"]"#, true, false),
            ("signed_up >= 2026-01-01", true, false),
            ("days_since_signup <= 30", true, false),
            ("engagement.opens_30d >= 3", true, false),
            ("engagement.opens_30d = 0", false, true),
            (r#"attr.plan in ["free", "trial"]"#, false, true),
            ("attr.seats > 3", true, false),
            (r#"email contains "@example.org""#, false, true),
            (r#"first_name = "ann""#, true, false),
            (r#"first_name != "ann""#, false, true),
            (
                r#"status = "active" and (tags contains "beta" or engagement.clicks_30d > 5)"#,
                true,
                false,
            ),
            (r#"not tags contains "beta""#, false, true),
            (r#"status = 'active' or attr.plan = "free""#, true, true),
        ] {
            assert_eq!((yes(rule, &ann), yes(rule, &bob)), (a, b), "{rule}");
        }
    }

    #[test]
    fn bad_rules_say_where_and_why() {
        for (rule, column, needle) in [
            ("", 1, "empty"),
            ("status = active", 10, "put text in quotes"),
            ("stauts = \"x\"", 1, "unknown field stauts"),
            ("tags = \"beta\"", 6, "tags is a list"),
            ("signed_up > 5", 13, "a date"),
            ("signed_up > 2026-13-01", 13, "not a date"),
            ("engagement.opens_30d > \"lots\"", 24, "a number"),
            ("status = \"a\" and", 17, "expected a field"),
            (
                "(status = \"a\"",
                14,
                "expected ) to close the ( at column 1",
            ),
            ("status = \"a\" status", 14, "expected and, or"),
            ("status = \"unclosed", 10, "no closing quote"),
            ("status ~ \"a\"", 8, "unexpected character"),
            ("status in \"a\"", 11, "in takes a [list]"),
            ("first_name > \"a\"", 12, "text fields"),
        ] {
            let e = Rule::parse(rule)
                .err()
                .unwrap_or_else(|| unreachable!("{rule} parsed"));
            assert_eq!(e.column, column, "{rule}: {e}");
            assert!(e.message.contains(needle), "{rule}: {e}");
        }
        let deep = format!("{}status = \"a\"{}", "(".repeat(40), ")".repeat(40));
        assert!(Rule::parse(&deep).unwrap_err().message.contains("nested"));
        assert!(Rule::parse(&"x".repeat(3000)).is_err());
    }

    #[test]
    fn no_input_panics() {
        for rule in [
            "\"",
            "'",
            "(",
            ")",
            "[",
            "]",
            ",",
            "-",
            "-1",
            "1-",
            "not",
            "not not",
            "tags in [",
            "tags in [\"a\",",
            "é",
            "engagement.",
            "attr.",
            "🫁 = 1",
            "status = \"\\",
        ] {
            let _ = Rule::parse(rule);
        }
    }
}
