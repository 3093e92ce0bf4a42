//! `validate`: every rule of Datadog's submission checks that runs offline, the files against
//! each other, and the folder against the declaration.

use std::time::SystemTime;

use super::immutable::{self, Sides};
use super::json::Json;
use super::oauth_clients::Client;
use super::{
    CHANGELOG, Finding, Folder, MANIFEST, METADATA, OAUTH_CLIENTS, README, Rule, SERVICE_CHECKS,
    SubmissionError, changelog, manifest, metadata, oauth_clients, readme, service_checks,
};
use dd_integration::IntegrationSpec;
use dd_integration::Scope;

/// The findings of one validation, and the folder they are about.
pub(crate) struct Checker<'f> {
    pub(crate) folder: &'f Folder,
    findings: Vec<Finding>,
}

impl<'f> Checker<'f> {
    pub(crate) fn error(&mut self, rule: Rule, file: &str, message: impl Into<String>) {
        self.findings.push(Finding::error(rule, file, message));
    }

    pub(crate) fn warning(&mut self, rule: Rule, file: &str, message: impl Into<String>) {
        self.findings.push(Finding::warning(rule, file, message));
    }

    pub(crate) fn push(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// The file at `path` as text; a finding when it is not UTF-8.
    pub(crate) fn text(&mut self, path: &str) -> Option<&'f str> {
        match self.folder.text(path)? {
            Ok(text) => Some(text),
            Err(e) => {
                self.error(Rule::FileSyntax, path, format!("is not UTF-8 text ({e})"));
                None
            }
        }
    }

    /// The file at `path` as JSON; a finding when it does not parse.
    pub(crate) fn json(&mut self, path: &str) -> Option<Json> {
        let text = self.text(path)?;
        match Json::parse(text) {
            Ok(json) => Some(json),
            Err(e) => {
                self.error(Rule::FileSyntax, path, format!("is not valid JSON: {e}"));
                None
            }
        }
    }
}

/// Checks a submission folder: each file against Datadog's rules, the files against each
/// other, and, given the declaration, the folder against it (the OAuth client's scopes,
/// redirect URIs and onboarding URL, the immutable ids, and every file it renders).
///
/// Each finding is one line; [`Finding::is_error`] tells what must be fixed before submitting.
pub fn validate(folder: &Folder, spec: Option<&IntegrationSpec>) -> Vec<Finding> {
    let mut c = Checker {
        folder,
        findings: Vec::new(),
    };
    let manifest = if folder.contains(MANIFEST) {
        c.json(MANIFEST)
    } else {
        c.error(
            Rule::FileMissing,
            MANIFEST,
            "is missing; run `cargo xtask manifest` to write the folder",
        );
        None
    };
    if let Some(manifest) = &manifest {
        manifest::check(&mut c, manifest);
    }
    let manifest = manifest.filter(|m| m.as_object().is_some());
    readme::check(&mut c, manifest.as_ref());
    changelog::check(&mut c, manifest.as_ref());
    // With the declaration, whether it sends logs; without, whether the manifest says so.
    let sends_logs = match spec {
        Some(spec) => spec.submits.contains(&dd_integration::DataKind::Logs),
        None => manifest
            .as_ref()
            .is_some_and(|m| m.at(&["assets", "logs"]).is_some()),
    };
    let app_id = manifest.as_ref().and_then(|m| m.str_at(&["app_id"]));
    super::logs::check(&mut c, app_id, sends_logs);
    let client_file = folder
        .contains(OAUTH_CLIENTS)
        .then(|| c.json(OAUTH_CLIENTS))
        .flatten();
    let client = client_file
        .as_ref()
        .and_then(|file| oauth_clients::check(&mut c, file, manifest.as_ref()));
    let metric_names = metadata::check(&mut c, manifest.as_ref());
    let service_check_file = folder
        .contains(SERVICE_CHECKS)
        .then(|| c.json(SERVICE_CHECKS))
        .flatten();
    if let Some(file) = &service_check_file {
        service_checks::check(&mut c, file, manifest.as_ref());
    }
    if let Some(manifest) = &manifest {
        cross_file(
            &mut c,
            manifest,
            client.as_ref(),
            metric_names.as_deref(),
            service_check_file.as_ref(),
        );
    }
    if let Some(spec) = spec {
        declaration(&mut c, spec, manifest.as_ref(), client.as_ref());
    }
    c.findings
}

/// Checks that the immutable fields of `folder` are those of `base`, a published version of the
/// same integration (Datadog's check compares a pull request with the default branch).
pub fn validate_against(base: &Folder, folder: &Folder) -> Vec<Finding> {
    let parse = |f: &Folder| {
        f.text(MANIFEST)
            .and_then(Result::ok)
            .and_then(|t| Json::parse(t).ok())
    };
    let (Some(old), Some(new)) = (parse(base), parse(folder)) else {
        return Vec::new();
    };
    immutable::changes(&old, &new, Sides::BASE)
        .into_iter()
        .map(|change| Finding::error(Rule::Immutable, MANIFEST, change.message()))
        .collect()
}

fn cross_file(
    c: &mut Checker<'_>,
    manifest: &Json,
    client: Option<&Client<'_>>,
    metric_names: Option<&[String]>,
    service_check_file: Option<&Json>,
) {
    let metrics = manifest.at(&["assets", "integration", "metrics"]);
    let check: Vec<&str> = match metrics.and_then(|m| m.at(&["check"])) {
        Some(Json::String(s)) => vec![s.as_str()],
        Some(Json::Array(items)) => items.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    };
    if let Some(names) = metric_names {
        for metric in &check {
            if !names.iter().any(|n| n == metric) {
                c.error(
                    Rule::MetricsCheck,
                    MANIFEST,
                    format!(
                        "assets.integration.metrics.check lists `{metric}`, which metadata.csv \
                         does not have"
                    ),
                );
            }
        }
        // datadog-checks-dev's `MetricToCheckValidator` refuses it, but no command of today's
        // ddev runs that validator: a warning.
        if check.is_empty() && !names.is_empty() && metrics.is_some() {
            c.warning(
                Rule::MetricsCheck,
                MANIFEST,
                "assets.integration.metrics.check is empty but metadata.csv lists metrics; \
                 name at least one metric the integration always sends",
            );
        }
    }

    let Some(client) = client else {
        return;
    };
    let mut sends = Vec::new();
    if metric_names.is_some_and(|n| !n.is_empty()) || !check.is_empty() {
        sends.push("metrics");
    }
    if manifest.at(&["assets", "integration", "events", "creates_events"])
        == Some(&Json::Bool(true))
    {
        sends.push("events");
    }
    if service_check_file
        .and_then(Json::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        sends.push("service checks");
    }
    let Some(scopes) = &client.scopes else {
        return;
    };
    if !sends.is_empty() && !scopes.contains(&Scope::API_KEYS_WRITE.as_str()) {
        c.warning(
            Rule::ApiKeyScope,
            OAUTH_CLIENTS,
            format!(
                "integration.scopes lacks `api_keys_write`, but the integration sends {}: \
                 Datadog accepts data only with the marketplace API key that scope creates",
                sends.join(", ")
            ),
        );
    }
}

