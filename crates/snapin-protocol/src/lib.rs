//! The snapin plugin contract, as plain data.
//!
//! A host (say `mycli`) and its plugins never share code, only this contract:
//! a plugin describes itself with a [`Manifest`], and the host runs one of its
//! commands with a [`Context`] in the environment. Both are JSON on the wire.
//! This crate holds just those types and the names of the contract (flags and
//! environment variables), with serde as its only dependency, so that host
//! libraries and plugin SDKs in Rust agree on them by construction. Plugins in
//! other languages follow `docs/protocol.md`, which describes the same shapes,
//! and can check their manifest against `docs/manifest.schema.json`, generated
//! from these types by `manifest_schema` (optional feature `schema`, which
//! adds schemars).
//!
//! Unknown JSON fields are ignored everywhere, so a minor API version can add
//! fields without breaking older readers. For the same reason the structs are
//! `#[non_exhaustive]`: build them with their `new` constructors and `with_*`
//! methods (or read them from JSON), so that a new field does not break code
//! that builds them.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The manifest format this crate reads and writes (the `manifest` field).
pub const MANIFEST_FORMAT: u32 = 1;

/// What plugin, command and alias names look like (the `name` fields).
pub const NAME_PATTERN: &str = "^[a-z][a-z0-9-]{0,63}$";

/// The argument a host passes to an executable plugin to ask for its manifest.
pub const DESCRIBE_FLAG: &str = "--snapin-describe";

/// Environment variable holding the host's namespace (e.g. `mycli`) during a run.
pub const ENV_HOST: &str = "SNAPIN_HOST";

/// Environment variable holding the host's API version (e.g. `1.2.0`) during a run.
pub const ENV_API: &str = "SNAPIN_API";

/// Environment variable holding the run's [`Context`] as JSON.
pub const ENV_CONTEXT: &str = "SNAPIN_CONTEXT";

/// What a plugin says about itself: who it is, which host and API it is
/// built for, and the commands it adds.
///
/// The host caches this at install time and builds help, usage errors and
/// completions from it, so the plugin is not started until one of its
/// commands actually runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Manifest {
    /// Manifest format version; [`MANIFEST_FORMAT`] today.
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 1)))]
    pub manifest: u32,
    /// Namespace of the host the plugin is built for (e.g. `mycli`).
    pub host: String,
    /// Plugin name: `^[a-z][a-z0-9-]{0,63}$`.
    #[cfg_attr(feature = "schema", schemars(pattern(NAME_PATTERN)))]
    pub name: String,
    /// Plugin version (semver).
    pub version: String,
    /// Semver requirement on the host API (e.g. `^1.0`).
    pub api: String,
    /// One line saying what the plugin is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The top-level commands the plugin adds to the host.
    #[serde(default)]
    pub commands: Vec<CommandSpec>,
    /// What a sandboxed (WebAssembly) plugin asks to reach beyond its
    /// sandbox. Nothing is granted unless the user grants it at install.
    #[serde(default, skip_serializing_if = "Capabilities::is_empty")]
    pub capabilities: Capabilities,
}

impl Manifest {
    /// A manifest in format [`MANIFEST_FORMAT`] with no description, commands
    /// or capabilities.
    ///
    /// ```
    /// use snapin_protocol::{ArgSpec, CommandSpec, Manifest};
    ///
    /// let manifest = Manifest::new("mycli", "greet", "0.2.0", "^1.0")
    ///     .with_description("Friendly greetings")
    ///     .with_command(
    ///         CommandSpec::new("greet")
    ///             .with_about("Say hello")
    ///             .with_arg(ArgSpec::new("who").long("who").default_value("world")),
    ///     );
    /// assert_eq!(manifest.commands[0].args[0].long.as_deref(), Some("who"));
    /// ```
    pub fn new(
        host: impl Into<String>,
        name: impl Into<String>,
        version: impl Into<String>,
        api: impl Into<String>,
    ) -> Self {
        Self {
            manifest: MANIFEST_FORMAT,
            host: host.into(),
            name: name.into(),
            version: version.into(),
            api: api.into(),
            description: None,
            commands: Vec::new(),
            capabilities: Capabilities::default(),
        }
    }

    /// Sets the one-line description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Adds a top-level command.
    #[must_use]
    pub fn with_command(mut self, command: CommandSpec) -> Self {
        self.commands.push(command);
        self
    }

