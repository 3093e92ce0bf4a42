//! The starter dashboard: rendered from the declaration when the folder lists no dashboard, kept
//! as the partner edits it, and grown only by a widget for each newly declared metric. And the
//! rules every dashboard a manifest lists must pass, hand-made or generated.
//!
//! Datadog's docs ask every integration for an out-of-the-box dashboard ("If you have created a
//! Datadog integration, you must create an out-of-the-box dashboard"): an About group, an
//! Overview of the few signals that show the integration works (service checks, the metrics of
//! `metrics.check`), and a group for each kind of data it sends. The declaration knows every
//! metric (type, unit), service check, and whether events and logs are sent, so the first version
//! is correct by construction; the partner refines it in Datadog and exports it over this file.

use super::json::{Json, Object};
use super::validate::Checker;
use super::{Note, Rule};
use dd_integration::integration::{MetricSpec, MetricType};
use dd_integration::{DataKind, IntegrationSpec};

/// The notes' file: the dashboard's own path is dynamic.
const DASHBOARDS: &str = "assets/dashboards/";

/// The title of the group the metrics' widgets go in (and new ones are added to).
const METRICS_GROUP: &str = "Metrics";

/// The starter dashboard's path in the folder: `assets/dashboards/<folder>_overview.json`, as
/// most merged folders name theirs.
pub(crate) fn path(dir: &str) -> String {
    format!("assets/dashboards/{dir}_overview.json")
}

/// Its key in `assets.dashboards` (immutable once merged; it becomes the dashboard's URL):
/// `<title> Overview`, kept to the characters the manifest schema allows (a letter first, then
/// letters, digits, spaces, `-` and `_`) and without `-`, which Datadog's docs ask titles to
/// avoid.
pub(crate) fn key(spec: &IntegrationSpec) -> String {
    let mut key = String::new();
    for c in format!("{} Overview", spec.name).chars() {
        let c = if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            ' '
        };
        if key.is_empty() && !c.is_ascii_alphabetic() {
            continue;
        }
        if c == ' ' && key.ends_with(' ') {
            continue;
        }
        key.push(c);
    }
    key.trim_end().chars().take(255).collect()
}

/// Whether a dashboard key starts as the manifest schema's pattern asks
/// (`^[a-zA-Z][a-zA-Z0-9-_ ]{0,254}`, unanchored at the end as JSON Schema patterns are: only
/// the first character is certain to be checked).
pub(crate) fn valid_key(key: &str) -> bool {
    key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// Whether a dashboard key is in the pattern's character set and length throughout.
fn plain_key(key: &str) -> bool {
    key.chars().count() <= 255
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ' '))
}

/// Whether the declaration gets a starter dashboard: it sends something to show, it did not
/// opt out (`starter_dashboard = false`), and the folder lists no dashboard of the partner's.
pub(crate) fn wanted(spec: &IntegrationSpec, old_manifest: Option<&Json>) -> bool {
    let sends = !spec.submits.is_empty()
        || spec.creates_events
        || !spec.metrics.is_empty()
        || !spec.service_checks.is_empty();
    let listed = old_manifest
        .and_then(|m| m.at(&["assets", "dashboards"]))
        .and_then(Json::as_object);
    let others = listed.is_some_and(|d| d.keys().any(|k| k != key(spec)));
    sends && spec.listing.starter_dashboard != Some(false) && !others
}

