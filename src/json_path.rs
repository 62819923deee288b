//! Where in a JSON document a decoding error happened, as a field path
//! (`linux.resources.memory.limit`, `mounts[1].destination`).
//!
//! serde_json reports only a line and column. `serde_path_to_error` gives the path too, but
//! it instantiates every oci-spec `Deserialize` a second time: +230 KB of binary and +300 KiB
//! of peak RSS on every `create`, measured. This scanner runs only after an error: it walks
//! the text to the reported position and names the innermost value holding it.

/// serde_json's message for `error`, decoding `text`, led by the field's path when it is a
/// type error (`linux.resources.memory.limit: invalid type: ...`).
pub fn describe(text: &[u8], error: &serde_json::Error) -> String {
    let path = (error.classify() == serde_json::error::Category::Data).then(|| path_at(text, error.line(), error.column())).flatten();
    match path {
        Some(path) => format!("{path}: {error}"),
        None => error.to_string(),
    }
}

/// Deeper than serde_json's own recursion limit (128): anything deeper failed to decode
/// for that reason, and gets no path rather than a deep recursion here.
const MAX_DEPTH: usize = 160;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// The path of the innermost value of `text` that holds the 1-based `line` and `column`
/// (serde_json's position, the last byte it read). `None` at the top level, or where the
/// text is not well-formed enough to walk.
fn path_at(text: &[u8], line: usize, column: usize) -> Option<String> {
    let target = offset_of(text, line, column)?;
    let mut path = Vec::new();
    match value(text, 0, target, &mut path, 0)? {
        Scan::Found(steps) if !steps.is_empty() => Some(render(&steps)),
        _ => None,
    }
}

/// The byte offset of a 1-based line and column.
fn offset_of(text: &[u8], line: usize, column: usize) -> Option<usize> {
    let line_start = if line <= 1 { 0 } else { text.iter().enumerate().filter(|(_, b)| **b == b'\n').nth(line - 2).map(|(i, _)| i + 1)? };
    (line_start + column).checked_sub(1)
}

fn render(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(key) if out.is_empty() => out.push_str(key),
            Step::Key(key) => {
                out.push('.');
                out.push_str(key);
            }
            Step::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

enum Scan {
    /// The innermost value holding the target, as a path.
    Found(Vec<Step>),
    /// The value ended before the target: the offset just past it.
    End(usize),
}

fn skip_space(text: &[u8], mut at: usize) -> usize {
    while text.get(at).is_some_and(|b| b.is_ascii_whitespace()) {
        at += 1;
    }
    at
}

/// The end (just past the closing quote) of the string starting at `at`, and its raw text.
fn string(text: &[u8], at: usize) -> Option<(usize, String)> {
    let mut i = at + 1;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'"' => return Some((i + 1, String::from_utf8_lossy(&text[at + 1..i]).into_owned())),
            _ => i += 1,
        }
    }
    None
}

/// Walk the value starting at (or after blanks from) `at`.
fn value(text: &[u8], at: usize, target: usize, path: &mut Vec<Step>, depth: usize) -> Option<Scan> {
    if depth > MAX_DEPTH {
        return None;
    }
    let start = skip_space(text, at);
    let end = match *text.get(start)? {
        open @ (b'{' | b'[') => {
            let close = if open == b'{' { b'}' } else { b']' };
            let mut i = skip_space(text, start + 1);
            let mut index = 0;
            if text.get(i) == Some(&close) {
                i += 1;
            } else {
                loop {
                    if open == b'{' {
                        let (after_key, key) = string(text, skip_space(text, i))?;
                        let colon = skip_space(text, after_key);
                        (text.get(colon) == Some(&b':')).then_some(())?;
                        path.push(Step::Key(key));
                        i = colon + 1;
                    } else {
                        path.push(Step::Index(index));
                    }
                    match value(text, i, target, path, depth + 1)? {
                        found @ Scan::Found(_) => return Some(found),
                        Scan::End(after) => i = skip_space(text, after),
                    }
                    path.pop();
                    index += 1;
                    match *text.get(i)? {
                        b',' => i += 1,
                        b if b == close => {
                            i += 1;
                            break;
                        }
                        _ => return None,
                    }
                }
            }
            i
        }
        b'"' => string(text, start)?.0,
        _ => {
            let mut i = start;
            while text.get(i).is_some_and(|b| !b",]} \t\r\n".contains(b)) {
                i += 1;
            }
            i
        }
    };
    // serde_json's position is the last byte it consumed: inside a value it has read, or the
    // byte just before one it only peeked at (a sequence where a string was expected).
    Some(if (start.saturating_sub(1)..end).contains(&target) { Scan::Found(path.clone()) } else { Scan::End(end) })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The path serde_json's own error position leads to.
    fn path_of_error<T: serde::de::DeserializeOwned + std::fmt::Debug>(text: &str) -> Option<String> {
        let error = serde_json::from_str::<T>(text).unwrap_err();
        path_at(text.as_bytes(), error.line(), error.column())
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Limits {
        limit: i64,
        names: Vec<u32>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        name: String,
        memory: Limits,
    }

    #[test]
    fn names_the_field_at_serde_jsons_position() {
        let text = r#"{"name": "a", "memory": {"limit": "1g", "names": []}}"#;
        assert_eq!(path_of_error::<Doc>(text).as_deref(), Some("memory.limit"));
        let text = "{\n  \"name\": \"a\",\n  \"memory\": {\n    \"limit\": 1,\n    \"names\": [1, 2, -3]\n  }\n}";
        assert_eq!(path_of_error::<Doc>(text).as_deref(), Some("memory.names[2]"));
        // A missing field is reported at the end of its object.
        let text = r#"{"name": "a", "memory": {"names": [] }}"#;
        assert_eq!(path_of_error::<Doc>(text).as_deref(), Some("memory"));
        let text = r#"{"name": 7, "memory": {"limit": 1, "names": []}}"#;
        assert_eq!(path_of_error::<Doc>(text).as_deref(), Some("name"));
        // Values serde_json only peeked at before refusing them.
        let text = "{\"name\": [\n \"a\"], \"memory\": {\"limit\": 1, \"names\": []}}";
        assert_eq!(path_of_error::<Doc>(text).as_deref(), Some("name"));
        let text = r#"{"name": "a", "memory": {"limit": 1, "names": [1,"x"]}}"#;
        assert_eq!(path_of_error::<Doc>(text).as_deref(), Some("memory.names[1]"));
        let text = r#"{"name": "a", "memory": {"limit":{}, "names": []}}"#;
        assert_eq!(path_of_error::<Doc>(text).as_deref(), Some("memory.limit"));
    }

    #[test]
    fn top_level_and_broken_text_have_no_path() {
        assert_eq!(path_of_error::<Doc>(r#""doc""#), None);
        assert_eq!(path_of_error::<Doc>("[1]").as_deref(), Some("[0]"));
        assert_eq!(path_at(b"{\"a\": [1, 2", 1, 12), None);
        let deep = "[".repeat(10_000);
        assert_eq!(path_at(deep.as_bytes(), 1, 9_000), None);
        assert_eq!(path_at(b"", 1, 1), None);
        assert_eq!(path_at(b"{}", 7, 1), None);
    }

    #[test]
    fn escaped_quotes_in_keys_and_strings() {
        let text = r#"{"a\"b": {"c": "x\"]y", "d": 5}}"#;
        let at = text.find('5').unwrap() + 1;
        assert_eq!(path_at(text.as_bytes(), 1, at).as_deref(), Some("a\\\"b.d"));
    }
}
