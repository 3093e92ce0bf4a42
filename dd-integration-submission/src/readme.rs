//! `README.md`: the tile's Overview, Setup, Uninstallation, Data Collected, Troubleshooting and
//! Support, written from the declaration into regions the partner's prose surrounds.
//!
//! A region is the lines between `<!-- dd-integration:begin NAME -->` and
//! `<!-- dd-integration:end NAME -->`; everything else belongs to the partner and is kept as
//! written. Links are reference-style (`[text][3]`) and numbered in order of first use over the
//! whole file, the partner's links included: regeneration renumbers them and writes every
//! definition at the end, in the `links` region (a definition nothing refers to is dropped,
//! with a note).

use std::collections::HashMap;

use super::json::Json;
use super::validate::Checker;
use super::vocabulary;
use super::{METADATA, Note, README, Rule, SERVICE_CHECKS, SubmissionError};
use dd_integration::{DataKind, IntegrationSpec};

const BEGIN: &str = "<!-- dd-integration:begin ";
const END: &str = "<!-- dd-integration:end ";
const CLOSE: &str = " -->";

/// Where a region goes when an existing README lacks it.
#[derive(Clone, Copy)]
enum Home {
    Start,
    After(&'static str),
    End,
}

/// The regions, in the order of a new README.
const REGIONS: [(&str, Home); 9] = [
    ("title", Home::Start),
    ("overview", Home::After("## Overview")),
    ("installation", Home::After("### Installation")),
    ("configuration", Home::After("### Configuration")),
    ("uninstallation", Home::After("## Uninstallation")),
    ("data-collected", Home::After("## Data Collected")),
    ("troubleshooting", Home::After("## Troubleshooting")),
    ("support", Home::After("## Support")),
    ("links", Home::End),
];

/// What a new README says about the regions, for the partner who opens it.
const GUIDE: &str = "<!-- The text between dd-integration:begin and dd-integration:end comments is \
                     written from the integration's declaration and replaced on every run of the \
                     generator: write your own text outside those regions. -->";

/// The H2 sections in Datadog's order.
const ORDER: [&str; 7] = [
    "Overview",
    "Setup",
    "Uninstallation",
    "Data Collected",
    "Troubleshooting",
    "Support",
    "Further Reading",
];

/// Marks a link in text being assembled: `\u{1}index\u{2}` into [`Links`]; numbered at the end.
const REF_OPEN: char = '\u{1}';
const REF_CLOSE: char = '\u{2}';

/// The link targets of the README being assembled.
#[derive(Default)]
struct Links {
    targets: Vec<String>,
    index: HashMap<String, usize>,
    /// The numbers the partner's README gave its links (`[3]: https://...`), by index into
    /// `targets`: kept, so that adding a section renumbers none of the partner's links.
    numbered: HashMap<usize, usize>,
    /// The number each target had in the README (the smallest, when several): the
    /// declaration's own links keep theirs when it is free.
    preferred: HashMap<String, usize>,
}

impl Links {
    /// The placeholder label for `target`.
    fn label(&mut self, target: &str) -> String {
        let next = self.targets.len();
        let i = *self.index.entry(target.to_owned()).or_insert(next);
        if i == next {
            self.targets.push(target.to_owned());
        }
        format!("{REF_OPEN}{i}{REF_CLOSE}")
    }

    /// The placeholder for the partner's link numbered `number`, which keeps its number (two
    /// numbers for one target stay two).
    fn numbered_label(&mut self, target: &str, number: usize) -> String {
        let i = match self.numbered.iter().find(|(_, n)| **n == number) {
            Some((&i, _)) => i,
            None => {
                let i = self.targets.len();
                self.targets.push(target.to_owned());
                self.index.entry(target.to_owned()).or_insert(i);
                self.numbered.insert(i, number);
                i
            }
        };
        format!("{REF_OPEN}{i}{REF_CLOSE}")
    }

