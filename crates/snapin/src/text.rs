//! Text that came from a plugin (or from a file name) made safe to print on
//! one line of the user's terminal.
//!
//! The manifest contract refuses unprintable characters in the texts it
//! holds (see `manifest`), but a plugin also reaches the terminal through
//! what the contract does not hold: its describe's stderr, its log lines,
//! its file's name, a manifest recorded with `--force`. Every such string
//! the host prints goes through [`one_line`].

use std::borrow::Cow;

/// Whether `c` may not appear in text a host prints: control characters
/// (C0, DEL and C1: escape sequences that clear the screen, set the title,
/// write the clipboard, or a `\r` or newline that forges a line) and the
/// format characters that reorder or hide text (bidirectional overrides and
/// isolates, zero-width characters).
pub(crate) fn is_unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}'
        )
}

/// Whether `c` is a character no shell expands, splits on or reads as code
/// (bash, zsh, fish, elvish, PowerShell): letters, digits and
/// `. _ : / = + , @ % -`. A word of only these is the same word typed
/// bare into any of them, which is what shell completion inserts.
pub(crate) fn is_shell_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | ':' | '/' | '=' | '+' | ',' | '@' | '%' | '-')
}

/// `text` with every [`is_unprintable`] character written out as Rust's
/// `{:?}` writes it (as the contract's refusals show a value): `\n`, `\r`
/// and `\t` for those three, `\u{HEX}` for the others (`\u{1b}` for ESC,
/// `\u{202e}` for a right-to-left override), so that it prints as one line
/// that does nothing to the terminal. Backslashes are kept as they are, so
/// applying it twice changes nothing.
pub(crate) fn one_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unprintable) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_unprintable(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` made of lines, each made safe with [`one_line`]: the newlines
/// between lines are kept, for a block the host composed itself (the
/// consent summary, `plugins info`).
pub(crate) fn lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_unprintable(c)) {
        return Cow::Borrowed(text);
    }
    let safe: Vec<Cow<'_, str>> = text.split('\n').map(one_line).collect();
    Cow::Owned(safe.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_drive_nothing_and_stay_on_one_line() {
        let hostile = "ok\u{1b}]52;c;aGk=\u{7}\r\nmycli: error: forged\u{202e}txt\u{9b}2J";
        let safe = one_line(hostile);
        assert_eq!(
            safe,
            "ok\\u{1b}]52;c;aGk=\\u{7}\\r\\nmycli: error: forged\\u{202e}txt\\u{9b}2J"
        );
        assert!(!safe.chars().any(is_unprintable));
        assert_eq!(one_line(&safe), safe, "applying it twice changes nothing");
        assert!(matches!(one_line("plain é ü 漢"), Cow::Borrowed(_)));
    }

    #[test]
    fn lines_keep_their_newlines_only() {
        assert_eq!(lines("a\u{1b}[2J\nb\r\n"), "a\\u{1b}[2J\nb\\r\n");
        assert!(matches!(lines("a\nb\n"), Cow::Borrowed(_)));
    }
}
