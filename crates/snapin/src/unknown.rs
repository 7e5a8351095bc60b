//! Fields of a manifest and keys of the configuration file that this
//! version does not know. They are accepted (a later minor version of the
//! contract may add fields) and pointed out, each with the known name it
//! most looks like: `lon` is likely `long` misspelt.

use std::fmt;

use serde_json::{Map, Value};
use snapin_protocol::ValueType;

/// Fields of the manifest's top level (docs/manifest.schema.json; a test
/// keeps the lists here equal to the schema's).
const MANIFEST: &[&str] = &[
    "manifest",
    "host",
    "name",
    "version",
    "api",
    "description",
    "commands",
    "capabilities",
];
/// Fields of a command or subcommand.
const COMMAND: &[&str] = &["name", "about", "aliases", "hidden", "args", "subcommands"];
/// Fields of an argument.
const ARG: &[&str] = &[
    "name",
    "long",
    "short",
    "help",
    "value_name",
    "required",
    "multiple",
    "flag",
    "default",
    "choices",
    "type",
    "range",
];
/// Fields of an argument's `range`.
const RANGE: &[&str] = &["min", "max"];
/// Fields of `capabilities`.
const CAPABILITIES: &[&str] = &["dirs", "env"];
/// Fields of a directory request in `capabilities.dirs`.
const DIR_REQUEST: &[&str] = &["access", "why"];

/// Keys of the configuration file's top level.
const CONFIG: &[&str] = &["plugins", "registry"];
/// Keys of the `[registry]` table.
const CONFIG_REGISTRY: &[&str] = &["insecure", "require-signatures"];
/// Keys of a `[plugins.NAME]` table (`config` holds the plugin's own
/// values, whatever their names).
const CONFIG_PLUGIN: &[&str] = &["memory-mib", "cpu-seconds", "config"];

/// At most this many unknown names are listed; the rest are counted.
pub const SHOWN: usize = 10;

/// One unknown field or key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// Where it is: `commands[0].args[1].lon`, `plugins.wstats.memry-mib`.
    pub path: String,
    /// The known name at the same place that it looks like.
    pub like: Option<&'static str>,
    /// For a known field holding a word this version does not know (an
    /// arg's `type`): that word, which is read as `string`.
    pub word: Option<String>,
}

impl fmt::Display for Unknown {
    /// `` `commands[0].lon` (did you mean `long`?) ``
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.path)?;
        match (&self.word, self.like) {
            (Some(word), Some(like)) => {
                write!(f, " `{word}` (read as `string`; did you mean `{like}`?)")
            }
            (Some(word), None) => write!(f, " `{word}` (read as `string`)"),
            (None, Some(like)) => write!(f, " (did you mean `{like}`?)"),
            (None, None) => Ok(()),
        }
    }
}

/// What was found: the first [`SHOWN`] unknown names and how many there
/// are in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unknowns {
    /// The first ones, in document order.
    pub shown: Vec<Unknown>,
    /// How many in all.
    pub count: usize,
}

impl Unknowns {
    /// Whether every name is known.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn push(&mut self, path: String, name: &str, known: &[&'static str]) {
        self.count += 1;
        if self.shown.len() < SHOWN {
            self.shown.push(Unknown {
                path,
                like: like(name, known),
                word: None,
            });
        }
    }

    /// A type word this version does not know, at `path`. One that is
    /// not a word at all is left to the manifest rules, which refuse it.
    fn push_type(&mut self, path: String, word: &str) {
        if !crate::manifest::is_type_word(word) || ValueType::KNOWN.contains(&word) {
            return;
        }
        self.count += 1;
        if self.shown.len() < SHOWN {
            self.shown.push(Unknown {
                path,
                like: like(word, &ValueType::KNOWN),
                word: Some(word.to_string()),
            });
        }
    }

    fn check(&mut self, object: &Map<String, Value>, known: &[&'static str], at: &str) {
        for name in object.keys().filter(|k| !known.contains(&k.as_str())) {
            self.push(join(at, name), name, known);
        }
    }
}

impl fmt::Display for Unknowns {
    /// `` `a` (did you mean `b`?), `c` and 3 more ``
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, u) in self.shown.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{u}")?;
        }
        if self.count > self.shown.len() {
            write!(f, " and {} more", self.count - self.shown.len())?;
        }
        Ok(())
    }
}

