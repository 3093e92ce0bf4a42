//! `metadata.csv`: one row a declared metric, as ddev's `validate metadata` reads it.

use super::json::Json;
use super::validate::Checker;
use super::vocabulary;
use super::{Finding, METADATA, Rule};
use dd_integration::{DataKind, IntegrationSpec};

use dd_integration_facts::names::{
    self, METADATA_COLUMNS as COLUMNS, METADATA_REQUIRED_COLUMNS as REQUIRED_COLUMNS,
};

/// The values that may not be empty.
const REQUIRED_VALUES: [&str; 4] = ["metric_name", "metric_type", "orientation", "integration"];

const MAX_DESCRIPTION: usize = 400;

/// metadata.csv for the declared metrics; `None` when the integration declares none, does not
/// submit metrics and names no metric prefix.
///
/// Over a published file (`old`), its columns keep their order and a column it leaves out stays
/// out when no metric has a value for it; when its rows say what the declaration says, its text
/// is kept byte for byte (quoting, line ends, a missing final newline: the partner's).
pub(crate) fn render(spec: &IntegrationSpec, old: Option<&str>) -> Option<String> {
    if spec.metrics.is_empty()
        && !spec.submits.contains(&DataKind::Metrics)
        && spec.metric_prefix.is_none()
    {
        return None;
    }
    let integration = vocabulary::normalize_integration(spec.source_type_name());
    let rows: Vec<[String; 11]> = spec
        .metrics
        .iter()
        .map(|metric| {
            [
                metric.name.to_owned(),
                metric.metric_type.as_str().to_owned(),
                metric.interval.map(|i| i.to_string()).unwrap_or_default(),
                metric.unit.unwrap_or("").to_owned(),
                metric.per_unit.unwrap_or("").to_owned(),
                metric.description.to_owned(),
                metric.orientation.as_i8().to_string(),
                integration.clone(),
                metric.short_name.unwrap_or("").to_owned(),
                metric.curated_metric.join("|"),
                metric.sample_tags.join(","),
            ]
        })
        .collect();
    let published = old.and_then(published_table);
    let columns: Vec<usize> = match &published {
        // The published order, and any column a metric now needs at the end.
        Some((header, _)) if header.iter().all(|h| COLUMNS.contains(&h.as_str())) => {
            let mut columns: Vec<usize> = header
                .iter()
                .filter_map(|h| COLUMNS.iter().position(|c| c == h))
                .collect();
            for (i, column) in COLUMNS.iter().enumerate() {
                let needed =
                    REQUIRED_COLUMNS.contains(column) || rows.iter().any(|row| !row[i].is_empty());
                if needed && !columns.contains(&i) {
                    columns.push(i);
                }
            }
            columns
        }
        _ => (0..COLUMNS.len()).collect(),
    };
    let table: Vec<Vec<&str>> = rows
        .iter()
        .map(|row| columns.iter().map(|&i| row[i].as_str()).collect())
        .collect();
    if let (Some(old), Some((header, old_rows))) = (old, &published) {
        let same_header = header.len() == columns.len()
            && header.iter().zip(&columns).all(|(h, &i)| h == COLUMNS[i]);
        let same_rows =
            old_rows.len() == table.len() && old_rows.iter().zip(&table).all(|(a, b)| a == b);
        if same_header && same_rows {
            return Some(old.to_owned());
        }
    }
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let mut write = |row: &[&str]| {
        writer
            .write_record(row)
            .expect("writing CSV to memory cannot fail");
    };
    write(&columns.iter().map(|&i| COLUMNS[i]).collect::<Vec<_>>());
    for row in &table {
        write(row);
    }
    let bytes = writer
        .into_inner()
        .expect("flushing CSV to memory cannot fail");
    Some(String::from_utf8(bytes).expect("the CSV holds the declaration's UTF-8 text"))
}

/// The metric names of a published metadata.csv (none when it does not parse).
pub(crate) fn names(text: &str) -> Vec<String> {
    published_table(text).map_or_else(Vec::new, |(header, rows)| {
        let Some(at) = header.iter().position(|h| h == "metric_name") else {
            return Vec::new();
        };
        rows.into_iter()
            .filter_map(|mut row| (at < row.len()).then(|| row.swap_remove(at)))
            .collect()
    })
}

