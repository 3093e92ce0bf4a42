//! Log assets: the pipeline skeleton and its test file, in the layout Datadog's docs give for
//! partner log pipelines (`assets/logs/<name>.yaml` and `assets/logs/<name>_tests.yaml`), and the
//! rules a folder's log assets must pass.
//!
//! The pipeline is keyed by the `source` the SDK's telemetry stamps on every log, and its
//! processors remap exactly the attributes the SDK sends (`timestamp`, `status`, `message`,
//! `service`), as Datadog's docs require of every partner pipeline. What the docs leave open is
//! not generated: facets (the declaration names no log attribute yet) and Grok parsing (the SDK
//! sends structured JSON). The test file's sample is a log as the SDK sends it; its `result` is
//! what these processors make of it in the shape merged test files have (the remapped values at
//! the top, every other attribute under `custom`, `source:LOGS_SOURCE` as the tag). Datadog's
//! docs say CI runs the pipeline on the pull request and prints the result to paste in: where the
//! two differ, CI's is the one to keep.

use super::validate::Checker;
use super::{Note, Rule};
use dd_integration::{DataKind, IntegrationSpec};

/// The folder the log assets live in.
pub(crate) const DIR: &str = "assets/logs/";

/// The team that owns every integration's log assets (ddev `validate codeowners`).
const LOGS_TEAM: &str = "@DataDog/logs-integrations-reviewers";

/// The timestamp of the test sample (Unix milliseconds): 2023-11-14T22:13:20Z.
const SAMPLE_MS: i64 = 1_700_000_000_000;

/// The pipeline's and its test file's paths: `assets/logs/<folder>.yaml`, `..._tests.yaml`.
pub(crate) fn paths(dir: &str) -> (String, String) {
    (format!("{DIR}{dir}.yaml"), format!("{DIR}{dir}_tests.yaml"))
}

/// Whether the folder gets the skeleton: the integration sends logs, the folder has no log
/// assets of its own, and its manifest is new or lists `assets.logs` (a published manifest
/// without it predates log pipelines; a note says how to opt in).
pub(crate) fn wanted(
    spec: &IntegrationSpec,
    has_logs_assets: bool,
    manifest_lists_logs: bool,
    new: bool,
) -> bool {
    spec.submits.contains(&DataKind::Logs) && !has_logs_assets && (new || manifest_lists_logs)
}

/// A YAML double-quoted scalar.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The processors: (type, name, source attribute).
const PROCESSORS: [(&str, &str, &str); 4] = [
    (
        "date-remapper",
        "Define `timestamp` as the official date of the log",
        "timestamp",
    ),
    (
        "status-remapper",
        "Define `status` as the official status of the log",
        "status",
    ),
    (
        "message-remapper",
        "Define `message` as the official message of the log",
        "message",
    ),
    (
        "service-remapper",
        "Define `service` as the official service of the log",
        "service",
    ),
];

/// The pipeline skeleton, filtering on `source` (the manifest's `assets.logs.source`).
pub(crate) fn pipeline(spec: &IntegrationSpec, source: &str) -> String {
    let mut facets = String::new();
    for path in spec.listing.log_facets {
        // Custom facets go in a group named after the integration (Datadog's docs).
        facets.push_str(&format!(
            "  - groups:\n      - {group}\n    name: {name}\n    path: {path}\n    source: log\n",
            group = quoted(spec.name),
            name = quoted(&facet_name(path)),
            path = quoted(path),
        ));
    }
    let facets = if facets.is_empty() {
        " null\n".to_owned()
    } else {
        format!("\n{facets}")
    };
    let mut out = format!(
        "id: {id}\nmetric_id: {id}\nbackend_only: false\nfacets:{facets}pipeline:\n  type: pipeline\n  name: {name}\n  enabled: true\n  filter:\n    query: {query}\n  processors:\n",
        id = spec.app_id,
        name = quoted(spec.name),
        query = quoted(&format!("source:{source}")),
    );
    for (kind, name, source) in PROCESSORS {
        out.push_str(&format!(
            "    - type: {kind}\n      name: {}\n      enabled: true\n      sources:\n        - {source}\n",
            quoted(name)
        ));
    }
    out
}