    /// Adds top-level commands.
    #[must_use]
    pub fn with_commands(mut self, commands: impl IntoIterator<Item = CommandSpec>) -> Self {
        self.commands.extend(commands);
        self
    }

    /// Sets what a sandboxed plugin asks to reach.
    #[must_use]
    pub fn with_capabilities(mut self, capabilities: Capabilities) -> Self {
        self.capabilities = capabilities;
        self
    }
}

/// Access a sandboxed plugin requests; the user decides what to grant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Capabilities {
    /// Directories it would like to read or write (the user picks which).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dirs: Vec<DirRequest>,
    /// Names of environment variables it would like to read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
}

impl Capabilities {
    /// Adds a directory request.
    #[must_use]
    pub fn with_dir(mut self, dir: DirRequest) -> Self {
        self.dirs.push(dir);
        self
    }

    /// Adds the name of an environment variable to read.
    #[must_use]
    pub fn with_env(mut self, name: impl Into<String>) -> Self {
        self.env.push(name.into());
        self
    }

    /// Whether nothing is requested.
    pub fn is_empty(&self) -> bool {
        self.dirs.is_empty() && self.env.is_empty()
    }
}

/// A request for one directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct DirRequest {
    /// Read only, or read and write.
    pub access: Access,
    /// What the plugin needs it for, shown to the user at install.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

impl DirRequest {
    /// A request for one directory with the given access and no reason.
    pub fn new(access: Access) -> Self {
        Self { access, why: None }
    }

    /// Sets what the plugin needs the directory for.
    #[must_use]
    pub fn with_why(mut self, why: impl Into<String>) -> Self {
        self.why = Some(why.into());
        self
    }
}

// Not `#[non_exhaustive]`: older readers reject a value they do not know,
// so a new one would need a new manifest format, and a host's `match` on it
// should stay exhaustive until then.
/// How a directory may be used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// List and read files.
    #[default]
    Read,
    /// Also create, change and delete files.
    Write,
}

/// One command (or subcommand) a plugin adds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct CommandSpec {
    /// What the user types: `^[a-z][a-z0-9-]{0,63}$`.
    #[cfg_attr(feature = "schema", schemars(pattern(NAME_PATTERN)))]
    pub name: String,
    /// One line of help.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub about: Option<String>,
    /// Other names that run the same command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "schema", schemars(inner(pattern(NAME_PATTERN))))]
    pub aliases: Vec<String>,
    /// Left out of help listings, still runnable.
    #[serde(default, skip_serializing_if = "is_false")]
    pub hidden: bool,
    /// The command's options and positional arguments, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<ArgSpec>,
    /// Nested commands (`mycli tool sub ...`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subcommands: Vec<CommandSpec>,
}

impl CommandSpec {
    /// A command with this name and nothing else.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Sets the one line of help.
    #[must_use]
    pub fn with_about(mut self, about: impl Into<String>) -> Self {
        self.about = Some(about.into());
        self
    }

    /// Adds another name that runs the same command.
    #[must_use]
    pub fn with_alias(mut self, alias: impl Into<String>) -> Self {
        self.aliases.push(alias.into());
        self
    }

    /// Adds an argument, after those already there.
    #[must_use]
    pub fn with_arg(mut self, arg: ArgSpec) -> Self {
        self.args.push(arg);
        self
    }

    /// Adds a nested command.
    #[must_use]
    pub fn with_subcommand(mut self, subcommand: CommandSpec) -> Self {
        self.subcommands.push(subcommand);
        self
    }

    /// Sets whether it is left out of help listings.
    #[must_use]
    pub fn hidden(mut self, hidden: bool) -> Self {
        self.hidden = hidden;
        self
    }
}

