//! `cargo xtask codegen`: Rust sources generated from Datadog reference data.
//!
//! The inputs live in `reference/`, an in-repo copy of `../shared/reference/`, so that a clone
//! builds and checks alone; `--from <dir>` refreshes the copy. Each generated file has one
//! function here (`scope_catalog`, ...) and [`generate_all`] lists them. The output is written
//! already rustfmt-clean, so `cargo fmt --check` passes without running rustfmt here.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// What `--check` reports when a generated file differs from what the inputs produce.
pub const STALE: &str = "stale: run `cargo xtask codegen`";

/// The reference inputs, by file name, in `reference/` and in the shared reference directory.
const INPUTS: &[&str] = &[
    "datadog-scopes.txt",
    "datadog-endpoints.tsv",
    "metadata-unit-names.txt",
];

/// The longest scope name the SDK accepts; it must agree with `MAX_LEN` in `scope.rs`.
const MAX_SCOPE_LEN: usize = 128;

/// rustfmt's default line width: longer items are broken the way rustfmt would break them.
const MAX_WIDTH: usize = 100;

/// Extra documentation for scopes that need more than their name, keyed by scope name.
const SCOPE_NOTES: &[(&str, &[&str])] = &[(
    "api_keys_write",
    &[
        "A **private** partner scope, absent from Datadog's public scope list: it lets a partner",
        "client create the marketplace API key (`POST /api/v2/api_keys/marketplace`). Datadog",
        "enables it on the OAuth client on request (marketplace@datadog.com).",
    ],
)];

/// Options of `cargo xtask codegen`.
#[derive(Debug, Default)]
pub struct Options {
    /// Change nothing; fail if a file is stale.
    pub check: bool,
    /// Refresh `reference/` from this directory (or this one input file) first.
    pub from: Option<PathBuf>,
}

/// One generated file.
#[derive(Debug)]
pub struct Generated {
    /// Where it goes, relative to the workspace root.
    pub path: &'static str,
    /// What it must hold.
    pub contents: String,
}

/// The workspace root: xtask sits one level below it.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Every generated file, rendered in memory from the inputs in `<root>/reference/`.
pub fn generate_all(root: &Path) -> Result<Vec<Generated>, String> {
    Ok(vec![
        scope_catalog(root)?,
        scope_markers(root)?,
        macro_catalog(root)?,
        api_operations(root)?,
        submission_units(root)?,
    ])
}

/// `dd-integration/src/scope_catalog.rs`, from `reference/datadog-scopes.txt`.
pub fn scope_catalog(root: &Path) -> Result<Generated, String> {
    let input = read(&root.join("reference").join("datadog-scopes.txt"))?;
    Ok(Generated {
        path: "dd-integration/src/scope_catalog.rs",
        contents: render_scope_catalog(&input).map_err(|e| format!("datadog-scopes.txt: {e}"))?,
    })
}

/// `dd-integration/src/scope_markers.rs`, from `reference/datadog-scopes.txt`: one marker type
/// a scope, for `HasScope<S>` bounds.
pub fn scope_markers(root: &Path) -> Result<Generated, String> {
    let input = read(&root.join("reference").join("datadog-scopes.txt"))?;
    Ok(Generated {
        path: "dd-integration/src/scope_markers.rs",
        contents: render_scope_markers(&input).map_err(|e| format!("datadog-scopes.txt: {e}"))?,
    })
}

/// `dd-integration-macros/src/catalog.rs`, from `reference/datadog-scopes.txt` and
/// `reference/metadata-unit-names.txt`: what the macro checks names against (a proc-macro crate
/// cannot use the runtime crate's catalog).
pub fn macro_catalog(root: &Path) -> Result<Generated, String> {
    let scopes = read(&root.join("reference").join("datadog-scopes.txt"))?;
    let units = read(&root.join("reference").join("metadata-unit-names.txt"))?;
    let scopes = parse_scope_list(&scopes).map_err(|e| format!("datadog-scopes.txt: {e}"))?;
    let units = parse_unit_names(&units).map_err(|e| format!("metadata-unit-names.txt: {e}"))?;
    Ok(Generated {
        path: "dd-integration-macros/src/catalog.rs",
        contents: render_macro_catalog(&scopes.names, &units),
    })
}

