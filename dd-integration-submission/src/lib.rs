//! The files a partner submits to Datadog, rendered from the declaration and validated offline.
//!
//! An API integration is published by a pull request to `DataDog/integrations-extras` that adds
//! one folder (`acme_pager/`): `manifest.json` (v2), `README.md`, `CHANGELOG.md`,
//! `assets/oauth_clients.json`, `assets/service_checks.json` and, when it sends metrics,
//! `metadata.csv`; and, when the folder has none, a starter dashboard
//! (`assets/dashboards/<folder>_overview.json`) and, for logs, a log pipeline skeleton
//! (`assets/logs/`). [`render`] writes them from the [`IntegrationSpec`] that
//! `#[datadog_integration]` produced, so the OAuth client Datadog registers, the tile and the
//! code can never disagree; [`validate`] checks a folder against every rule of Datadog's checks
//! that can run offline, and against the declaration.
//!
//! Regeneration keeps what the partner owns: the README's prose outside the regions the
//! declaration writes (`<!-- dd-integration:begin NAME -->` ... `<!-- dd-integration:end NAME -->`),
//! the manifest's media, dashboards and other assets, the CHANGELOG's entries, and the ids a
//! folder already has. Ids that must never change (`app_uuid`, `app_id`, `source_type_name`,
//! `source_type_id`, asset keys) are compared with the folder first, and rendering stops with
//! [`SubmissionError::Immutable`] when the declaration disagrees with them.
//!
//! A partner's own `xtask` needs one line, [`Tool`] (the `manifest` and `validate` commands);
//! or, to print its own way, a few:
//!
//! ```no_run
//! # use dd_integration::{datadog_integration, DatadogIntegration};
//! # #[datadog_integration(
//! #     name = "Acme Pager",
//! #     scopes = [monitors_read],
//! #     redirect = "https://acme.example/datadog/callback",
//! #     onboarding = "https://acme.example/datadog/connect",
//! # )]
//! # pub struct AcmePager;
//! use dd_integration_submission as submission;
//!
//! // Writes submission/acme_pager/, keeping what is already there.
//! let update = submission::update(AcmePager::SPEC, "submission".as_ref())?;
//! for note in &update.notes {
//!     println!("note: {note}");
//! }
//! for finding in &update.findings {
//!     println!("{}: {finding}", finding.severity);
//! }
//! # Ok::<(), submission::SubmissionError>(())
//! ```

mod changelog;
pub mod cli;
mod dashboard;
mod folder;
mod immutable;
mod json;
mod logs;
mod manifest;
mod metadata;
mod oauth_clients;
mod readme;
mod rule;
mod service_checks;
mod validate;
mod vocabulary;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub use cli::Tool;
pub use folder::Folder;
pub use immutable::ImmutableChange;
pub use rule::{Finding, Rule, Severity, Source};
pub use validate::{validate, validate_against};

use dd_integration::IntegrationSpec;

/// `manifest.json`.
pub const MANIFEST: &str = "manifest.json";
/// `README.md`.
pub const README: &str = "README.md";
/// `CHANGELOG.md`.
pub const CHANGELOG: &str = "CHANGELOG.md";
/// `assets/oauth_clients.json`.
pub const OAUTH_CLIENTS: &str = "assets/oauth_clients.json";
/// `assets/service_checks.json`.
pub const SERVICE_CHECKS: &str = "assets/service_checks.json";
/// `metadata.csv`.
pub const METADATA: &str = "metadata.csv";

/// The files the declaration renders, in the order they are written.
pub const RENDERED_FILES: [&str; 6] = [
    MANIFEST,
    README,
    CHANGELOG,
    OAUTH_CLIENTS,
    SERVICE_CHECKS,
    METADATA,
];