    /// `[text][label]`.
    fn link(&mut self, text: &str, target: &str) -> String {
        format!("[{text}][{}]", self.label(target))
    }
}

/// One piece of a README: the partner's text or a region.
enum Part {
    Text(String),
    Region(&'static str),
}

/// Renders README.md for `spec`, keeping the partner's text of `existing`.
pub(crate) fn render(
    spec: &IntegrationSpec,
    existing: Option<&str>,
    notes: &mut Vec<Note>,
) -> Result<String, SubmissionError> {
    let mut links = Links::default();
    let mut kept_definitions = Vec::new();
    let parts = match existing {
        None => skeleton(),
        Some(text) => {
            let (parts, added) =
                existing_parts(spec, text, &mut links, &mut kept_definitions, notes)?;
            // A partner's own README (no regions yet) that lacks nothing the declaration must
            // write is theirs, byte for byte: adopting the SDK changes no line of it.
            if !added && !text.contains(BEGIN) {
                notes.push(Note {
                    file: README,
                    message: format!(
                        "kept as you wrote it: it has every section the declaration writes \
                         into; to have a section written from the declaration, empty it and \
                         put the lines `{BEGIN}<region>{CLOSE}` and `{END}<region>{CLOSE}` in \
                         it (regions: {})",
                        REGIONS
                            .iter()
                            .map(|(name, _)| *name)
                            .filter(|name| *name != "links")
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    rule: None,
                });
                return Ok(text.to_owned());
            }
            parts
        }
    };
    let mut out = String::new();
    for part in &parts {
        match part {
            Part::Text(text) => out.push_str(text),
            Part::Region("links") => out.push_str(&block("links", "\u{3}")),
            Part::Region(name) => out.push_str(&block(name, &region(name, spec, &mut links))),
        }
    }
    for target in kept_definitions {
        if !links.index.contains_key(&target) {
            notes.push(Note {
                file: README,
                message: format!("dropped the link definition `{target}`, which nothing refers to"),
                rule: None,
            });
        }
    }
    let out = normalize_blank_lines(&out);
    Ok(number_links(&out, &links))
}

fn block(name: &str, content: &str) -> String {
    format!("{BEGIN}{name}{CLOSE}\n{content}{END}{name}{CLOSE}\n")
}

/// A new README: the headings, the regions, and no partner text yet.
fn skeleton() -> Vec<Part> {
    let text = |s: &str| Part::Text(s.to_owned());
    vec![
        Part::Region("title"),
        text(&format!("\n{GUIDE}\n\n## Overview\n\n")),
        Part::Region("overview"),
        text("\n## Setup\n\n### Installation\n\n"),
        Part::Region("installation"),
        text("\n### Configuration\n\n"),
        Part::Region("configuration"),
        text("\n## Uninstallation\n\n"),
        Part::Region("uninstallation"),
        text("\n## Data Collected\n\n"),
        Part::Region("data-collected"),
        text("\n## Troubleshooting\n\n"),
        Part::Region("troubleshooting"),
        text("\n## Support\n\n"),
        Part::Region("support"),
        text("\n"),
        Part::Region("links"),
    ]
}

/// The parts of an existing README: its partner text with links turned into placeholders and
/// definitions taken out (kept in `kept_definitions`), its regions, and the regions it lacks
/// inserted where they belong; and whether any was inserted into a section, new or empty (a
/// title or the link definitions do not count).
fn existing_parts(
    spec: &IntegrationSpec,
    text: &str,
    links: &mut Links,
    kept_definitions: &mut Vec<String>,
    notes: &mut Vec<Note>,
) -> Result<(Vec<Part>, bool), SubmissionError> {
    let mut added = false;
    let segments = segments(text)
        .map_err(|(line, problem)| SubmissionError::ReadmeRegions { line, problem })?;
    let definitions = definitions(text);
    for (label, target) in &definitions {
        if let Ok(number) = label.parse::<usize>() {
            let kept = links.preferred.entry(target.clone()).or_insert(number);
            *kept = (*kept).min(number);
        }
    }
    let mut parts = Vec::new();
    for segment in segments {
        match segment {
            Segment::Text { text, .. } => {
                parts.push(Part::Text(partner_text(
                    &text,
                    &definitions,
                    links,
                    kept_definitions,
                )));
            }
            Segment::Region { name, line, .. } => {
                match REGIONS.iter().find(|(known, _)| *known == name) {
                    Some((known, _)) => parts.push(Part::Region(known)),
                    None => notes.push(Note {
                        file: README,
                        message: format!(
                            "line {line}: dropped the region `{name}`, which this version of \
                             dd-integration does not write"
                        ),
                        rule: None,
                    }),
                }
            }
        }
    }
    let had_setup = has_line(&parts, "## Setup");
    for (name, home) in REGIONS {
        if parts
            .iter()
            .any(|p| matches!(p, Part::Region(n) if *n == name))
        {
            continue;
        }
        match home {
            // The partner's README keeps its own title, or its lack of one (merged READMEs open
            // with `## Overview`; no check asks for a H1).
            Home::Start => continue,
            Home::End => {
                parts.push(Part::Text("\n".to_owned()));
                parts.push(Part::Region(name));
            }
            Home::After(heading) => {
                // The partner's own section, also as a H3 (older READMEs put Uninstallation
                // under Setup): the region goes there, and nothing is duplicated.
                let h3 = heading.strip_prefix("## ").map(|h| format!("### {h}"));
                let mut placed = insert_after_heading(&mut parts, name, heading);
                if placed == Placed::NotFound
                    && let Some(h3) = h3
                {
                    placed = insert_after_heading(&mut parts, name, &h3);
                }
                match placed {
                    Placed::Inserted => {
                        added = true;
                        continue;
                    }
                    Placed::HasProse => {
                        notes.push(Note {
                            file: README,
                            message: format!(
                                "kept your text under `{heading}` as it is; the declaration's \
                                 `{name}` region is written only into an empty section"
                            ),
                            rule: None,
                        });
                        continue;
                    }
                    Placed::NotFound => {}
                }
                match name {
                    // Optional sections the partner did not write stay unwritten (a tile's
                    // `support` may point elsewhere: merged folders go without the section).
                    "troubleshooting" | "support" => continue,
                    // Nothing collected, no section: a query-only integration has none.
                    "data-collected" if !collects_data(spec) => continue,
                    // A convention of Datadog's template that no check enforces (merged
                    // READMEs go without it): the partner's README is not given one unasked.
                    "data-collected" => {
                        notes.push(Note {
                            file: README,
                            message: format!(
                                "has no `{heading}`, where Datadog's template lists the data an \
                                 integration sends; to have it written from the declaration, add \
                                 the heading with the line `{BEGIN}{name}{CLOSE}` and the line \
                                 `{END}{name}{CLOSE}` under it"
                            ),
                            rule: None,
                        });
                        continue;
                    }
                    // A partner's own Setup, without these H3s, is kept as it is.
                    "installation" | "configuration" if had_setup => {
                        continue;
                    }
                    _ => {}
                }
                insert_section(&mut parts, name, heading);
                added = true;
                notes.push(Note {
                    file: README,
                    message: format!(
                        "added the section `{heading}`, which the README lacked, with what the \
                         declaration writes there; move it if it belongs elsewhere"
                    ),
                    rule: None,
                });
            }
        }
    }
    Ok((parts, added))
}

/// Whether some partner text has `line` (a heading) as a line of its own, outside code.
fn has_line(parts: &[Part], line: &str) -> bool {
    find_line(parts, |l| l == line).is_some()
}

/// Whether the integration sends anything a README's Data Collected lists.
fn collects_data(spec: &IntegrationSpec) -> bool {
    !spec.submits.is_empty() || !spec.metrics.is_empty() || !spec.service_checks.is_empty()
}

/// Adds `heading` with region `name` before the first H2 that follows it in Datadog's order,
/// or at the end, before the link definitions.
fn insert_section(parts: &mut Vec<Part>, name: &'static str, heading: &str) {
    let mut title = heading.trim_start_matches('#').trim();
    let mut heading = heading.to_owned();
    // Installation and Configuration are H3s of Setup: a README without Setup gets it too.
    if heading.starts_with("### ") {
        if !has_line(parts, "## Setup") {
            heading = format!("## Setup\n\n{heading}");
        }
        title = "Setup";
    }
    let later: Vec<String> = ORDER
        .iter()
        .skip_while(|h| **h != title)
        .skip(1)
        .map(|h| format!("## {h}"))
        .collect();
    let section = [Part::Text(format!("\n{heading}\n\n")), Part::Region(name)];
    match find_line(parts, |line| later.iter().any(|h| line == h)) {
        Some((i, start, _)) => {
            let Part::Text(text) = &parts[i] else {
                unreachable!("find_line names a text part");
            };
            let (before, after) = text.split_at(start);
            let (before, after) = (before.to_owned(), format!("\n{after}"));
            let [heading_part, region] = section;
            parts.splice(
                i..=i,
                [Part::Text(before), heading_part, region, Part::Text(after)],
            );
        }
        None => {
            let end = parts
                .iter()
                .position(|p| matches!(p, Part::Region("links")))
                .unwrap_or(parts.len());
            parts.splice(end..end, section);
        }
    }
}

/// Where a missing region went.
#[derive(Debug, PartialEq, Eq)]
enum Placed {
    /// After its heading, in an empty section.
    Inserted,
    /// Nowhere: the section holds the partner's own text, which is kept as it is.
    HasProse,
    /// Nowhere: there is no such heading.
    NotFound,
}

/// Splits the partner text holding `heading` after that line and puts region `name` there,
/// unless the section under it holds the partner's own text.
fn insert_after_heading(parts: &mut Vec<Part>, name: &'static str, heading: &str) -> Placed {
    let Some((i, _, end)) = find_line(parts, |line| line == heading) else {
        return Placed::NotFound;
    };
    let Part::Text(text) = &parts[i] else {
        unreachable!("find_line names a text part");
    };
    let (before, after) = text.split_at(end);
    // The section's own text, up to the next heading of its level or above (its subsections
    // are its text too): the partner's, if any.
    let level = heading.chars().take_while(|c| *c == '#').count();
    let ends = |l: &str| {
        let hashes = l.chars().take_while(|c| *c == '#').count();
        hashes > 0 && hashes <= level && l[hashes..].starts_with(' ')
    };
    let prose = after.lines().take_while(|l| !ends(l)).any(|l| {
        let l = l.trim();
        let comment = l.starts_with("<!--") && l.ends_with("-->");
        !l.is_empty() && !comment
    });
    if prose {
        return Placed::HasProse;
    }
    let (before, after) = (format!("{before}\n"), format!("\n{after}"));
    parts.splice(
        i..=i,
        [Part::Text(before), Part::Region(name), Part::Text(after)],
    );
    Placed::Inserted
}

/// The first line of partner text, outside code fences, that `matches` (its trailing
/// whitespace trimmed): the index of its part, and where the line starts and ends in it.
fn find_line(parts: &[Part], matches: impl Fn(&str) -> bool) -> Option<(usize, usize, usize)> {
    for (i, part) in parts.iter().enumerate() {
        let Part::Text(text) = part else {
            continue;
        };
        let mut offset = 0;
        let mut in_fence = false;
        for line in text.split_inclusive('\n') {
            in_fence ^= is_fence(line);
            if !in_fence && matches(line.trim_end()) {
                return Some((i, offset, offset + line.len()));
            }
            offset += line.len();
        }
    }
    None
}

/// One piece of an existing README.
#[derive(Debug, PartialEq)]
enum Segment<'a> {
    Text {
        text: String,
    },
    Region {
        name: &'a str,
        /// The line of the begin marker.
        line: usize,
        /// The region's lines, without the markers.
        text: String,
    },
}

/// What a line is, as a region marker.
fn marker(line: &str) -> Option<(bool, &str)> {
    let line = line.trim();
    let (begin, rest) = if let Some(rest) = line.strip_prefix(BEGIN) {
        (true, rest)
    } else {
        (false, line.strip_prefix(END)?)
    };
    let name = rest.strip_suffix(CLOSE)?.trim();
    Some((begin, name))
}

/// The README as partner text and regions; `Err((line, problem))` when the markers do not pair.
fn segments(text: &str) -> Result<Vec<Segment<'_>>, (usize, String)> {
    let mut segments = Vec::new();
    let mut current = String::new();
    let mut open: Option<(&str, usize)> = None;
    let mut seen: Vec<&str> = Vec::new();
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let number = index + 1;
        match (marker(line), open) {
            (Some((true, name)), None) => {
                if seen.contains(&name) {
                    return Err((number, format!("the region `{name}` appears twice")));
                }
                seen.push(name);
                segments.push(Segment::Text {
                    text: std::mem::take(&mut current),
                });
                open = Some((name, number));
            }
            (Some((true, name)), Some((outer, _))) => {
                return Err((
                    number,
                    format!("the region `{name}` begins inside the region `{outer}`"),
                ));
            }
            (Some((false, name)), Some((outer, begin))) if name == outer => {
                segments.push(Segment::Region {
                    name,
                    line: begin,
                    text: std::mem::take(&mut current),
                });
                open = None;
            }
            (Some((false, name)), Some((outer, _))) => {
                return Err((
                    number,
                    format!("the region `{outer}` is closed by the end marker of `{name}`"),
                ));
            }
            (Some((false, name)), None) => {
                return Err((
                    number,
                    format!("the region `{name}` ends here but never began"),
                ));
            }
            (None, _) => current.push_str(line),
        }
    }
    if let Some((name, begin)) = open {
        return Err((
            begin,
            format!("the region `{name}` begins here but never ends"),
        ));
    }
    segments.push(Segment::Text { text: current });
    Ok(segments)
}