/// `dd-integration/src/submission/unit_names.rs`, from `reference/metadata-unit-names.txt`: the
/// unit names `cargo xtask validate` accepts in metadata.csv.
pub fn submission_units(root: &Path) -> Result<Generated, String> {
    let units = read(&root.join("reference").join("metadata-unit-names.txt"))?;
    let units = parse_unit_names(&units).map_err(|e| format!("metadata-unit-names.txt: {e}"))?;
    Ok(Generated {
        path: "dd-integration/src/submission/unit_names.rs",
        contents: render_submission_units(&units),
    })
}

/// `dd-integration/src/api_operations.rs`, from `reference/datadog-endpoints.tsv`: a type for
/// every operation that accepts an OAuth bearer token. Every scope the table names must be in
/// `reference/datadog-scopes.txt`.
pub fn api_operations(root: &Path) -> Result<Generated, String> {
    let scopes = read(&root.join("reference").join("datadog-scopes.txt"))?;
    let scopes = parse_scope_list(&scopes).map_err(|e| format!("datadog-scopes.txt: {e}"))?;
    let table = read(&root.join("reference").join("datadog-endpoints.tsv"))?;
    let operations = parse_endpoints(&table, &scopes.names)
        .map_err(|e| format!("datadog-endpoints.tsv: {e}"))?;
    Ok(Generated {
        path: "dd-integration/src/api_operations.rs",
        contents: render_api_operations(&operations),
    })
}

/// The files among `generated` whose committed contents differ (or are missing).
pub fn stale<'a>(root: &Path, generated: &'a [Generated]) -> Vec<&'a Generated> {
    generated
        .iter()
        .filter(|file| !same_text(&root.join(file.path), &file.contents))
        .collect()
}

/// Runs `cargo xtask codegen` with `options` in the workspace at `root`.
pub fn run(root: &Path, options: &Options) -> Result<(), String> {
    let mut stale_inputs = Vec::new();
    if let Some(from) = &options.from {
        for (source, name) in inputs_in(from)? {
            let text = read(&source)?;
            let target = root.join("reference").join(name);
            if same_text(&target, &text) {
                continue;
            }
            if options.check {
                stale_inputs.push(name);
            } else {
                write(&target, &text)?;
                println!("copied {} to reference/{name}", source.display());
            }
        }
    }

    let generated = generate_all(root)?;
    let stale = stale(root, &generated);
    if options.check {
        let mut problems = Vec::new();
        if !stale_inputs.is_empty() {
            problems.push(format!(
                "reference/ differs from {} for {}: run `cargo xtask codegen --from <dir>`",
                options.from.as_deref().unwrap_or(Path::new("?")).display(),
                stale_inputs.join(", ")
            ));
        }
        if !stale.is_empty() {
            let paths: Vec<&str> = stale.iter().map(|file| file.path).collect();
            problems.push(format!("{STALE} ({} differs)", paths.join(", ")));
        }
        return if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        };
    }
    for file in stale {
        write(&root.join(file.path), &file.contents)?;
        println!("wrote {}", file.path);
    }
    Ok(())
}