/// Why the submission files could not be rendered or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SubmissionError {
    /// The declaration and the existing folder disagree on ids that never change.
    #[error(
        "the declaration changes {} that cannot change:\n{}",
        if .0.len() == 1 { "a field" } else { "fields" },
        immutable::list(.0)
    )]
    Immutable(Vec<ImmutableChange>),
    /// A file of the existing folder that values are kept from does not parse.
    #[error(
        "{file} in the existing folder does not parse ({problem}); fix it by hand: values in \
         it are kept (ids that can never change, the partner's text), so it is not rewritten"
    )]
    Unparsable {
        /// The file.
        file: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The existing README's generated regions are broken, so its prose cannot be kept.
    #[error(
        "README.md: line {line}: {problem}; the regions between `<!-- dd-integration:begin NAME \
         -->` and `<!-- dd-integration:end NAME -->` are rewritten from the declaration, so \
         their markers must stay intact (restore them, or delete README.md to have it written \
         anew)"
    )]
    ReadmeRegions {
        /// The line of the problem.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The declaration lacks what every manifest Datadog accepts has: a `description` or an
    /// author field left empty (neither declared nor in Cargo.toml), or everything, as after a
    /// failed expansion. Nothing is written: the folder would fail validation.
    #[error(
        "the declaration's `{field}` is empty, and every manifest Datadog accepts has it: set it \
         in `#[datadog_integration(...)]` (`description` and `author(name, homepage)` may also \
         come from Cargo.toml's [package])"
    )]
    EmptyDeclaration {
        /// The empty field.
        field: &'static str,
    },
    /// The path is not a directory.
    #[error("{} is not a directory", .path.display())]
    NotAFolder {
        /// The path.
        path: PathBuf,
    },
    /// The directory holds more files than an integration folder does.
    #[error(
        "{} holds more than {limit} files: is it the integration's folder?",
        .path.display()
    )]
    TooManyFiles {
        /// The directory.
        path: PathBuf,
        /// The limit.
        limit: usize,
    },
    /// Reading or writing a file failed.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// Something the partner should know or do after rendering: an id that was generated or kept
/// and belongs in the declaration, a CHANGELOG without an entry for the version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The file it is about.
    pub file: &'static str,
    /// What to do.
    pub message: String,
    /// The rule of [`validate`] that reports the same thing about the written folder, if any.
    pub rule: Option<Rule>,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// The submission files of one declaration, in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    dir_name: String,
    files: Vec<(String, String)>,
    obsolete: Vec<String>,
    notes: Vec<Note>,
}

impl Rendered {
    /// The folder's name in the repository: `app_id` with `_` for `-` (`acme_pager`).
    pub fn dir_name(&self) -> &str {
        &self.dir_name
    }

    /// The rendered files, as (path in the folder, contents).
    pub fn files(&self) -> impl Iterator<Item = (&str, &str)> {
        self.files
            .iter()
            .map(|(path, text)| (path.as_str(), text.as_str()))
    }

    /// The contents of the rendered file at `path`.
    pub fn file(&self, path: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|(p, _)| *p == path)
            .map(|(_, text)| text.as_str())
    }

    /// Files of the existing folder that the declaration no longer produces (metadata.csv of
    /// an integration that stopped declaring metrics): [`Rendered::write`] removes them.
    pub fn obsolete(&self) -> &[String] {
        &self.obsolete
    }

    /// What the partner should know or do.
    pub fn notes(&self) -> &[Note] {
        &self.notes
    }

    /// `existing` with the rendered files written over it and the obsolete ones removed: the
    /// folder as [`Rendered::write`] leaves it.
    pub fn apply(&self, existing: Option<&Folder>) -> Folder {
        let mut folder = existing
            .cloned()
            .unwrap_or_else(|| Folder::named(&self.dir_name));
        for (path, text) in &self.files {
            folder.insert(path, text.as_bytes());
        }
        for path in &self.obsolete {
            folder.remove(path);
        }
        folder
    }

    /// The paths whose contents differ from `existing` (or are missing, or obsolete).
    pub fn stale(&self, existing: Option<&Folder>) -> Vec<String> {
        let mut stale: Vec<String> = self
            .files
            .iter()
            .filter(|(path, text)| {
                existing
                    .and_then(|f| f.get(path))
                    .is_none_or(|on_disk| !same_text(on_disk, text))
            })
            .map(|(path, _)| path.clone())
            .collect();
        stale.extend(
            self.obsolete
                .iter()
                .filter(|p| existing.is_some_and(|f| f.contains(p)))
                .cloned(),
        );
        stale
    }

    /// Writes the files that differ from `existing` into `dir` (the integration's folder) and
    /// removes the obsolete ones; returns the paths written or removed.
    pub fn write(
        &self,
        dir: &Path,
        existing: Option<&Folder>,
    ) -> Result<Vec<String>, SubmissionError> {
        let stale = self.stale(existing);
        for path in &stale {
            match self.file(path) {
                Some(text) => folder::write_file(&dir.join(path), text.as_bytes())?,
                None => {
                    let file = dir.join(path);
                    std::fs::remove_file(&file)
                        .map_err(|source| SubmissionError::Io { path: file, source })?;
                }
            }
        }
        Ok(stale)
    }
}

