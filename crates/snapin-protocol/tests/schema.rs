//! The manifest's JSON Schema: the checked-in `docs/manifest.schema.json`
//! is the one the types generate, and it accepts and refuses what the
//! contract does. (The example plugins' real manifests are validated against
//! it by `examples/mycli/tests/cli/check.rs`.)

use std::path::Path;

use serde_json::{Value, json};

fn checked_in() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/manifest.schema.json");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}; fix: `cargo xtask schema`",
            path.display()
        )
    })
}

fn validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&checked_in()).expect("docs/manifest.schema.json is JSON");
    jsonschema::validator_for(&schema).expect("docs/manifest.schema.json is a JSON Schema")
}

#[test]
fn the_checked_in_schema_is_the_one_the_types_generate() {
    let fresh = snapin_protocol::manifest_schema().unwrap();
    assert!(
        checked_in() == fresh,
        "docs/manifest.schema.json is out of date with the manifest types in crates/snapin-protocol; fix: `cargo xtask schema`"
    );
}

#[test]
fn the_design_example_is_valid_and_unknown_fields_are_allowed() {
    let manifest = json!({
        "manifest": 1, "host": "mycli", "name": "greet", "version": "0.2.0",
        "api": "^1.0", "description": "Friendly greetings", "later": {"x": 1},
        "commands": [
            { "name": "greet", "about": "Say hello", "aliases": ["hi"],
              "args": [ { "name": "who", "long": "who", "short": "w",
                          "default": "world", "help": "Who to greet" } ],
              "subcommands": [ { "name": "twice" } ] }
        ],
        "capabilities": { "dirs": [ { "access": "read", "why": "to count" } ],
                          "env": ["HOME"] }
    });
    let errors: Vec<String> = validator()
        .iter_errors(&manifest)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// The typed values of API 1.3: the fixture plugin's manifest is valid;
/// a range of text, or a type word of no API this schema knows, is not
/// (a host reads such a word as `string`, but an author who checks
/// against the schema most likely misspelt it).
#[test]
fn typed_values_are_in_the_schema() {
    let v = validator();
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/compat/api-1.3/manifest.json");
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let errors: Vec<String> = v.iter_errors(&fixture).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let arg = |fields: Value| {
        let mut arg = json!({"name": "n"});
        for (k, x) in fields.as_object().unwrap() {
            arg[k] = x.clone();
        }
        json!({"manifest": 1, "host": "mycli", "name": "t", "version": "1.0.0",
               "api": "^1.3", "commands": [{"name": "t", "args": [arg]}]})
    };
    assert!(v.is_valid(&arg(json!({"type": "number", "range": {"min": 0.5}}))));
    assert!(!v.is_valid(&arg(json!({"type": "int", "range": {"min": "1"}}))));
    assert!(!v.is_valid(&arg(json!({"type": "integer"}))));
}

#[test]
fn what_the_contract_forbids_is_refused() {
    let v = validator();
    let base = json!({"manifest": 1, "host": "mycli", "name": "greet",
                      "version": "1.0.0", "api": "^1.0", "commands": []});
    assert!(v.is_valid(&base));
    let with = |field: &str, value: Value| {
        let mut m = base.clone();
        m[field] = value;
        m
    };
    // Each of these breaks one rule of docs/protocol.md.
    for (why, bad) in [
        ("format 2", with("manifest", json!(2))),
        ("upper-case name", with("name", json!("Greet"))),
        ("name with a slash", with("name", json!("../x"))),
        ("missing api", {
            let mut m = base.clone();
            m.as_object_mut().unwrap().remove("api");
            m
        }),
        (
            "bad command name",
            with("commands", json!([{"name": "Do It"}])),
        ),
        (
            "bad alias",
            with("commands", json!([{"name": "go", "aliases": ["-g"]}])),
        ),
        (
            "short of two letters",
            with(
                "commands",
                json!([{"name": "go", "args": [{"name": "x", "short": "ab"}]}]),
            ),
        ),
        (
            "unknown access",
            with("capabilities", json!({"dirs": [{"access": "exec"}]})),
        ),
    ] {
        assert!(
            !v.is_valid(&bad),
            "the schema accepted a manifest with {why}: {bad}"
        );
    }
}