/// One argument of a command: an option when it has `long` or `short`,
/// otherwise a positional argument.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ArgSpec {
    /// Identifier, unique within its command; shown as the value name of
    /// positionals.
    pub name: String,
    /// One line of help.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// Long option name, without the leading `--`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long: Option<String>,
    /// Short option letter, without the leading `-`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<char>,
    /// The user must give it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Value used when the user gives none (shown in help).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// May be given more than once (or take several values, for positionals).
    #[serde(default, skip_serializing_if = "is_false")]
    pub multiple: bool,
    /// The only values accepted, if not empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// Placeholder for the value in help (e.g. `FILE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_name: Option<String>,
    /// A switch that takes no value.
    #[serde(default, skip_serializing_if = "is_false")]
    pub flag: bool,
    /// What kind of value it takes (the `type` field; added in API 1.3):
    /// the host checks values against it and completes paths for it.
    #[serde(rename = "type", default, skip_serializing_if = "ValueType::is_string")]
    pub value_type: ValueType,
    /// The least and the most an `int` or `number` value may be, both
    /// inclusive (added in API 1.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<ValueRange>,
}

impl ArgSpec {
    /// An argument with this name and nothing else: a positional argument
    /// until it gets [`long`](Self::long) or [`short`](Self::short).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// A positional argument with this name (the same as [`new`](Self::new),
    /// for code that reads better saying so).
    pub fn positional(name: impl Into<String>) -> Self {
        Self::new(name)
    }

    /// Sets the long option name, without the leading `--`.
    #[must_use]
    pub fn long(mut self, long: impl Into<String>) -> Self {
        self.long = Some(long.into());
        self
    }

    /// Sets the short option letter, without the leading `-`.
    #[must_use]
    pub fn short(mut self, short: char) -> Self {
        self.short = Some(short);
        self
    }

    /// Makes it a switch that takes no value.
    #[must_use]
    pub fn flag(mut self) -> Self {
        self.flag = true;
        self
    }

    /// Makes it one the user must give.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Sets the value used when the user gives none (the `default` field).
    #[must_use]
    pub fn default_value(mut self, default: impl Into<String>) -> Self {
        self.default = Some(default.into());
        self
    }

    /// Lets it be given more than once (or take several values, for positionals).
    #[must_use]
    pub fn multiple(mut self) -> Self {
        self.multiple = true;
        self
    }

    /// Sets the only values accepted.
    #[must_use]
    pub fn choices(mut self, choices: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.choices = choices.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the placeholder for the value in help (e.g. `FILE`).
    #[must_use]
    pub fn value_name(mut self, value_name: impl Into<String>) -> Self {
        self.value_name = Some(value_name.into());
        self
    }

    /// Sets the one line of help.
    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets what kind of value it takes (the `type` field).
    #[must_use]
    pub fn value_type(mut self, value_type: ValueType) -> Self {
        self.value_type = value_type;
        self
    }

    /// Sets the least and the most an `int` or `number` value may be.
    #[must_use]
    pub fn range(mut self, range: ValueRange) -> Self {
        self.range = Some(range);
        self
    }

    /// Whether this argument is positional (it has neither `long` nor `short`).
    pub fn is_positional(&self) -> bool {
        self.long.is_none() && self.short.is_none()
    }
}

/// What kind of value an argument takes: the `type` field of an argument
/// (added in API 1.3). The host checks a value the user types against it
/// before it starts the plugin, and completes file-system paths for the
/// path types; the plugin still gets the exact text typed.
///
/// A word this version does not know is kept as [`ValueType::Other`]: a
/// host treats it as [`ValueType::String`] (so a later minor API version
/// can add types) and points it out, as it does an unknown field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
#[non_exhaustive]
pub enum ValueType {
    /// Any text (`string`; the default).
    #[default]
    String,
    /// A whole number in decimal (`int`), of any size a 64-bit signed or
    /// unsigned integer holds; its `range` or the plugin bounds it.
    Int,
    /// A finite decimal number, such as `1.5`, `-2` or `1e3` (`number`).
    Number,
    /// A file-system path, existing or not (`path`).
    Path,
    /// A path to a file (`file`): completion offers files.
    File,
    /// A path to a directory (`dir`): completion offers directories only.
    Dir,
    /// An absolute URL with a scheme, such as `https://example.com/x` (`url`).
    Url,
    /// A word this version does not know, read as [`ValueType::String`].
    Other(String),
}

impl ValueType {
    /// The words of the types this version knows, as written in a manifest.
    pub const KNOWN: [&'static str; 7] = ["string", "int", "number", "path", "file", "dir", "url"];

    /// The type a manifest's word names.
    pub fn from_word(word: &str) -> Self {
        match word {
            "string" => Self::String,
            "int" => Self::Int,
            "number" => Self::Number,
            "path" => Self::Path,
            "file" => Self::File,
            "dir" => Self::Dir,
            "url" => Self::Url,
            other => Self::Other(other.to_string()),
        }
    }

    /// The word a manifest writes for it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::String => "string",
            Self::Int => "int",
            Self::Number => "number",
            Self::Path => "path",
            Self::File => "file",
            Self::Dir => "dir",
            Self::Url => "url",
            Self::Other(word) => word,
        }
    }