/// The inputs `--from` names: every known input in a directory, or one input file.
fn inputs_in(from: &Path) -> Result<Vec<(PathBuf, &'static str)>, String> {
    if from.is_dir() {
        return Ok(INPUTS.iter().map(|name| (from.join(name), *name)).collect());
    }
    let file_name = from.file_name().and_then(|n| n.to_str()).unwrap_or("");
    match INPUTS.iter().find(|name| **name == file_name) {
        Some(name) => Ok(vec![(from.to_path_buf(), *name)]),
        None => Err(format!(
            "`--from {}` is neither a directory nor one of the inputs ({})",
            from.display(),
            INPUTS.join(", ")
        )),
    }
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Whether `path` holds `text`, ignoring CRLF line ends (a Windows checkout is not stale).
fn same_text(path: &Path, text: &str) -> bool {
    fs::read_to_string(path).is_ok_and(|on_disk| on_disk.replace("\r\n", "\n") == text)
}

/// Renders the scope catalog from the lines of `datadog-scopes.txt`: one scope name a line,
/// blank lines and `#` comments ignored.
pub fn render_scope_catalog(input: &str) -> Result<String, String> {
    let ScopeList { names, comments } = parse_scope_list(input)?;

    let mut out = String::new();
    out.push_str("// @generated by `cargo xtask codegen` from datadog-scopes.txt; do not edit.\n");
    out.push_str("// To add a scope, refresh reference/datadog-scopes.txt (`cargo xtask codegen\n");
    out.push_str("// --from ../shared/reference`) and regenerate.\n");
    if !comments.is_empty() {
        out.push_str("//\n// From datadog-scopes.txt:\n");
        for comment in &comments {
            let _ = writeln!(out, "// {comment}");
        }
    }
    out.push_str("\nuse super::{Repr, Scope};\n\n");

    let n = names.len();
    out.push_str("/// Every known scope name, sorted: `Scope::known` binary-searches it.\n");
    let _ = writeln!(out, "pub(super) const NAMES: [&str; {n}] = [");
    for name in &names {
        let _ = writeln!(out, "    \"{name}\",");
    }
    out.push_str("];\n\n");

    out.push_str("/// Every known scope, in the order of [`NAMES`].\n");
    let _ = writeln!(out, "pub(super) static CATALOG: [Scope; {n}] = [");
    for name in &names {
        let _ = writeln!(out, "    Scope::{},", const_name(name));
    }
    out.push_str("];\n\n");

    out.push_str("impl Scope {\n");
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "    /// The `{name}` scope.");
        if let Some((_, note)) = SCOPE_NOTES.iter().find(|(n, _)| n == name) {
            out.push_str("    ///\n");
            for line in *note {
                let _ = writeln!(out, "    /// {line}");
            }
        }
        let head = format!("    pub const {}: Scope =", const_name(name));
        let value = format!("Scope(Repr::Known(\"{name}\"));");
        // rustfmt breaks after `=` when the item does not fit on one line.
        if head.len() + 1 + value.len() <= MAX_WIDTH {
            let _ = writeln!(out, "{head} {value}");
        } else {
            let _ = writeln!(out, "{head}\n        {value}");
        }
    }
    out.push_str("}\n");
    Ok(out)
}

/// Renders the marker types, one a scope, from the lines of `datadog-scopes.txt`.
pub fn render_scope_markers(input: &str) -> Result<String, String> {
    let ScopeList { names, .. } = parse_scope_list(input)?;
    let mut out = String::new();
    out.push_str("// @generated by `cargo xtask codegen` from datadog-scopes.txt; do not edit.\n");
    out.push_str(
        "// Each type is named exactly like its scope, so that a missing-scope error names\n",
    );
    out.push_str("// the scope as the user writes it in `scopes = [...]`.\n");
    out.push_str("#![allow(non_camel_case_types)]\n\n");
    out.push_str("use super::sealed::Sealed;\n");
    out.push_str("use super::{Scope, ScopeMarker};\n");
    for name in &names {
        let _ = write!(
            out,
            "\n/// The `{name}` scope, as a type: see [`HasScope`](super::HasScope).\n\
             #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]\n\
             pub struct {name};\n\n\
             impl Sealed for {name} {{}}\n\n\
             impl ScopeMarker for {name} {{\n"
        );
        out.push_str(&const_item(
            "    ",
            "const SCOPE: Scope =",
            &format!("Scope::{};", const_name(name)),
        ));
        out.push_str("}\n");
    }
    Ok(out)
}

/// Renders the macro crate's catalog: the scope names and the metadata.csv unit names, sorted.
pub fn render_macro_catalog(scopes: &[&str], units: &[&str]) -> String {
    let mut out = String::new();
    out.push_str(
        "// @generated by `cargo xtask codegen` from datadog-scopes.txt and\n\
         // metadata-unit-names.txt; do not edit.\n\n",
    );
    let lists: [(&str, &str, &[&str]); 2] = [
        (
            "Datadog's OAuth scope names, sorted: what `scopes = [...]` accepts.",
            "SCOPES",
            scopes,
        ),
        (
            "The unit names metadata.csv accepts (ddev's list), sorted.",
            "UNIT_NAMES",
            units,
        ),
    ];
    for (i, (doc, name, items)) in lists.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "/// {doc}");
        let _ = writeln!(out, "pub(crate) const {name}: [&str; {}] = [", items.len());
        for item in *items {
            let _ = writeln!(out, "    \"{item}\",");
        }
        out.push_str("];\n");
    }
    out
}