/// Whether a line opens or closes a fenced code block.
fn is_fence(line: &str) -> bool {
    let trimmed = line.trim_start();
    line.len() - trimmed.len() <= 3 && (trimmed.starts_with("```") || trimmed.starts_with("~~~"))
}

/// A link reference definition, `[label]: target`: the label (lowercase) and the target.
fn definition(line: &str) -> Option<(String, &str)> {
    let trimmed = line.trim_start();
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let rest = trimmed.strip_prefix('[')?;
    let (label, rest) = rest.split_once("]:")?;
    let target = rest.trim();
    if label.is_empty() || label.contains('[') || label.contains(']') || target.is_empty() {
        return None;
    }
    Some((label.trim().to_lowercase(), target))
}

/// The lines outside fenced code blocks, numbered from 1.
fn prose_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut in_fence = false;
    text.lines().enumerate().filter_map(move |(i, line)| {
        if is_fence(line) {
            in_fence = !in_fence;
            return None;
        }
        (!in_fence).then_some((i + 1, line))
    })
}

/// Every link definition of the file, first one of a label winning.
fn definitions(text: &str) -> HashMap<String, String> {
    let mut map = HashMap::new();
    for (_, line) in prose_lines(text) {
        if let Some((label, target)) = definition(line) {
            map.entry(label).or_insert_with(|| target.to_owned());
        }
    }
    map
}