/// A facet's display name: its path's last segment, words capitalized (`job_id` → `Job Id`).
fn facet_name(path: &str) -> String {
    path.rsplit('.')
        .next()
        .unwrap_or(path)
        .split(['_', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `value` at the dotted `path` of `object`, nested (`acme.job_id` → `{"acme": {"job_id": ..}}`).
fn set_path(object: &mut serde_json::Value, path: &str, value: serde_json::Value) {
    let mut at = object;
    let segments: Vec<&str> = path.split('.').collect();
    for (i, segment) in segments.iter().enumerate() {
        if !at.is_object() {
            return;
        }
        let map = at.as_object_mut().expect("checked above");
        if i + 1 == segments.len() {
            map.insert((*segment).to_owned(), value);
            return;
        }
        at = map
            .entry((*segment).to_owned())
            .or_insert_with(|| serde_json::json!({}));
    }
}

/// The test file: one log as the SDK sends it, and what the processors make of it.
pub(crate) fn tests(spec: &IntegrationSpec, source: &str) -> String {
    let message = format!("{} example log", spec.name);
    let mut sample = serde_json::json!({
        "ddsource": source,
        "message": message,
        "service": spec.app_id,
        "status": "info",
        "timestamp": SAMPLE_MS,
    });
    // Each faceted attribute, with an example value, stays in `custom`.
    let mut custom = serde_json::json!({ "ddsource": source });
    for path in spec.listing.log_facets {
        set_path(&mut sample, path, serde_json::json!("example"));
        set_path(&mut custom, path, serde_json::json!("example"));
    }
    let mut custom_yaml = String::new();
    yaml(&custom, 8, &mut custom_yaml);
    format!(
        "id: {id}\ntests:\n  - sample: |-\n      {sample}\n    result:\n      custom:\n{custom_yaml}      message: {message}\n      service: {service}\n      status: \"info\"\n      tags:\n        - \"source:LOGS_SOURCE\"\n      timestamp: {SAMPLE_MS}\n",
        id = spec.app_id,
        sample = sample,
        service = quoted(spec.app_id),
        message = quoted(&message),
    )
}

/// A JSON object of strings and objects as YAML mappings, `indent` spaces in.
fn yaml(value: &serde_json::Value, indent: usize, out: &mut String) {
    let Some(map) = value.as_object() else {
        return;
    };
    for (key, value) in map {
        let pad = " ".repeat(indent);
        match value {
            serde_json::Value::Object(_) => {
                out.push_str(&format!("{pad}{key}:\n"));
                yaml(value, indent + 2, out);
            }
            other => out.push_str(&format!(
                "{pad}{key}: {}\n",
                quoted(other.as_str().unwrap_or_default())
            )),
        }
    }
}

/// The note that comes with a new skeleton: what to do with it, CODEOWNERS included.
pub(crate) fn note(dir_name: &str, pipeline: &str) -> Note {
    Note {
        file: DIR,
        message: format!(
            "wrote {pipeline} and its test file, a log pipeline skeleton keyed by the logs' \
             source: add parsing (and facets beyond `log_facets`) as your logs need, and paste the `result` Datadog's \
             CI prints when it differs; integrations-extras' .github/CODEOWNERS also needs the \
             line `/{dir_name}/assets/logs/ {LOGS_TEAM}` after the folder's own line"
        ),
        rule: None,
    }
}

/// The top-level `id:` of a pipeline or test file, as written.
fn top_level_id(text: &str) -> Option<&str> {
    text.lines()
        .find_map(|l| l.strip_prefix("id:"))
        .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\''))
}

/// The rules of a folder's log assets: each pipeline has its test file, both `.yaml` under
/// `assets/logs/`, and each `id` is the manifest's `app_id`; an integration whose logs have
/// no pipeline gets a warning.
pub(crate) fn check(c: &mut Checker<'_>, app_id: Option<&str>, sends_logs: bool) {
    let files: Vec<String> = c
        .folder
        .paths()
        .filter(|p| p.starts_with(DIR))
        .map(str::to_owned)
        .collect();
    // A pipeline elsewhere (`logs/acme.yaml`, `assets/pipelines/logs/acme.yaml`) is not tested.
    for path in c
        .folder
        .paths()
        .filter(|p| {
            (p.ends_with(".yml") || p.ends_with(".yaml"))
                && p.split('/').any(|segment| segment == "logs")
                && !p.starts_with(DIR)
        })
        .map(str::to_owned)
        .collect::<Vec<_>>()
    {
        c.error(
            Rule::LogPipelineFiles,
            &path,
            format!("log pipelines live under {DIR}: move it there, or CI does not test it"),
        );
    }
    if sends_logs && files.is_empty() {
        c.warning(
            Rule::LogPipelineMissing,
            super::MANIFEST,
            format!(
                "the integration sends logs but {DIR} holds no pipeline; Datadog's docs require \
                 one (`cargo xtask manifest` writes a skeleton when assets.logs.source is set)"
            ),
        );
    }
    for path in &files {
        if path.ends_with(".yml") {
            c.error(
                Rule::LogPipelineFiles,
                path,
                "ends in `.yml`; Datadog's CI finds only `.yaml` files: rename it",
            );
            continue;
        }
        let Some(stem) = path.strip_suffix(".yaml") else {
            continue;
        };
        if !stem.ends_with("_tests") && !c.folder.contains(&format!("{stem}_tests.yaml")) {
            c.error(
                Rule::LogPipelineFiles,
                path,
                format!(
                    "has no test file {stem}_tests.yaml; Datadog's CI tests every pipeline \
                     against its samples"
                ),
            );
        }
        if let (Some(app_id), Some(text)) = (app_id, c.text(path)) {
            match top_level_id(text) {
                Some(id) if id == app_id => {}
                found => c.error(
                    Rule::LogPipelineId,
                    path,
                    format!(
                        "its `id` is {}; it must be the manifest's app_id `{app_id}`",
                        found.map_or_else(|| "missing".to_owned(), |id| format!("`{id}`"))
                    ),
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture::{self, EXPORTER};
    use crate::{MANIFEST, render_at};

    const WITH_LOGS: IntegrationSpec = IntegrationSpec {
        submits: &[
            DataKind::Metrics,
            DataKind::Events,
            DataKind::ServiceChecks,
            DataKind::Logs,
        ],
        logs_source: Some("acme"),
        listing: dd_integration::integration::Listing {
            log_facets: &["acme_exporter.job_id", "acme_exporter.queue.name"],
            ..dd_integration::integration::Listing::DEFAULT
        },
        ..EXPORTER
    };

    #[test]
    fn a_new_folder_that_sends_logs_gets_a_pipeline_keyed_by_their_source() {
        let rendered = render_at(&WITH_LOGS, None, fixture::now()).unwrap();
        let pipeline = rendered.file("assets/logs/acme_exporter.yaml").unwrap();
        let tests = rendered
            .file("assets/logs/acme_exporter_tests.yaml")
            .unwrap();
        assert_eq!(top_level_id(pipeline), Some("acme-exporter"));
        assert_eq!(top_level_id(tests), Some("acme-exporter"));
        assert!(
            pipeline.contains("    query: \"source:acme\"\n"),
            "{pipeline}"
        );
        for (kind, _, source) in PROCESSORS {
            assert!(pipeline.contains(&format!("- type: {kind}\n")), "{kind}");
            assert!(
                pipeline.contains(&format!("        - {source}\n")),
                "{source}"
            );
        }
        // The sample is a log as the SDK's telemetry sends it.
        let sample = tests
            .lines()
            .find(|l| l.trim_start().starts_with('{'))
            .unwrap();
        let sample: serde_json::Value = serde_json::from_str(sample.trim()).unwrap();
        assert_eq!(sample["ddsource"], "acme");
        assert_eq!(sample["timestamp"], SAMPLE_MS);
        // The declared facets: in the pipeline, in the integration's group, and in the sample
        // and its expected result, nested by their paths.
        assert!(
            pipeline.contains(
                "facets:\n  - groups:\n      - \"Acme Exporter\"\n    name: \"Job Id\"\n    \
                 path: \"acme_exporter.job_id\"\n    source: log\n"
            ),
            "{pipeline}"
        );
        assert!(pipeline.contains("    name: \"Name\"\n    path: \"acme_exporter.queue.name\"\n"));
        assert_eq!(sample["acme_exporter"]["queue"]["name"], "example");
        assert!(
            tests.contains(
                "      custom:\n        acme_exporter:\n          job_id: \"example\"\n          \
                 queue:\n            name: \"example\"\n        ddsource: \"acme\"\n"
            ),
            "{tests}"
        );
        assert!(tests.contains("        - \"source:LOGS_SOURCE\"\n"));
        let manifest = rendered.file(MANIFEST).unwrap();
        assert!(manifest.contains("\"logs\": {\n      \"source\": \"acme\"\n    }"));
        assert!(rendered.notes().iter().any(|n| {
            n.message
                .contains("`/acme_exporter/assets/logs/ @DataDog/logs-integrations-reviewers`")
        }));
        // And the folder passes every rule, the logs ones included.
        let folder = rendered.apply(None);
        let findings = crate::validate(&folder, Some(&WITH_LOGS));
        assert!(
            findings
                .iter()
                .all(|f| !f.rule.to_string().starts_with("logs-") && !f.is_error()),
            "{findings:#?}"
        );
    }

    #[test]
    fn a_partners_pipeline_is_theirs_and_a_published_manifest_opts_in() {
        let mut folder = render_at(&WITH_LOGS, None, fixture::now())
            .unwrap()
            .apply(None);
        // The partner's edits are never overwritten.
        folder.insert(
            "assets/logs/acme_exporter.yaml",
            "id: acme-exporter\nfacets: []\n",
        );
        let again = render_at(&WITH_LOGS, Some(&folder), fixture::now()).unwrap();
        assert!(again.file("assets/logs/acme_exporter.yaml").is_none());
        assert!(again.stale(Some(&folder)).is_empty());

        // A published manifest without `assets.logs` gets no pipeline, but a note.
        let published = render_at(&EXPORTER, None, fixture::now())
            .unwrap()
            .apply(None);
        let adopted = render_at(&WITH_LOGS, Some(&published), fixture::now()).unwrap();
        assert!(!adopted.files().any(|(p, _)| p.starts_with(DIR)));
        assert!(
            adopted
                .notes()
                .iter()
                .any(|n| n.message.starts_with("assets.logs is absent"))
        );
    }
}