/// Renders the runtime crate's list of metadata.csv unit names, sorted for binary search.
pub fn render_submission_units(units: &[&str]) -> String {
    let mut out = String::new();
    out.push_str(
        "// @generated by `cargo xtask codegen` from metadata-unit-names.txt; do not edit.\n\n",
    );
    out.push_str("/// The unit names metadata.csv accepts (ddev's list), sorted.\n");
    let _ = writeln!(
        out,
        "pub(crate) const UNIT_NAMES: [&str; {}] = [",
        units.len()
    );
    for unit in units {
        let _ = writeln!(out, "    \"{unit}\",");
    }
    out.push_str("];\n");
    out
}

/// Parses `metadata-unit-names.txt`: one unit name a line (words, not always ASCII), blank lines
/// and `#` comments ignored. Sorted, so that the macro can binary-search.
fn parse_unit_names(input: &str) -> Result<Vec<&str>, String> {
    let mut units = Vec::new();
    for (index, line) in input.lines().enumerate() {
        let unit = line
            .split_once('#')
            .map_or(line, |(content, _)| content)
            .trim();
        if unit.is_empty() {
            continue;
        }
        if unit
            .chars()
            .any(|c| c.is_control() || c == '"' || c == '\\')
        {
            return Err(format!(
                "line {}: `{}` holds a quote, backslash or control character",
                index + 1,
                unit.escape_default()
            ));
        }
        units.push(unit);
    }
    if units.is_empty() {
        return Err("no unit names".into());
    }
    units.sort_unstable();
    if let Some(pair) = units.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(format!("`{}` is listed twice", pair[0]));
    }
    Ok(units)
}

/// One row of `datadog-endpoints.tsv` that accepts an OAuth bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint<'a> {
    /// `V1` or `V2`.
    pub api: &'static str,
    /// The operation id, a Rust type name (`ListMonitors`).
    pub id: &'a str,
    /// The `Method` variant (`Get`).
    pub method: &'static str,
    /// The path template (`/api/v1/monitor/{monitor_id}`).
    pub path: &'a str,
    /// The `HostKind` variant (`Api`).
    pub host: &'static str,
    /// The scopes, all required.
    pub scopes: Vec<&'a str>,
    /// Whether Datadog marks the operation unstable.
    pub unstable: bool,
}

/// The columns `datadog-endpoints.tsv` must have, in order.
const ENDPOINT_COLUMNS: [&str; 8] = [
    "api",
    "operation_id",
    "method",
    "path",
    "host",
    "oauth_scopes",
    "auth_schemes",
    "stability",
];

/// Parses the rows of `datadog-endpoints.tsv` whose `oauth_scopes` is not `-`, in file order.
fn parse_endpoints<'a>(input: &'a str, catalog: &[&str]) -> Result<Vec<Endpoint<'a>>, String> {
    let mut lines = input.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, line)| line.split('\t').collect())
        .unwrap_or_default();
    if header != ENDPOINT_COLUMNS {
        return Err(format!(
            "the header is not `{}`",
            ENDPOINT_COLUMNS.join("\\t")
        ));
    }
    let mut endpoints: Vec<Endpoint<'a>> = Vec::new();
    for (index, line) in lines {
        let line_no = index + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let row = parse_endpoint(line, catalog).map_err(|e| format!("line {line_no}: {e}"))?;
        let Some(endpoint) = row else { continue };
        if endpoints
            .iter()
            .any(|other| other.api == endpoint.api && other.id == endpoint.id)
        {
            return Err(format!(
                "line {line_no}: {} `{}` is listed twice",
                endpoint.api, endpoint.id
            ));
        }
        endpoints.push(endpoint);
    }
    if endpoints.is_empty() {
        return Err("no operation accepts an OAuth token".into());
    }
    Ok(endpoints)
}

