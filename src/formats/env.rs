//! Shell environment files (`export KEY='value'`), sourced by a POSIX shell.

use super::{collect, Entries, Entry, HEADER};
use std::fmt::Write as _;

/// Is `k` a shell variable name (`[A-Za-z_][A-Za-z0-9_]*`)?
pub fn is_env_name(k: &str) -> bool {
    let mut it = k.chars();
    it.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && it.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A POSIX shell single-quoted word: everything between single quotes is data (no `$`, no
/// backticks, no backslashes are interpreted); an embedded `'` becomes `'\''`.
pub fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

/// Can `key` and `value` be written? The key must be a shell name; no shell variable holds NUL.
pub fn check(key: &str, value: &str) -> Result<(), String> {
    if !is_env_name(key) {
        Err(format!("`{key}` is not a shell variable name"))
    } else if value.contains('\0') {
        Err("contains a NUL character, which a shell variable cannot hold".into())
    } else {
        Ok(())
    }
}

/// `export KEY='value'` lines. A key that is not a shell name cannot be written safely: it is
/// left out (resolve reports it as an error at the user's location before anything is rendered).
pub fn write(entries: &[Entry]) -> String {
    let mut out = format!("# {HEADER}\n");
    for e in entries {
        if check(&e.key, &e.value).is_err() {
            continue;
        }
        let _ = writeln!(out, "export {}={}", e.key, shell_quote(&e.value));
    }
    out
}

/// Shell environment files: `export KEY="value"` or `KEY=value`.
pub fn parse(text: &str) -> Option<Entries> {
    shell_assignments(text).map(|v| collect(v.into_iter().map(|(k, v, _)| (k, v)).collect()))
}

/// `[export] NAME=WORD` statements of a shell environment file (one per line, `#` comments),
/// with the POSIX quoting a shell applies to WORD: `'…'` literal (may span lines), `"…"` with
/// `\` before `"`, `\`, `$`, `` ` `` and newline, and `\` outside quotes. Each item says
/// whether it was exported. Expansions (`$X`) are kept as written: this reads files to compare
/// them, never to evaluate them. `None` when the text is anything else (a command, a pipe or
/// redirection, an unterminated quote): such a file is compared as text.
// Long because: one tokenizer loop over POSIX quoting; its states share the character iterator.
pub(super) fn shell_assignments(text: &str) -> Option<Vec<(String, String, bool)>> {
    let mut out = Vec::new();
    let mut it = text.chars().peekable();
    loop {
        // blank space, empty lines and comments between statements
        while let Some(&c) = it.peek() {
            if c == '#' {
                while it.next_if(|c| *c != '\n').is_some() {}
            } else if c.is_whitespace() {
                it.next();
            } else {
                break;
            }
        }
        if it.peek().is_none() {
            return Some(out);
        }
        let mut name = String::new();
        while let Some(c) = it.next_if(|c| c.is_ascii_alphanumeric() || *c == '_') {
            name.push(c);
        }
        let mut exported = false;
        if name == "export" && it.next_if(|c| *c == ' ' || *c == '\t').is_some() {
            exported = true;
            while it.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
            name.clear();
            while let Some(c) = it.next_if(|c| c.is_ascii_alphanumeric() || *c == '_') {
                name.push(c);
            }
        }
        if !is_env_name(&name) || it.next() != Some('=') {
            return None;
        }
        let mut value = String::new();
        loop {
            match it.peek().copied() {
                None | Some('\n' | ' ' | '\t' | ';') => break,
                Some('\'') => {
                    it.next();
                    loop {
                        match it.next()? {
                            '\'' => break,
                            c => value.push(c),
                        }
                    }
                }
                Some('"') => {
                    it.next();
                    loop {
                        match it.next()? {
                            '"' => break,
                            '\\' => match it.next()? {
                                '\n' => {}
                                c @ ('"' | '\\' | '$' | '`') => value.push(c),
                                c => {
                                    value.push('\\');
                                    value.push(c);
                                }
                            },
                            c => value.push(c),
                        }
                    }
                }
                Some('\\') => {
                    it.next();
                    match it.next()? {
                        '\n' => {}
                        c => value.push(c),
                    }
                }
                Some('(' | ')' | '<' | '>' | '|' | '&') => return None,
                Some(c) => {
                    it.next();
                    value.push(c);
                }
            }
        }
        // the rest of the line may only be blanks or a comment
        while it.next_if(|c| *c == ' ' || *c == '\t').is_some() {}
        match it.peek() {
            None | Some('\n' | '#') => {}
            _ => return None,
        }
        out.push((name, value, exported));
    }
}