/// The folder against the declaration: one function a rule, each named after it.
fn declaration(
    c: &mut Checker<'_>,
    spec: &IntegrationSpec,
    manifest: Option<&Json>,
    client: Option<&Client<'_>>,
) {
    // Whether the OAuth client file disagrees with the declaration: its staleness is then
    // already said, rule by rule.
    let mut oauth_drift = false;
    if let Some(client) = client {
        for rule in [
            declared_scopes,
            declared_redirect_uris,
            declared_onboarding_url,
            declared_client_id,
        ] {
            oauth_drift |= rule(c, spec, client);
        }
    }
    undeclared(c, spec, manifest, client);
    changelog_version(c, spec);
    declared_files(c, spec, oauth_drift);
}

/// [`Rule::DeclaredScopes`]; true when the client file differs.
fn declared_scopes(c: &mut Checker<'_>, spec: &IntegrationSpec, client: &Client<'_>) -> bool {
    let mut drift = false;
    let declared: Vec<&str> = spec.scopes.iter().map(Scope::as_str).collect();
    let scopes = client.scopes.as_deref().unwrap_or(&declared);
    for scope in declared.iter().filter(|s| !scopes.contains(s)) {
        drift = true;
        c.error(
            Rule::DeclaredScopes,
            OAUTH_CLIENTS,
            format!(
                "integration.scopes lacks `{scope}`, which the declaration requests: \
                 Datadog refuses to authorize scopes its client does not register"
            ),
        );
    }
    for scope in scopes.iter().filter(|s| !declared.contains(s)) {
        drift = true;
        c.error(
            Rule::DeclaredScopes,
            OAUTH_CLIENTS,
            format!(
                "integration.scopes has `{scope}`, which the declaration does not request: \
                 remove it, or declare it in `scopes = [...]`"
            ),
        );
    }
    drift
}

/// [`Rule::DeclaredRedirectUris`]; true when the client file differs.
fn declared_redirect_uris(
    c: &mut Checker<'_>,
    spec: &IntegrationSpec,
    client: &Client<'_>,
) -> bool {
    let mut drift = false;
    let redirect_uris = client
        .redirect_uris
        .as_deref()
        .unwrap_or(spec.redirect_uris);
    for uri in spec
        .redirect_uris
        .iter()
        .filter(|u| !redirect_uris.contains(u))
    {
        drift = true;
        c.error(
            Rule::DeclaredRedirectUris,
            OAUTH_CLIENTS,
            format!(
                "integration.redirect_uris lacks `{uri}`, which the declaration uses: \
                 Datadog answers \"Mismatching redirect URI\" to a callback there"
            ),
        );
    }
    for uri in redirect_uris
        .iter()
        .filter(|u| !spec.redirect_uris.contains(u))
    {
        drift = true;
        c.error(
            Rule::DeclaredRedirectUris,
            OAUTH_CLIENTS,
            format!(
                "integration.redirect_uris has `{uri}`, which the declaration does not \
                 list: remove it, or add it to `redirect = [...]`"
            ),
        );
    }
    drift
}

/// [`Rule::DeclaredOnboardingUrl`]; true when the client file differs.
fn declared_onboarding_url(
    c: &mut Checker<'_>,
    spec: &IntegrationSpec,
    client: &Client<'_>,
) -> bool {
    let mut drift = false;
    if let Some(url) = client.onboarding_url
        && url != spec.onboarding_url
    {
        drift = true;
        c.error(
            Rule::DeclaredOnboardingUrl,
            OAUTH_CLIENTS,
            format!(
                "integration.onboarding_url is `{url}` but the declaration's onboarding URL \
                 is `{}`: the tile's Connect Accounts would open the wrong page",
                spec.onboarding_url
            ),
        );
    }
    drift
}

/// [`Rule::DeclaredClientId`]; true when the client file differs.
fn declared_client_id(c: &mut Checker<'_>, spec: &IntegrationSpec, client: &Client<'_>) -> bool {
    match (spec.oauth_client_id, client.id) {
        (Some(declared), Some(id)) if declared != id => {
            c.error(
                Rule::DeclaredClientId,
                OAUTH_CLIENTS,
                format!(
                    "integration.id is `{id}` but the declaration's oauth_client_id is \
                     `{declared}`"
                ),
            );
            true
        }
        _ => false,
    }
}

/// [`Rule::Undeclared`]: ids the folder holds that the declaration should keep.
fn undeclared(
    c: &mut Checker<'_>,
    spec: &IntegrationSpec,
    manifest: Option<&Json>,
    client: Option<&Client<'_>>,
) {
    if spec.oauth_client_id.is_none()
        && let Some(id) = client.and_then(|client| client.id)
        && !id.is_empty()
    {
        c.warning(
            Rule::Undeclared,
            OAUTH_CLIENTS,
            format!(
                "integration.id {id} is not in the declaration: add `oauth_client_id = \
                 \"{id}\"` to the `#[datadog_integration]` attribute"
            ),
        );
    }
    if let Some(manifest) = manifest {
        if spec.app_uuid.is_none()
            && let Some(uuid) = manifest.str_at(&["app_uuid"])
        {
            c.warning(
                Rule::Undeclared,
                MANIFEST,
                format!(
                    "app_uuid {uuid} is not in the declaration: add `app_uuid = \"{uuid}\"` to \
                     the `#[datadog_integration]` attribute (it can never change)"
                ),
            );
        }
        if spec.source_type_id.is_none()
            && let Some(id) = manifest
                .at(&["assets", "integration", "source_type_id"])
                .and_then(Json::as_number)
        {
            c.warning(
                Rule::Undeclared,
                MANIFEST,
                format!(
                    "assets.integration.source_type_id {id} is not in the declaration: add \
                     `source_type_id = {id}` to the `#[datadog_integration]` attribute (it can \
                     never change)"
                ),
            );
        }
    }
}

/// [`Rule::ChangelogVersion`]: an entry for the declared version.
fn changelog_version(c: &mut Checker<'_>, spec: &IntegrationSpec) {
    if let Some(Ok(text)) = c.folder.text(CHANGELOG)
        && !changelog::has_entry(text, spec.version)
    {
        c.warning(
            Rule::ChangelogVersion,
            CHANGELOG,
            format!(
                "has no entry for the declared version {v}; add `## {v} / YYYY-MM-DD` above the \
                 others",
                v = spec.version
            ),
        );
    }
}