/// One row: `None` when the operation takes no OAuth token.
fn parse_endpoint<'a>(line: &'a str, catalog: &[&str]) -> Result<Option<Endpoint<'a>>, String> {
    let fields: Vec<&str> = line.split('\t').collect();
    let [api, id, method, path, host, scopes, _auth, stability] = fields[..] else {
        return Err(format!(
            "{} columns, expected {}",
            fields.len(),
            ENDPOINT_COLUMNS.len()
        ));
    };
    if scopes == "-" {
        return Ok(None);
    }
    let api = match api {
        "v1" => "V1",
        "v2" => "V2",
        other => return Err(format!("unknown api `{other}` (v1 or v2)")),
    };
    if !id.starts_with(|c: char| c.is_ascii_uppercase())
        || !id.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(format!("operation id `{id}` is not a Rust type name"));
    }
    let method = match method {
        "GET" => "Get",
        "POST" => "Post",
        "PUT" => "Put",
        "PATCH" => "Patch",
        "DELETE" => "Delete",
        other => return Err(format!("unknown method `{other}`")),
    };
    if !path.starts_with('/') || path.contains(['"', '\\', ' ']) {
        return Err(format!("path `{path}` is not an absolute path template"));
    }
    let host = match host {
        "api" => "Api",
        "http-intake.logs" => "LogsIntake",
        "event-management-intake" => "EventManagementIntake",
        other => return Err(format!("unknown host kind `{other}`")),
    };
    let unstable = match stability {
        "" => false,
        "unstable" => true,
        other => return Err(format!("unknown stability `{other}`")),
    };
    let scopes: Vec<&str> = scopes.split(' ').collect();
    for scope in &scopes {
        if catalog.binary_search(scope).is_err() {
            return Err(format!(
                "scope `{scope}` is not in datadog-scopes.txt: refresh both from the same spec"
            ));
        }
    }
    Ok(Some(Endpoint {
        api,
        id,
        method,
        path,
        host,
        scopes,
        unstable,
    }))
}

/// Renders the typed operations: a module a API version, a unit type an operation.
pub fn render_api_operations(endpoints: &[Endpoint<'_>]) -> String {
    let mut out = String::new();
    out.push_str(
        "// @generated by `cargo xtask codegen` from datadog-endpoints.tsv; do not edit.\n",
    );
    let _ = writeln!(
        out,
        "// Every operation of Datadog's public API that accepts an OAuth bearer token (the rows\n\
         // whose `oauth_scopes` is not `-`): {} operations.",
        endpoints.len()
    );
    for (api, prefix) in [("V1", "v1"), ("V2", "v2")] {
        let _ = write!(
            out,
            "\n/// The operations of Datadog's {prefix} API (`/api/{prefix}/...`) that accept an OAuth token.\n\
             pub mod {prefix} {{\n\
             \x20   use crate::api::{{ApiVersion, Authorized, HostKind, Method, Operation}};\n\
             \x20   use crate::scope::{{HasScope, Scope, markers}};\n"
        );
        for endpoint in endpoints.iter().filter(|e| e.api == api) {
            render_operation(&mut out, endpoint);
        }
        out.push_str("}\n");
    }
    let _ = writeln!(
        out,
        "\n/// Every operation above, as data, in the table's order.\n\
         pub static ALL: [crate::api::OperationSpec; {}] = [",
        endpoints.len()
    );
    for e in endpoints {
        let _ = writeln!(
            out,
            "    crate::api::OperationSpec::of::<{}::{}>(),",
            e.api.to_ascii_lowercase(),
            e.id
        );
    }
    out.push_str("];\n");
    out
}

fn render_operation(out: &mut String, e: &Endpoint<'_>) {
    let Endpoint {
        api,
        id,
        method,
        path,
        host,
        unstable,
        ..
    } = e;
    let scopes: Vec<String> = e.scopes.iter().map(|s| format!("`{s}`")).collect();
    let _ = writeln!(
        out,
        "\n    /// `{} {path}`: needs {}.",
        method.to_ascii_uppercase(),
        scopes.join(" and ")
    );
    if *unstable {
        out.push_str(
            "    ///\n    /// Unstable: Datadog serves it only to clients that enable it.\n",
        );
    }
    let _ = write!(
        out,
        "    #[derive(Debug, Clone, Copy, Default)]\n\
         \x20   pub struct {id};\n\n\
         \x20   impl Operation for {id} {{\n"
    );
    let consts = [
        ("const ID: &'static str =", format!("\"{id}\";")),
        ("const VERSION: ApiVersion =", format!("ApiVersion::{api};")),
        ("const METHOD: Method =", format!("Method::{method};")),
        ("const PATH: &'static str =", format!("\"{path}\";")),
        ("const HOST: HostKind =", format!("HostKind::{host};")),
    ];
    for (head, value) in consts {
        out.push_str(&const_item("        ", head, &value));
    }
    let list: Vec<String> = e
        .scopes
        .iter()
        .map(|s| format!("Scope::{}", const_name(s)))
        .collect();
    let one_line = format!(
        "        const SCOPES: &'static [Scope] = &[{}];",
        list.join(", ")
    );
    if one_line.len() <= MAX_WIDTH {
        let _ = writeln!(out, "{one_line}");
    } else {
        out.push_str("        const SCOPES: &'static [Scope] = &[\n");
        for item in &list {
            let _ = writeln!(out, "            {item},");
        }
        out.push_str("        ];\n");
    }
    let _ = write!(
        out,
        "        const UNSTABLE: bool = {unstable};\n    }}\n\n\
         \x20   impl<I> Authorized<I> for {id}\n    where\n"
    );
    for scope in &e.scopes {
        let _ = writeln!(out, "        I: HasScope<markers::{scope}>,");
    }
    out.push_str("    {\n    }\n");
}

/// `head value` on one line when it fits, else broken after `=` as rustfmt does.
fn const_item(indent: &str, head: &str, value: &str) -> String {
    if indent.len() + head.len() + 1 + value.len() <= MAX_WIDTH {
        format!("{indent}{head} {value}\n")
    } else {
        format!("{indent}{head}\n{indent}    {value}\n")
    }
}

/// The names of `datadog-scopes.txt`, sorted, and its comment lines.
struct ScopeList<'a> {
    names: Vec<&'a str>,
    comments: Vec<&'a str>,
}