/// Whether the bytes on disk hold `text`, ignoring CRLF line ends (a Windows checkout is not
/// stale).
fn same_text(on_disk: &[u8], text: &str) -> bool {
    match std::str::from_utf8(on_disk) {
        Ok(s) if s.contains('\r') => s.replace("\r\n", "\n") == text,
        Ok(s) => s == text,
        Err(_) => false,
    }
}

/// Renders the submission files of `spec`, keeping what `existing` (the folder as it is, if
/// any) owns: see the [module documentation](self).
pub fn render(
    spec: &IntegrationSpec,
    existing: Option<&Folder>,
) -> Result<Rendered, SubmissionError> {
    render_at(spec, existing, SystemTime::now())
}

/// `new`, ending as the published `old` ends: with a final newline or without (merged JSON files
/// go both ways), so that regeneration changes no byte it does not mean to.
fn final_newline_like(new: String, old: Option<&str>) -> String {
    match old {
        Some(old) if !old.ends_with('\n') => new.trim_end_matches('\n').to_owned(),
        _ => new,
    }
}

/// The text of a rendered JSON file: the published text itself when it says the same (its
/// indentation, key order and final newline are the partner's), else the rendered value
/// ending as the published file ends.
fn as_published(new: &json::Json, old: Option<&json::Json>, old_text: Option<&str>) -> String {
    match (old, old_text) {
        (Some(old), Some(text)) if old.same_as(new) => text.to_owned(),
        _ => final_newline_like(new.to_pretty(), old_text),
    }
}