fn join(at: &str, name: &str) -> String {
    if at.is_empty() {
        name.to_string()
    } else {
        format!("{at}.{name}")
    }
}

/// The known name `name` is most likely a slip of, by the edit distance
/// the look-alike check of plugin names uses (Damerau–Levenshtein: a
/// letter added, dropped or changed, or two neighbours swapped): at most
/// one edit when both names are under 6 characters, two otherwise.
fn like(name: &str, known: &[&'static str]) -> Option<&'static str> {
    let len = name.chars().count();
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(name, k), *k))
        .filter(|(d, k)| {
            *d <= if len.max(k.chars().count()) >= 6 {
                2
            } else {
                1
            }
        })
        .min()
        .map(|(_, k)| k)
}

/// The fields of the manifest `json` this version does not know, at every
/// level: the top, commands and subcommands, arguments, capabilities and
/// directory requests. Parts of the wrong shape are left to the decoder.
pub fn in_manifest(json: &Value) -> Unknowns {
    let mut found = Unknowns::default();
    let Some(top) = json.as_object() else {
        return found;
    };
    found.check(top, MANIFEST, "");
    for (i, command) in array(top, "commands").enumerate() {
        in_command(command, &format!("commands[{i}]"), &mut found);
    }
    if let Some(capabilities) = top.get("capabilities").and_then(Value::as_object) {
        found.check(capabilities, CAPABILITIES, "capabilities");
        for (i, dir) in array(capabilities, "dirs").enumerate() {
            if let Some(dir) = dir.as_object() {
                found.check(dir, DIR_REQUEST, &format!("capabilities.dirs[{i}]"));
            }
        }
    }
    found
}

fn array<'a>(object: &'a Map<String, Value>, key: &str) -> impl Iterator<Item = &'a Value> {
    object
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// A command's unknown fields, its arguments' and its subcommands' (the
/// JSON decoder's depth limit bounds the recursion).
fn in_command(json: &Value, at: &str, found: &mut Unknowns) {
    let Some(command) = json.as_object() else {
        return;
    };
    found.check(command, COMMAND, at);
    for (i, arg) in array(command, "args").enumerate() {
        if let Some(arg) = arg.as_object() {
            let here = format!("{at}.args[{i}]");
            found.check(arg, ARG, &here);
            if let Some(range) = arg.get("range").and_then(Value::as_object) {
                found.check(range, RANGE, &format!("{here}.range"));
            }
            if let Some(word) = arg.get("type").and_then(Value::as_str) {
                found.push_type(format!("{here}.type"), word);
            }
        }
    }
    for (i, sub) in array(command, "subcommands").enumerate() {
        in_command(sub, &format!("{at}.subcommands[{i}]"), found);
    }
}

