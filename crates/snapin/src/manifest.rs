//! The contract check: is a manifest well formed and built for this host?
//!
//! Run at install on what a plugin describes, and again by the loader on
//! the cached copy, so that a manifest the host cannot turn into clap
//! commands never reaches clap (which would panic on it).

use std::borrow::Cow;
use std::collections::HashSet;

use snapin_protocol::{ArgSpec, Bound, CommandSpec, MANIFEST_FORMAT, Manifest, ValueType};

use crate::text::{is_shell_word_char, is_unprintable};

/// What is wrong with a manifest, with the field it is about.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The `manifest` format number is not one this host reads.
    #[error("manifest format {found} is not supported (this host reads format {MANIFEST_FORMAT})")]
    Format {
        /// The number found.
        found: u32,
    },
    /// Built for another host program.
    #[error("it is built for host '{found}', not '{expected}'")]
    WrongHost {
        /// The `host` field.
        found: String,
        /// This host's namespace.
        expected: String,
    },
    /// A field has a value the contract does not allow.
    #[error("{field} {value:?} is invalid: {why}")]
    Invalid {
        /// Where in the manifest, e.g. `commands[0].args[1].long`.
        field: String,
        /// The offending value.
        value: String,
        /// The rule it breaks.
        why: Cow<'static, str>,
    },
    /// A list, a text or the whole manifest is larger than the contract
    /// allows.
    #[error("{field}: {count} {what}, more than the limit of {limit}")]
    OverLimit {
        /// Where in the manifest, e.g. `commands[0].aliases`, or `manifest`
        /// for the whole.
        field: String,
        /// How many there are.
        count: usize,
        /// Of what: `aliases`, `bytes of text`, ...
        what: &'static str,
        /// The most allowed.
        limit: usize,
    },
}

/// Options and names a plugin may not use because the host owns them.
#[derive(Debug, Clone, Default)]
pub struct Reserved {
    /// Long options (without `--`) of the host's global arguments.
    pub longs: HashSet<String>,
    /// Short options of the host's global arguments.
    pub shorts: HashSet<char>,
    /// Argument names (clap ids) of the host's global arguments: a plugin
    /// arg with the same name would share its value.
    pub names: HashSet<String>,
}

impl Reserved {
    /// The options clap itself adds to every command.
    pub fn clap_defaults() -> Reserved {
        Reserved {
            longs: HashSet::from(["help".to_string()]),
            shorts: HashSet::from(['h']),
            names: HashSet::from(["help".to_string()]),
        }
    }
}

/// The revision of the rules [`validate`] applies, raised whenever it
/// refuses more: start-up lookups are tied to it, so one made under older
/// rules (whose listing `--help` prints without validating again) is
/// rebuilt. 2: texts must be printable. 3: choices are words a shell
/// cannot read as code. 4: caps on counts, nesting and sizes
/// ([`MAX_COMMANDS`] and the others); `api` is not empty. 5: typed values
/// (`type` and `range`, API 1.3): defaults and choices fit the type.
pub const RULES: u32 = 5;

/// Checks `m` against the contract for host namespace `ns`. `reserved`
/// lists the options every command inherits from the host.
pub fn validate(m: &Manifest, ns: &str, reserved: &Reserved) -> Result<(), ManifestError> {
    if m.manifest != MANIFEST_FORMAT {
        return Err(ManifestError::Format { found: m.manifest });
    }
    if m.host != ns {
        return Err(ManifestError::WrongHost {
            found: m.host.clone(),
            expected: ns.to_string(),
        });
    }
    check_caps(m)?;
    check_name("name", &m.name)?;
    if semver::Version::parse(&m.version).is_err() {
        return invalid("version", &m.version, "not a semver version like 1.2.3");
    }
    if m.api.trim().is_empty() {
        return invalid(
            "api",
            &m.api,
            "an empty requirement would accept every API version; write one such as ^1.0",
        );
    }
    if semver::VersionReq::parse(&m.api).is_err() {
        return invalid("api", &m.api, "not a semver requirement like ^1.0");
    }
    if m.commands.is_empty() {
        return invalid("commands", "[]", "a plugin must add at least one command");
    }
    check_commands("commands", &m.commands, reserved)?;
    check_texts(m)?;
    check_completed_values("commands", &m.commands)
}

/// The most commands a manifest may declare, counting every level: a few
/// times what the largest command-line tools have (git, kubectl and cargo
/// each have a few hundred).
pub const MAX_COMMANDS: usize = 1000;

/// The most aliases one command may have.
pub const MAX_ALIASES: usize = 16;

/// The most args (options and positionals) one command may have.
pub const MAX_ARGS: usize = 256;

/// The most choices one arg may have.
pub const MAX_CHOICES: usize = 256;

/// The most levels of commands: a top-level command is level 1, its
/// subcommands level 2 (`mycli tool sub`), and so on.
pub const MAX_DEPTH: usize = 8;