/// [`Rule::DeclaredFiles`] and [`Rule::Immutable`]: the files the declaration renders, as the
/// folder holds them.
fn declared_files(c: &mut Checker<'_>, spec: &IntegrationSpec, oauth_drift: bool) {
    let rendered = match super::render_at(spec, Some(c.folder), SystemTime::now()) {
        Ok(rendered) => rendered,
        Err(SubmissionError::Immutable(changes)) => {
            for change in changes {
                c.error(Rule::Immutable, MANIFEST, change.message());
            }
            return;
        }
        // Reported by the file's own checks.
        Err(SubmissionError::Unparsable { .. } | SubmissionError::ReadmeRegions { .. }) => return,
        Err(e) => {
            c.error(Rule::DeclaredFiles, README, e.to_string());
            return;
        }
    };
    for stale in rendered.stale(Some(c.folder)) {
        let path = stale.as_str();
        let missing = !c.folder.contains(path);
        // A missing file is the file checks' finding; the CHANGELOG is the partner's.
        if (missing && path != METADATA)
            || path == CHANGELOG
            || (path == OAUTH_CLIENTS && oauth_drift)
        {
            continue;
        }
        let message = match (path, rendered.file(path)) {
            (_, None) => "is in the folder but the declaration has no metrics; run `cargo xtask \
                          manifest` (it removes the file)"
                .to_owned(),
            (METADATA, Some(_)) if missing => "is missing but the declaration has metrics; run \
                                               `cargo xtask manifest`"
                .to_owned(),
            (MANIFEST | OAUTH_CLIENTS | SERVICE_CHECKS, Some(text)) => {
                let old = c
                    .folder
                    .text(path)
                    .and_then(Result::ok)
                    .and_then(|t| Json::parse(t).ok());
                let new = Json::parse(text).ok();
                let mut paths = Vec::new();
                if let (Some(old), Some(new)) = (&old, &new) {
                    diff_paths(old, new, "", &mut paths);
                }
                if paths.is_empty() {
                    "is not formatted as the declaration renders it; run `cargo xtask manifest`"
                        .to_owned()
                } else {
                    let shown = paths.len().min(4);
                    format!(
                        "{}{} differ{} from the declaration; run `cargo xtask manifest`",
                        paths[..shown].join(", "),
                        if paths.len() > shown { ", ..." } else { "" },
                        if paths.len() == 1 { "s" } else { "" }
                    )
                }
            }
            (README, Some(text)) => {
                let regions = readme::differing_regions(
                    c.folder.text(README).and_then(Result::ok).unwrap_or(""),
                    text,
                );
                if regions.is_empty() {
                    "differs from what the declaration renders (link numbers or spacing); run \
                     `cargo xtask manifest`"
                        .to_owned()
                } else {
                    format!(
                        "the region{} {} differ{} from the declaration; run `cargo xtask manifest`",
                        if regions.len() == 1 { "" } else { "s" },
                        regions.join(", "),
                        if regions.len() == 1 { "s" } else { "" }
                    )
                }
            }
            (_, Some(text)) => {
                let old = c.folder.text(path).and_then(Result::ok).unwrap_or("");
                let mut metrics: Vec<&str> = Vec::new();
                for line in old
                    .lines()
                    .skip(1)
                    .filter(|l| !text.lines().any(|n| n == *l))
                {
                    metrics.push(line.split(',').next().unwrap_or(line));
                }
                for line in text
                    .lines()
                    .skip(1)
                    .filter(|l| !old.lines().any(|o| o == *l))
                {
                    metrics.push(line.split(',').next().unwrap_or(line));
                }
                metrics.dedup();
                format!(
                    "differs from the declared metrics ({}); run `cargo xtask manifest`",
                    if metrics.is_empty() {
                        "the header".to_owned()
                    } else {
                        metrics.join(", ")
                    }
                )
            }
        };
        c.error(Rule::DeclaredFiles, path, message);
    }
}