/// The starter dashboard for `spec`, or the partner's edited one (`old`) with a widget added for
/// each newly declared metric (one the folder's metadata.csv, `known`, did not list yet) that it
/// does not show; `None` when `old` needs nothing. A widget the partner removed stays removed.
pub(crate) fn render(
    spec: &IntegrationSpec,
    old: Option<&Json>,
    known: &[String],
    file: &str,
    notes: &mut Vec<Note>,
) -> Option<Json> {
    let Some(old) = old else {
        notes.push(Note {
            file: DASHBOARDS,
            message: format!(
                "wrote {file}, a starter dashboard listed as \"{}\": import it in Datadog, \
                 refine it, and export it over the file; your edits are kept, and a metric you \
                 declare later gets its widget added",
                key(spec)
            ),
            rule: None,
        });
        return Some(fresh(spec));
    };
    let mut shown = Vec::new();
    strings(old, &mut shown);
    let missing: Vec<&MetricSpec> = spec
        .metrics
        .iter()
        .filter(|m| !known.iter().any(|k| k == m.name))
        .filter(|m| !shown.iter().any(|s| mentions(s, m.name)))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let mut dashboard = old.clone();
    let mut widgets: Vec<Json> = missing.iter().map(|m| metric_widget(m)).collect();
    let names = missing
        .iter()
        .map(|m| format!("`{}`", m.name))
        .collect::<Vec<_>>()
        .join(", ");
    let unchanged = |notes: &mut Vec<Note>, why: &str| {
        notes.push(Note {
            file: DASHBOARDS,
            message: format!(
                "{file} shows no widget for the newly declared {names}, and none was added: \
                 {why}; add them in Datadog and export the dashboard over the file"
            ),
            rule: None,
        });
    };
    // A free-form dashboard places every widget by hand: nothing is placed for the partner.
    if old.str_at(&["layout_type"]) == Some("free") {
        unchanged(notes, "it is a free-form dashboard");
        return None;
    }
    let fixed = old.str_at(&["reflow_type"]) == Some("fixed");
    let Json::Object(top) = &mut dashboard else {
        unchanged(notes, "it is not a JSON object");
        return None;
    };
    let group = top.get_mut("widgets").and_then(|w| match w {
        Json::Array(items) => items.iter_mut().find(|w| {
            w.str_at(&["definition", "title"]) == Some(METRICS_GROUP)
                && w.str_at(&["definition", "type"]) == Some("group")
        }),
        _ => None,
    });
    let target = match group {
        Some(Json::Object(group)) => group.get_mut("definition").and_then(|d| match d {
            Json::Object(d) => d.get_mut("widgets"),
            _ => None,
        }),
        _ => top.get_mut("widgets"),
    };
    let Some(Json::Array(items)) = target else {
        unchanged(notes, "it has no `widgets` list");
        return None;
    };
    if fixed {
        // A fixed grid of 12 columns: each new widget a third wide, in rows below the others.
        let bottom = items
            .iter()
            .filter_map(|w| {
                let y = w.at(&["layout", "y"])?.as_number()?.as_u64()?;
                let h = w.at(&["layout", "height"])?.as_number()?.as_u64()?;
                Some(y + h)
            })
            .max()
            .unwrap_or(0);
        for (i, widget) in widgets.iter_mut().enumerate() {
            let i = i as u64;
            if let Json::Object(w) = widget {
                w.insert(
                    "layout",
                    object(vec![
                        ("x", Json::from((i % 3) * 4)),
                        ("y", Json::from(bottom + (i / 3) * 2)),
                        ("width", Json::from(4_u64)),
                        ("height", Json::from(2_u64)),
                    ]),
                );
            }
        }
    }
    items.extend(widgets);
    notes.push(Note {
        file: DASHBOARDS,
        message: format!(
            "added a widget to {file} for each newly declared metric: {names}; nothing else in \
             it was changed"
        ),
        rule: None,
    });
    Some(dashboard)
}

/// Every string in `json`.
fn strings<'j>(json: &'j Json, out: &mut Vec<&'j str>) {
    match json {
        Json::String(s) => out.push(s),
        Json::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Json::Object(o) => o.iter().for_each(|(_, v)| strings(v, out)),
        _ => {}
    }
}

