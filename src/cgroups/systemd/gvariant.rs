//! The GVariant text form of `org.systemd.property.*` annotation values, as runc reads them
//! (`dbus.ParseVariant`). The forms accepted (docs/systemd.md lists them for users):
//! - `true`, `false`;
//! - integers: untyped (`5`, an int32), or typed by keyword (`byte 1`, `int16 -1`,
//!   `uint16 1`, `int32 1`, `uint32 1`, `int64 1`, `uint64 1`) or by `@` type (`@t 1`,
//!   `@u 1`, `@x -1`, ...); `double 1.5` or an untyped number with a `.`;
//! - strings in single or double quotes, with `\` escaping the next character;
//! - arrays `[a, b]` of one type; an empty one needs its type: `@as []`.

use crate::dbus::{Type, Value};

/// Parse one value.
pub fn parse(text: &str) -> Result<Value, String> {
    let mut parser = Parser { text: text.as_bytes(), position: 0, depth: 0 };
    let value = parser.value(None)?;
    parser.skip_space();
    if parser.position != parser.text.len() {
        return Err(format!("unexpected text after the value at byte {}", parser.position));
    }
    Ok(value)
}

/// A number of seconds (any numeric value) as microseconds, for `...Sec` properties.
pub fn seconds_to_micros(value: &Value) -> Result<u64, String> {
    let micros = |seconds: f64| -> Result<u64, String> {
        let micros = seconds * 1e6;
        if !(0.0..=u64::MAX as f64).contains(&micros) {
            return Err("seconds out of range".into());
        }
        // Truncation is meant: microseconds are systemd's resolution.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(micros as u64)
    };
    let whole = |n: i128| u64::try_from(n.saturating_mul(1_000_000)).map_err(|_| "seconds out of range".to_string());
    match value {
        Value::Byte(n) => whole(i128::from(*n)),
        Value::I16(n) => whole(i128::from(*n)),
        Value::U16(n) => whole(i128::from(*n)),
        Value::I32(n) => whole(i128::from(*n)),
        Value::U32(n) => whole(i128::from(*n)),
        Value::I64(n) => whole(i128::from(*n)),
        Value::U64(n) => whole(i128::from(*n)),
        Value::F64(n) => micros(*n),
        _ => Err("a ...Sec property takes a number of seconds".into()),
    }
}

struct Parser<'a> {
    text: &'a [u8],
    position: usize,
    depth: usize,
}

/// D-Bus nests arrays 32 deep at most; anything deeper is refused before it costs stack.
const MAX_DEPTH: usize = 32;

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.text.get(self.position).is_some_and(u8::is_ascii_whitespace) {
            self.position += 1;
        }
    }

    fn word(&mut self) -> &str {
        let start = self.position;
        while self.text.get(self.position).is_some_and(|b| b.is_ascii_alphanumeric() || b"+-._".contains(b)) {
            self.position += 1;
        }
        // Only ASCII bytes were taken.
        std::str::from_utf8(&self.text[start..self.position]).unwrap_or_default()
    }

    /// A value, of type `expected` when one is imposed (an `@` prefix or an array's first
    /// element).
    fn value(&mut self, expected: Option<&Type>) -> Result<Value, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("nested too deeply".into());
        }
        let value = self.value_at_depth(expected);
        self.depth -= 1;
        value
    }

    fn value_at_depth(&mut self, expected: Option<&Type>) -> Result<Value, String> {
        self.skip_space();
        match self.text.get(self.position) {
            None => Err("missing value".into()),
            Some(b'@') => {
                self.position += 1;
                let start = self.position;
                while self.text.get(self.position).is_some_and(|b| !b.is_ascii_whitespace() && *b != b'[') {
                    self.position += 1;
                }
                let signature = std::str::from_utf8(&self.text[start..self.position]).map_err(|_| "bad type")?;
                let ty = Type::parse_single(signature).map_err(|e| e.to_string())?;
                self.value(Some(&ty))
            }
            Some(b'\'' | b'"') => {
                check(expected, &Type::Str)?;
                self.string()
            }
            Some(b'[') => self.array(expected),
            Some(_) => {
                let word = self.word().to_string();
                if word.is_empty() {
                    return Err(format!("unexpected character at byte {}", self.position));
                }
                let typed = match word.as_str() {
                    "true" | "false" => return check(expected, &Type::Bool).map(|()| Value::Bool(word == "true")),
                    "byte" => Some(Type::Byte),
                    "int16" => Some(Type::I16),
                    "uint16" => Some(Type::U16),
                    "int32" => Some(Type::I32),
                    "uint32" => Some(Type::U32),
                    "int64" => Some(Type::I64),
                    "uint64" => Some(Type::U64),
                    "double" => Some(Type::F64),
                    "boolean" => Some(Type::Bool),
                    _ => None,
                };
                match typed {
                    Some(ty) => {
                        check(expected, &ty)?;
                        self.value(Some(&ty))
                    }
                    None => number(&word, expected),
                }
            }
        }
    }

    fn string(&mut self) -> Result<Value, String> {
        let quote = self.text[self.position];
        self.position += 1;
        let mut out = Vec::new();
        loop {
            match self.text.get(self.position) {
                None => return Err("unterminated string".into()),
                Some(b'\\') => {
                    let escaped = *self.text.get(self.position + 1).ok_or("unterminated string")?;
                    out.push(escaped);
                    self.position += 2;
                }
                Some(b) if *b == quote => {
                    self.position += 1;
                    return String::from_utf8(out).map(Value::Str).map_err(|_| "string is not UTF-8".into());
                }
                Some(b) => {
                    out.push(*b);
                    self.position += 1;
                }
            }
        }
    }

    fn array(&mut self, expected: Option<&Type>) -> Result<Value, String> {
        let element = match expected {
            Some(Type::Array(element)) => Some((**element).clone()),
            Some(other) => return Err(format!("an array where a {other} was expected")),
            None => None,
        };
        self.position += 1;
        let mut items = Vec::new();
        let mut element_type = element;
        loop {
            self.skip_space();
            if self.text.get(self.position) == Some(&b']') {
                self.position += 1;
                break;
            }
            if !items.is_empty() {
                if self.text.get(self.position) != Some(&b',') {
                    return Err(format!("expected , or ] at byte {}", self.position));
                }
                self.position += 1;
            }
            let item = self.value(element_type.as_ref())?;
            element_type.get_or_insert_with(|| item.type_of());
            items.push(item);
        }
        let element_type = element_type.ok_or("an empty array needs its type, as in @as []")?;
        Ok(Value::Array(element_type, items))
    }
}