    /// Whether it is [`ValueType::String`], the default.
    pub fn is_string(&self) -> bool {
        *self == Self::String
    }

    /// Whether it is `int` or `number`, the types a range applies to.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Self::Int | Self::Number)
    }

    /// Whether it is `path`, `file` or `dir`.
    pub fn is_path(&self) -> bool {
        matches!(self, Self::Path | Self::File | Self::Dir)
    }
}

impl From<String> for ValueType {
    fn from(word: String) -> Self {
        Self::from_word(&word)
    }
}

impl From<ValueType> for String {
    fn from(value_type: ValueType) -> Self {
        match value_type {
            ValueType::Other(word) => word,
            known => known.as_str().to_string(),
        }
    }
}

impl std::fmt::Display for ValueType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for ValueType {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ValueType".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "What kind of value the argument takes (added in API 1.3). A host reads a word it does not know as `string`.",
            "type": "string",
            "enum": Self::KNOWN,
        })
    }
}

/// The least and the most an `int` or `number` argument may be, both
/// inclusive (the `range` field of an argument, added in API 1.3):
/// `{"min": 1, "max": 10}`; either may be left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ValueRange {
    /// The least value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Bound>,
    /// The most value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Bound>,
}

impl ValueRange {
    /// A range from `min` to `max`, either open when `None`.
    pub fn new(min: Option<Bound>, max: Option<Bound>) -> Self {
        Self { min, max }
    }

    /// Sets the least value allowed.
    #[must_use]
    pub fn with_min(mut self, min: impl Into<Bound>) -> Self {
        self.min = Some(min.into());
        self
    }

    /// Sets the most value allowed.
    #[must_use]
    pub fn with_max(mut self, max: impl Into<Bound>) -> Self {
        self.max = Some(max.into());
        self
    }
}

/// One end of a [`ValueRange`]: a JSON number, kept whole when it is one
/// (so that every 64-bit integer stays exact).
#[derive(Debug, Clone, Copy)]
pub enum Bound {
    /// A whole number, such as `1` or `-3`.
    Int(i64),
    /// Any other number, such as `0.5`, `1e3` or `1e20`.
    Float(f64),
}

impl Bound {
    /// The number as a float (a whole number past 2^53 rounded).
    pub fn as_f64(self) -> f64 {
        match self {
            Self::Int(i) => i as f64,
            Self::Float(f) => f,
        }
    }
}

impl PartialEq for Bound {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Int(a), Self::Int(b)) => a == b,
            (Self::Float(a), Self::Float(b)) => a.to_bits() == b.to_bits(),
            _ => false,
        }
    }
}

// JSON has no NaN, and floats are compared bit for bit.
impl Eq for Bound {}

impl From<i64> for Bound {
    fn from(i: i64) -> Self {
        Self::Int(i)
    }
}

impl From<f64> for Bound {
    fn from(f: f64) -> Self {
        Self::Float(f)
    }
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
        }
    }
}

impl Serialize for Bound {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Self::Int(i) => serializer.serialize_i64(i),
            Self::Float(f) => serializer.serialize_f64(f),
        }
    }
}