/// The paths (`tile.description`, `[0].name`) at which two JSON values differ.
fn diff_paths(old: &Json, new: &Json, at: &str, out: &mut Vec<String>) {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        }
    };
    match (old, new) {
        (Json::Object(a), Json::Object(b)) => {
            for (key, value) in a.iter() {
                match b.get(key) {
                    Some(other) => diff_paths(value, other, &join(key), out),
                    None => out.push(join(key)),
                }
            }
            for key in b.keys().filter(|k| a.get(k).is_none()) {
                out.push(join(key));
            }
        }
        (Json::Array(a), Json::Array(b)) if a.len() == b.len() && at != "tile.classifier_tags" => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                diff_paths(x, y, &format!("{at}[{i}]"), out);
            }
        }
        _ if old != new => out.push(if at.is_empty() {
            "the file".to_owned()
        } else {
            at.to_owned()
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::fixture::{self, EXPORTER};
    use crate::render_at;

    /// The exporter's starter dashboard.
    const DASHBOARD: &str = "assets/dashboards/acme_exporter_overview.json";

    /// The exporter's folder, as rendered (its starter dashboard included), with the logo a
    /// partner adds.
    fn folder() -> Folder {
        let mut folder = fixture::folder(&EXPORTER);
        assert!(folder.contains(DASHBOARD));
        folder.insert("assets/logos/acme.svg", "<svg/>");
        // Back in the rendered key order, as after `cargo xtask manifest`.
        render_at(&EXPORTER, Some(&folder), fixture::now())
            .unwrap()
            .apply(Some(&folder))
    }

    fn edit_text(folder: &mut Folder, path: &str, edit: impl FnOnce(&str) -> String) {
        let text = folder.text(path).unwrap().unwrap().to_owned();
        let edited = edit(&text);
        assert_ne!(text, edited, "the edit of {path} changed nothing");
        folder.insert(path, edited);
    }

    fn replace(folder: &mut Folder, path: &str, from: &str, to: &str) {
        edit_text(folder, path, |t| t.replacen(from, to, 1));
    }

    fn edit_json(folder: &mut Folder, path: &str, edit: impl FnOnce(&mut Value)) {
        let mut value: Value = serde_json::from_slice(folder.get(path).unwrap()).unwrap();
        edit(&mut value);
        folder.insert(path, serde_json::to_string_pretty(&value).unwrap());
    }

    fn manifest(folder: &mut Folder, edit: impl FnOnce(&mut Value)) {
        edit_json(folder, MANIFEST, edit);
    }

    /// The exporter's folder made a Marketplace listing (vendor `acme`, product `exporter`)
    /// that passes the Marketplace's own rules.
    fn marketplace(folder: &mut Folder) {
        manifest(folder, |m| {
            m["pricing"] = json!([{
                "billing_type": "flat_fee", "unit_price": 10, "unit_label": "Organization",
                "product_id": "exporter", "short_description": "Per organization per month.",
                "includes_assets": true
            }]);
            m["legal_terms"] = json!({"eula": "assets/eula.pdf"});
            m["author"]["vendor_id"] = json!("acme");
            m["tile"]["description"] = json!("Acme platform health in Datadog.");
        });
        folder.insert("assets/eula.pdf", "%PDF-1.4\n%%EOF\n");
    }

    #[test]
    fn a_marketplace_listing_passes_its_own_rules() {
        let mut folder = folder();
        marketplace(&mut folder);
        let errors: Vec<String> = validate(&folder, None)
            .iter()
            .filter(|f| f.is_error())
            .map(ToString::to_string)
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }

    fn dashboard(folder: &mut Folder, edit: impl FnOnce(&mut Value)) {
        edit_json(folder, DASHBOARD, edit);
    }

    fn client(folder: &mut Folder, edit: impl FnOnce(&mut Value)) {
        edit_json(folder, OAUTH_CLIENTS, |v| edit(&mut v["integration"]));
    }

    fn check(folder: &mut Folder, edit: impl FnOnce(&mut Value)) {
        edit_json(folder, SERVICE_CHECKS, |v| edit(&mut v[0]));
    }

    /// One broken rule: the edit that breaks it, a part of the message expected, the rules
    /// that may fire beside it, and the declaration to validate against (if any).
    struct Case {
        rule: Rule,
        edit: fn(&mut Folder),
        expect: &'static str,
        also: &'static [Rule],
        spec: Option<IntegrationSpec>,
    }

    const fn case(rule: Rule, expect: &'static str, edit: fn(&mut Folder)) -> Case {
        Case {
            rule,
            edit,
            expect,
            also: &[],
            spec: None,
        }
    }

    const fn declared(rule: Rule, expect: &'static str, edit: fn(&mut Folder)) -> Case {
        Case {
            spec: Some(EXPORTER),
            ..case(rule, expect, edit)
        }
    }

    impl Case {
        const fn also(self, also: &'static [Rule]) -> Case {
            Case { also, ..self }
        }

        const fn against(self, spec: IntegrationSpec) -> Case {
            Case {
                spec: Some(spec),
                ..self
            }
        }
    }

    fn cases() -> Vec<Case> {
        use Rule::*;
        vec![
            case(FileMissing, "README.md: is missing", |f| {
                f.remove(README);
            }),
            case(FileMissing, "CHANGELOG.md: is missing; tile.changelog points to it", |f| {
                f.remove(CHANGELOG);
            }),
            case(FileMissing, "assets/service_checks.json: is missing", |f| {
                f.remove(SERVICE_CHECKS);
            }),
            case(FileMissing, "assets/dashboards/acme.json: is missing; assets.dashboards", |f| {
                manifest(f, |m| m["assets"]["dashboards"] = json!({"Acme": "assets/dashboards/acme.json"}));
            }),
            case(FileSyntax, "manifest.json: is not valid JSON: EOF", |f| {
                f.insert(MANIFEST, "{");
            }),
            case(FileSyntax, "the key `check` appears twice", |f| {
                replace(f, SERVICE_CHECKS, "\"check\": ", "\"check\": \"x\",\n    \"check\": ");
            }),
            case(ManifestRequired, "manifest.json: author.sales_email is missing", |f| {
                manifest(f, |m| {
                    m["author"].as_object_mut().unwrap().remove("sales_email");
                });
            }),
            case(ManifestType, "display_on_public_website is a string; it must be a boolean", |f| {
                manifest(f, |m| m["display_on_public_website"] = json!("yes"));
            }),
            case(ManifestUnknownKey, "tile.descripton is not a manifest field; did you mean description?", |f| {
                manifest(f, |m| m["tile"]["descripton"] = json!("x"));
            }),
            case(ManifestVersion, "manifest_version is \"1.0.0\"; it must be \"2.0.0\"", |f| {
                manifest(f, |m| m["manifest_version"] = json!("1.0.0"));
            }),
            case(AppUuid, "app_uuid `0B9E4D2C-6A1F-4E3B-8C5D-2F7A9B1E3C4D` is not a lowercase", |f| {
                manifest(f, |m| m["app_uuid"] = json!("0B9E4D2C-6A1F-4E3B-8C5D-2F7A9B1E3C4D"));
            }),
            case(AppId, "app_id `Acme_Exporter` is not kebab-case", |f| {
                manifest(f, |m| m["app_id"] = json!("Acme_Exporter"));
            }),
            case(AppId, "starts with `datadog`", |f| {
                manifest(f, |m| m["app_id"] = json!("datadog-exporter"));
            }),
            case(FolderName, "the folder is `exporter`; for app_id `acme-exporter` it is `acme_exporter`", |f| {
                let mut renamed = Folder::named("exporter");
                for path in f.paths() {
                    renamed.insert(path, f.get(path).unwrap());
                }
                *f = renamed;
            }),
            case(DisplayOnPublicWebsite, "display_on_public_website is false", |f| {
                manifest(f, |m| m["display_on_public_website"] = json!(false));
            }),
            case(TileLinks, "tile.overview is \"README.md#Intro\"; it must be \"README.md#Overview\"", |f| {
                manifest(f, |m| m["tile"]["overview"] = json!("README.md#Intro"));
            })
            .also(&[ReadmeSections]),
            case(TileUninstallation, "tile.uninstallation is missing", |f| {
                manifest(f, |m| {
                    m["tile"].as_object_mut().unwrap().remove("uninstallation");
                });
            }),
            case(TileDescription, "manifest.json: tile.description is 93 characters; the limit is 80", |f| {
                manifest(f, |m| m["tile"]["description"] = json!("x".repeat(93)));
            })
            .also(&[OAuthClientName]),
            case(TileDescription, "tile.description is empty", |f| {
                manifest(f, |m| m["tile"]["description"] = json!(""));
            }),
            case(TileTitle, "tile.title is 51 characters; the limit is 50", |f| {
                manifest(f, |m| m["tile"]["title"] = json!("A".repeat(51)));
            })
            .also(&[OAuthClientName, Changelog]),
            case(TileMedia, "tile.media[0].image_url `images/shot.png` is not in the folder", |f| {
                manifest(f, |m| m["tile"]["media"] = json!([{"media_type": "image", "caption": "x", "image_url": "images/shot.png"}]));
            }),
            case(TileMedia, "is 1000000 bytes; images must be under 1,000,000", |f| {
                f.insert("images/shot.png", vec![0; 1_000_000]);
                manifest(f, |m| m["tile"]["media"] = json!([{"media_type": "image", "caption": "x", "image_url": "images/shot.png"}]));
            }),
            case(TileMedia, "tile.media has 2 videos; the limit is 1", |f| {
                f.insert("images/v.jpg", vec![0; 10]);
                let video = json!({"media_type": "video", "caption": "x", "image_url": "images/v.jpg", "vimeo_id": 1});
                manifest(f, |m| m["tile"]["media"] = json!([video, video]));
            }),
            case(ClassifierTags, "`Category::Alertng` is not a value of `Category::`; did you mean `Category::Alerting`?", |f| {
                replace(f, MANIFEST, "\"Category::Metrics\"", "\"Category::Alertng\"");
            }),
            case(ClassifierTags, "tile.classifier_tags lists `Offering::Integration` twice", |f| {
                replace(f, MANIFEST, "\"Offering::Integration\",", "\"Offering::Integration\", \"Offering::Integration\",");
            }),
            case(LogsCategory, "has \"Category::Log Collection\" but README.md has no `### Logs` heading", |f| {
                replace(f, MANIFEST, "\"Category::Metrics\"", "\"Category::Log Collection\"");
            }),
            case(TileResources, "tile.resources[0].resource_type is \"video\"", |f| {
                manifest(f, |m| m["tile"]["resources"] = json!([{"resource_type": "video", "url": "https://acme.example"}]));
            }),
            case(SourceTypeId, "assets.integration.source_type_id is 0; it must be a positive integer", |f| {
                manifest(f, |m| m["assets"]["integration"]["source_type_id"] = json!(0));
            }),
            case(SourceTypeName, "assets.integration.source_type_name is empty", |f| {
                manifest(f, |m| m["assets"]["integration"]["source_type_name"] = json!(""));
            })
            .also(&[ServiceCheckIntegration, MetadataIntegration]),
            case(MetricsMetadata, "metadata.csv: is in the folder but assets.integration.metrics.metadata_path does not name it", |f| {
                manifest(f, |m| {
                    m["assets"]["integration"].as_object_mut().unwrap().remove("metrics");
                });
            })
            .also(&[ReadmeDataCollected]),
            case(MetricsCheck, "lists `acme_exporter.nope`, which metadata.csv does not have", |f| {
                manifest(f, |m| m["assets"]["integration"]["metrics"]["check"] = json!(["acme_exporter.nope"]));
            }),
            case(MetricsCheck, "metrics.check is empty but metadata.csv lists metrics", |f| {
                manifest(f, |m| m["assets"]["integration"]["metrics"]["check"] = json!([]));
            }),
            case(MetricsPrefix, "prefix \"acme_exporter\" does not end with `.`", |f| {
                manifest(f, |m| m["assets"]["integration"]["metrics"]["prefix"] = json!("acme_exporter"));
            }),
            case(RecommendedAssets, "assets.dashboards lists no dashboard", |f| {
                manifest(f, |m| {
                    m["assets"].as_object_mut().unwrap().remove("dashboards");
                });
            }),
            case(RecommendedAssets, "the folder has no SVG logo", |f| {
                f.remove("assets/logos/acme.svg");
            }),
            case(DashboardFields, "acme_exporter_overview.json: lacks template_variables: export the dashboard", |f| {
                dashboard(f, |d| {
                    d.as_object_mut().unwrap().remove("template_variables");
                });
            })
            .also(&[DeclaredFiles]),
            case(DashboardFormat, "is not in the /dashboard format", |f| {
                dashboard(f, |d| {
                    *d = json!({"description": "", "template_variables": [], "widgets": [{"x": 1}]});
                });
            })
            .also(&[DeclaredFiles]),
            case(DashboardAppId, "a widget's definition.app_id is \"0b9e4d2c-0000-4e3b-8c5d-2f7a9b1e3c4d\"; it must be the manifest's app_uuid", |f| {
                dashboard(f, |d| {
                    d["widgets"][0]["definition"]["widgets"][0]["definition"]["app_id"] =
                        json!("0b9e4d2c-0000-4e3b-8c5d-2f7a9b1e3c4d");
                });
            })
            .also(&[DeclaredFiles]),
            case(DashboardId, "has a numeric top-level `id`", |f| {
                dashboard(f, |d| d["id"] = json!(12345));
            })
            .also(&[DeclaredFiles]),
            case(DashboardKey, "assets.dashboards key \"1 Acme\" must start with a letter", |f| {
                manifest(f, |m| m["assets"]["dashboards"] = json!({"1 Acme": DASHBOARD}));
            })
            .also(&[DeclaredFiles, Immutable]),
            case(DashboardTitle, "the title \"Acme - Exporter\" has a `-`", |f| {
                dashboard(f, |d| d["title"] = json!("Acme - Exporter"));
            })
            .also(&[DeclaredFiles]),
            case(LogPipelineFiles, "assets/logs/acme_exporter.yaml: has no test file assets/logs/acme_exporter_tests.yaml", |f| {
                f.insert("assets/logs/acme_exporter.yaml", "id: acme-exporter\n");
            }),
            case(LogPipelineFiles, "ends in `.yml`; Datadog's CI finds only `.yaml` files", |f| {
                f.insert("assets/logs/acme_exporter.yaml", "id: acme-exporter\n");
                f.insert("assets/logs/acme_exporter_tests.yml", "id: acme-exporter\n");
            }),
            case(LogPipelineFiles, "logs/acme_exporter.yaml: log pipelines live under assets/logs/", |f| {
                f.insert("logs/acme_exporter.yaml", "id: acme-exporter\n");
            }),
            case(LogPipelineId, "assets/logs/acme_exporter_tests.yaml: its `id` is `acme`; it must be the manifest's app_id `acme-exporter`", |f| {
                f.insert("assets/logs/acme_exporter.yaml", "id: acme-exporter\n");
                f.insert("assets/logs/acme_exporter_tests.yaml", "id: acme\ntests: []\n");
            }),
            case(LogPipelineMissing, "the integration sends logs but assets/logs/ holds no pipeline", |f| {
                manifest(f, |m| m["assets"]["logs"] = json!({"source": "acme_exporter"}));
            })
            .also(&[DeclaredFiles]),
            case(AssetsEmpty, "assets.monitors is empty", |f| {
                manifest(f, |m| m["assets"]["monitors"] = json!({}));
            })
            .also(&[DeclaredFiles]),
            case(AssetPaths, "assets.dashboards[\"Acme\"] is `/tmp/acme.json`; it must be a path inside the folder", |f| {
                manifest(f, |m| m["assets"]["dashboards"] = json!({"Acme": "/tmp/acme.json"}));
            }),
            case(AssetPaths, "assets.oauth is \"oauth.json\"; it must be \"assets/oauth_clients.json\"", |f| {
                f.insert("oauth.json", f.get(OAUTH_CLIENTS).unwrap().to_vec());
                manifest(f, |m| m["assets"]["oauth"] = json!("oauth.json"));
            }),
            case(AuthorUrl, "author.homepage `acme.example` is not an absolute http(s) URL", |f| {
                manifest(f, |m| m["author"]["homepage"] = json!("acme.example"));
            }),
            case(AuthorEmail, "author.support_email `support at acme` is not an ASCII e-mail address", |f| {
                manifest(f, |m| m["author"]["support_email"] = json!("support at acme"));
            }),
            case(VendorId, "author.vendor_id `Acme_Inc` is not kebab-case", |f| {
                manifest(f, |m| m["author"]["vendor_id"] = json!("Acme_Inc"));
            }),
            case(VendorId, "author.vendor_id is missing; a Marketplace listing", |f| {
                marketplace(f);
                manifest(f, |m| {
                    m["author"].as_object_mut().unwrap().remove("vendor_id");
                });
            })
            .also(&[OAuthClientName]),
            case(MarketplacePricing, "pricing[0].billing_type is \"monthly\"", |f| {
                marketplace(f);
                manifest(f, |m| m["pricing"][0]["billing_type"] = json!("monthly"));
            })
            .also(&[OAuthClientName]),
            case(MarketplacePricing, "pricing[0].metric is missing; tag_count bills by a metric", |f| {
                marketplace(f);
                manifest(f, |m| {
                    m["pricing"][0]["billing_type"] = json!("tag_count");
                    m["pricing"][0]["tag"] = json!("host");
                });
            })
            .also(&[OAuthClientName]),
            case(MarketplacePricing, "pricing mixes billing types (flat_fee, one_time)", |f| {
                marketplace(f);
                manifest(f, |m| {
                    let mut second = m["pricing"][0].clone();
                    second["billing_type"] = json!("one_time");
                    m["pricing"].as_array_mut().unwrap().push(second);
                });
            })
            .also(&[OAuthClientName]),
            case(MarketplacePricing, "pricing[0].includes_assets must be true", |f| {
                marketplace(f);
                manifest(f, |m| m["pricing"][0]["includes_assets"] = json!(false));
            })
            .also(&[OAuthClientName]),
            case(MarketplaceAppId, "app_id is `acme-exporter`; a Marketplace listing's is `<vendor_id>-<product_id>`, `acme-insights`", |f| {
                marketplace(f);
                manifest(f, |m| m["pricing"][0]["product_id"] = json!("insights"));
            })
            .also(&[OAuthClientName]),
            case(MarketplaceEula, "legal_terms.eula `assets/eula.pdf` is not a PDF file", |f| {
                marketplace(f);
                f.insert("assets/eula.pdf", "Terms: be nice.");
            })
            .also(&[OAuthClientName]),
            case(MarketplaceEula, "legal_terms.eula is missing", |f| {
                marketplace(f);
                manifest(f, |m| {
                    m.as_object_mut().unwrap().remove("legal_terms");
                });
            })
            .also(&[OAuthClientName]),
            case(ReadmeAscii, "README.md:10: has the non-ASCII character `\u{2014}` (U+2014)", |f| {
                replace(f, README, "and deploys.", "and deploys \u{2014} live.");
            }),
            case(ReadmeSections, "has no `## Support` section (tile.support shows it)", |f| {
                replace(f, README, "## Support\n", "## Help\n");
            }),
            case(ReadmeSections, "`## Overview` is empty", |f| {
                edit_text(f, README, |t| {
                    let start = t.find("<!-- dd-integration:begin overview -->\n").unwrap();
                    let end = t.find("<!-- dd-integration:end overview -->\n").unwrap();
                    format!("{}{}", &t[..start], &t[end + 37..])
                });
            })
            .also(&[ReadmeRegions]),
            case(ReadmeOrder, "`## Setup` comes after `## Support`", |f| {
                edit_text(f, README, |t| {
                    t.replace("## Overview\n", "## @\n")
                        .replace("## Support\n", "## Overview\n")
                        .replace("## @\n", "## Support\n")
                });
            }),
            case(ReadmeUninstallation, "`### Uninstallation` is a H3; make it `## Uninstallation`", |f| {
                replace(f, README, "## Uninstallation", "### Uninstallation");
            }),
            case(ReadmeUninstallation, "does not say that uninstalling revokes", |f| {
                replace(f, README, "any previous authorizations are revoked", "we are sad");
            }),
            case(ReadmeUninstallation, "does not link to the API Keys page", |f| {
                replace(f, README, "on the [API Keys page][2]", "on the API Keys page");
            })
            .also(&[ReadmeLinks]),
            case(ReadmeUninstallation, "is not filtered by the integration's name", |f| {
                replace(f, README, "api-keys?filter=Acme%20Exporter", "api-keys");
            }),
            case(ReadmeImages, "the image `https://example.com/x.png` must be served from https://raw.githubusercontent.com/DataDog/integrations-extras/master/acme_exporter/images/", |f| {
                replace(f, README, "## Troubleshooting\n", "## Troubleshooting\n\n<img src=\"https://example.com/x.png\">\n");
            }),
            case(ReadmeImages, "is not in images/ (images/x.png)", |f| {
                replace(f, README, "## Troubleshooting\n", "## Troubleshooting\n\n![shot][99]\n\n[99]: https://raw.githubusercontent.com/DataDog/integrations-extras/master/acme_exporter/images/x.png\n");
            })
            .also(&[ReadmeLinks]),
            case(ReadmeLinks, "has the inline link `(https://docs.acme.example)`", |f| {
                replace(f, README, "## Troubleshooting\n", "## Troubleshooting\n\nSee [the docs](https://docs.acme.example).\n");
            }),
            case(ReadmeLinks, "the link reference `[99]` has no definition", |f| {
                replace(f, README, "## Troubleshooting\n", "## Troubleshooting\n\nSee [the docs][99].\n");
            }),
            case(ReadmeLinks, "the link numbers do not follow the order of first use", |f| {
                replace(f, README, "## Overview\n", "## Overview\n\nSee [support][8].\n");
            }),
            case(ReadmeShortcodes, "uses `{{< tabs >}}`", |f| {
                replace(f, README, "## Troubleshooting\n", "## Troubleshooting\n\n{{< tabs >}}\n");
            }),
            case(ReadmeShortcodes, "uses `{{< site-region` outside", |f| {
                replace(f, README, "## Troubleshooting\n", "## Troubleshooting\n\n{{< site-region region=\"us\" >}}\n");
            }),
            case(ReadmeRegions, "README.md:74: the region `links` begins inside the region `support`", |f| {
                replace(f, README, "<!-- dd-integration:end support -->\n", "");
            }),
            case(ReadmeDataCollected, "has metrics but `## Data Collected` has no `### Metrics`", |f| {
                replace(f, README, "### Metrics\n", "");
            }),
            case(Changelog, "the entry `## 1.0 / yesterday` must read `## x.y.z / YYYY-MM-DD`", |f| {
                replace(f, CHANGELOG, "## 1.0.0 / 2026-11-18", "## 1.0 / yesterday");
            }),
            case(Changelog, "must start with `# CHANGELOG - <tile title>`", |f| {
                replace(f, CHANGELOG, "# CHANGELOG - ", "# Changes - ");
            }),
            case(OAuthClientShape, "integration.secret is not a client field", |f| {
                client(f, |c| c["secret"] = json!("s3cret"));
            }),
            case(OAuthClientShape, "integration.scopes is missing", |f| {
                client(f, |c| {
                    c.as_object_mut().unwrap().remove("scopes");
                });
            }),
            case(OAuthClientId, "integration.id `abc` is not a lowercase UUID", |f| {
                client(f, |c| c["id"] = json!("abc"));
            }),
            case(OAuthClientId, "integration.id is empty: the folder is not ready to submit", |f| {
                client(f, |c| c["id"] = json!(""));
            }),
            case(OAuthClientName, "integration.name is empty", |f| {
                client(f, |c| c["name"] = json!(""));
            }),
            case(OAuthClientName, "integration.name is \"Acme\" but tile.title is \"Acme Exporter\"", |f| {
                client(f, |c| c["name"] = json!("Acme"));
            }),
            case(OAuthClientRole, "integration.client_role is \"admin\"", |f| {
                client(f, |c| c["client_role"] = json!("admin"));
            }),
            case(OAuthClientUrls, "integration.redirect_uris[0]: `http://exporter.acme.example/cb` uses http: Datadog requires https", |f| {
                client(f, |c| c["redirect_uris"] = json!(["http://exporter.acme.example/cb"]));
            }),
            case(OAuthClientUrls, "integration.redirect_uris is empty", |f| {
                client(f, |c| c["redirect_uris"] = json!([]));
            }),
            case(OAuthClientScopes, "`monitor_read` is not in this SDK's catalog of Datadog scopes; did you mean `monitors_read`?", |f| {
                client(f, |c| c["scopes"] = json!(["api_keys_write", "monitor_read"]));
            }),
            case(OAuthClientScopes, "integration.scopes lists `api_keys_write` twice", |f| {
                client(f, |c| c["scopes"] = json!(["api_keys_write", "api_keys_write"]));
            }),
            case(ApiKeyScope, "lacks `api_keys_write`, but the integration sends metrics, events, service checks", |f| {
                client(f, |c| c["scopes"] = json!(["monitors_read"]));
            }),
            case(MetadataColumns, "metadata.csv:1: has the unknown column `unit`", |f| {
                edit_text(f, METADATA, |t| t.replace("sample_tags\n", "sample_tags,unit\n").replace(",,\n", ",,,\n"));
            }),
            case(MetadataColumns, "metadata.csv:2: has 10 values; the header has 11 columns", |f| {
                replace(f, METADATA, ",,\nacme_exporter.jobs.rate", ",\nacme_exporter.jobs.rate");
            }),
            case(MetadataColumns, "lacks the column(s) short_name", |f| {
                edit_text(f, METADATA, |t| {
                    t.replace(",short_name,", ",")
                        .replace(",queue depth,,\n", ",,\n")
                        .replace(",acme_exporter,,,\n", ",acme_exporter,,\n")
                });
            }),
            case(MetadataRequired, "metadata.csv:2: metric_type is empty", |f| {
                replace(f, METADATA, "acme_exporter.queue.depth,gauge,", "acme_exporter.queue.depth,,");
            }),
            case(MetadataMetricName, "the metric `acme_exporter.queue.depth` is listed twice", |f| {
                edit_text(f, METADATA, |t| {
                    let row = t.lines().nth(1).unwrap().to_owned();
                    format!("{t}{row}\n")
                });
            }),
            case(MetadataMetricName, "the metric `other.metric` does not start with the prefix `acme_exporter.`", |f| {
                edit_text(f, METADATA, |t| format!("{t}other.metric,gauge,,,,Other.,0,acme_exporter,,,\n"));
            }),
            case(MetadataMetricName, "the metric name `acme_exporter.x-y` is not normalized; Datadog stores it as `acme_exporter.x_y`", |f| {
                edit_text(f, METADATA, |t| format!("{t}acme_exporter.x-y,gauge,,,,X.,0,acme_exporter,,,\n"));
            }),
            case(MetadataMetricType, "metric_type `histogram` is not gauge, count or rate", |f| {
                replace(f, METADATA, ",gauge,", ",histogram,");
            }),
            case(MetadataInterval, "interval `10s` is not a whole number of seconds", |f| {
                replace(f, METADATA, ",gauge,,", ",gauge,10s,");
            }),
            case(MetadataUnit, "unit_name `jobs` is not a Datadog unit name; did you mean `job`?", |f| {
                replace(f, METADATA, ",gauge,,job,", ",gauge,,jobs,");
            }),
            case(MetadataUnit, "`second` per `second` is a time per time; use the unit `fraction`", |f| {
                replace(f, METADATA, ",rate,,job,second,", ",rate,,second,second,");
            }),
            case(MetadataOrientation, "orientation `2` is not -1, 0 or 1", |f| {
                replace(f, METADATA, ",-1,", ",2,");
            }),
            case(MetadataIntegration, "integration `acme` must be `acme_exporter`", |f| {
                replace(f, METADATA, ",-1,acme_exporter,", ",-1,acme,");
            }),
            case(MetadataDescription, "description contains `|`", |f| {
                replace(f, METADATA, "Jobs completed per second.", "Jobs | completed.");
            }),
            case(MetadataDescription, "the metric `acme_exporter.jobs.rate` has no description", |f| {
                replace(f, METADATA, "Jobs completed per second.", "");
            }),
            case(MetadataAscii, "`Jobs completed \u{2014} per second.` has non-ASCII characters", |f| {
                replace(f, METADATA, "Jobs completed per second.", "Jobs completed \u{2014} per second.");
            }),
            case(MetadataCuratedMetric, "curated_metric `cpu|disk` must be cpu, memory or cpu|memory", |f| {
                replace(f, METADATA, ",queue depth,,", ",queue depth,cpu|disk,");
            }),
            case(MetadataSampleTags, "sample_tags `team, ,db` must be tag keys separated by commas", |f| {
                replace(f, METADATA, ",queue depth,,\n", ",queue depth,,\"team, ,db\"\n");
            }),
            case(ServiceChecksShape, "assets/service_checks.json: [0]: `groups` is missing", |f| {
                check(f, |c| {
                    c.as_object_mut().unwrap().remove("groups");
                });
            }),
            case(ServiceChecksShape, "is an object; it must be an array", |f| {
                f.insert(SERVICE_CHECKS, "{}");
            }),
            case(ServiceCheckAgentVersion, "[0]: agent_version must be a version string `x.y.z`", |f| {
                check(f, |c| c["agent_version"] = json!("6"));
            }),
            case(ServiceCheckIntegration, "[0]: integration \"acme_exporter\" must be source_type_name, \"Acme Exporter\"", |f| {
                check(f, |c| c["integration"] = json!("acme_exporter"));
            }),
            case(ServiceCheckName, "[0]: check `acme_exporter..can_connect` has `__`, `..`", |f| {
                check(f, |c| c["check"] = json!("acme_exporter..can_connect"));
            }),
            case(ServiceCheckStatuses, "[0]: statuses must list some of ok, warning, critical and unknown", |f| {
                check(f, |c| c["statuses"] = json!(["ok", "fine"]));
            }),
            case(ServiceCheckGroups, "[0]: groups must be a list of tag keys", |f| {
                check(f, |c| c["groups"] = json!("host"));
            }),
            case(ServiceCheckText, "[0]: name is empty", |f| {
                check(f, |c| c["name"] = json!(""));
            }),
            declared(DeclaredScopes, "integration.scopes has `monitors_read`, which the declaration does not request", |f| {
                client(f, |c| c["scopes"] = json!(["api_keys_write", "monitors_read"]));
            }),
            declared(DeclaredScopes, "integration.scopes lacks `api_keys_write`, which the declaration requests", |f| {
                client(f, |c| c["scopes"] = json!(["monitors_read"]));
            })
            .also(&[ApiKeyScope]),
            declared(DeclaredRedirectUris, "Datadog answers \"Mismatching redirect URI\"", |f| {
                client(f, |c| c["redirect_uris"] = json!(["https://exporter.acme.example/datadog/cb"]));
            }),
            declared(DeclaredOnboardingUrl, "integration.onboarding_url is `https://exporter.acme.example/connect` but the declaration's", |f| {
                client(f, |c| c["onboarding_url"] = json!("https://exporter.acme.example/connect"));
            }),
            declared(DeclaredClientId, "integration.id is `3c7e9f4a-1b3d-11ef-8a6c-da7ad0900002` but the declaration's oauth_client_id", |f| {
                client(f, |c| c["id"] = json!("3c7e9f4a-1b3d-11ef-8a6c-da7ad0900002"));
            }),
            declared(Immutable, "manifest.json: assets.integration.source_type_id is 123 in the folder but 98765432 in the declaration; it cannot change", |f| {
                manifest(f, |m| m["assets"]["integration"]["source_type_id"] = json!(123));
            }),
            declared(DeclaredFiles, "manifest.json: tile.description differs from the declaration; run `cargo xtask manifest`", |f| {
                manifest(f, |m| m["tile"]["description"] = json!("Old words."));
            })
            .also(&[OAuthClientName]),
            declared(DeclaredFiles, "README.md: the region support differs from the declaration", |f| {
                replace(f, README, "For support or questions", "For questions");
            }),
            declared(DeclaredFiles, "metadata.csv: differs from the declared metrics (acme_exporter.jobs.rate); run", |f| {
                replace(f, METADATA, "Jobs completed per second.", "Jobs done per second.");
            }),
            case(Undeclared, "app_uuid 0b9e4d2c-6a1f-4e3b-8c5d-2f7a9b1e3c4d is not in the declaration: add `app_uuid", |_| {})
                .against(IntegrationSpec { app_uuid: None, ..EXPORTER }),
            case(Undeclared, "source_type_id 98765432 is not in the declaration", |_| {})
                .against(IntegrationSpec { source_type_id: None, ..EXPORTER }),
            case(Undeclared, "integration.id 2c7e9f4a-1b3d-11ef-8a6c-da7ad0900002 is not in the declaration", |_| {})
                .against(IntegrationSpec { oauth_client_id: None, ..EXPORTER }),
            case(ChangelogVersion, "CHANGELOG.md: has no entry for the declared version 1.1.0", |_| {})
                .against(IntegrationSpec { version: "1.1.0", ..EXPORTER }),
        ]
    }

    #[test]
    fn the_rendered_folder_passes() {
        let findings = validate(&folder(), Some(&EXPORTER));
        assert!(findings.is_empty(), "{findings:#?}");
        let oncall = fixture::folder(&fixture::ONCALL);
        let findings = validate(&oncall, Some(&fixture::ONCALL));
        let errors: Vec<String> = findings
            .iter()
            .filter(|f| f.is_error())
            .map(ToString::to_string)
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }

    #[test]
    fn each_rule_has_a_case_and_each_case_breaks_its_rule() {
        let cases = cases();
        for rule in Rule::ALL {
            assert!(
                cases.iter().any(|c| c.rule == *rule),
                "no case breaks the rule {rule}"
            );
        }
        let mut failures = Vec::new();
        for case in cases {
            let mut folder = folder();
            (case.edit)(&mut folder);
            let findings = validate(&folder, case.spec.as_ref());
            let shown: Vec<String> = findings
                .iter()
                .map(|f| format!("  {} [{}] {f}", f.severity, f.rule))
                .collect();
            let found = findings
                .iter()
                .any(|f| f.rule == case.rule && f.to_string().contains(case.expect));
            let only = findings
                .iter()
                .all(|f| f.rule == case.rule || case.also.contains(&f.rule));
            if !found || !only {
                failures.push(format!(
                    "{}: expected `{}`{}:\n{}",
                    case.rule,
                    case.expect,
                    if found { ", and no other rule" } else { "" },
                    shown.join("\n")
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn against_a_published_version() {
        let base = folder();
        let mut folder = folder();
        manifest(&mut folder, |m| {
            m["app_id"] = json!("acme-exporter-2");
        });
        let mut base_with_dashboard = base.clone();
        manifest(&mut base_with_dashboard, |m| {
            m["assets"]["dashboards"] = json!({"Acme Overview": "assets/dashboards/a.json"});
        });
        assert!(validate_against(&base, &base).is_empty());
        let findings: Vec<String> = validate_against(&base_with_dashboard, &folder)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(findings.len(), 2, "{findings:#?}");
        assert!(findings[0].starts_with(
            "manifest.json: app_id is \"acme-exporter\" in the published version but \
             \"acme-exporter-2\" in the folder; it cannot change"
        ));
        assert!(findings[1].starts_with(
            "manifest.json: assets.dashboards[\"Acme Overview\"] (\"Acme Overview\") is in the \
             published version but not in the folder"
        ));
    }

    #[test]
    fn findings_are_one_line() {
        let mut long = folder();
        manifest(&mut long, |m| {
            m["tile"]["description"] = json!("x".repeat(93))
        });
        let findings = validate(&long, None);
        assert_eq!(
            findings[0].to_string(),
            "manifest.json: tile.description is 93 characters; the limit is 80"
        );
        for case in cases() {
            let mut folder = folder();
            (case.edit)(&mut folder);
            for finding in validate(&folder, case.spec.as_ref()) {
                assert!(!finding.to_string().contains('\n'), "{finding}");
            }
        }
    }
}