/// The keys of the configuration file `table` this version does not know.
/// A plugin's own `config` values are its business, not checked.
pub fn in_config(table: &toml::Table) -> Unknowns {
    let mut found = Unknowns::default();
    for name in table.keys().filter(|k| !CONFIG.contains(&k.as_str())) {
        found.push(name.clone(), name, CONFIG);
    }
    let registry = table.get("registry").and_then(toml::Value::as_table);
    for name in registry
        .into_iter()
        .flat_map(|t| t.keys())
        .filter(|k| !CONFIG_REGISTRY.contains(&k.as_str()))
    {
        found.push(format!("registry.{name}"), name, CONFIG_REGISTRY);
    }
    let plugins = table.get("plugins").and_then(toml::Value::as_table);
    for (plugin, settings) in plugins.into_iter().flatten() {
        let Some(settings) = settings.as_table() else {
            continue;
        };
        for name in settings
            .keys()
            .filter(|k| !CONFIG_PLUGIN.contains(&k.as_str()))
        {
            found.push(format!("plugins.{plugin}.{name}"), name, CONFIG_PLUGIN);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_found_at_every_level_with_the_field_they_look_like() {
        let json: Value = serde_json::from_str(
            r#"{"manifest":1,"host":"mycli","name":"x","version":"1.0.0","api":"^1.0",
                "descripton":"typo","homepage":"new in 1.x",
                "commands":[{"name":"x","abuot":"typo","args":[{"name":"a","lon":"a","shrot":"s"}],
                  "subcommands":[{"name":"y","alias":["z"],"args":[{"name":"b","value-name":"B"}]}]}],
                "capabilities":{"env":[],"dir":[],"dirs":[{"access":"read","wy":"typo"}]}}"#,
        )
        .unwrap();
        let found = in_manifest(&json);
        assert_eq!(
            found.to_string(),
            "`descripton` (did you mean `description`?), `homepage`, \
             `commands[0].abuot` (did you mean `about`?), \
             `commands[0].args[0].lon` (did you mean `long`?), \
             `commands[0].args[0].shrot` (did you mean `short`?), \
             `commands[0].subcommands[0].alias` (did you mean `aliases`?), \
             `commands[0].subcommands[0].args[0].value-name` (did you mean `value_name`?), \
             `capabilities.dir` (did you mean `dirs`?), \
             `capabilities.dirs[0].wy` (did you mean `why`?)"
        );
    }

    #[test]
    fn a_type_word_this_version_does_not_know_is_pointed_out_as_read_as_string() {
        let json: Value = serde_json::from_str(
            r#"{"commands":[{"name":"x","args":[
                {"name":"a","type":"int","range":{"min":1,"mx":2}},
                {"name":"b","type":"uri"},
                {"name":"c","type":"uuid"},
                {"name":"d","type":"Not A Word"}]}]}"#,
        )
        .unwrap();
        assert_eq!(
            in_manifest(&json).to_string(),
            "`commands[0].args[0].range.mx` (did you mean `max`?), \
             `commands[0].args[1].type` `uri` (read as `string`; did you mean `url`?), \
             `commands[0].args[2].type` `uuid` (read as `string`)"
        );
    }

    #[test]
    fn a_known_manifest_has_no_unknown_fields_and_many_are_counted_not_listed() {
        let known: Value = serde_json::from_str(
            r#"{"manifest":1,"host":"h","name":"x","version":"1.0.0","api":"^1.0","commands":[{"name":"x"}]}"#,
        )
        .unwrap();
        assert!(in_manifest(&known).is_empty());
        let many: Map<String, Value> = (0..25).map(|i| (format!("f{i}"), Value::Null)).collect();
        let found = in_manifest(&Value::Object(many));
        assert_eq!(found.count, 25);
        assert_eq!(found.shown.len(), SHOWN);
        assert!(found.to_string().ends_with(" and 15 more"), "{found}");
    }

    #[test]
    fn unknown_config_keys_are_found_but_a_plugins_own_values_are_its_own() {
        let table: toml::Table = toml::from_str(
            "plugin = 1\n[plugins.w]\nmemory-mb = 64\ncpu-seconds = 1\n[plugins.w.config]\nanything = \"x\"\n",
        )
        .unwrap();
        assert_eq!(
            in_config(&table).to_string(),
            "`plugin` (did you mean `plugins`?), `plugins.w.memory-mb` (did you mean `memory-mib`?)"
        );
    }

    /// The lists above are the schema's properties, level by level.
    #[test]
    fn the_known_fields_are_the_schemas() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/manifest.schema.json"
        );
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let properties = |node: &Value| {
            let mut names: Vec<String> = node["properties"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            names.sort();
            names
        };
        let sorted = |list: &[&str]| {
            let mut names: Vec<String> = list.iter().map(|s| s.to_string()).collect();
            names.sort();
            names
        };
        let defs = &schema["$defs"];
        assert_eq!(properties(&schema), sorted(MANIFEST));
        assert_eq!(properties(&defs["CommandSpec"]), sorted(COMMAND));
        assert_eq!(properties(&defs["ArgSpec"]), sorted(ARG));
        assert_eq!(properties(&defs["Capabilities"]), sorted(CAPABILITIES));
        assert_eq!(properties(&defs["DirRequest"]), sorted(DIR_REQUEST));
        assert_eq!(properties(&defs["ValueRange"]), sorted(RANGE));
        let words: Vec<&str> = defs["ValueType"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap())
            .collect();
        assert_eq!(words, ValueType::KNOWN);
    }
}