/// A published metadata.csv as its header and rows, when it is well-formed CSV.
fn published_table(text: &str) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().ok()?.iter().map(str::to_owned).collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        rows.push(record.ok()?.iter().map(str::to_owned).collect());
    }
    Some((header, rows))
}
/// Checks metadata.csv (when there is one); returns its metric names for the cross-file checks.
pub(crate) fn check(c: &mut Checker<'_>, manifest: Option<&Json>) -> Option<Vec<String>> {
    if !c.folder.contains(METADATA) {
        return None;
    }
    let text = c.text(METADATA)?;
    if text.trim().is_empty() {
        c.error(
            Rule::MetadataColumns,
            METADATA,
            format!(
                "is empty; it needs at least the header: {}",
                COLUMNS.join(",")
            ),
        );
        return Some(Vec::new());
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_owned).collect(),
        Err(e) => {
            c.error(Rule::FileSyntax, METADATA, format!("is not valid CSV: {e}"));
            return Some(Vec::new());
        }
    };
    header_columns(c, &header);
    let mut seen = Seen {
        source_type_name: manifest
            .and_then(|m| m.str_at(&["assets", "integration", "source_type_name"])),
        prefix: manifest.and_then(|m| m.str_at(&["assets", "integration", "metrics", "prefix"])),
        names: Vec::new(),
    };
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                c.error(Rule::FileSyntax, METADATA, format!("is not valid CSV: {e}"));
                break;
            }
        };
        let line = record
            .position()
            .map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
        let cells = Cells {
            header: &header,
            record: &record,
        };
        let mut row = Row { c: &mut *c, line };
        if record.len() != header.len() {
            // The name is still worth knowing, for the check list's findings.
            if let Some(name) = cells.cell("metric_name") {
                seen.names.push(name.to_owned());
            }
            row.error(
                Rule::MetadataColumns,
                format!(
                    "has {} values; the header has {} columns",
                    record.len(),
                    header.len()
                ),
            );
            continue;
        }
        for (_, rule) in ROW_RULES {
            rule(&mut row, &cells, &mut seen);
        }
    }
    Some(seen.names)
}

/// A row's rules, one function each, in the order findings are reported; each is named after
/// the [`Rule`] it applies (ddev `validate metadata`, see RULES.md).
type RowRule = fn(&mut Row<'_, '_>, &Cells<'_>, &mut Seen<'_>);

const ROW_RULES: [(Rule, RowRule); 11] = [
    (Rule::MetadataAscii, ascii),
    (Rule::MetadataRequired, required_values),
    (Rule::MetadataMetricName, metric_name),
    (Rule::MetadataMetricType, metric_type),
    (Rule::MetadataInterval, interval),
    (Rule::MetadataUnit, unit),
    (Rule::MetadataOrientation, orientation),
    (Rule::MetadataIntegration, integration),
    (Rule::MetadataDescription, description),
    (Rule::MetadataCuratedMetric, curated_metric),
    (Rule::MetadataSampleTags, sample_tags),
];

/// The header's columns: known ones only, every required one.
fn header_columns(c: &mut Checker<'_>, header: &[String]) {
    for column in header {
        if !COLUMNS.contains(&column.as_str()) {
            c.push(
                Finding::error(
                    Rule::MetadataColumns,
                    METADATA,
                    format!(
                        "has the unknown column `{column}`{}",
                        vocabulary::closest(column, &COLUMNS)
                            .map_or_else(String::new, |s| format!("; did you mean `{s}`?"))
                    ),
                )
                .at_line(1),
            );
        }
    }
    let missing: Vec<&str> = REQUIRED_COLUMNS
        .iter()
        .copied()
        .filter(|r| !header.iter().any(|h| h == r))
        .collect();
    if !missing.is_empty() {
        c.push(
            Finding::error(
                Rule::MetadataColumns,
                METADATA,
                format!("lacks the column(s) {}", missing.join(", ")),
            )
            .at_line(1),
        );
    }
}