/// [`render`] at the time `now`: the time dates a new CHANGELOG and derives a new
/// `source_type_id` (`unix seconds - 1,700,000,000`, ddev's formula).
pub fn render_at(
    spec: &IntegrationSpec,
    existing: Option<&Folder>,
    now: SystemTime,
) -> Result<Rendered, SubmissionError> {
    // What Datadog's check requires of every manifest, and the declaration may leave to
    // Cargo.toml: a folder without it would fail validation, so it is not written.
    for (field, value) in [
        ("name", spec.name),
        ("app_id", spec.app_id),
        ("description", spec.description),
        ("author(name = ...)", spec.author.name),
        ("author(homepage = ...)", spec.author.homepage),
        ("author(support_email = ...)", spec.author.support_email),
    ] {
        if value.trim().is_empty() {
            return Err(SubmissionError::EmptyDeclaration { field });
        }
    }
    let mut notes = Vec::new();
    // Values are kept from the existing files: one that is not text stops rendering rather
    // than being overwritten.
    let text = |file: &'static str| -> Result<Option<&str>, SubmissionError> {
        match existing.and_then(|f| f.text(file)) {
            None => Ok(None),
            Some(Ok(text)) => Ok(Some(text)),
            Some(Err(e)) => Err(SubmissionError::Unparsable {
                file,
                problem: format!("not UTF-8: {e}"),
            }),
        }
    };
    let json = |file: &'static str| -> Result<Option<json::Json>, SubmissionError> {
        text(file)?
            .map(|t| {
                json::Json::parse(t)
                    .map_err(|problem| SubmissionError::Unparsable { file, problem })
            })
            .transpose()
    };
    let old_manifest = json(MANIFEST)?;
    let new_manifest = manifest::render(spec, old_manifest.as_ref(), now, &mut notes);
    if let Some(old) = &old_manifest {
        let changes = immutable::changes(old, &new_manifest, immutable::Sides::DECLARATION);
        if !changes.is_empty() {
            return Err(SubmissionError::Immutable(changes));
        }
    }

    let mut files = vec![(
        MANIFEST,
        as_published(&new_manifest, old_manifest.as_ref(), text(MANIFEST)?),
    )];
    files.push((README, readme::render(spec, text(README)?, &mut notes)?));
    files.push((
        CHANGELOG,
        changelog::render(spec, text(CHANGELOG)?, now, &mut notes),
    ));
    let old_clients = json(OAUTH_CLIENTS)?;
    let clients = oauth_clients::render(spec, old_clients.as_ref(), &mut notes);
    files.push((
        OAUTH_CLIENTS,
        as_published(&clients, old_clients.as_ref(), text(OAUTH_CLIENTS)?),
    ));
    // The starter dashboard, when the manifest lists it at its own path: written new, or the
    // partner's edited file grown by a widget a newly declared metric.
    let mut assets: Vec<(String, String)> = Vec::new();
    let dashboard_path = dashboard::path(&vocabulary::folder_name(spec.app_id));
    if new_manifest
        .at(&["assets", "dashboards"])
        .and_then(|d| d.as_object())
        .and_then(|d| d.get(&dashboard::key(spec)))
        .and_then(json::Json::as_str)
        == Some(dashboard_path.as_str())
    {
        let old_text = match existing.and_then(|f| f.text(&dashboard_path)) {
            None => None,
            Some(Ok(text)) => Some(text),
            Some(Err(e)) => {
                return Err(SubmissionError::Unparsable {
                    file: "assets/dashboards/",
                    problem: format!("{dashboard_path} is not UTF-8: {e}"),
                });
            }
        };
        let old = old_text
            .map(|t| {
                json::Json::parse(t).map_err(|problem| SubmissionError::Unparsable {
                    file: "assets/dashboards/",
                    problem: format!("{dashboard_path}: {problem}"),
                })
            })
            .transpose()?;
        let known = text(METADATA)?.map(metadata::names).unwrap_or_default();
        if let Some(board) =
            dashboard::render(spec, old.as_ref(), &known, &dashboard_path, &mut notes)
        {
            let text = final_newline_like(board.to_pretty(), old_text);
            assets.push((dashboard_path, text));
        }
    }
    // The log pipeline skeleton, when the integration sends logs and the folder has none.
    let has_logs_assets = existing.is_some_and(|f| f.paths().any(|p| p.starts_with(logs::DIR)));
    let lists_logs = new_manifest.at(&["assets", "logs"]).is_some();
    if logs::wanted(spec, has_logs_assets, lists_logs, old_manifest.is_none()) {
        let dir_name = vocabulary::folder_name(spec.app_id);
        let (pipeline, tests) = logs::paths(&dir_name);
        // The source the manifest names (a published one may differ from the declaration's).
        let source = new_manifest
            .str_at(&["assets", "logs", "source"])
            .unwrap_or_else(|| spec.logs_source());
        notes.push(logs::note(&dir_name, &pipeline));
        assets.push((pipeline, logs::pipeline(spec, source)));
        assets.push((tests, logs::tests(spec, source)));
    }
    let mut obsolete = Vec::new();
    if manifest::has_integration(spec, old_manifest.as_ref()) {
        let checks = service_checks::render(spec);
        let old_checks = json(SERVICE_CHECKS).ok().flatten();
        files.push((
            SERVICE_CHECKS,
            as_published(&checks, old_checks.as_ref(), text(SERVICE_CHECKS)?),
        ));
    } else {
        obsolete.push(SERVICE_CHECKS);
    }
    match metadata::render(spec, text(METADATA).ok().flatten()) {
        Some(csv) => files.push((METADATA, csv)),
        None => obsolete.push(METADATA),
    }
    let dir_name = vocabulary::folder_name(spec.app_id);
    if let Some(listing) = spec.listing.marketplace {
        if existing.is_none() {
            notes.push(Note {
                file: MANIFEST,
                message: format!(
                    "a Marketplace listing: the folder goes to the DataDog/marketplace \
                     repository (private: marketplace@datadoghq.com gives access), with its \
                     .github/CODEOWNERS line `/{dir_name}/ @<your GitHub team>`"
                ),
                rule: None,
            });
        }
        if !existing.is_some_and(|f| f.contains(listing.legal_terms)) {
            notes.push(Note {
                file: MANIFEST,
                message: format!(
                    "put your End User License Agreement PDF at {} (legal_terms.eula); the \
                     folder is not ready to submit without it",
                    listing.legal_terms
                ),
                rule: Some(Rule::MarketplaceEula),
            });
        }
    } else if existing.is_none() {
        notes.push(Note {
            file: "../.github/CODEOWNERS",
            message: format!(
                "integrations-extras also needs the line `/{dir_name}/ @<your GitHub team> \
                 <support e-mail>` in its .github/CODEOWNERS, in the same pull request"
            ),
            rule: None,
        });
    }
    Ok(Rendered {
        dir_name,
        files: files
            .into_iter()
            .map(|(path, text)| (path.to_owned(), text))
            .chain(assets)
            .collect(),
        obsolete: obsolete.into_iter().map(str::to_owned).collect(),
        notes,
    })
}

