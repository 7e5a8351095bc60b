//! `plugins list`: every plugin with the loader's outcome, as a table or
//! JSON. Its rows also serve `info` and `doctor`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgMatches, Command};
use serde::Serialize;

use crate::engine::{Engine, revoke_fix};
use crate::index::{Grants, Index, Kind, Origin, Signer};
use crate::loader::{Check, Outcome, Status};
use crate::pin;
use crate::text::one_line;
use crate::ui::{Options, Paint, paint};

use super::common::{Result, json_arg, load_index, print_json};

/// The clap definition of `plugins list`.
pub(super) fn command() -> Command {
    Command::new("list")
        .visible_alias("ls")
        .about("Show installed plugins and whether they load")
        .arg(json_arg())
}

/// The arguments of `plugins list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ListArgs {
    pub(super) json: bool,
}

impl From<&ArgMatches> for ListArgs {
    fn from(m: &ArgMatches) -> ListArgs {
        ListArgs {
            json: m.get_flag("json"),
        }
    }
}

/// One row of `plugins list`: the loader's outcome and, for installed
/// plugins, what the index says about the file.
#[derive(Debug, Serialize)]
pub(super) struct Row {
    #[serde(flatten)]
    pub(super) outcome: Outcome,
    pub(super) origin: Option<String>,
    /// For a registry plugin: who signed it ("unsigned" in the table
    /// when no one did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) signer: Option<Signer>,
    /// Whether it came from a registry (where a signature is expected).
    #[serde(skip)]
    pub(super) from_registry: bool,
    pub(super) path: Option<PathBuf>,
    pub(super) sha256: Option<String>,
    pub(super) enabled: bool,
    pub(super) installed_at: Option<String>,
    /// For sandboxed plugins: what the user granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) grants: Option<Grants>,
}

/// Every plugin of `index` and every plugin compiled in, with its outcome,
/// checking pins too.
pub(super) fn rows(engine: &Engine, index: Index) -> Vec<Row> {
    // What the rows show of each entry, taken before the loader consumes
    // the index: cloning whole entries would copy every manifest.
    let facts: Vec<Row> = index
        .plugins
        .iter()
        .map(|e| Row {
            outcome: Outcome::placeholder(),
            origin: Some(e.origin.to_string()),
            signer: match &e.origin {
                Origin::Oci(o) => o.signer.clone(),
                _ => None,
            },
            from_registry: matches!(e.origin, Origin::Oci(_)),
            path: Some(e.path.clone()),
            sha256: Some(e.sha256.clone()),
            enabled: e.enabled,
            installed_at: Some(e.installed_at.clone()),
            grants: (e.kind == Kind::Wasm).then(|| e.grants.clone()),
        })
        .collect();
    let loaded = engine.run_loader(index, true);
    let compiled_in = loaded.outcomes.len() - facts.len();
    let compiled_in_rows = (0..compiled_in).map(|_| Row {
        outcome: Outcome::placeholder(),
        origin: None,
        signer: None,
        from_registry: false,
        path: None,
        sha256: None,
        enabled: true,
        installed_at: None,
        grants: None,
    });
    compiled_in_rows
        .chain(facts)
        .zip(loaded.outcomes)
        .map(|(row, outcome)| Row {
            outcome: refused_grants(engine, outcome, row.grants.as_ref()),
            ..row
        })
        .collect()
}

/// `outcome`, or an error when the component holds a grant reaching the
/// host's own directories, which a run refuses (recorded before such
/// grants were refused): the row says what the run would, with its fix.
fn refused_grants(engine: &Engine, mut outcome: Outcome, grants: Option<&Grants>) -> Outcome {
    if outcome.status != Status::Ok {
        return outcome;
    }
    let refused = grants.into_iter().flat_map(|g| &g.dirs).find_map(|grant| {
        engine
            .host_dir_reason(grant, &outcome.name)
            .map(|reason| (grant, reason))
    });
    if let Some((grant, reason)) = refused {
        outcome.status = Status::Error;
        outcome.check = Some(Check::Grants);
        outcome.fix = Some(revoke_fix(engine.ns(), &outcome.name, grant));
        outcome.reason = Some(reason);
    }
    outcome
}

/// Where a row's plugin came from and, from a registry, who signed it.
pub(super) fn origin_cell(row: &Row) -> String {
    let origin = row.origin.clone().unwrap_or_else(|| "compiled in".into());
    match (&row.signer, row.from_registry) {
        (Some(signer), _) => format!("{origin} signed by {}", signer.id),
        (None, true) => format!("{origin} unsigned"),
        (None, false) => origin,
    }
}

pub(super) fn run(engine: &Engine, args: &ListArgs, options: &Options) -> Result {
    let rows = rows(engine, load_index(engine)?);
    if args.json {
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!(
            "no plugins installed; add one with `{} plugins install PATH`",
            engine.ns()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let table: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.outcome.name.clone(),
                r.outcome.version.clone().unwrap_or_else(|| "-".into()),
                r.outcome.kind.as_str().to_string(),
                if r.outcome.commands.is_empty() {
                    "-".into()
                } else {
                    r.outcome.commands.join(",")
                },
                r.sha256
                    .as_deref()
                    .map(pin::short)
                    .unwrap_or("-")
                    .to_string(),
                origin_cell(r),
                r.outcome.status_line(),
            ]
        })
        .collect();
    let header = [
        "NAME", "VERSION", "KIND", "COMMANDS", "SHA256", "ORIGIN", "STATUS",
    ]
    .map(String::from);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    // One write for the table, not one per line.
    let _ = out.write_all(table_text(&header, &table, options.color_stdout()).as_bytes());
    let _ = out.flush();
    Ok(ExitCode::SUCCESS)
}

/// Aligned columns; the status, the one long column, goes last so a long
/// reason does not push the others apart. With `color`, the status word is
/// coloured.
fn table_text(header: &[String; 7], rows: &[[String; 7]], color: bool) -> String {
    // Cells carry plugin-supplied text (versions, reasons, file names).
    let rows: Vec<[String; 7]> = rows
        .iter()
        .map(|row| row.each_ref().map(|cell| one_line(cell).into_owned()))
        .collect();
    let mut widths = header.each_ref().map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for (at, row) in std::iter::once(header).chain(&rows).enumerate() {
        let mut line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        // The last column needs no padding, so its word can be painted.
        if let (Some(status), Some(raw)) = (line.last_mut().filter(|_| color && at > 0), row.last())
        {
            let (word, rest) = raw.split_at(raw.find(':').unwrap_or(raw.len()));
            let painted = match word {
                "ok" => paint(word, Paint::Good),
                "disabled" => paint(word, Paint::Dim),
                "skipped" => paint(word, Paint::Warn),
                _ => paint(word, Paint::Bad),
            };
            *status = format!("{painted}{rest}");
        }
        text.push_str(line.join("  ").trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align_and_only_the_status_word_is_painted() {
        let header = ["NAME", "V", "K", "C", "S", "O", "STATUS"].map(String::from);
        let row = [
            "greet",
            "1.0.0",
            "exec",
            "greet",
            "abc",
            "path x",
            "error: it broke",
        ]
        .map(String::from);
        let plain = table_text(&header, std::slice::from_ref(&row), false);
        assert_eq!(
            plain,
            "NAME   V      K     C      S    O       STATUS\ngreet  1.0.0  exec  greet  abc  path x  error: it broke\n"
        );
        let painted = table_text(&header, &[row], true);
        assert!(
            painted.ends_with("path x  \x1b[31merror\x1b[0m: it broke\n"),
            "{painted:?}"
        );
    }
}