/// Whether a query mentions `metric` as a whole name (`avg:acme.jobs{*}`, not `acme.jobs_total`).
fn mentions(query: &str, metric: &str) -> bool {
    query.match_indices(metric).any(|(at, _)| {
        let before = query[..at].chars().next_back();
        let after = query[at + metric.len()..].chars().next();
        let edge = |c: Option<char>| {
            c.is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        };
        edge(before) && edge(after)
    })
}

fn object(pairs: Vec<(&str, Json)>) -> Json {
    let mut o = Object::new();
    for (k, v) in pairs {
        o.insert(k, v);
    }
    o.into()
}

fn string(s: impl Into<String>) -> Json {
    Json::string(s)
}

/// A widget: `{"definition": ...}` (no `id`: Datadog assigns them on import).
fn widget(definition: Json) -> Json {
    object(vec![("definition", definition)])
}

fn group(title: &str, widgets: Vec<Json>) -> Json {
    widget(object(vec![
        ("type", string("group")),
        ("title", string(title)),
        ("layout_type", string("ordered")),
        ("show_title", Json::Bool(true)),
        ("widgets", Json::Array(widgets)),
    ]))
}

/// A new dashboard: About, Overview (service checks and the metrics of `metrics.check`),
/// Metrics, Events, Logs: each group only when there is something to put in it.
fn fresh(spec: &IntegrationSpec) -> Json {
    let mut groups = vec![group(
        "About",
        vec![widget(object(vec![
            ("type", string("note")),
            (
                "content",
                string(format!(
                    "**{}**\n\n{}\n\nSetup, the data collected and support: the [{} tile](/integrations/{}).",
                    spec.name, spec.description, spec.name, spec.app_id
                )),
            ),
            ("background_color", string("white")),
            ("font_size", string("14")),
            ("text_align", string("left")),
            ("vertical_align", string("top")),
            ("show_tick", Json::Bool(false)),
            ("has_padding", Json::Bool(true)),
        ]))],
    )];

    let mut overview: Vec<Json> = spec
        .service_checks
        .iter()
        .map(|check| {
            widget(object(vec![
                ("type", string("check_status")),
                ("title", string(check.title)),
                ("check", string(check.name)),
                ("grouping", string("cluster")),
                ("group_by", Json::Array(Vec::new())),
                ("tags", Json::strings(["*"])),
            ]))
        })
        .collect();
    let checked: Vec<&MetricSpec> = match spec.listing.metrics_check {
        Some(names) => spec
            .metrics
            .iter()
            .filter(|m| names.contains(&m.name))
            .collect(),
        None => spec.metrics.iter().take(4).collect(),
    };
    overview.extend(checked.into_iter().take(4).map(value_widget));
    if !overview.is_empty() {
        groups.push(group("Overview", overview));
    }
    if !spec.metrics.is_empty() {
        groups.push(group(
            METRICS_GROUP,
            spec.metrics.iter().map(metric_widget).collect(),
        ));
    }
    if spec.submits.contains(&DataKind::Events) || spec.creates_events {
        groups.push(group(
            "Events",
            vec![widget(object(vec![
                ("type", string("list_stream")),
                ("title", string("Events")),
                (
                    "requests",
                    Json::Array(vec![object(vec![
                        ("response_format", string("event_list")),
                        (
                            "query",
                            object(vec![
                                ("data_source", string("event_stream")),
                                (
                                    "query_string",
                                    string(format!("source:{}", event_source(spec))),
                                ),
                                ("event_size", string("s")),
                            ]),
                        ),
                        ("columns", columns(&["timestamp", "content"])),
                    ])]),
                ),
            ]))],
        ));
    }
    if spec.submits.contains(&DataKind::Logs) {
        let source = spec.logs_source();
        groups.push(group(
            "Logs",
            vec![
                widget(object(vec![
                    ("type", string("timeseries")),
                    ("title", string("Logs by status")),
                    (
                        "requests",
                        Json::Array(vec![object(vec![
                            ("response_format", string("timeseries")),
                            (
                                "queries",
                                Json::Array(vec![object(vec![
                                    ("data_source", string("logs")),
                                    ("name", string("query1")),
                                    ("indexes", Json::strings(["*"])),
                                    ("compute", object(vec![("aggregation", string("count"))])),
                                    (
                                        "group_by",
                                        Json::Array(vec![object(vec![
                                            ("facet", string("status")),
                                            ("limit", Json::from(10_u64)),
                                            (
                                                "sort",
                                                object(vec![
                                                    ("order", string("desc")),
                                                    ("aggregation", string("count")),
                                                ]),
                                            ),
                                        ])]),
                                    ),
                                    (
                                        "search",
                                        object(vec![("query", string(format!("source:{source}")))]),
                                    ),
                                    ("storage", string("hot")),
                                ])]),
                            ),
                            (
                                "formulas",
                                Json::Array(vec![object(vec![
                                    ("formula", string("query1")),
                                    ("alias", string("Logs")),
                                ])]),
                            ),
                            ("display_type", string("bars")),
                        ])]),
                    ),
                ])),
                widget(object(vec![
                    ("type", string("list_stream")),
                    ("title", string("Error and critical logs")),
                    (
                        "requests",
                        Json::Array(vec![object(vec![
                            ("response_format", string("event_list")),
                            (
                                "query",
                                object(vec![
                                    ("data_source", string("logs_stream")),
                                    (
                                        "query_string",
                                        string(format!(
                                            "source:{source} status:(error OR critical)"
                                        )),
                                    ),
                                    ("indexes", Json::Array(Vec::new())),
                                    ("storage", string("hot")),
                                ]),
                            ),
                            (
                                "columns",
                                columns(&["status_line", "timestamp", "service", "content"]),
                            ),
                        ])]),
                    ),
                ])),
            ],
        ));
    }
    object(vec![
        ("title", string(key(spec))),
        // Customers read it in Datadog: the tile's description, nothing addressed to the partner.
        ("description", string(spec.description)),
        ("layout_type", string("ordered")),
        ("reflow_type", string("auto")),
        ("template_variables", Json::Array(Vec::new())),
        ("widgets", Json::Array(groups)),
        ("notify_list", Json::Array(Vec::new())),
    ])
}