/// What the rows share: the manifest's names, and the metric names so far.
struct Seen<'m> {
    source_type_name: Option<&'m str>,
    prefix: Option<&'m str>,
    names: Vec<String>,
}

/// One row's values, by column.
struct Cells<'r> {
    header: &'r [String],
    record: &'r csv::StringRecord,
}

impl Cells<'_> {
    fn has(&self, column: &str) -> bool {
        self.header.iter().any(|h| h == column)
    }

    /// The value of `column`, if the header and the row have it.
    fn cell(&self, column: &str) -> Option<&str> {
        self.header
            .iter()
            .position(|h| h == column)
            .and_then(|i| self.record.get(i))
    }

    /// The value of `column`, empty when the header or the row lacks it.
    fn get(&self, column: &str) -> &str {
        self.cell(column).unwrap_or("")
    }
}

fn ascii(row: &mut Row<'_, '_>, cells: &Cells<'_>, _: &mut Seen<'_>) {
    if let Some(value) = cells.record.iter().find(|v| !v.is_ascii()) {
        row.error(
            Rule::MetadataAscii,
            format!("`{value}` has non-ASCII characters; metadata.csv is ASCII only"),
        );
    }
}

fn required_values(row: &mut Row<'_, '_>, cells: &Cells<'_>, _: &mut Seen<'_>) {
    for column in REQUIRED_VALUES {
        if cells.has(column) && cells.get(column).trim().is_empty() {
            row.error(Rule::MetadataRequired, format!("{column} is empty"));
        }
    }
}

fn metric_name(row: &mut Row<'_, '_>, cells: &Cells<'_>, seen: &mut Seen<'_>) {
    let name = cells.get("metric_name");
    if name.is_empty() {
        return;
    }
    if seen.names.iter().any(|n| n == name) {
        row.error(
            Rule::MetadataMetricName,
            format!("the metric `{name}` is listed twice"),
        );
    }
    seen.names.push(name.to_owned());
    let normalized = vocabulary::normalize_metric_name(name);
    if normalized != name {
        row.error(
            Rule::MetadataMetricName,
            format!(
                "the metric name `{name}` is not normalized; Datadog stores it as `{normalized}`"
            ),
        );
    }
    let prefixed = seen.prefix.is_some_and(|p| name.starts_with(p))
        || vocabulary::SHARED_METRIC_PREFIXES
            .iter()
            .any(|p| name.starts_with(p));
    if let Some(prefix) = seen.prefix
        && !prefixed
    {
        row.error(
            Rule::MetadataMetricName,
            format!("the metric `{name}` does not start with the prefix `{prefix}`"),
        );
    }
}

fn metric_type(row: &mut Row<'_, '_>, cells: &Cells<'_>, _: &mut Seen<'_>) {
    row.one_of(
        Rule::MetadataMetricType,
        "metric_type",
        cells.get("metric_type"),
        &names::METRIC_TYPES,
    );
}

fn interval(row: &mut Row<'_, '_>, cells: &Cells<'_>, _: &mut Seen<'_>) {
    let interval = cells.get("interval");
    if !interval.is_empty() && interval.parse::<u64>().is_err() {
        row.error(
            Rule::MetadataInterval,
            format!("interval `{interval}` is not a whole number of seconds"),
        );
    }
}

fn unit(row: &mut Row<'_, '_>, cells: &Cells<'_>, _: &mut Seen<'_>) {
    let (unit, per_unit) = (cells.get("unit_name"), cells.get("per_unit_name"));
    for (column, value) in [("unit_name", unit), ("per_unit_name", per_unit)] {
        if !value.is_empty() && !vocabulary::is_unit(value) {
            row.error(
                Rule::MetadataUnit,
                format!(
                    "{column} `{value}` is not a Datadog unit name{}",
                    vocabulary::closest_unit(value)
                        .map_or_else(String::new, |s| format!("; did you mean `{s}`?"))
                ),
            );
        }
    }
    if vocabulary::is_time_unit(unit) && vocabulary::is_time_unit(per_unit) {
        row.error(
            Rule::MetadataUnit,
            format!("`{unit}` per `{per_unit}` is a time per time; use the unit `fraction`"),
        );
    }
}