/// The longest any one text of a manifest may be, in bytes (UTF-8): an
/// about, a help line, a default, a choice, an arg's name or long option,
/// the version or the API requirement.
pub const MAX_TEXT: usize = 1024;

/// The largest a manifest may be, in bytes of compact JSON (as the index
/// stores it): half of what describe reads, and far more than a real
/// plugin's.
pub const MAX_MANIFEST_BYTES: usize = 512 * 1024;

/// Checks the caps on the size of a manifest (the `MAX_*` constants), before
/// anything else looks at it, so that no manifest makes the index, the
/// start-up lookup or clap's command tree costly to build or read, and none
/// is nested deeper than the index's JSON decoder accepts once wrapped in an
/// index entry.
fn check_caps(m: &Manifest) -> Result<(), ManifestError> {
    let mut commands = 0;
    check_command_caps("commands", &m.commands, 1, &mut commands)?;
    cap("commands", commands, "commands at all levels", MAX_COMMANDS)?;
    for (field, text) in texts(m) {
        cap(&field, text.len(), "bytes of text", MAX_TEXT)?;
    }
    let mut size = JsonSize(0);
    // Writing to a counter cannot fail, nor can encoding a manifest.
    let _ = serde_json::to_writer(&mut size, m);
    cap("manifest", size.0, "bytes of JSON", MAX_MANIFEST_BYTES)
}

/// [`check_caps`] for the commands listed at `at`, at level `depth`;
/// `commands` counts every command seen.
fn check_command_caps(
    at: &str,
    list: &[CommandSpec],
    depth: usize,
    commands: &mut usize,
) -> Result<(), ManifestError> {
    if !list.is_empty() {
        cap(at, depth, "levels of commands", MAX_DEPTH)?;
    }
    for (i, cmd) in list.iter().enumerate() {
        *commands += 1;
        let here = format!("{at}[{i}]");
        cap(
            &format!("{here}.aliases"),
            cmd.aliases.len(),
            "aliases",
            MAX_ALIASES,
        )?;
        cap(&format!("{here}.args"), cmd.args.len(), "args", MAX_ARGS)?;
        for (j, arg) in cmd.args.iter().enumerate() {
            let choices_at = format!("{here}.args[{j}].choices");
            cap(&choices_at, arg.choices.len(), "choices", MAX_CHOICES)?;
        }
        check_command_caps(
            &format!("{here}.subcommands"),
            &cmd.subcommands,
            depth + 1,
            commands,
        )?;
    }
    Ok(())
}

/// Refuses `count` of `what` at `field` when it is over `limit`.
fn cap(field: &str, count: usize, what: &'static str, limit: usize) -> Result<(), ManifestError> {
    if count <= limit {
        return Ok(());
    }
    Err(ManifestError::OverLimit {
        field: field.to_string(),
        count,
        what,
        limit,
    })
}

/// Counts the bytes written to it.
struct JsonSize(usize);