/// Parses `datadog-scopes.txt`: one scope name a line, blank lines and `#` comments ignored.
fn parse_scope_list(input: &str) -> Result<ScopeList<'_>, String> {
    let mut comments = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    for (index, line) in input.lines().enumerate() {
        let line_no = index + 1;
        let (content, comment) = match line.split_once('#') {
            Some((content, comment)) => (content.trim(), Some(comment.trim())),
            None => (line.trim(), None),
        };
        if content.is_empty() {
            comments.extend(comment.filter(|c| !c.is_empty()));
            continue;
        }
        check_scope_name(content).map_err(|e| format!("line {line_no}: `{content}` {e}"))?;
        if names.contains(&content) {
            return Err(format!("line {line_no}: `{content}` is listed twice"));
        }
        names.push(content);
    }
    if names.is_empty() {
        return Err("no scope names".into());
    }
    for (name, _) in SCOPE_NOTES {
        if !names.contains(name) {
            return Err(format!(
                "xtask has a note for `{name}`, which is not listed: update SCOPE_NOTES"
            ));
        }
    }
    // Sorted so that `Scope::known` can binary-search, whatever the input order.
    names.sort_unstable();
    Ok(ScopeList { names, comments })
}

/// Checks what `Scope::parse` accepts, plus a leading letter so the constant is an identifier.
fn check_scope_name(name: &str) -> Result<(), String> {
    if name.len() > MAX_SCOPE_LEN {
        return Err(format!("is longer than {MAX_SCOPE_LEN} characters"));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("does not start with a lowercase letter".into());
    }
    match name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        Some(c) => Err(format!(
            "contains {c:?}; scope names use only a-z, 0-9 and `_`"
        )),
        None => Ok(()),
    }
}