impl<'de> Deserialize<'de> for Bound {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Bound;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_i64<E>(self, i: i64) -> Result<Bound, E> {
                Ok(Bound::Int(i))
            }
            fn visit_u64<E>(self, u: u64) -> Result<Bound, E> {
                Ok(i64::try_from(u).map_or(Bound::Float(u as f64), Bound::Int))
            }
            fn visit_f64<E>(self, f: f64) -> Result<Bound, E> {
                Ok(Bound::Float(f))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for Bound {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Bound".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "number" })
    }
}

/// The JSON Schema of [`Manifest`], as checked in at
/// `docs/manifest.schema.json`: for editors, CI of plugins in any language,
/// and the tests that keep the file and the types in step.
#[cfg(feature = "schema")]
pub fn manifest_schema() -> Result<String, serde_json::Error> {
    let mut schema = schemars::schema_for!(Manifest);
    schema.insert(
        "title".to_string(),
        "snapin plugin manifest (format 1)".into(),
    );
    let mut text = serde_json::to_string_pretty(&schema)?;
    text.push('\n');
    Ok(text)
}

/// What the host tells a plugin about the run, as JSON in [`ENV_CONTEXT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Context {
    /// The host program running the plugin.
    pub host: HostInfo,
    /// The plugin's own name, as installed.
    pub plugin: String,
    /// The command path the user typed, e.g. `["greet"]` or `["tool", "sub"]`.
    pub command: Vec<String>,
    /// `0` by default, positive with `-v`, negative with `-q`.
    #[serde(default)]
    pub verbosity: i8,
    /// Whether the plugin should colour its output.
    #[serde(default)]
    pub color: ColorChoice,
    /// Directories reserved for this plugin; they may not exist yet.
    pub dirs: PluginDirs,
}

impl Context {
    /// The context of a run of `plugin`'s command `command`, with verbosity
    /// `0` and colour [`ColorChoice::Auto`].
    pub fn new(
        host: HostInfo,
        plugin: impl Into<String>,
        command: impl IntoIterator<Item = impl Into<String>>,
        dirs: PluginDirs,
    ) -> Self {
        Self {
            host,
            plugin: plugin.into(),
            command: command.into_iter().map(Into::into).collect(),
            verbosity: 0,
            color: ColorChoice::default(),
            dirs,
        }
    }

    /// Sets the verbosity: positive with `-v`, negative with `-q`.
    #[must_use]
    pub fn with_verbosity(mut self, verbosity: i8) -> Self {
        self.verbosity = verbosity;
        self
    }

    /// Sets whether the plugin should colour its output.
    #[must_use]
    pub fn with_color(mut self, color: ColorChoice) -> Self {
        self.color = color;
        self
    }
}

/// The host program, as seen by a plugin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HostInfo {
    /// Namespace, e.g. `mycli`.
    pub name: String,
    /// The host program's own version.
    pub version: String,
    /// The plugin API version this plugin runs under: the newest one the
    /// host provides that the plugin's `api` requirement accepts.
    pub api: String,
}

impl HostInfo {
    /// The host program with this namespace, own version and API version.
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        api: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            api: api.into(),
        }
    }
}

// Not `#[non_exhaustive]`: plugins `match` on it and older ones reject a
// value they do not know, so a new one would need a new major API version.
/// Colour preference passed from the host's `--color` option.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is unset.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Per-plugin directories, so plugins never share or guess paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PluginDirs {
    /// The plugin's configuration files.
    pub config: PathBuf,
    /// The plugin's persistent data.
    pub data: PathBuf,
    /// Files the plugin can recreate at will.
    pub cache: PathBuf,
}