fn check(expected: Option<&Type>, found: &Type) -> Result<(), String> {
    match expected {
        Some(ty) if ty != found => Err(format!("a {found} where a {ty} was expected")),
        _ => Ok(()),
    }
}

/// A number word, as `expected` or, untyped, an int32 (a double when it has a `.`).
fn number(word: &str, expected: Option<&Type>) -> Result<Value, String> {
    let bad = || format!("{word:?} is not a value");
    let ty = expected.cloned().unwrap_or(if word.contains('.') { Type::F64 } else { Type::I32 });
    Ok(match ty {
        Type::Byte => Value::Byte(word.parse().map_err(|_| bad())?),
        Type::I16 => Value::I16(word.parse().map_err(|_| bad())?),
        Type::U16 => Value::U16(word.parse().map_err(|_| bad())?),
        Type::I32 => Value::I32(word.parse().map_err(|_| bad())?),
        Type::U32 => Value::U32(word.parse().map_err(|_| bad())?),
        Type::I64 => Value::I64(word.parse().map_err(|_| bad())?),
        Type::U64 => Value::U64(word.parse().map_err(|_| bad())?),
        Type::F64 => Value::F64(word.parse().map_err(|_| bad())?),
        Type::Bool => match word {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(bad()),
        },
        other => return Err(format!("{word:?} is not a {other}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_runc_accepts() {
        assert_eq!(parse("true").unwrap(), Value::Bool(true));
        assert_eq!(parse(" 5 ").unwrap(), Value::I32(5));
        assert_eq!(parse("uint64 123").unwrap(), Value::U64(123));
        assert_eq!(parse("@t 123").unwrap(), Value::U64(123));
        assert_eq!(parse("@x -1").unwrap(), Value::I64(-1));
        assert_eq!(parse("2.5").unwrap(), Value::F64(2.5));
        assert_eq!(parse("'a b'").unwrap(), Value::Str("a b".into()));
        assert_eq!(parse(r#""it\"s""#).unwrap(), Value::Str("it\"s".into()));
        assert_eq!(parse("['a', 'b']").unwrap(), Value::string_array(&["a", "b"]));
        assert_eq!(parse("@as []").unwrap(), Value::Array(Type::Str, vec![]));
        assert_eq!(parse("[uint32 1, 2]").unwrap(), Value::Array(Type::U32, vec![Value::U32(1), Value::U32(2)]));
        assert_eq!(parse("@ay [1, 2]").unwrap(), Value::Array(Type::Byte, vec![Value::Byte(1), Value::Byte(2)]));
    }

    #[test]
    fn malformed_values() {
        for bad in ["", "[]", "'open", "uint64", "uint64 -1", "@t 'x'", "[1, 'a']", "1 2", "@q 70000", "bogus", "[1 2]"] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        // Deep nesting is an error, not a stack overflow.
        assert_eq!(parse(&"[".repeat(100_000)).unwrap_err(), "nested too deeply");
        assert_eq!(parse(&"uint64 ".repeat(100)).unwrap_err(), "nested too deeply");
    }

    #[test]
    fn seconds() {
        assert_eq!(seconds_to_micros(&Value::U64(5)).unwrap(), 5_000_000);
        assert_eq!(seconds_to_micros(&Value::F64(0.5)).unwrap(), 500_000);
        assert!(seconds_to_micros(&Value::I32(-1)).is_err());
        assert!(seconds_to_micros(&Value::Str("5".into())).is_err());
    }
}