/// What [`update`] did.
#[derive(Debug)]
#[non_exhaustive]
pub struct Update {
    /// The integration's folder.
    pub dir: PathBuf,
    /// The files written or removed, relative to `dir`.
    pub written: Vec<String>,
    /// What the partner should know or do, besides the findings.
    pub notes: Vec<Note>,
    /// What [`validate`] finds in the folder as written, the declaration included.
    pub findings: Vec<Finding>,
}

/// Renders `spec` into `<parent>/<dir_name>/`, keeping what is there: reads the folder, renders,
/// writes what changed and validates the result.
///
/// When `<dir_name>/` does not exist but another folder of `parent` holds the declared
/// `app_uuid`, that folder is the integration's, under its old `app_id`: rendering stops with
/// [`SubmissionError::Immutable`] instead of starting a second listing.
pub fn update(spec: &IntegrationSpec, parent: &Path) -> Result<Update, SubmissionError> {
    let dir = parent.join(vocabulary::folder_name(spec.app_id));
    let existing = existing_folder(spec, parent)?;
    let rendered = render(spec, existing.as_ref())?;
    let written = rendered.write(&dir, existing.as_ref())?;
    let folder = rendered.apply(existing.as_ref());
    let findings = validate(&folder, Some(spec));
    let mut notes = rendered.notes;
    // A note that a finding repeats is said once, by the finding.
    notes.retain(|note| {
        note.rule.is_none_or(|rule| {
            !findings
                .iter()
                .any(|f| f.rule == rule && f.file == note.file)
        })
    });
    Ok(Update {
        dir,
        written,
        notes,
        findings,
    })
}

/// The files of `<parent>/<dir_name>/` that [`update`] would change: empty when the folder is
/// fresh.
pub fn stale(spec: &IntegrationSpec, parent: &Path) -> Result<Vec<String>, SubmissionError> {
    let existing = existing_folder(spec, parent)?;
    let rendered = render(spec, existing.as_ref())?;
    Ok(rendered.stale(existing.as_ref()))
}