fn orientation(row: &mut Row<'_, '_>, cells: &Cells<'_>, _: &mut Seen<'_>) {
    row.one_of(
        Rule::MetadataOrientation,
        "orientation",
        cells.get("orientation"),
        &names::ORIENTATIONS,
    );
}

fn integration(row: &mut Row<'_, '_>, cells: &Cells<'_>, seen: &mut Seen<'_>) {
    let integration = cells.get("integration");
    if let Some(source_type_name) = seen.source_type_name {
        let expected = vocabulary::normalize_integration(source_type_name);
        if !integration.is_empty() && integration != expected {
            row.error(
                Rule::MetadataIntegration,
                format!(
                    "integration `{integration}` must be `{expected}` (source_type_name \
                     \"{source_type_name}\", normalized)"
                ),
            );
        }
    }
}

fn description(row: &mut Row<'_, '_>, cells: &Cells<'_>, _: &mut Seen<'_>) {
    let description = cells.get("description");
    if cells.has("description") && description.trim().is_empty() {
        let name = cells.get("metric_name");
        row.c.push(
            Finding::warning(
                Rule::MetadataDescription,
                METADATA,
                format!("the metric `{name}` has no description"),
            )
            .at_line(row.line),
        );
    }
    if description.contains('|') {
        row.error(
            Rule::MetadataDescription,
            "description contains `|`".to_owned(),
        );
    }
    let len = description.chars().count();
    if len > MAX_DESCRIPTION {
        row.error(
            Rule::MetadataDescription,
            format!("description is {len} characters; the limit is {MAX_DESCRIPTION}"),
        );
    }
}

fn curated_metric(row: &mut Row<'_, '_>, cells: &Cells<'_>, _: &mut Seen<'_>) {
    let curated = cells.get("curated_metric");
    if curated.is_empty() {
        return;
    }
    let values: Vec<&str> = curated.split('|').collect();
    let valid = values
        .iter()
        .all(|v| names::CURATED_METRIC_TYPES.contains(v));
    let unique = values
        .iter()
        .enumerate()
        .all(|(i, v)| !values[..i].contains(v));
    if !valid || !unique {
        row.error(
            Rule::MetadataCuratedMetric,
            format!("curated_metric `{curated}` must be cpu, memory or cpu|memory"),
        );
    }
}

fn sample_tags(row: &mut Row<'_, '_>, cells: &Cells<'_>, _: &mut Seen<'_>) {
    let sample_tags = cells.get("sample_tags");
    if !sample_tags.is_empty()
        && sample_tags
            .split(',')
            .any(|t| t.trim().is_empty() || t.trim().contains(char::is_whitespace))
    {
        row.error(
            Rule::MetadataSampleTags,
            format!("sample_tags `{sample_tags}` must be tag keys separated by commas"),
        );
    }
}

/// Findings about one row.
struct Row<'c, 'f> {
    c: &'c mut Checker<'f>,
    line: usize,
}

impl Row<'_, '_> {
    fn error(&mut self, rule: Rule, message: String) {
        self.c
            .push(Finding::error(rule, METADATA, message).at_line(self.line));
    }

    /// `value` of `column` is empty or one of `allowed`, else an error listing them (`a, b or c`).
    fn one_of(&mut self, rule: Rule, column: &str, value: &str, allowed: &[&str]) {
        if value.is_empty() || allowed.contains(&value) {
            return;
        }
        let listed = match allowed {
            [] => String::new(),
            [only] => (*only).to_owned(),
            [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
        };
        self.error(rule, format!("{column} `{value}` is not {listed}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_rule_is_a_rule_of_ddev_validate_metadata() {
        for (rule, _) in ROW_RULES {
            assert!(rule.id().starts_with("metadata-"), "{rule}");
            assert!(
                matches!(rule.source(), crate::Source::Ddev(d) if d.contains("validate metadata")),
                "{rule}"
            );
        }
    }
}