fn const_name(scope: &str) -> String {
    scope.to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_files_are_fresh() {
        let root = workspace_root();
        let generated = generate_all(&root).unwrap();
        let stale: Vec<&str> = stale(&root, &generated)
            .iter()
            .map(|file| file.path)
            .collect();
        assert!(stale.is_empty(), "{STALE} ({} differs)", stale.join(", "));
    }

    #[test]
    fn reference_copy_matches_shared_reference_when_present() {
        // CI clones the repo with `shared/` beside it; a lone clone skips this.
        let root = workspace_root();
        let shared = root.join("../shared/reference");
        for name in INPUTS {
            let Ok(text) = fs::read_to_string(shared.join(name)) else {
                continue;
            };
            assert!(
                same_text(&root.join("reference").join(name), &text),
                "reference/{name} is older than ../shared/reference/{name}: \
                 run `cargo xtask codegen --from ../shared/reference`"
            );
        }
    }

    #[test]
    fn renders_sorted_constants_with_header_and_notes() {
        let out = render_scope_catalog(
            "# a comment\n\nmonitors_read\n  api_keys_write  # trailing\ndashboards_read\n",
        )
        .unwrap();
        assert!(out.starts_with(
            "// @generated by `cargo xtask codegen` from datadog-scopes.txt; do not edit.\n"
        ));
        assert!(out.contains("// a comment\n"));
        assert!(out.contains(
            "pub(super) const NAMES: [&str; 3] = [\n    \"api_keys_write\",\n    \
             \"dashboards_read\",\n    \"monitors_read\",\n];"
        ));
        assert!(out.contains(
            "    pub const MONITORS_READ: Scope = Scope(Repr::Known(\"monitors_read\"));\n"
        ));
        assert!(out.contains("**private** partner scope"));
    }

    #[test]
    fn breaks_long_constants_like_rustfmt() {
        let name = "security_monitoring_critical_assets_write";
        let out = render_scope_catalog(&format!("api_keys_write\n{name}\n")).unwrap();
        assert!(out.contains(&format!(
            "    pub const {}: Scope =\n        Scope(Repr::Known(\"{name}\"));\n",
            name.to_uppercase()
        )));
        assert!(
            out.lines()
                .all(|line| line.len() <= MAX_WIDTH || line.starts_with("//"))
        );
    }

    #[test]
    fn refuses_bad_input() {
        let err = |input: &str| render_scope_catalog(input).unwrap_err();
        assert!(err("api_keys_write\nMonitors_read\n").contains("line 2"));
        assert!(err("api_keys_write\n9lives\n").contains("lowercase letter"));
        assert!(err("api_keys_write\nmonitors-read\n").contains("'-'"));
        assert!(err("api_keys_write\napi_keys_write\n").contains("twice"));
        assert!(err("# nothing\n").contains("no scope names"));
        assert!(err("monitors_read\n").contains("SCOPE_NOTES"));
        assert!(err(&format!("api_keys_write\n{}\n", "a".repeat(129))).contains("longer"));
    }

    #[test]
    fn check_reports_stale_files_and_write_fixes_them() {
        let root = std::env::temp_dir().join(format!("xtask-codegen-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("reference")).unwrap();
        fs::create_dir_all(root.join("dd-integration/src")).unwrap();
        fs::create_dir_all(root.join("dd-integration-macros/src")).unwrap();
        let shared = root.join("shared");
        fs::create_dir_all(&shared).unwrap();
        fs::write(
            shared.join("datadog-scopes.txt"),
            "api_keys_write\nslos_read\n",
        )
        .unwrap();
        fs::write(
            root.join("reference/datadog-scopes.txt"),
            "api_keys_write\n",
        )
        .unwrap();
        for dir in [root.join("reference"), shared.clone()] {
            fs::write(dir.join("datadog-endpoints.tsv"), TABLE).unwrap();
            fs::write(dir.join("metadata-unit-names.txt"), "second\npage\n").unwrap();
        }

        let check = Options {
            check: true,
            from: None,
        };
        let err = run(&root, &check).unwrap_err();
        assert!(err.contains(STALE), "{err}");

        run(&root, &Options::default()).unwrap();
        run(&root, &check).unwrap();

        let check_from = Options {
            check: true,
            from: Some(shared.clone()),
        };
        assert!(run(&root, &check_from).unwrap_err().contains("--from"));
        run(
            &root,
            &Options {
                check: false,
                from: Some(shared),
            },
        )
        .unwrap();
        run(&root, &check_from).unwrap();
        let catalog = fs::read_to_string(root.join("dd-integration/src/scope_catalog.rs")).unwrap();
        assert!(catalog.contains("SLOS_READ"));
        let macro_catalog =
            fs::read_to_string(root.join("dd-integration-macros/src/catalog.rs")).unwrap();
        assert!(macro_catalog.contains("\"slos_read\""));
        let units =
            fs::read_to_string(root.join("dd-integration/src/submission/unit_names.rs")).unwrap();
        assert!(units.contains("pub(crate) const UNIT_NAMES: [&str; 2] = [\n    \"page\",\n"));
        fs::remove_dir_all(&root).unwrap();
    }

    const HEADER: &str =
        "api\toperation_id\tmethod\tpath\thost\toauth_scopes\tauth_schemes\tstability\n";
    const TABLE: &str = "api\toperation_id\tmethod\tpath\thost\toauth_scopes\tauth_schemes\tstability\n\
        v2\tCreateKey\tPOST\t/api/v2/k\tapi\tapi_keys_write\tAuthZ\t\n";

    #[test]
    fn operations_keep_oauth_rows_and_require_every_scope() {
        let catalog = ["events_read", "monitors_read", "monitors_write"];
        let table = format!(
            "{HEADER}\
             v1\tListMonitors\tGET\t/api/v1/monitor\tapi\tmonitors_read\tAuthZ+apiKeyAuth\t\n\
             v1\tValidate\tGET\t/api/v1/validate\tapi\t-\tapiKeyAuth\t\n\
             v2\tMoveMonitor\tPATCH\t/api/v2/monitor/{{monitor_id}}\tapi\tmonitors_read monitors_write\tAuthZ\tunstable\n\
             v2\tListEvents\tGET\t/api/v2/events\tapi\tevents_read\tAuthZ\t\n"
        );
        let endpoints = parse_endpoints(&table, &catalog).unwrap();
        assert_eq!(endpoints.len(), 3);
        assert_eq!(endpoints[1].scopes, ["monitors_read", "monitors_write"]);
        assert!(endpoints[1].unstable);
        let out = render_api_operations(&endpoints);
        assert!(out.contains("): 3 operations."));
        assert!(out.contains("pub mod v1 {\n"));
        assert!(!out.contains("Validate"));
        assert!(out.contains(
            "    /// `PATCH /api/v2/monitor/{monitor_id}`: needs `monitors_read` and \
             `monitors_write`.\n    ///\n    /// Unstable"
        ));
        assert!(out.contains(
            "    impl<I> Authorized<I> for MoveMonitor\n    where\n        \
             I: HasScope<markers::monitors_read>,\n        \
             I: HasScope<markers::monitors_write>,\n    {\n    }\n"
        ));
        assert!(out.contains("        const METHOD: Method = Method::Patch;\n"));
        assert!(out.contains(
            "        const SCOPES: &'static [Scope] = &[Scope::MONITORS_READ, Scope::MONITORS_WRITE];\n"
        ));
    }

    #[test]
    fn operations_refuse_a_bad_table() {
        let catalog = ["monitors_read"];
        let err = |rows: &str| parse_endpoints(&format!("{HEADER}{rows}"), &catalog).unwrap_err();
        assert!(
            parse_endpoints("api\tid\n", &catalog)
                .unwrap_err()
                .contains("header")
        );
        assert!(err("v1\tX\tGET\t/x\tapi\tslos_read\tAuthZ\t\n").contains("`slos_read` is not in"));
        assert!(err("v1\tX\tFETCH\t/x\tapi\tmonitors_read\tAuthZ\t\n").contains("method"));
        assert!(err("v3\tX\tGET\t/x\tapi\tmonitors_read\tAuthZ\t\n").contains("api `v3`"));
        assert!(err("v1\tlist-x\tGET\t/x\tapi\tmonitors_read\tAuthZ\t\n").contains("type name"));
        assert!(err("v1\tX\tGET\t/x\tapi\tmonitors_read\n").contains("columns"));
        assert!(err("v1\tX\tGET\t/x\tcdn\tmonitors_read\tAuthZ\t\n").contains("host kind"));
        assert!(err("v1\tX\tGET\t/x\tapi\tmonitors_read\tAuthZ\tbeta\n").contains("stability"));
        let twice = "v1\tX\tGET\t/x\tapi\tmonitors_read\tAuthZ\t\n";
        assert!(err(&format!("{twice}{twice}")).contains("twice"));
        assert!(err("v1\tX\tGET\t/x\tapi\t-\tapiKeyAuth\t\n").contains("no operation"));
    }

    #[test]
    fn markers_and_the_macro_catalog() {
        let markers = render_scope_markers("monitors_read\napi_keys_write\n").unwrap();
        assert!(markers.contains("#![allow(non_camel_case_types)]\n"));
        assert!(markers.contains(
            "pub struct api_keys_write;\n\nimpl Sealed for api_keys_write {}\n\n\
             impl ScopeMarker for api_keys_write {\n    \
             const SCOPE: Scope = Scope::API_KEYS_WRITE;\n}\n"
        ));
        let units = parse_unit_names("# units\nsecond\nbolívar digital\npage\n").unwrap();
        assert_eq!(units, ["bolívar digital", "page", "second"]);
        assert!(
            parse_unit_names("page\npage\n")
                .unwrap_err()
                .contains("twice")
        );
        assert!(parse_unit_names("a\"b\n").is_err());
        let catalog = render_macro_catalog(&["api_keys_write"], &units);
        assert!(
            catalog.contains("pub(crate) const SCOPES: [&str; 1] = [\n    \"api_keys_write\",\n];")
        );
        assert!(catalog.contains("pub(crate) const UNIT_NAMES: [&str; 3] = ["));
    }
}