/// The references `[text][label]` of a line outside code spans: (byte range of the label,
/// label).
fn references(line: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut found = Vec::new();
    let bytes = line.as_bytes();
    let mut in_code = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'`' => in_code = !in_code,
            b']' if !in_code && bytes.get(i + 1) == Some(&b'[') => {
                let start = i + 2;
                if let Some(len) = line[start..].find(']') {
                    let label = &line[start..start + len];
                    if !label.is_empty() && !label.contains('[') {
                        found.push((start..start + len, label));
                        i = start + len;
                        continue;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// The partner's text with its references turned into placeholders and its definitions taken
/// out (their targets kept, in order, so that unused ones survive).
fn partner_text(
    text: &str,
    definitions: &HashMap<String, String>,
    links: &mut Links,
    kept: &mut Vec<String>,
) -> String {
    let mut out = String::new();
    let mut in_fence = false;
    for line in text.split_inclusive('\n') {
        if is_fence(line) {
            in_fence = !in_fence;
            out.push_str(line);
            continue;
        }
        if in_fence {
            out.push_str(line);
            continue;
        }
        if let Some((_, target)) = definition(line) {
            kept.push(target.to_owned());
            continue;
        }
        let mut rewritten = String::new();
        let mut last = 0;
        for (range, label) in references(line) {
            let label = label.trim().to_lowercase();
            if let Some(target) = definitions.get(&label) {
                rewritten.push_str(&line[last..range.start]);
                rewritten.push_str(&match label.parse::<usize>() {
                    Ok(number) => links.numbered_label(target, number),
                    Err(_) => links.label(target),
                });
                last = range.end;
            }
        }
        rewritten.push_str(&line[last..]);
        out.push_str(&rewritten);
    }
    out
}

/// At most one blank line in a row outside fenced code, none at the start, one newline at the
/// end.
fn normalize_blank_lines(text: &str) -> String {
    let mut out = String::new();
    let mut in_fence = false;
    let mut blank_run = true;
    for line in text.lines() {
        if is_fence(line) {
            in_fence = !in_fence;
        }
        let blank = line.trim().is_empty();
        if blank && !in_fence && blank_run {
            continue;
        }
        blank_run = blank && !in_fence;
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// Numbers the placeholders: a target the partner numbered keeps its number, the others take
/// the free numbers in order of first appearance; writes the definitions, by number, into the
/// links region (marked `\u{3}`).
fn number_links(text: &str, links: &Links) -> String {
    let mut numbers: HashMap<usize, usize> = HashMap::new();
    let mut order: Vec<(usize, usize)> = Vec::new();
    let mut taken: std::collections::HashSet<usize> = links.numbered.values().copied().collect();
    let mut preferred: HashMap<usize, usize> = HashMap::new();
    for (index, target) in links.targets.iter().enumerate() {
        if let Some(&number) = links.preferred.get(target)
            && !links.numbered.contains_key(&index)
            && links.index.get(target) == Some(&index)
            && taken.insert(number)
        {
            preferred.insert(index, number);
        }
    }
    let mut free = 1;
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find(REF_OPEN) {
        out.push_str(&rest[..open]);
        let after = &rest[open + REF_OPEN.len_utf8()..];
        let Some(close) = after.find(REF_CLOSE) else {
            break;
        };
        let index: usize = after[..close].parse().unwrap_or(0);
        let number = *numbers.entry(index).or_insert_with(|| {
            let number = match links.numbered.get(&index).or(preferred.get(&index)) {
                Some(&kept) => kept,
                None => {
                    while taken.contains(&free) {
                        free += 1;
                    }
                    taken.insert(free);
                    free
                }
            };
            order.push((number, index));
            number
        });
        out.push_str(&number.to_string());
        rest = &after[close + REF_CLOSE.len_utf8()..];
    }
    out.push_str(rest);
    order.sort_unstable();
    let definitions: String = order
        .iter()
        .map(|(number, index)| format!("[{number}]: {}\n", links.targets[*index]))
        .collect();
    out.replace('\u{3}', &definitions)
}

/// The regions whose text differs between two READMEs (for the stale-folder finding).
pub(crate) fn differing_regions(old: &str, new: &str) -> Vec<String> {
    let regions = |text| -> Vec<(String, String)> {
        segments(text)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|s| match s {
                Segment::Region { name, text, .. } => Some((name.to_owned(), text)),
                Segment::Text { .. } => None,
            })
            .collect()
    };
    let old = regions(old);
    regions(new)
        .into_iter()
        .filter(|(name, text)| {
            name != "links"
                && old
                    .iter()
                    .find(|(n, _)| n == name)
                    .is_none_or(|(_, t)| t != text)
        })
        .map(|(name, _)| name)
        .collect()
}

/// The contents of region `name`.
fn region(name: &str, spec: &IntegrationSpec, links: &mut Links) -> String {
    let n = spec.name;
    let tile = format!("/integrations/{}", spec.app_id);
    match name {
        "title" => format!("# {n}\n"),
        "overview" => {
            let mut text = if spec.description.trim().is_empty() {
                format!("{n} connects {} with Datadog.\n", spec.author.name)
            } else {
                format!("{}\n", spec.description.trim())
            };
            let kinds: Vec<&str> = [
                (DataKind::Metrics, "metrics"),
                (DataKind::Events, "events"),
                (DataKind::ServiceChecks, "service checks"),
                (DataKind::Logs, "logs"),
            ]
            .iter()
            .filter(|(k, _)| spec.submits.contains(k))
            .map(|(_, word)| *word)
            .collect();
            if !kinds.is_empty() {
                text.push_str(&format!("\n{n} sends {} to Datadog.\n", and_list(&kinds)));
            }
            text
        }
        "installation" => {
            let scopes: Vec<String> = spec.scopes.iter().map(|s| format!("`{s}`")).collect();
            let scopes: Vec<&str> = scopes.iter().map(String::as_str).collect();
            format!(
                "1. In Datadog, open the {} and click **Install Integration**.\n\
                 2. Click **Connect Accounts**. You are taken to {n} to sign in, then back to \
                 Datadog to authorize the connection.\n\
                 3. Review the permissions {n} requests ({}) and click **Authorize**.\n",
                links.link(&format!("{n} integration tile"), &tile),
                and_list(&scopes)
            )
        }
        "configuration" => {
            let mut text = if spec.creates_api_key() {
                format!(
                    "Once authorized, {n} creates an API key in your Datadog organization and \
                     sends its data with it: you do not create or paste a key.\n"
                )
            } else {
                format!(
                    "{n} calls Datadog's API with the permissions you authorized; it creates no \
                     API key.\n"
                )
            };
            text.push_str(&format!(
                "\n{n} works on every Datadog site: it uses the site you connect from.\n"
            ));
            text
        }
        "uninstallation" => format!(
            "To remove the integration, open the {} in Datadog and click **Uninstall \
             Integration**. Once this integration has been uninstalled, any previous \
             authorizations are revoked.\n\n\
             Additionally, ensure that all API keys associated with this integration have been \
             disabled by searching for the integration name on the {}.\n",
            links.link(&format!("{n} integration tile"), &tile),
            links.link(
                "API Keys page",
                &format!(
                    "/organization-settings/api-keys?filter={}",
                    vocabulary::query_value(n)
                )
            ),
        ),
        "data-collected" => data_collected(spec, links),
        "troubleshooting" => format!(
            "Need help? Contact {}.\n",
            links.link(
                &format!("{} support", spec.author.name),
                &format!("mailto:{}", spec.author.support_email)
            )
        ),
        "support" => {
            let homepage = spec.author.homepage;
            let shown = homepage
                .split_once("://")
                .map_or(homepage, |(_, rest)| rest)
                .trim_end_matches('/');
            let support = links.link(
                spec.author.support_email,
                &format!("mailto:{}", spec.author.support_email),
            );
            // A sales address is optional (merged folders go without): no line, no empty link.
            let sales = if spec.author.sales_email.trim().is_empty() {
                String::new()
            } else {
                format!(
                    "- Sales: {}\n",
                    links.link(
                        spec.author.sales_email,
                        &format!("mailto:{}", spec.author.sales_email)
                    )
                )
            };
            let website = links.link(shown, homepage);
            format!(
                "For support or questions, contact {}:\n\n\
                 - Support: {support}\n\
                 {sales}\
                 - Website: {website}\n",
                spec.author.name,
            )
        }
        _ => String::new(),
    }
}

fn data_collected(spec: &IntegrationSpec, links: &mut Links) -> String {
    let n = spec.name;
    let dir = vocabulary::folder_name(spec.app_id);
    let github = format!(
        "https://github.com/DataDog/{}/blob/master/{dir}",
        vocabulary::repository(spec)
    );
    let mut text = String::from("### Metrics\n\n");
    if !spec.metrics.is_empty() || spec.submits.contains(&DataKind::Metrics) {
        text.push_str(&format!(
            "See {} for a list of metrics provided by this integration.\n",
            links.link("metadata.csv", &format!("{github}/{METADATA}"))
        ));
    } else {
        text.push_str(&format!("{n} does not include any metrics.\n"));
    }
    text.push_str("\n### Events\n\n");
    if spec.submits.contains(&DataKind::Events) {
        text.push_str(&format!(
            "{n} sends events to Datadog; find them in the {}.\n",
            links.link("Event Explorer", "/event/explorer")
        ));
    } else {
        text.push_str(&format!("{n} does not include any events.\n"));
    }
    text.push_str("\n### Service Checks\n\n");
    if spec.service_checks.is_empty() {
        text.push_str(&format!("{n} does not include any service checks.\n"));
    } else {
        text.push_str(&format!(
            "See {} for a list of service checks provided by this integration:\n\n",
            links.link("service_checks.json", &format!("{github}/{SERVICE_CHECKS}"))
        ));
        for check in spec.service_checks {
            text.push_str(&format!(
                "- `{}` ({}): {}\n",
                check.name, check.title, check.description
            ));
        }
    }
    // A logs heading only when the integration sends logs and is listed under log collection:
    // ddev's `has_logs` reads any `# logs` heading as "collects logs" and then wants
    // `Category::Log Collection` (declared tags may leave it out; merged integrations do).
    let listed = spec
        .listing
        .classifier_tags
        .is_none_or(|tags| tags.contains(&vocabulary::LOG_COLLECTION));
    if spec.submits.contains(&DataKind::Logs) && listed {
        text.push_str("\n### Logs\n\n");
        text.push_str(&format!(
            "{n} sends logs to Datadog with the source `{}`; find them in the {}.\n",
            spec.logs_source(),
            links.link("Log Explorer", "/logs")
        ));
    }
    text
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// A README heading outside code: level, text, line.
struct Heading<'a> {
    level: usize,
    text: &'a str,
    line: usize,
}

fn headings(text: &str) -> Vec<Heading<'_>> {
    prose_lines(text)
        .filter_map(|(line, s)| {
            let level = s.chars().take_while(|c| *c == '#').count();
            let rest = &s[level..];
            ((1..=6).contains(&level) && rest.starts_with(' ')).then(|| Heading {
                level,
                text: rest.trim().trim_end_matches('#').trim(),
                line,
            })
        })
        .collect()
}

/// The anchor GitHub and Datadog's docs give a heading.
fn slug(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The lines of the H2 section starting at heading `index` (up to the next H2).
fn section<'a>(text: &'a str, all: &[Heading<'_>], index: usize) -> Vec<&'a str> {
    let start = all[index].line;
    let end = all[index + 1..]
        .iter()
        .find(|h| h.level <= 2)
        .map_or(usize::MAX, |h| h.line);
    text.lines()
        .enumerate()
        .filter(|(i, _)| *i + 1 > start && *i + 1 < end)
        .map(|(_, l)| l)
        .collect()
}

/// Whether lines hold something besides blank lines and HTML comments.
fn has_content(lines: &[&str]) -> bool {
    let mut in_comment = false;
    for line in lines {
        let mut rest = line.trim();
        loop {
            if in_comment {
                match rest.find("-->") {
                    Some(end) => {
                        in_comment = false;
                        rest = rest[end + 3..].trim();
                    }
                    None => break,
                }
            } else if let Some(after) = rest.strip_prefix("<!--") {
                in_comment = true;
                rest = after;
            } else if rest.is_empty() {
                break;
            } else {
                return true;
            }
        }
    }
    false
}

/// Checks README.md, with the manifest (its tile links and assets) when it parsed.
pub(crate) fn check(c: &mut Checker<'_>, manifest: Option<&Json>) {
    if !c.folder.contains(README) {
        c.error(
            Rule::FileMissing,
            README,
            "is missing; the tile's Overview, Setup and Support tabs are its sections",
        );
        return;
    }
    let Some(text) = c.text(README) else {
        return;
    };
    let creates_keys = c
        .folder
        .text(super::OAUTH_CLIENTS)
        .and_then(Result::ok)
        .and_then(|t| Json::parse(t).ok())
        .and_then(|j| {
            j.at(&["integration", "scopes"])
                .and_then(Json::as_array)
                .map(|scopes| scopes.iter().any(|s| s.as_str() == Some("api_keys_write")))
        })
        .unwrap_or(true);
    let readme = Readme {
        text,
        headings: headings(text),
        definitions: definitions(text),
        manifest,
        marketplace: manifest.is_some_and(|m| m.at(&["pricing"]).is_some()),
        oauth: manifest.is_some_and(|m| m.at(&["assets", "oauth"]).is_some()),
        creates_keys,
    };
    for (_, rule) in RULES {
        rule(c, &readme);
    }
}

/// The README's rules, one function each, in the order findings are reported; each is named
/// after the [`Rule`] it applies (see RULES.md for their sources).
type ReadmeRule = fn(&mut Checker<'_>, &Readme<'_>);

const RULES: [(Rule, ReadmeRule); 9] = [
    (Rule::ReadmeAscii, ascii),
    (Rule::ReadmeRegions, regions),
    (Rule::ReadmeSections, sections),
    (Rule::ReadmeOrder, order),
    (Rule::ReadmeUninstallation, uninstallation),
    (Rule::ReadmeLinks, |c, r| {
        check_links(c, r.text, &r.definitions)
    }),
    (Rule::ReadmeImages, |c, r| {
        check_images(c, r.text, &r.definitions, r.marketplace);
    }),
    (Rule::ReadmeShortcodes, |c, r| check_shortcodes(c, r.text)),
    (Rule::ReadmeDataCollected, data_collected_sections),
];

/// The README as the rules read it.
struct Readme<'t> {
    text: &'t str,
    headings: Vec<Heading<'t>>,
    definitions: HashMap<String, String>,
    manifest: Option<&'t Json>,
    /// A Marketplace listing (the manifest has `pricing`).
    marketplace: bool,
    /// The integration publishes an OAuth client.
    oauth: bool,
    /// Its OAuth client requests `api_keys_write` (or the folder does not say).
    creates_keys: bool,
}

impl Readme<'_> {
    /// The index of the H2 named `name`, if any.
    fn h2(&self, name: &str) -> Option<usize> {
        self.headings
            .iter()
            .position(|h| h.level == 2 && slug(h.text) == slug(name))
    }
}

/// [`Rule::ReadmeAscii`].
fn ascii(c: &mut Checker<'_>, r: &Readme<'_>) {
    let text = r.text;
    // `ddev validate readmes` fails a character above U+0100 (outside the Marketplace), so a
    // no-break space (U+00A0) passes, as in merged READMEs.
    for (number, line) in text.lines().enumerate() {
        if let Some(ch) = line.chars().find(|c| u32::from(*c) > 0x100) {
            c.push(
                super::Finding::error(
                    Rule::ReadmeAscii,
                    README,
                    format!(
                        "has the non-ASCII character `{ch}` (U+{:04X}); Datadog's README check \
                         accepts ASCII only (write \" ' - ... instead of typographic marks)",
                        u32::from(ch)
                    ),
                )
                .at_line(number + 1),
            );
        }
    }
}

/// [`Rule::ReadmeRegions`]: the markers regeneration finds its regions by.
fn regions(c: &mut Checker<'_>, r: &Readme<'_>) {
    let text = r.text;
    if let Err((line, problem)) = segments(text) {
        c.push(
            super::Finding::error(
                Rule::ReadmeRegions,
                README,
                format!("{problem}; regeneration needs the dd-integration markers paired"),
            )
            .at_line(line),
        );
    }
}

/// [`Rule::ReadmeSections`]: the H2 sections the tile and Datadog's checks ask for.
fn sections(c: &mut Checker<'_>, r: &Readme<'_>) {
    let (text, all, marketplace, oauth, manifest) =
        (r.text, &r.headings, r.marketplace, r.oauth, r.manifest);
    let h2 = |name: &str| r.h2(name);
    // `ddev validate readmes` requires Overview and Setup, and on the Marketplace also Support
    // and Uninstallation. Elsewhere, a section the tile or Datadog's OAuth docs ask for is a
    // warning: merged folders pass with `### Uninstallation` and without `## Support`.
    let mut required: Vec<(String, String)> = vec![
        ("Overview".into(), "the tile's Overview tab".into()),
        ("Setup".into(), "the tile's Configure tab".into()),
    ];
    if oauth || marketplace {
        required.push((
            "Uninstallation".into(),
            "an integration with an OAuth client".into(),
        ));
    }
    if marketplace {
        required.push(("Support".into(), "a Marketplace listing".into()));
    }
    let refused = |name: &str| marketplace || ["overview", "setup"].contains(&slug(name).as_str());
    if let Some(tile) = manifest
        .and_then(|m| m.at(&["tile"]))
        .and_then(Json::as_object)
    {
        for (key, value) in tile.iter() {
            if let Some(anchor) = value.as_str().and_then(|v| v.strip_prefix("README.md#")) {
                if let Some(entry) = required.iter_mut().find(|(n, _)| slug(n) == slug(anchor)) {
                    entry.1 = format!("tile.{key}");
                } else {
                    required.push((anchor.to_owned(), format!("tile.{key}")));
                }
            }
        }
    }
    for (name, why) in &required {
        match h2(name) {
            None => {
                let h3 = all
                    .iter()
                    .find(|h| h.level == 3 && slug(h.text) == slug(name));
                match h3 {
                    Some(h) if name == "Uninstallation" => c.push(
                        super::Finding::warning(
                            Rule::ReadmeUninstallation,
                            README,
                            "`### Uninstallation` is a H3; make it `## Uninstallation`, its own \
                             H2 after Setup",
                        )
                        .at_line(h.line),
                    ),
                    _ if refused(name) => c.error(
                        Rule::ReadmeSections,
                        README,
                        format!("has no `## {name}` section ({why} shows it)"),
                    ),
                    _ => c.warning(
                        Rule::ReadmeSections,
                        README,
                        format!("has no `## {name}` section ({why} shows it)"),
                    ),
                }
            }
            Some(index) if !has_content(&section(text, all, index)) => c.push(
                super::Finding::error(
                    Rule::ReadmeSections,
                    README,
                    format!("`## {name}` is empty"),
                )
                .at_line(all[index].line),
            ),
            Some(_) => {}
        }
    }
}

/// [`Rule::ReadmeOrder`]: Datadog's order of H2 sections (a convention).
fn order(c: &mut Checker<'_>, r: &Readme<'_>) {
    let all = &r.headings;
    let mut previous: Option<(usize, &str)> = None;
    for h in all.iter().filter(|h| h.level == 2) {
        let Some(rank) = ORDER.iter().position(|o| slug(o) == slug(h.text)) else {
            continue;
        };
        if let Some((before, before_text)) = previous
            && rank < before
        {
            c.push(
                super::Finding::error(
                    Rule::ReadmeOrder,
                    README,
                    format!(
                        "`## {}` comes after `## {before_text}`; Datadog's order is {}",
                        h.text,
                        ORDER.join(", ")
                    ),
                )
                .at_line(h.line),
            );
        }
        if previous.is_none_or(|(before, _)| rank > before) {
            previous = Some((rank, h.text));
        }
    }
}

/// [`Rule::ReadmeUninstallation`]: what `## Uninstallation` says.
fn uninstallation(c: &mut Checker<'_>, r: &Readme<'_>) {
    let (text, all, definitions, marketplace) =
        (r.text, &r.headings, &r.definitions, r.marketplace);
    let h2 = |name: &str| r.h2(name);
    if let Some(index) = h2("Uninstallation") {
        let lines = section(text, all, index);
        let body = lines.join("\n");
        let heading = all[index].line;
        if !body.to_lowercase().contains("revoke") {
            c.push(
                super::Finding::error(
                    Rule::ReadmeUninstallation,
                    README,
                    "`## Uninstallation` does not say that uninstalling revokes the \
                     integration's authorizations (\"Once this integration has been uninstalled, \
                     any previous authorizations are revoked.\")",
                )
                .at_line(heading),
            );
        }
        let targets: Vec<String> = lines
            .iter()
            .flat_map(|l| references(l))
            .filter_map(|(_, label)| definitions.get(&label.trim().to_lowercase()).cloned())
            .chain(inline_targets(&body))
            .collect();
        // Only a client that creates the marketplace key leaves keys to disable.
        match targets
            .iter()
            .find(|t| t.contains("/organization-settings/api-keys"))
        {
            _ if !r.creates_keys => {}
            None => c.push(
                super::Finding::error(
                    Rule::ReadmeUninstallation,
                    README,
                    "`## Uninstallation` does not link to the API Keys page \
                     (/organization-settings/api-keys?filter=<name>) to disable the \
                     integration's API keys",
                )
                .at_line(heading),
            ),
            Some(t) if !t.contains("filter=") => c.push(
                super::Finding::warning(
                    Rule::ReadmeUninstallation,
                    README,
                    format!(
                        "the API Keys link `{t}` is not filtered by the integration's name \
                         (add ?filter=<name>)"
                    ),
                )
                .at_line(heading),
            ),
            Some(_) => {}
        }
        if marketplace && body.contains("<img") {
            c.push(
                super::Finding::error(
                    Rule::ReadmeUninstallation,
                    README,
                    "`## Uninstallation` holds an image; Marketplace listings may not",
                )
                .at_line(heading),
            );
        }
    }
}

/// [`Rule::ReadmeDataCollected`]: a subsection for what the manifest lists.
fn data_collected_sections(c: &mut Checker<'_>, r: &Readme<'_>) {
    let (all, manifest) = (&r.headings, r.manifest);
    let h2 = |name: &str| r.h2(name);
    if let Some(manifest) = manifest {
        let data = h2("Data Collected");
        let has_h3 = |name: &str| {
            data.is_some_and(|index| {
                all[index + 1..]
                    .iter()
                    .take_while(|h| h.level > 2)
                    .any(|h| h.level == 3 && slug(h.text) == slug(name))
            })
        };
        let metrics = manifest.at(&["assets", "integration", "metrics"]).is_some();
        let service_checks = c
            .folder
            .text(SERVICE_CHECKS)
            .and_then(Result::ok)
            .and_then(|t| Json::parse(t).ok())
            .is_some_and(|j| j.as_array().is_some_and(|a| !a.is_empty()));
        for (present, name) in [(metrics, "Metrics"), (service_checks, "Service Checks")] {
            if present && !has_h3(name) {
                c.warning(
                    Rule::ReadmeDataCollected,
                    README,
                    format!(
                        "the integration has {} but `## Data Collected` has no `### {name}`",
                        name.to_lowercase()
                    ),
                );
            }
        }
    }
}

/// The targets of inline links `[text](target)` in `text`.
fn inline_targets(text: &str) -> Vec<String> {
    text.match_indices("](")
        .filter_map(|(i, _)| {
            let rest = &text[i + 2..];
            let end = rest.find(')')?;
            Some(rest[..end].split_whitespace().next()?.to_owned())
        })
        .collect()
}

/// Strips code spans from a line.
fn without_code(line: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for ch in line.chars() {
        if ch == '`' {
            in_code = !in_code;
        } else if !in_code {
            out.push(ch);
        }
    }
    out
}

fn check_links(c: &mut Checker<'_>, text: &str, definitions: &HashMap<String, String>) {
    let mut used: Vec<String> = Vec::new();
    let mut numbered_out_of_order = None;
    for (number, line) in prose_lines(text) {
        if definition(line).is_some() {
            continue;
        }
        let prose = without_code(line);
        if let Some(target) = inline_targets(&prose).first() {
            c.push(
                super::Finding::error(
                    Rule::ReadmeLinks,
                    README,
                    format!(
                        "has the inline link `({target})`; Datadog's READMEs use reference-style \
                         links (`[text][1]` with `[1]: {target}` at the end)"
                    ),
                )
                .at_line(number),
            );
        }
        for (_, label) in references(&prose) {
            let key = label.trim().to_lowercase();
            if !definitions.contains_key(&key) {
                c.push(
                    super::Finding::error(
                        Rule::ReadmeLinks,
                        README,
                        format!(
                            "the link reference `[{label}]` has no definition (`[{label}]: <url>`)"
                        ),
                    )
                    .at_line(number),
                );
                continue;
            }
            if !used.contains(&key) {
                used.push(key.clone());
                if let Ok(n) = key.parse::<usize>()
                    && n != used.len()
                    && numbered_out_of_order.is_none()
                {
                    numbered_out_of_order = Some(number);
                }
            }
        }
    }
    if let Some(line) = numbered_out_of_order {
        c.push(
            super::Finding::warning(
                Rule::ReadmeLinks,
                README,
                "the link numbers do not follow the order of first use; run `cargo xtask \
                 manifest` to renumber them",
            )
            .at_line(line),
        );
    }
    for (number, line) in prose_lines(text) {
        if let Some((label, _)) = definition(line)
            && !used.contains(&label)
        {
            c.push(
                super::Finding::warning(
                    Rule::ReadmeLinks,
                    README,
                    format!("the link definition `[{label}]` is never used"),
                )
                .at_line(number),
            );
        }
    }
}

fn check_images(
    c: &mut Checker<'_>,
    text: &str,
    definitions: &HashMap<String, String>,
    marketplace: bool,
) {
    let dir = c.folder.name().unwrap_or("<folder>").to_owned();
    for (number, line) in prose_lines(text) {
        let mut sources: Vec<String> = Vec::new();
        let mut rest = line;
        while let Some(i) = rest.find("<img") {
            rest = &rest[i + 4..];
            if let Some(src) = rest.find("src=") {
                let value = &rest[src + 4..];
                let quote = value.chars().next().unwrap_or('"');
                let value = value.trim_start_matches(['"', '\'']);
                let end = value.find(quote).unwrap_or(value.len());
                sources.push(value[..end].to_owned());
            }
        }
        let prose = without_code(line);
        for (i, _) in prose.match_indices("![") {
            let after = &prose[i + 2..];
            let Some(close) = after.find(']') else {
                continue;
            };
            let tail = &after[close + 1..];
            if let Some(inline) = tail.strip_prefix('(') {
                if let Some(target) = inline.split([')', ' ']).next() {
                    sources.push(target.to_owned());
                }
            } else if let Some(reference) = tail.strip_prefix('[') {
                let label = reference
                    .split(']')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_lowercase();
                if let Some(target) = definitions.get(&label) {
                    sources.push(target.split_whitespace().next().unwrap_or("").to_owned());
                }
            }
        }
        for source in sources {
            let file = source
                .split(['?', '#'])
                .next()
                .unwrap_or("")
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_owned();
            let served = ["integrations-extras", "marketplace"].iter().any(|repo| {
                source.starts_with(&format!(
                    "https://raw.githubusercontent.com/DataDog/{repo}/"
                ))
            });
            let relative = marketplace && source.starts_with("images/");
            let problem = if !(served || relative) {
                Some(format!(
                    "the image `{source}` must be served from \
                     https://raw.githubusercontent.com/DataDog/integrations-extras/master/{dir}/images/"
                ))
            } else if !c.folder.contains(&format!("images/{file}")) {
                Some(format!(
                    "the image `{source}` is not in images/ (images/{file})"
                ))
            } else {
                None
            };
            if let Some(problem) = problem {
                c.push(super::Finding::error(Rule::ReadmeImages, README, problem).at_line(number));
            }
        }
    }
}

fn check_shortcodes(c: &mut Checker<'_>, text: &str) {
    let mut in_partial = false;
    for (number, line) in text.lines().enumerate() {
        let number = number + 1;
        if line.contains("<!-- partial") {
            in_partial = true;
        }
        let compact: String = line.chars().filter(|c| !c.is_whitespace()).collect();
        let problem = if compact.contains("{{<tabs>}}") {
            Some("uses `{{< tabs >}}`; write tabs as `<!-- xxx tabs xxx -->` comments")
        } else if compact.contains("{{<code-block") {
            Some("uses `{{< code-block`; write a fenced code block")
        } else if compact.contains("{{<site-region") && !in_partial {
            Some("uses `{{< site-region` outside a `<!-- partial ... partial -->` comment")
        } else {
            None
        };
        if let Some(problem) = problem {
            c.push(super::Finding::error(Rule::ReadmeShortcodes, README, problem).at_line(number));
        }
        if line.contains("partial -->") {
            in_partial = false;
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_readme_rule_is_a_readme_rule_with_a_source() {
        for (rule, _) in RULES {
            assert!(rule.id().starts_with("readme-"), "{rule}");
            assert!(!rule.source().detail().is_empty(), "{rule}");
        }
    }

    use super::*;
    use crate::fixture;

    #[test]
    fn regeneration_is_stable() {
        let mut notes = Vec::new();
        let first = render(&fixture::EXPORTER, None, &mut notes).unwrap();
        let second = render(&fixture::EXPORTER, Some(&first), &mut notes).unwrap();
        assert_eq!(first, second);
        assert!(notes.is_empty());
        assert!(first.is_ascii());
    }

    #[test]
    fn keeps_partner_prose_and_its_link_numbers() {
        let mut notes = Vec::new();
        let first = render(&fixture::EXPORTER, None, &mut notes).unwrap();
        // The partner writes prose with links of their own, at both ends of the numbering.
        let edited = first
            .replace(
                "## Overview\n\n",
                "## Overview\n\nRead the [Acme docs][20] first.\n\n",
            )
            .replace(
                "### Configuration\n\n",
                "### Configuration\n\nSee [settings][settings] and `a[0][1]`.\n\n```\nx[1][2]\n```\n\n",
            )
            .replace(
                "## Troubleshooting\n\n",
                "## Troubleshooting\n\nUnused: see nothing.\n\n[settings]: https://acme.example/settings\n",
            )
            + "[20]: https://docs.acme.example\n[21]: https://unused.example\n";
        let mut notes = Vec::new();
        let out = render(&fixture::EXPORTER, Some(&edited), &mut notes).unwrap();
        // A numbered link keeps its number; a named one takes the first free number; the
        // declaration's links keep theirs: a pull request renumbers nothing.
        assert!(out.contains("## Overview\n\nRead the [Acme docs][20] first.\n\n<!-- dd-integration:begin overview -->"), "{out}");
        assert!(
            out.contains("See [settings][9] and `a[0][1]`.\n\n```\nx[1][2]\n```\n"),
            "{out}"
        );
        assert!(
            out.contains("Unused: see nothing.\n\n<!-- dd-integration:begin troubleshooting"),
            "{out}"
        );
        let numbers = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| l.starts_with('[') && l.contains("]: "))
                .map(str::to_owned)
                .collect()
        };
        let before = numbers(&first);
        let after = numbers(&out);
        assert_eq!(after[..before.len()], before[..], "{out}");
        assert_eq!(
            after[before.len()..],
            [
                "[9]: https://acme.example/settings",
                "[20]: https://docs.acme.example"
            ],
            "{out}"
        );
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0]
                .to_string()
                .contains("dropped the link definition `https://unused.example`")
        );
        // And again: nothing moves.
        let again = render(&fixture::EXPORTER, Some(&out), &mut notes).unwrap();
        assert_eq!(out, again);
    }

    #[test]
    fn replaces_only_the_regions() {
        let mut notes = Vec::new();
        let first = render(&fixture::EXPORTER, None, &mut notes).unwrap();
        let edited = first
            .replace(
                "Acme platform health in Datadog",
                "Stale text the declaration no longer says",
            )
            .replace(
                "## Support\n\n",
                "## Support\n\nOur team answers within a day.\n\n",
            );
        let out = render(&fixture::EXPORTER, Some(&edited), &mut notes).unwrap();
        assert!(!out.contains("Stale text"));
        assert!(out.contains("Acme platform health in Datadog"));
        assert!(out.contains(
            "## Support\n\nOur team answers within a day.\n\n<!-- dd-integration:begin support"
        ));
    }

    #[test]
    fn inserts_missing_regions_under_their_heading() {
        let mut notes = Vec::new();
        let partner = "# Acme\n\n## Overview\n\nOurs.\n\n## Setup\n\n### Installation\n\n### Configuration\n\n\
                       ## Uninstallation\n\n## Data Collected\n\n## Troubleshooting\n\n## Support\n";
        let out = render(&fixture::EXPORTER, Some(partner), &mut notes).unwrap();
        // The partner's H1 and prose stay as they are: no second title, no region above "Ours.".
        assert!(out.starts_with("# Acme\n"), "{out}");
        assert!(!out.contains("dd-integration:begin title"));
        assert!(out.contains("## Overview\n\nOurs.\n"));
        assert!(!out.contains("dd-integration:begin overview"));
        assert!(
            notes
                .iter()
                .any(|n| n.message.starts_with("kept your text under `## Overview`"))
        );
        // Empty sections get the declaration's text.
        assert!(out.contains("### Installation\n\n<!-- dd-integration:begin installation -->"));
        assert!(out.ends_with("<!-- dd-integration:end links -->\n"));

        // Every missing section at once, in Datadog's order, each said in a note.
        let mut notes = Vec::new();
        let out = render(
            &fixture::EXPORTER,
            Some("# Acme\n\n## Overview\n\nOurs.\n\n## Support\n\nMail us.\n"),
            &mut notes,
        )
        .unwrap();
        let at = |needle: &str| {
            out.find(needle)
                .unwrap_or_else(|| panic!("{needle}: {out}"))
        };
        assert!(at("## Overview") < at("## Setup"));
        assert!(at("## Setup") < at("### Installation"));
        assert!(at("### Configuration") < at("## Uninstallation"));
        assert!(at("## Uninstallation") < at("## Support"));
        assert!(out.contains("## Support\n\nMail us.\n"));
        let added: Vec<&str> = notes
            .iter()
            .filter(|n| n.message.starts_with("added the section"))
            .map(|n| n.message.as_str())
            .collect();
        assert_eq!(added.len(), 3, "{added:#?}");
        // Data Collected is a convention of Datadog's template, not a rule: not added unasked,
        // but said, with how to ask for it.
        assert!(!out.contains("## Data Collected"), "{out}");
        assert!(
            notes
                .iter()
                .any(|n| n.message.starts_with("has no `## Data Collected`")
                    && n.message
                        .contains("<!-- dd-integration:begin data-collected -->")),
            "{notes:#?}"
        );
    }

    #[test]
    fn refuses_broken_markers_with_their_line() {
        let mut notes = Vec::new();
        let text = "a\n<!-- dd-integration:begin overview -->\nb\n";
        let err = render(&fixture::EXPORTER, Some(text), &mut notes).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("README.md: line 2: the region `overview` begins here but never ends"),
            "{err}"
        );
        let text = "<!-- dd-integration:begin a -->\n<!-- dd-integration:begin b -->\n";
        assert!(
            segments(text)
                .unwrap_err()
                .1
                .contains("inside the region `a`")
        );
        let text = "<!-- dd-integration:end a -->\n";
        assert!(segments(text).unwrap_err().1.contains("never began"));
    }

    #[test]
    fn references_skip_code() {
        let refs: Vec<&str> = references("[a][1] `[b][2]` [c][x] [d][] ![e][3]")
            .into_iter()
            .map(|(_, l)| l)
            .collect();
        assert_eq!(refs, ["1", "x", "3"]);
    }
}