/// The `source` the integration's events carry: its normalized `source_type_name`.
fn event_source(spec: &IntegrationSpec) -> String {
    super::vocabulary::normalize_integration(spec.source_type_name())
}

fn columns(fields: &[&str]) -> Json {
    Json::Array(
        fields
            .iter()
            .map(|f| {
                object(vec![
                    ("field", string(*f)),
                    (
                        "width",
                        string(if *f == "content" { "compact" } else { "auto" }),
                    ),
                ])
            })
            .collect(),
    )
}

/// The metric's query: counts summed as counts, rates summed, gauges averaged, across everything
/// the integration reports.
fn query(metric: &MetricSpec) -> String {
    match metric.metric_type {
        MetricType::Count => format!("sum:{}{{*}}.as_count()", metric.name),
        MetricType::Rate => format!("sum:{}{{*}}", metric.name),
        MetricType::Gauge | MetricType::Distribution => format!("avg:{}{{*}}", metric.name),
    }
}

/// The widget's title: the metric's short name, or its name without the prefix's first segment.
fn title(metric: &MetricSpec) -> String {
    let text = match metric.short_name {
        Some(short) => short.to_owned(),
        None => metric
            .name
            .split_once('.')
            .map_or(metric.name, |(_, rest)| rest)
            .replace(['.', '_'], " "),
    };
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A formula with the metric's alias and unit.
fn formula(metric: &MetricSpec) -> Json {
    let mut pairs = vec![
        ("formula", string("query1")),
        ("alias", string(title(metric))),
    ];
    if let Some(unit) = metric.unit {
        let mut unit_pairs = vec![
            ("type", string("canonical_unit")),
            ("unit_name", string(unit)),
        ];
        if let Some(per) = metric.per_unit {
            unit_pairs.push(("per_unit_name", string(per)));
        }
        pairs.push(("number_format", object(vec![("unit", object(unit_pairs))])));
    }
    object(pairs)
}

/// A timeseries of the metric: bars for counts, lines otherwise.
fn metric_widget(metric: &MetricSpec) -> Json {
    let display = if metric.metric_type == MetricType::Count {
        "bars"
    } else {
        "line"
    };
    widget(object(vec![
        ("type", string("timeseries")),
        ("title", string(title(metric))),
        (
            "requests",
            Json::Array(vec![object(vec![
                ("response_format", string("timeseries")),
                (
                    "queries",
                    Json::Array(vec![object(vec![
                        ("data_source", string("metrics")),
                        ("name", string("query1")),
                        ("query", string(query(metric))),
                    ])]),
                ),
                ("formulas", Json::Array(vec![formula(metric)])),
                ("display_type", string(display)),
            ])]),
        ),
    ]))
}

/// A query value of the metric over the period, on a timeseries background.
fn value_widget(metric: &MetricSpec) -> Json {
    let aggregator = match metric.metric_type {
        MetricType::Count => "sum",
        _ => "avg",
    };
    widget(object(vec![
        ("type", string("query_value")),
        ("title", string(title(metric))),
        (
            "requests",
            Json::Array(vec![object(vec![
                ("response_format", string("scalar")),
                (
                    "queries",
                    Json::Array(vec![object(vec![
                        ("data_source", string("metrics")),
                        ("name", string("query1")),
                        ("query", string(query(metric))),
                        ("aggregator", string(aggregator)),
                    ])]),
                ),
                ("formulas", Json::Array(vec![formula(metric)])),
            ])]),
        ),
        ("autoscale", Json::Bool(true)),
        ("precision", Json::from(2_u64)),
        (
            "timeseries_background",
            object(vec![("type", string("bars"))]),
        ),
    ]))
}

/// The rules of a dashboard `path` lists under `key` (datadog-checks-dev `validate dashboards`,
/// and what Datadog's asset publishing check is known to refuse).
pub(crate) fn check(
    c: &mut Checker<'_>,
    key: &str,
    path: &str,
    dashboard: &Json,
    app_uuid: Option<&str>,
) {
    if !valid_key(key) {
        c.error(
            Rule::DashboardKey,
            super::MANIFEST,
            format!("assets.dashboards key \"{key}\" must start with a letter"),
        );
    } else if !plain_key(key) {
        c.warning(
            Rule::DashboardKey,
            super::MANIFEST,
            format!(
                "assets.dashboards key \"{key}\" holds more than letters, digits, spaces, `-` \
                 and `_` (or is over 255 characters): the schema's pattern may refuse it"
            ),
        );
    }
    let Some(top) = dashboard.as_object() else {
        c.error(
            Rule::DashboardFields,
            path,
            format!("is {}; a dashboard is a JSON object", dashboard.kind()),
        );
        return;
    };
    let missing: Vec<&str> = ["description", "template_variables", "widgets"]
        .into_iter()
        .filter(|k| top.get(k).is_none())
        .collect();
    if !missing.is_empty() {
        c.error(
            Rule::DashboardFields,
            path,
            format!(
                "lacks {}: export the dashboard from Datadog (Share > Export dashboard JSON), \
                 which writes them",
                missing.join(", ")
            ),
        );
    }
    let new_format = ["layout_type", "title", "created_at"]
        .iter()
        .any(|k| top.get(k).is_some())
        || top
            .get("widgets")
            .and_then(Json::as_array)
            .is_some_and(|w| {
                w.iter()
                    .any(|w| w.at(&["definition"]).is_some() || w.at(&["layout"]).is_some())
            });
    if !new_format {
        c.error(
            Rule::DashboardFormat,
            path,
            "is not in the /dashboard format (`layout_type`, `title`, widgets with `definition`): \
             export it again from Datadog",
        );
    }
    if let Some(id) = top.get("id")
        && id.as_number().is_some()
    {
        c.error(
            Rule::DashboardId,
            path,
            "has a numeric top-level `id`, which Datadog's asset check refuses: remove it (Datadog \
             assigns the id on publishing)",
        );
    }
    if let Some(uuid) = app_uuid {
        let mut wrong = Vec::new();
        app_ids(dashboard, uuid, &mut wrong);
        for found in wrong {
            c.error(
                Rule::DashboardAppId,
                path,
                format!(
                    "a widget's definition.app_id is {found}; it must be the manifest's app_uuid \
                     {uuid} (or absent)"
                ),
            );
        }
    }
    if let Some(title) = top.get("title").and_then(Json::as_str)
        && title.contains('-')
    {
        c.warning(
            Rule::DashboardTitle,
            path,
            format!(
                "the title \"{title}\" has a `-`; Datadog's docs ask for none, since the URL is \
                 made from it"
            ),
        );
    }
}

/// The `definition.app_id`s of `json`'s widgets (groups included) that are not `uuid`.
fn app_ids(json: &Json, uuid: &str, out: &mut Vec<String>) {
    for widget in json
        .at(&["widgets"])
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        // ddev fails only a truthy `app_id` that differs (`if widget_app_uuid and ...`).
        if let Some(found) = widget.at(&["definition", "app_id"])
            && !matches!(found, Json::Null)
            && found.as_str() != Some("")
            && found.as_str() != Some(uuid)
        {
            out.push(match found.as_str() {
                Some(s) => format!("\"{s}\""),
                None => found.kind().to_owned(),
            });
        }
        if let Some(definition) = widget.at(&["definition"]) {
            app_ids(definition, uuid, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_manifest_schema() {
        assert!(valid_key("Acme Overview"));
        assert!(valid_key("Mergify - Merge Queue Stats"));
        assert!(!valid_key("1Password Overview"));
        assert!(!valid_key(""));
        assert!(valid_key("Acme (beta)") && !plain_key("Acme (beta)"));
        let spec = IntegrationSpec {
            name: "1Acme (beta) Pager",
            ..EXPORTER
        };
        assert_eq!(key(&spec), "Acme beta Pager Overview");
        assert!(valid_key(&key(&spec)));
    }

    #[test]
    fn mentions_matches_whole_metric_names() {
        assert!(mentions("avg:acme.jobs{*}", "acme.jobs"));
        assert!(mentions("sum:acme.jobs{*}.as_count()", "acme.jobs"));
        assert!(!mentions("avg:acme.jobs_total{*}", "acme.jobs"));
        assert!(!mentions("avg:acme.jobs.failed{*}", "acme.jobs"));
        assert!(!mentions("avg:xacme.jobs{*}", "acme.jobs"));
    }

    use crate::fixture::{self, EXPORTER};
    use crate::{Folder, MANIFEST, METADATA, render_at};
    use dd_integration::integration::{Listing, Orientation};

    const FILE: &str = "assets/dashboards/acme_exporter_overview.json";

    fn rendered(spec: &IntegrationSpec, existing: Option<&Folder>) -> crate::Rendered {
        render_at(spec, existing, fixture::now()).unwrap()
    }

    fn board(folder: &Folder) -> serde_json::Value {
        serde_json::from_slice(folder.get(FILE).unwrap()).unwrap()
    }

    /// The queries of every widget, groups included.
    fn queries(board: &serde_json::Value) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![board];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::Object(o) => {
                    if let Some(q) = o.get("query").and_then(|q| q.as_str()) {
                        out.push(q.to_owned());
                    }
                    stack.extend(o.values());
                }
                serde_json::Value::Array(a) => stack.extend(a),
                _ => {}
            }
        }
        out.sort();
        out
    }

    #[test]
    fn a_new_folder_gets_a_dashboard_of_what_the_declaration_sends() {
        let folder = rendered(&EXPORTER, None).apply(None);
        let manifest: serde_json::Value =
            serde_json::from_slice(folder.get(MANIFEST).unwrap()).unwrap();
        assert_eq!(
            manifest["assets"]["dashboards"],
            serde_json::json!({"Acme Exporter Overview": FILE})
        );
        let board = board(&folder);
        assert_eq!(board["title"], "Acme Exporter Overview");
        assert_eq!(board["layout_type"], "ordered");
        let groups: Vec<&str> = board["widgets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["definition"]["title"].as_str().unwrap())
            .collect();
        assert_eq!(groups, ["About", "Overview", "Metrics", "Events"]);
        // A gauge averaged, a rate summed, each with its unit; the service check's status.
        let metrics = &board["widgets"][2]["definition"]["widgets"];
        assert_eq!(metrics[0]["definition"]["title"], "Queue depth");
        assert_eq!(
            metrics[0]["definition"]["requests"][0]["queries"][0]["query"],
            "avg:acme_exporter.queue.depth{*}"
        );
        assert_eq!(
            metrics[1]["definition"]["requests"][0]["formulas"][0]["number_format"]["unit"],
            serde_json::json!({"type": "canonical_unit", "unit_name": "job", "per_unit_name": "second"})
        );
        assert_eq!(
            metrics[1]["definition"]["requests"][0]["queries"][0]["query"],
            "sum:acme_exporter.jobs.rate{*}"
        );
        let overview = &board["widgets"][1]["definition"]["widgets"];
        assert_eq!(overview[0]["definition"]["type"], "check_status");
        assert_eq!(
            overview[0]["definition"]["check"],
            "acme_exporter.can_connect"
        );
        let events = &board["widgets"][3]["definition"]["widgets"][0]["definition"];
        assert_eq!(
            events["requests"][0]["query"]["query_string"],
            "source:acme_exporter"
        );
        // And it passes every dashboard rule.
        let findings = crate::validate(&folder, Some(&EXPORTER));
        assert!(
            findings
                .iter()
                .all(|f| !f.rule.to_string().starts_with("dashboard")),
            "{findings:#?}"
        );
    }

    #[test]
    fn the_partners_edits_are_kept_and_only_a_new_metric_is_added() {
        let mut folder = rendered(&EXPORTER, None).apply(None);
        // The partner retitles the dashboard and removes the rate's widget.
        let mut edited = board(&folder);
        edited["title"] = serde_json::json!("Acme Exporter Overview");
        edited["description"] = serde_json::json!("Ours.");
        edited["widgets"][2]["definition"]["widgets"]
            .as_array_mut()
            .unwrap()
            .remove(1);
        let text = serde_json::to_string_pretty(&edited).unwrap();
        folder.insert(FILE, text.clone());
        let again = rendered(&EXPORTER, Some(&folder));
        assert!(
            again.file(FILE).is_none(),
            "the edited dashboard is not rewritten"
        );
        assert!(
            again.stale(Some(&folder)).is_empty(),
            "{:?}",
            again.stale(Some(&folder))
        );

        // A metric declared later gets its widget, in the Metrics group; nothing else moves,
        // and the removed widget stays removed.
        const MORE: &[MetricSpec] = &[
            EXPORTER.metrics[0],
            EXPORTER.metrics[1],
            MetricSpec {
                name: "acme_exporter.jobs.failed",
                metric_type: MetricType::Count,
                unit: Some("job"),
                per_unit: None,
                description: "Jobs that failed.",
                orientation: Orientation::LowerIsBetter,
                short_name: None,
                interval: None,
                sample_tags: &[],
                curated_metric: &[],
            },
        ];
        let more = IntegrationSpec {
            metrics: MORE,
            ..EXPORTER
        };
        let grown = rendered(&more, Some(&folder));
        let after: serde_json::Value = serde_json::from_str(grown.file(FILE).unwrap()).unwrap();
        let mut expected = edited.clone();
        expected["widgets"][2]["definition"]["widgets"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::to_value(metric_widget(&MORE[2])).unwrap());
        assert_eq!(after, expected);
        assert!(
            queries(&after).contains(&"sum:acme_exporter.jobs.failed{*}.as_count()".to_owned())
        );
        assert!(
            grown
                .notes()
                .iter()
                .any(|n| n.message.contains("`acme_exporter.jobs.failed`"))
        );
        // Once written (with metadata.csv listing it), nothing more is added.
        let folder = grown.apply(Some(&folder));
        assert!(
            folder
                .text(METADATA)
                .unwrap()
                .unwrap()
                .contains("jobs.failed")
        );
        assert!(rendered(&more, Some(&folder)).file(FILE).is_none());
    }

    #[test]
    fn no_starter_dashboard_when_opted_out_query_only_or_the_partner_has_one() {
        let opted_out = IntegrationSpec {
            listing: Listing {
                starter_dashboard: Some(false),
                ..Listing::DEFAULT
            },
            ..EXPORTER
        };
        for (spec, why) in [(&opted_out, "opted out"), (&fixture::ONCALL, "query-only")] {
            let folder = rendered(spec, None).apply(None);
            assert!(
                !folder.paths().any(|p| p.starts_with("assets/dashboards/")),
                "{why}"
            );
            assert!(
                !folder
                    .text(MANIFEST)
                    .unwrap()
                    .unwrap()
                    .contains("\"dashboards\""),
                "{why}"
            );
        }
        // A folder that lists the partner's own dashboard gets no second one.
        let mut folder = rendered(&opted_out, None).apply(None);
        let manifest = folder.text(MANIFEST).unwrap().unwrap().replace(
            "\"oauth\":",
            "\"dashboards\": {\"Acme\": \"assets/dashboards/acme.json\"},\n    \"oauth\":",
        );
        folder.insert(MANIFEST, manifest);
        folder.insert("assets/dashboards/acme.json", "{}");
        let again = rendered(&EXPORTER, Some(&folder));
        assert!(again.file(FILE).is_none());
        assert!(!again.file(MANIFEST).unwrap().contains(FILE));
    }

    #[test]
    fn a_fixed_grid_gets_placed_widgets_and_a_free_form_one_a_note() {
        let fixed = Json::parse(
            r#"{"title": "Acme", "description": "", "template_variables": [],
                "layout_type": "ordered", "reflow_type": "fixed",
                "widgets": [{"definition": {"type": "note", "content": "x"},
                             "layout": {"x": 0, "y": 0, "width": 12, "height": 3}}]}"#,
        )
        .unwrap();
        let mut notes = Vec::new();
        let grown = render(&EXPORTER, Some(&fixed), &[], FILE, &mut notes).unwrap();
        let widgets = grown.at(&["widgets"]).and_then(Json::as_array).unwrap();
        assert_eq!(widgets.len(), 3);
        for (i, widget) in widgets[1..].iter().enumerate() {
            let at = |k: &str| {
                widget
                    .at(&["layout", k])
                    .and_then(Json::as_number)
                    .and_then(serde_json::Number::as_u64)
            };
            assert_eq!(
                (at("x"), at("y"), at("width")),
                (Some(i as u64 * 4), Some(3), Some(4))
            );
        }

        let free = Json::parse(
            r#"{"title": "Acme", "description": "", "template_variables": [],
                "layout_type": "free", "widgets": []}"#,
        )
        .unwrap();
        let mut notes = Vec::new();
        assert!(render(&EXPORTER, Some(&free), &[], FILE, &mut notes).is_none());
        assert!(
            notes[0]
                .message
                .contains("none was added: it is a free-form dashboard"),
            "{notes:#?}"
        );
    }
}