impl std::io::Write for JsonSize {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every text of the manifest that the host prints (help, listings, the
/// consent prompt, completions) is free of [`is_unprintable`] characters, so
/// that a plugin's words cannot drive the user's terminal. Names, options
/// and versions are already held to narrower patterns.
fn check_texts(m: &Manifest) -> Result<(), ManifestError> {
    match texts(m)
        .into_iter()
        .find(|(_, text)| text.chars().any(is_unprintable))
    {
        Some((field, text)) => invalid(
            &field,
            text,
            "control characters (escape sequences, carriage returns, newlines) and invisible or reordering characters are not allowed in text the host prints",
        ),
        None => Ok(()),
    }
}

/// Every text of `m`, named by its field: what the host prints (help,
/// listings, the consent prompt, completions) and the names, long options,
/// version and API requirement, which narrower patterns also hold.
fn texts(m: &Manifest) -> Vec<(String, &str)> {
    let mut texts: Vec<(String, &str)> = vec![
        ("version".to_string(), &m.version),
        ("api".to_string(), &m.api),
    ];
    if let Some(description) = &m.description {
        texts.push(("description".to_string(), description));
    }
    for (i, dir) in m.capabilities.dirs.iter().enumerate() {
        if let Some(why) = &dir.why {
            texts.push((format!("capabilities.dirs[{i}].why"), why));
        }
    }
    for (i, env) in m.capabilities.env.iter().enumerate() {
        texts.push((format!("capabilities.env[{i}]"), env));
    }
    fn walk<'a>(at: &str, commands: &'a [CommandSpec], texts: &mut Vec<(String, &'a str)>) {
        for (i, cmd) in commands.iter().enumerate() {
            let here = format!("{at}[{i}]");
            if let Some(about) = &cmd.about {
                texts.push((format!("{here}.about"), about));
            }
            for (j, arg) in cmd.args.iter().enumerate() {
                let arg_at = format!("{here}.args[{j}]");
                let fields = [
                    ("name", Some(arg.name.as_str())),
                    ("long", arg.long.as_deref()),
                    ("help", arg.help.as_deref()),
                    ("value_name", arg.value_name.as_deref()),
                    ("default", arg.default.as_deref()),
                ];
                for (field, text) in fields {
                    if let Some(text) = text {
                        texts.push((format!("{arg_at}.{field}"), text));
                    }
                }
                for (k, choice) in arg.choices.iter().enumerate() {
                    texts.push((format!("{arg_at}.choices[{k}]"), choice));
                }
            }
            walk(&format!("{here}.subcommands"), &cmd.subcommands, texts);
        }
    }
    walk("commands", &m.commands, &mut texts);
    texts
}

/// Every choice (the values a shell completes; a default with choices is
/// one of them) is one non-empty word of [`is_shell_word_char`]
/// characters, so that completing it cannot put shell code on the user's
/// command line. The refusal names the arg and the first character that is
/// not allowed.
fn check_completed_values(at: &str, commands: &[CommandSpec]) -> Result<(), ManifestError> {
    for (i, cmd) in commands.iter().enumerate() {
        let here = format!("{at}[{i}]");
        for (j, arg) in cmd.args.iter().enumerate() {
            for (k, choice) in arg.choices.iter().enumerate() {
                let field = format!("{here}.args[{j}].choices[{k}] of arg '{}'", arg.name);
                if choice.is_empty() {
                    return invalid(&field, choice, "a choice is not empty");
                }
                if let Some(c) = choice.chars().find(|c| !is_shell_word_char(*c)) {
                    return invalid(
                        &format!("{field}: {:?}, character", shortened(choice)),
                        &c.to_string(),
                        "a choice may hold only letters, digits and . _ : / = + , @ % - (shell completion inserts it into the command line)",
                    );
                }
            }
        }
        check_completed_values(&format!("{here}.subcommands"), &cmd.subcommands)?;
    }
    Ok(())
}

/// Whether `name` is a valid plugin or command name:
/// `^[a-z][a-z0-9-]{0,63}$`.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 64
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'))
}

fn check_name(field: &str, name: &str) -> Result<(), ManifestError> {
    if is_valid_name(name) {
        Ok(())
    } else {
        invalid(
            field,
            name,
            "names are a lowercase letter then up to 63 of a-z, 0-9 and '-'",
        )
    }
}

fn invalid(
    field: &str,
    value: &str,
    why: impl Into<Cow<'static, str>>,
) -> Result<(), ManifestError> {
    Err(ManifestError::Invalid {
        field: field.to_string(),
        value: shortened(value),
        why: why.into(),
    })
}

/// At most the first 64 characters of `value`, so that a manifest cannot
/// turn a one-line error into a screenful.
fn shortened(value: &str) -> String {
    const KEEP: usize = 64;
    match value.char_indices().nth(KEEP) {
        Some((cut, _)) => format!(
            "{}... ({} characters)",
            &value[..cut],
            value.chars().count()
        ),
        None => value.to_string(),
    }
}

fn check_commands(
    at: &str,
    commands: &[CommandSpec],
    reserved: &Reserved,
) -> Result<(), ManifestError> {
    let mut seen = HashSet::new();
    for (i, cmd) in commands.iter().enumerate() {
        let here = format!("{at}[{i}]");
        check_name(&format!("{here}.name"), &cmd.name)?;
        for (j, alias) in cmd.aliases.iter().enumerate() {
            check_name(&format!("{here}.aliases[{j}]"), alias)?;
        }
        for name in std::iter::once(&cmd.name).chain(&cmd.aliases) {
            if name == "help" || !seen.insert(name.as_str()) {
                return invalid(
                    &format!("{here}.name"),
                    name,
                    "a command name or alias is used twice (or is 'help')",
                );
            }
        }
        check_args(&here, &cmd.args, reserved)?;
        check_commands(&format!("{here}.subcommands"), &cmd.subcommands, reserved)?;
    }
    Ok(())
}

fn check_args(at: &str, args: &[ArgSpec], reserved: &Reserved) -> Result<(), ManifestError> {
    let mut ids = HashSet::new();
    let mut longs = HashSet::new();
    let mut shorts = HashSet::new();
    let mut optional_positional = false;
    let mut multiple_positional = false;
    for (i, arg) in args.iter().enumerate() {
        let here = format!("{at}.args[{i}]");
        let ok_id = !arg.name.is_empty()
            && arg
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok_id {
            return invalid(
                &format!("{here}.name"),
                &arg.name,
                "arg names are letters, digits, '-' and '_'",
            );
        }
        if reserved.names.contains(&arg.name) {
            return invalid(
                &format!("{here}.name"),
                &arg.name,
                "already the name of one of the host's global options",
            );
        }
        if !ids.insert(arg.name.as_str()) {
            return invalid(
                &format!("{here}.name"),
                &arg.name,
                "used twice in one command",
            );
        }
        if let Some(long) = &arg.long {
            let ok = long.len() > 1
                && long.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !long.starts_with('-');
            if !ok {
                return invalid(
                    &format!("{here}.long"),
                    long,
                    "long options are two or more letters, digits or '-', without the leading --",
                );
            }
            if reserved.longs.contains(long) || !longs.insert(long.as_str()) {
                return invalid(
                    &format!("{here}.long"),
                    long,
                    "already used by the host or by another arg of this command",
                );
            }
        }
        if let Some(short) = arg.short {
            if !short.is_ascii_alphanumeric() {
                return invalid(
                    &format!("{here}.short"),
                    &short.to_string(),
                    "short options are one letter or digit",
                );
            }
            if reserved.shorts.contains(&short) || !shorts.insert(short) {
                return invalid(
                    &format!("{here}.short"),
                    &short.to_string(),
                    "already used by the host or by another arg of this command",
                );
            }
        }
        if arg.flag && (arg.default.is_some() || !arg.choices.is_empty() || arg.required) {
            return invalid(
                &format!("{here}.flag"),
                "true",
                "a flag takes no value, so it has no default, choices or required",
            );
        }
        if arg.flag && arg.is_positional() {
            return invalid(
                &format!("{here}.flag"),
                "true",
                "a flag needs a long or short name",
            );
        }
        check_type(&here, arg)?;
        if let Some(default) = &arg.default
            && !arg.choices.is_empty()
            && !arg.choices.contains(default)
        {
            return invalid(
                &format!("{here}.default"),
                default,
                "not one of the arg's choices",
            );
        }
        if arg.is_positional() {
            if multiple_positional {
                return invalid(
                    &format!("{here}.name"),
                    &arg.name,
                    "no positional may follow one that takes multiple values",
                );
            }
            let optional = !arg.required;
            if arg.required && optional_positional {
                return invalid(
                    &format!("{here}.required"),
                    "true",
                    "a required positional cannot follow an optional one",
                );
            }
            optional_positional |= optional;
            multiple_positional |= arg.multiple;
        }
    }
    Ok(())
}

/// The typed-value rules (API 1.3): a `type` is a word; a flag has none;
/// a `range` belongs to an `int` or `number`, its ends are whole for an
/// `int`, and `min` is not above `max`; the `default` and every choice fit
/// the type and range, so that clap never refuses a value the plugin
/// itself offers.
fn check_type(here: &str, arg: &ArgSpec) -> Result<(), ManifestError> {
    let ty = &arg.value_type;
    if let ValueType::Other(word) = ty
        && !is_type_word(word)
    {
        return invalid(
            &format!("{here}.type"),
            word,
            format!(
                "a type is a lowercase word of up to 32 letters, digits and '-', one of {}",
                ValueType::KNOWN.join(", ")
            ),
        );
    }
    if arg.flag && (!ty.is_string() || arg.range.is_some()) {
        let field = if ty.is_string() { "range" } else { "type" };
        return invalid(
            &format!("{here}.{field}"),
            if ty.is_string() { "{..}" } else { ty.as_str() },
            "a flag takes no value, so it has no type or range; remove it or drop \"flag\"",
        );
    }
    if let Some(range) = &arg.range {
        if !ty.is_numeric() {
            return invalid(
                &format!("{here}.range"),
                ty.as_str(),
                "a range applies only to an arg of type \"int\" or \"number\"",
            );
        }
        for (end, bound) in [("min", range.min), ("max", range.max)] {
            if *ty == ValueType::Int
                && let Some(Bound::Float(f)) = bound
            {
                return invalid(
                    &format!("{here}.range.{end}"),
                    &f.to_string(),
                    "the range of an \"int\" arg is bounded by whole numbers within 64 bits",
                );
            }
        }
        if let (Some(min), Some(max)) = (range.min, range.max)
            && bound_gt(min, max)
        {
            return invalid(
                &format!("{here}.range"),
                &format!("{min}..{max}"),
                "min is more than max, so no value would fit; swap them",
            );
        }
    }
    let values = arg
        .default
        .iter()
        .map(|d| (format!("{here}.default"), d))
        .chain(
            arg.choices
                .iter()
                .enumerate()
                .map(|(k, c)| (format!("{here}.choices[{k}]"), c)),
        );
    for (field, value) in values {
        if let Err(why) = crate::values::check(ty, arg.range.as_ref(), value) {
            return invalid(
                &field,
                value,
                format!("it does not fit the arg's type \"{ty}\": {why}"),
            );
        }
    }
    Ok(())
}

/// Whether `word` looks like a type word: `^[a-z][a-z0-9-]{0,31}$`.
pub(crate) fn is_type_word(word: &str) -> bool {
    let mut chars = word.chars();
    matches!(chars.next(), Some('a'..='z'))
        && word.len() <= 32
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'))
}

/// Whether bound `a` is more than bound `b`.
fn bound_gt(a: Bound, b: Bound) -> bool {
    match (a, b) {
        (Bound::Int(a), Bound::Int(b)) => a > b,
        (a, b) => a.as_f64() > b.as_f64(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn greet() -> Manifest {
        serde_json::from_str(
            r#"{"manifest":1,"host":"mycli","name":"greet","version":"0.2.0","api":"^1.0",
                "commands":[{"name":"greet","args":[{"name":"who","long":"who","default":"world"}]}]}"#,
        )
        .unwrap()
    }

    fn check(m: &Manifest) -> Result<(), ManifestError> {
        validate(m, "mycli", &Reserved::clap_defaults())
    }

    /// A choice that a shell would read as code, split or expand is
    /// refused, naming the arg and the character; the words completion is
    /// for pass.
    #[test]
    fn choices_are_words_no_shell_reads_as_code() {
        let with_choice = |choice: &str| {
            let mut m = greet();
            let arg = &mut m.commands[0].args[0];
            arg.default = None;
            arg.choices = vec!["json".to_string(), choice.to_string()];
            check(&m)
        };
        for hostile in [
            "json$(touch pwned)",
            "`id`",
            "a;b",
            "a|b",
            "a&b",
            "a>b",
            "<a",
            "(a)",
            "a\\b",
            "\"a\"",
            "'a'",
            "*",
            "a?",
            "[a]",
            "{a,b}",
            "~",
            "#a",
            "!a",
            "two words",
            "tab\u{3000}wide",
            "$HOME",
        ] {
            let shown = with_choice(hostile).unwrap_err().to_string();
            assert!(
                shown.starts_with("commands[0].args[0].choices[1] of arg 'who': "),
                "{shown}"
            );
            assert!(shown.contains(", character \""), "{shown}");
        }
        assert_eq!(
            with_choice("json$(x)").unwrap_err().to_string(),
            "commands[0].args[0].choices[1] of arg 'who': \"json$(x)\", character \"$\" is invalid: a choice may hold only letters, digits and . _ : / = + , @ % - (shell completion inserts it into the command line)"
        );
        assert!(with_choice("").is_err());
        for fine in ["yaml", "utf-8", "en_GB", "a.b:c/d=e+f,g@h%i", "grüße", "-1"] {
            assert_eq!(with_choice(fine), Ok(()), "{fine}");
        }
    }

    /// `greet` with its one arg given the typed fields of `json`.
    fn typed(json: &str) -> Result<(), ManifestError> {
        let mut m = greet();
        let fields: serde_json::Value = serde_json::from_str(json).unwrap();
        let mut arg = serde_json::to_value(&m.commands[0].args[0]).unwrap();
        arg.as_object_mut().unwrap().remove("default");
        for (k, v) in fields.as_object().unwrap() {
            arg[k] = v.clone();
        }
        m.commands[0].args[0] = serde_json::from_value(arg).unwrap();
        check(&m)
    }

    #[test]
    fn typed_args_with_fitting_defaults_and_choices_pass() {
        for fine in [
            r#"{"type":"string"}"#,
            r#"{"type":"int","default":"3","range":{"min":1,"max":10}}"#,
            r#"{"type":"int","range":{"min":-5}}"#,
            r#"{"type":"int","range":{"max":5}}"#,
            r#"{"type":"int","range":{"min":2,"max":2}}"#,
            r#"{"type":"number","default":"0.5","range":{"min":0,"max":1.5}}"#,
            r#"{"type":"int","choices":["1","2"],"default":"2"}"#,
            r#"{"type":"path","default":"out.txt"}"#,
            r#"{"type":"file"}"#,
            r#"{"type":"dir","default":"/tmp"}"#,
            r#"{"type":"url","default":"https://example.com"}"#,
            // A type word this host does not know reads as `string`.
            r#"{"type":"uuid","default":"anything"}"#,
        ] {
            assert_eq!(typed(fine), Ok(()), "{fine}");
        }
    }

    /// Rule 21: a type is a word.
    #[test]
    fn a_type_that_is_not_a_word_is_refused_naming_the_field() {
        for bad in [r#""Int""#, r#""""#, r#""in t""#, r#""x\u001b[2J""#] {
            let e = typed(&format!(r#"{{"type":{bad}}}"#))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("commands[0].args[0].type "), "{bad}: {e}");
            assert!(
                e.contains("one of string, int, number, path, file, dir, url"),
                "{e}"
            );
            assert!(!e.chars().any(is_unprintable), "{e:?}");
        }
        let long = format!(r#"{{"type":"{}"}}"#, "a".repeat(33));
        assert!(typed(&long).is_err());
    }

    /// Rule 22: a flag has no type and no range.
    #[test]
    fn a_flag_has_no_type_or_range() {
        let e = typed(r#"{"flag":true,"type":"int"}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "commands[0].args[0].type \"int\" is invalid: a flag takes no value, so it has no type or range; remove it or drop \"flag\""
        );
        let e = typed(r#"{"flag":true,"range":{"min":1}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("commands[0].args[0].range "), "{e}");
    }

    /// Rule 23: a range only on int and number, whole for an int, min <= max.
    #[test]
    fn a_range_belongs_to_a_number_and_is_not_empty() {
        for ty in ["string", "path", "url", "uuid"] {
            let e = typed(&format!(r#"{{"type":"{ty}","range":{{"min":1}}}}"#))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("commands[0].args[0].range "), "{e}");
            assert!(
                e.contains("only to an arg of type \"int\" or \"number\""),
                "{e}"
            );
        }
        assert!(
            typed(r#"{"range":{"min":1}}"#).is_err(),
            "untyped is string"
        );
        let e = typed(r#"{"type":"int","range":{"min":0.5}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("commands[0].args[0].range.min \"0.5\""),
            "{e}"
        );
        let e = typed(r#"{"type":"int","range":{"max":1e30}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("commands[0].args[0].range.max "), "{e}");
        let e = typed(r#"{"type":"int","range":{"min":10,"max":1}}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "commands[0].args[0].range \"10..1\" is invalid: min is more than max, so no value would fit; swap them"
        );
        assert!(typed(r#"{"type":"number","range":{"min":1.5,"max":1}}"#).is_err());
    }

    /// Rule 24: the default and every choice fit the type and the range.
    #[test]
    fn defaults_and_choices_fit_the_type() {
        let e = typed(r#"{"type":"int","default":"ten"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("commands[0].args[0].default \"ten\" is invalid: it does not fit the arg's type \"int\": not a whole number"),
            "{e}"
        );
        let e = typed(r#"{"type":"int","default":"0","range":{"min":1}}"#)
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("\"int\": must be at least 1"), "{e}");
        let e = typed(r#"{"type":"number","choices":["1","x"]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("commands[0].args[0].choices[1] \"x\""), "{e}");
        assert!(typed(r#"{"type":"url","default":"example.com"}"#).is_err());
        assert!(typed(r#"{"type":"path","default":""}"#).is_err());
    }

    #[test]
    fn valid_manifest_passes() {
        assert_eq!(check(&greet()), Ok(()));
    }

    /// Every printed text of the manifest, with each kind of character
    /// that drives a terminal or hides text: refused, naming the field, and
    /// the value shown escaped.
    #[test]
    fn text_that_would_drive_the_terminal_is_refused_in_every_field() {
        type Set = fn(&mut Manifest, String);
        let fields: [(&str, Set); 8] = [
            ("description", |m, t| m.description = Some(t)),
            ("commands[0].about", |m, t| m.commands[0].about = Some(t)),
            ("commands[0].args[0].help", |m, t| {
                m.commands[0].args[0].help = Some(t)
            }),
            ("commands[0].args[0].value_name", |m, t| {
                m.commands[0].args[0].value_name = Some(t)
            }),
            ("commands[0].args[0].default", |m, t| {
                m.commands[0].args[0].default = Some(t)
            }),
            ("commands[0].args[0].choices[0]", |m, t| {
                m.commands[0].args[0].default = None;
                m.commands[0].args[0].choices = vec![t];
            }),
            ("capabilities.dirs[0].why", |m, t| {
                m.capabilities.dirs = vec![
                    snapin_protocol::DirRequest::new(snapin_protocol::Access::Read).with_why(t),
                ];
            }),
            ("capabilities.env[0]", |m, t| m.capabilities.env = vec![t]),
        ];
        let hostile = [
            "clear\u{1b}[2J",
            "title\u{1b}]0;pwned\u{7}",
            "clip\u{1b}]52;c;ZWNobyBoaQ==\u{7}",
            "read\rwrite",
            "ok\n  path:     /usr/bin/ls",
            "csi\u{9b}2J",
            "bell\u{7}",
            "del\u{7f}",
            "rtl\u{202e}daer",
            "zero\u{200b}width",
            "isolate\u{2066}x",
        ];
        for (field, set) in fields {
            for text in hostile {
                let mut m = greet();
                set(&mut m, text.to_string());
                match check(&m) {
                    Err(ManifestError::Invalid { field: f, .. }) => {
                        assert_eq!(f, field, "{text:?}");
                        let shown = check(&m).unwrap_err().to_string();
                        assert!(!shown.chars().any(is_unprintable), "{shown:?}");
                    }
                    other => panic!("{field} = {text:?}: {other:?}"),
                }
            }
            // Printable text of any script passes (a choice is one word).
            let mut m = greet();
            let printable = if field.contains("choices") {
                "grüße,世界"
            } else {
                "Grüße, 世界 — ok"
            };
            set(&mut m, printable.to_string());
            assert_eq!(check(&m), Ok(()), "{field}");
        }
    }

    /// Each cap, one over its limit: refused in one line naming the field,
    /// the count and the limit; at the limit, accepted.
    #[test]
    fn every_cap_names_its_field_the_count_and_the_limit() {
        fn arg(i: usize) -> ArgSpec {
            let mut a = ArgSpec::new(format!("a{i}"));
            a.long = Some(format!("a{i}"));
            a
        }
        fn nested(levels: usize) -> CommandSpec {
            let mut cmd = CommandSpec::new("deep");
            if levels > 1 {
                cmd.subcommands.push(nested(levels - 1));
            }
            cmd
        }
        type Grow = fn(&mut Manifest, usize);
        let cases: [(&str, usize, Grow, &str); 8] = [
            (
                "aliases",
                MAX_ALIASES,
                |m, n| {
                    m.commands[0].aliases = (0..n).map(|i| format!("g{i}")).collect();
                },
                "commands[0].aliases: 17 aliases, more than the limit of 16",
            ),
            (
                "args",
                MAX_ARGS,
                |m, n| {
                    m.commands[0].args = (0..n).map(arg).collect();
                },
                "commands[0].args: 257 args, more than the limit of 256",
            ),
            (
                "choices",
                MAX_CHOICES,
                |m, n| {
                    m.commands[0].args[0].default = None;
                    m.commands[0].args[0].choices = (0..n).map(|i| format!("c{i}")).collect();
                },
                "commands[0].args[0].choices: 257 choices, more than the limit of 256",
            ),
            (
                "commands",
                MAX_COMMANDS,
                |m, n| {
                    m.commands = (0..n).map(|i| CommandSpec::new(format!("c{i}"))).collect();
                },
                "commands: 1001 commands at all levels, more than the limit of 1000",
            ),
            (
                "nested commands",
                MAX_COMMANDS,
                |m, n| {
                    // Counted at every level: one parent, the rest below it.
                    m.commands[0].subcommands =
                        (1..n).map(|i| CommandSpec::new(format!("c{i}"))).collect();
                },
                "commands: 1001 commands at all levels, more than the limit of 1000",
            ),
            (
                "depth",
                MAX_DEPTH,
                |m, n| m.commands = vec![nested(n)],
                "commands[0].subcommands[0].subcommands[0].subcommands[0].subcommands[0].subcommands[0].subcommands[0].subcommands[0].subcommands: 9 levels of commands, more than the limit of 8",
            ),
            (
                "text",
                MAX_TEXT,
                |m, n| m.commands[0].args[0].help = Some("é".repeat(n / 2) + &"x".repeat(n % 2)),
                "commands[0].args[0].help: 1025 bytes of text, more than the limit of 1024",
            ),
            (
                "size",
                MAX_MANIFEST_BYTES,
                |m, n| {
                    // Commands of 8 args with 500-byte helps, to `n` bytes.
                    let help = "h".repeat(500);
                    let mut left = n.saturating_sub(2000);
                    m.commands.clear();
                    while left > 0 {
                        let mut cmd = CommandSpec::new(format!("c{}", m.commands.len()));
                        cmd.args = (0..8).map(|i| arg(i).help(help.clone())).collect();
                        left = left.saturating_sub(8 * 540);
                        m.commands.push(cmd);
                    }
                },
                "manifest: ",
            ),
        ];
        for (what, limit, grow, message) in cases {
            let mut m = greet();
            grow(&mut m, limit);
            if what != "size" {
                assert_eq!(check(&m), Ok(()), "{what} at the limit");
            }
            let mut m = greet();
            grow(&mut m, limit + 1 + if what == "size" { 20_000 } else { 0 });
            let e = check(&m).unwrap_err();
            assert!(matches!(e, ManifestError::OverLimit { .. }), "{what}: {e}");
            let shown = e.to_string();
            assert!(shown.starts_with(message), "{what}: {shown}");
            assert!(
                !shown.contains('\n') && shown.len() < 300,
                "{what}: {shown}"
            );
        }
    }

    #[test]
    fn a_manifest_at_the_caps_fits_in_an_index_entry() {
        // The deepest JSON a valid manifest can have, wrapped as the index
        // wraps it, stays well within the decoder's limit of 128 levels.
        let mut cmd = CommandSpec::new("leaf");
        cmd.args = vec![ArgSpec::new("x").long("xx")];
        cmd.args[0].choices = vec!["a".into()];
        for _ in 1..MAX_DEPTH {
            let mut parent = CommandSpec::new("node");
            parent.subcommands.push(cmd);
            cmd = parent;
        }
        let mut m = greet();
        m.commands = vec![cmd];
        assert_eq!(check(&m), Ok(()));
        let wrapped = format!(
            r#"{{"index":1,"plugins":[{{"manifest":{}}}]}}"#,
            serde_json::to_string(&m).unwrap()
        );
        let value: serde_json::Value = serde_json::from_str(&wrapped).unwrap();
        fn depth(v: &serde_json::Value) -> usize {
            match v {
                serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
                serde_json::Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
                _ => 0,
            }
        }
        assert!(depth(&value) < 64, "{}", depth(&value));
    }

    #[test]
    fn an_empty_api_requirement_is_refused() {
        for api in ["", " ", "\t"] {
            let mut m = greet();
            m.api = api.into();
            let e = check(&m).unwrap_err().to_string();
            assert!(e.starts_with("api "), "{api:?}: {e}");
            assert!(e.contains("empty requirement"), "{api:?}: {e}");
        }
        let mut m = greet();
        m.api = "*".into();
        assert_eq!(check(&m), Ok(()), "an explicit * is the author's choice");
    }

    #[test]
    fn names_follow_the_pattern() {
        assert!(is_valid_name("a"));
        assert!(is_valid_name("my-plugin2"));
        assert!(!is_valid_name(""));
        assert!(!is_valid_name("2fa"));
        assert!(!is_valid_name("Greet"));
        assert!(!is_valid_name("a_b"));
        assert!(is_valid_name(&format!("a{}", "b".repeat(63))));
        assert!(!is_valid_name(&format!("a{}", "b".repeat(64))));
        for bad in ["a/b", "..", "a.b", "grüß", "a b"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_long_invalid_value_is_shortened_in_the_message() {
        let mut m = greet();
        m.name = "x".repeat(1000);
        let msg = check(&m).unwrap_err().to_string();
        assert!(msg.contains("... (1000 characters)"), "{msg}");
        assert!(msg.len() < 250, "{msg}");
    }

    #[test]
    fn wrong_host_format_version_and_api_are_named() {
        let mut m = greet();
        m.host = "othercli".into();
        assert!(
            check(&m)
                .unwrap_err()
                .to_string()
                .contains("built for host 'othercli'")
        );
        let mut m = greet();
        m.manifest = 2;
        assert!(check(&m).unwrap_err().to_string().contains("format 2"));
        let mut m = greet();
        m.version = "one".into();
        assert!(
            check(&m)
                .unwrap_err()
                .to_string()
                .starts_with("version \"one\"")
        );
        let mut m = greet();
        m.api = "lots".into();
        assert!(
            check(&m)
                .unwrap_err()
                .to_string()
                .starts_with("api \"lots\"")
        );
        let mut m = greet();
        m.commands.clear();
        assert!(check(&m).is_err());
    }

    #[test]
    fn clashes_within_a_command_and_with_the_host_are_refused() {
        let mut m = greet();
        m.commands[0].args[0].long = Some("help".into());
        assert!(
            check(&m)
                .unwrap_err()
                .to_string()
                .contains("commands[0].args[0].long")
        );

        let mut m = greet();
        let mut dup = m.commands[0].args[0].clone();
        dup.name = "other".into();
        m.commands[0].args.push(dup);
        assert!(check(&m).is_err());

        let mut m = greet();
        m.commands[0].args[0].short = Some('v');
        let mut reserved = Reserved::clap_defaults();
        assert_eq!(validate(&m, "mycli", &reserved), Ok(()));
        reserved.shorts.insert('v');
        assert!(validate(&m, "mycli", &reserved).is_err());

        let mut m = greet();
        m.commands[0].args[0].name = "verbose".into();
        let mut reserved = Reserved::clap_defaults();
        assert_eq!(validate(&m, "mycli", &reserved), Ok(()));
        reserved.names.insert("verbose".into());
        let err = validate(&m, "mycli", &reserved).unwrap_err().to_string();
        assert!(err.contains("global options"), "{err}");

        let mut m = greet();
        m.commands.push(CommandSpec::new("greet"));
        assert!(check(&m).unwrap_err().to_string().contains("used twice"));
    }

    #[test]
    fn positional_order_and_flag_rules() {
        let pos = |name: &str, required: bool, multiple: bool| {
            let mut arg = ArgSpec::new(name);
            arg.required = required;
            arg.multiple = multiple;
            arg
        };
        let mut m = greet();
        m.commands[0].args = vec![pos("a", false, false), pos("b", true, false)];
        assert!(check(&m).is_err());
        m.commands[0].args = vec![pos("a", false, true), pos("b", false, false)];
        assert!(check(&m).is_err());
        m.commands[0].args = vec![pos("a", true, false), pos("b", false, true)];
        assert_eq!(check(&m), Ok(()));

        let mut m = greet();
        m.commands[0].args[0].flag = true;
        assert!(check(&m).unwrap_err().to_string().contains("flag"));
        let mut m = greet();
        m.commands[0].args[0].choices = vec!["a".into()];
        assert!(check(&m).unwrap_err().to_string().contains("choices"));
    }
}