impl PluginDirs {
    /// The plugin's configuration, data and cache directories.
    pub fn new(
        config: impl Into<PathBuf>,
        data: impl Into<PathBuf>,
        cache: impl Into<PathBuf>,
    ) -> Self {
        Self {
            config: config.into(),
            data: data.into(),
            cache: cache.into(),
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn design_example_parses_and_unknown_fields_are_ignored() {
        let json = r#"{
          "manifest": 1, "host": "mycli", "name": "greet", "version": "0.2.0",
          "api": "^1.0", "description": "Friendly greetings", "future": true,
          "commands": [
            { "name": "greet", "about": "Say hello", "later": [1],
              "args": [ { "name": "who", "long": "who", "default": "world",
                          "help": "Who to greet" } ] }
          ]
        }"#;
        let m: Manifest = serde_json::from_str(json).unwrap();
        assert_eq!(m.name, "greet");
        let who = &m.commands[0].args[0];
        assert_eq!(who.long.as_deref(), Some("who"));
        assert_eq!(who.default.as_deref(), Some("world"));
        assert!(!who.is_positional());
    }

    #[test]
    fn builders_make_what_the_json_says() {
        let json = r#"{
          "manifest": 1, "host": "mycli", "name": "files", "version": "0.3.0",
          "api": "^1.0", "description": "File tools",
          "commands": [
            { "name": "copy", "about": "Copy files", "aliases": ["cp"],
              "args": [
                { "name": "to", "help": "Where to", "long": "to", "short": "t",
                  "value_name": "DIR" },
                { "name": "force", "long": "force", "flag": true },
                { "name": "mode", "long": "mode", "default": "fast",
                  "choices": ["fast", "safe"] },
                { "name": "files", "required": true, "multiple": true }
              ],
              "subcommands": [ { "name": "deep", "hidden": true } ] }
          ],
          "capabilities": { "dirs": [ { "access": "write", "why": "output" } ],
                            "env": ["HOME"] }
        }"#;
        let built = Manifest::new("mycli", "files", "0.3.0", "^1.0")
            .with_description("File tools")
            .with_commands([CommandSpec::new("copy")
                .with_about("Copy files")
                .with_alias("cp")
                .with_arg(
                    ArgSpec::new("to")
                        .help("Where to")
                        .long("to")
                        .short('t')
                        .value_name("DIR"),
                )
                .with_arg(ArgSpec::new("force").long("force").flag())
                .with_arg(
                    ArgSpec::new("mode")
                        .long("mode")
                        .default_value("fast")
                        .choices(["fast", "safe"]),
                )
                .with_arg(ArgSpec::positional("files").required().multiple())
                .with_subcommand(CommandSpec::new("deep").hidden(true))])
            .with_capabilities(
                Capabilities::default()
                    .with_dir(DirRequest::new(Access::Write).with_why("output"))
                    .with_env("HOME"),
            );
        assert_eq!(built, serde_json::from_str::<Manifest>(json).unwrap());
        let bare = serde_json::to_value(Manifest::new("h", "n", "1.0.0", "*")).unwrap();
        assert_eq!(
            bare,
            serde_json::json!({
                "manifest": MANIFEST_FORMAT, "host": "h", "name": "n",
                "version": "1.0.0", "api": "*", "commands": []
            })
        );
    }

    #[test]
    fn typed_values_round_trip_and_an_unknown_type_word_is_kept() {
        let json = r#"{"name":"n","type":"int","range":{"min":1,"max":1e3}}"#;
        let arg: ArgSpec = serde_json::from_str(json).unwrap();
        assert_eq!(arg.value_type, ValueType::Int);
        assert_eq!(
            arg.range,
            Some(ValueRange::default().with_min(1).with_max(1000.0))
        );
        assert_eq!(
            serde_json::to_string(&arg).unwrap(),
            r#"{"name":"n","type":"int","range":{"min":1,"max":1000.0}}"#
        );
        let later: ArgSpec = serde_json::from_str(r#"{"name":"n","type":"uuid"}"#).unwrap();
        assert_eq!(later.value_type, ValueType::Other("uuid".into()));
        assert_eq!(
            serde_json::to_string(&later).unwrap(),
            r#"{"name":"n","type":"uuid"}"#
        );
        // `string` is the default and not written out.
        let plain: ArgSpec = serde_json::from_str(r#"{"name":"n","type":"string"}"#).unwrap();
        assert_eq!(plain, ArgSpec::new("n"));
        assert_eq!(serde_json::to_string(&plain).unwrap(), r#"{"name":"n"}"#);
        for bad in [
            r#"{"name":"n","type":5}"#,
            r#"{"name":"n","range":{"min":"1"}}"#,
        ] {
            assert!(serde_json::from_str::<ArgSpec>(bad).is_err(), "{bad}");
        }
        // Past i64, a whole number is kept as a float.
        let big: ValueRange = serde_json::from_str(r#"{"max":18446744073709551615}"#).unwrap();
        assert_eq!(big.max, Some(Bound::Float(18446744073709551615.0)));
    }

    #[test]
    fn short_must_be_one_character() {
        let json = r#"{"name":"x","short":"ab"}"#;
        assert!(serde_json::from_str::<ArgSpec>(json).is_err());
    }

    #[test]
    fn context_round_trips() {
        let ctx = Context::new(
            HostInfo::new("mycli", "0.1.0", "1.2.0"),
            "greet",
            ["greet"],
            PluginDirs::new("/c", "/d", "/k"),
        )
        .with_verbosity(1)
        .with_color(ColorChoice::Never);
        let json = serde_json::to_string(&ctx).unwrap();
        assert!(json.contains(r#""color":"never""#));
        assert_eq!(serde_json::from_str::<Context>(&json).unwrap(), ctx);
    }
}