/// The integration's folder in `parent`: `<dir_name>/`, else the folder whose manifest has the
/// declared `app_uuid`.
fn existing_folder(
    spec: &IntegrationSpec,
    parent: &Path,
) -> Result<Option<Folder>, SubmissionError> {
    let dir = parent.join(vocabulary::folder_name(spec.app_id));
    if dir.exists() {
        return Folder::read(&dir).map(Some);
    }
    let (Some(uuid), Ok(entries)) = (spec.app_uuid, std::fs::read_dir(parent)) else {
        return Ok(None);
    };
    for entry in entries.flatten() {
        let manifest = entry.path().join(MANIFEST);
        let same = std::fs::read_to_string(&manifest)
            .ok()
            .and_then(|text| json::Json::parse(&text).ok())
            .is_some_and(|m| m.str_at(&["app_uuid"]) == Some(uuid));
        if same {
            return Folder::read(&entry.path()).map(Some);
        }
    }
    Ok(None)
}

/// The folder name of `spec` in the repository: `app_id` with `_` for `-`.
pub fn dir_name(spec: &IntegrationSpec) -> String {
    vocabulary::folder_name(spec.app_id)
}

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;
    use dd_integration::DataKind;

    #[test]
    fn a_file_the_declaration_no_longer_renders_is_removed() {
        let folder = fixture::folder(&fixture::EXPORTER);
        let spec = IntegrationSpec {
            environments: &[],
            submits: &[DataKind::Events],
            metrics: &[],
            metric_prefix: None,
            ..fixture::EXPORTER
        };
        let rendered = render_at(&spec, Some(&folder), fixture::now()).unwrap();
        assert_eq!(rendered.obsolete(), [METADATA]);
        assert!(rendered.stale(Some(&folder)).iter().any(|p| p == METADATA));
        let after = rendered.apply(Some(&folder));
        assert!(!after.contains(METADATA));
        let manifest = after.text(MANIFEST).unwrap().unwrap();
        assert!(manifest.contains("\"creates_events\": true"));
        assert!(!manifest.contains("\"metrics\""));
    }

    /// `folder` has no validator error against `spec`.
    fn assert_passes(folder: &Folder, spec: &IntegrationSpec) {
        let errors: Vec<String> = validate(folder, Some(spec))
            .into_iter()
            .filter(Finding::is_error)
            .map(|f| f.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }

    /// What a merged folder says that the tile does not: its own `source_type_name` (immutable),
    /// the OAuth client's own name and description, the logs' source.
    #[test]
    fn declared_names_of_the_client_the_source_and_the_logs_are_rendered() {
        let spec = IntegrationSpec {
            source_type_name: Some("Acme Exporter (legacy)"),
            oauth_client: dd_integration::integration::OAuthClientText {
                name: Some("Acme Exporter OAuth"),
                description: Some("Lets Acme read and write your Datadog data."),
            },
            logs_source: Some("acme-exporter-jobs"),
            submits: &[DataKind::Metrics, DataKind::Logs],
            ..fixture::EXPORTER
        };
        let rendered = render_at(&spec, None, fixture::now()).unwrap();
        let manifest = rendered.file(MANIFEST).unwrap();
        assert!(manifest.contains("\"source_type_name\": \"Acme Exporter (legacy)\""));
        assert!(manifest.contains("\"source\": \"acme-exporter-jobs\""));
        assert!(manifest.contains("\"title\": \"Acme Exporter\""));
        let clients = rendered.file(OAUTH_CLIENTS).unwrap();
        assert!(clients.contains("\"name\": \"Acme Exporter OAuth\""));
        assert!(clients.contains("Lets Acme read and write your Datadog data."));
        let csv = rendered.file(METADATA).unwrap();
        assert!(csv.contains(",acme_exporter_legacy,"), "{csv}");
        let readme = rendered.file(README).unwrap();
        assert!(readme.contains("### Logs"));
        assert!(readme.contains("`acme-exporter-jobs`"));
        assert_passes(&rendered.apply(None), &spec);
    }

    /// A published `tile.support` that is not `README.md#Support` is kept on regeneration.
    #[test]
    fn a_published_tile_support_is_kept() {
        let mut folder = fixture::folder(&fixture::EXPORTER);
        let manifest = folder
            .text(MANIFEST)
            .unwrap()
            .unwrap()
            .replace("\"README.md#Support\"", "\"support@acme.example\"");
        folder.insert(MANIFEST, manifest);
        let rendered = render_at(&fixture::EXPORTER, Some(&folder), fixture::now()).unwrap();
        assert!(
            rendered
                .file(MANIFEST)
                .unwrap()
                .contains("\"support\": \"support@acme.example\"")
        );
        assert!(!rendered.stale(Some(&folder)).iter().any(|p| p == MANIFEST));
    }

    /// Integrations rendered in one run, within one second, each get their own
    /// `source_type_id` (ddev's formula alone gives them the same).
    #[test]
    fn new_source_type_ids_are_unique_within_a_run() {
        let spec = IntegrationSpec {
            source_type_id: None,
            ..fixture::EXPORTER
        };
        let id = |rendered: &Rendered| {
            let manifest = json::Json::parse(rendered.file(MANIFEST).unwrap()).unwrap();
            manifest
                .at(&["assets", "integration", "source_type_id"])
                .and_then(json::Json::as_number)
                .and_then(serde_json::Number::as_u64)
                .unwrap()
        };
        let ids: std::collections::HashSet<u64> = (0..5)
            .map(|_| id(&render_at(&spec, None, fixture::now()).unwrap()))
            .collect();
        assert_eq!(ids.len(), 5, "{ids:?}");
    }

    /// vantage's shape: it reads Datadog and sends nothing, so it has no `assets.integration`,
    /// no `source_type_id` and no service_checks.json, and that passes.
    #[test]
    fn a_query_only_integration_gets_no_integration_block() {
        let spec = IntegrationSpec {
            submits: &[],
            metrics: &[],
            metric_prefix: None,
            service_checks: &[],
            source_type_id: None,
            scopes: &[dd_integration::Scope::MONITORS_READ],
            ..fixture::EXPORTER
        };
        let rendered = render_at(&spec, None, fixture::now()).unwrap();
        let manifest = rendered.file(MANIFEST).unwrap();
        assert!(!manifest.contains("\"integration\":"), "{manifest}");
        assert!(!manifest.contains("source_type_id"));
        assert!(rendered.file(SERVICE_CHECKS).is_none());
        assert_passes(&rendered.apply(None), &spec);
        // One that sends data keeps its block, and a published block is never dropped.
        assert!(manifest::has_integration(&fixture::EXPORTER, None));
        let published = json::Json::parse(r#"{"assets": {"integration": {}}}"#).unwrap();
        assert!(manifest::has_integration(&spec, Some(&published)));
    }

    #[test]
    fn refuses_to_overwrite_what_it_cannot_read() {
        let mut folder = fixture::folder(&fixture::EXPORTER);
        folder.insert(README, vec![0xff, 0xfe]);
        let err = render_at(&fixture::EXPORTER, Some(&folder), fixture::now()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("README.md in the existing folder does not parse (not UTF-8"),
            "{err}"
        );
        folder.insert(README, "ok");
        folder.insert(MANIFEST, "{\"app_id\": 1,");
        let err = render_at(&fixture::EXPORTER, Some(&folder), fixture::now()).unwrap_err();
        assert!(
            matches!(err, SubmissionError::Unparsable { file: MANIFEST, .. }),
            "{err}"
        );
    }

    #[test]
    fn an_empty_declaration_is_refused() {
        let spec = IntegrationSpec {
            environments: &[],
            app_id: "",
            ..fixture::EXPORTER
        };
        let err = render(&spec, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the declaration's `app_id` is empty, and every manifest Datadog accepts has it: set it \
             in `#[datadog_integration(...)]` (`description` and `author(name, homepage)` may also \
             come from Cargo.toml's [package])"
        );
    }
}
