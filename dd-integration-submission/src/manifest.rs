//! `manifest.json` (v2): rendered from the declaration over the existing manifest, and checked.

use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use super::json::{Json, Object};
use super::validate::Checker;
use super::vocabulary::{self, TagCheck};
use super::{CHANGELOG, MANIFEST, METADATA, Note, OAUTH_CLIENTS, Rule, SERVICE_CHECKS};
use dd_integration::{DataKind, IntegrationSpec};

/// The team that owns partner integrations at Datadog.
const OWNER: &str = "integrations-developer-platform";

/// ddev's `source_type_id` formula: seconds since the epoch minus this.
const SOURCE_TYPE_EPOCH: u64 = 1_700_000_000;

/// The tile's links into the README and the CHANGELOG.
const TILE_LINKS: [(&str, &str); 5] = [
    ("overview", "README.md#Overview"),
    ("configuration", "README.md#Setup"),
    ("support", "README.md#Support"),
    ("uninstallation", "README.md#Uninstallation"),
    ("changelog", "CHANGELOG.md"),
];

/// Renders the manifest: the declaration's fields in Datadog's usual key order, and every
/// other value of `old` (media, dashboards, vendor ids, pricing...) kept where it was.
pub(crate) fn render(
    spec: &IntegrationSpec,
    old: Option<&Json>,
    now: SystemTime,
    notes: &mut Vec<Note>,
) -> Json {
    let old_object = |path: &[&str]| old.and_then(|m| m.at(path)).and_then(Json::as_object);
    let dir = vocabulary::folder_name(spec.app_id);

    let app_uuid = id(
        spec.app_uuid.map(str::to_owned),
        old.and_then(|m| m.str_at(&["app_uuid"])).map(str::to_owned),
        new_uuid,
        "app_uuid",
        |v| format!("app_uuid = \"{v}\""),
        notes,
    );
    let mut m = Object::new();
    m.insert("manifest_version", Json::string("2.0.0"));
    m.insert("app_uuid", Json::string(app_uuid));
    m.insert("app_id", Json::string(spec.app_id));
    m.insert(
        "owner",
        old.and_then(|m| m.at(&["owner"]))
            .cloned()
            .unwrap_or_else(|| Json::string(OWNER)),
    );
    m.insert(
        "display_on_public_website",
        declared_or_kept(
            spec.listing.display_on_public_website,
            old.and_then(|m| m.at(&["display_on_public_website"])),
        ),
    );

    let mut tile = Object::new();
    for (key, value) in TILE_LINKS {
        // `tile.support` elsewhere than `#Support` (`#Troubleshooting`, an e-mail address:
        // Datadog merged both) is the partner's choice: declared, or kept from the folder.
        let chosen = match key {
            "support" => spec
                .listing
                .support
                .map(Json::string)
                .or_else(|| old.and_then(|m| m.at(&["tile", "support"])).cloned()),
            _ => None,
        };
        tile.insert(key, chosen.unwrap_or_else(|| Json::string(value)));
    }
    tile.insert("description", Json::string(spec.description));
    tile.insert("title", Json::string(spec.name));
    tile.insert(
        "media",
        old.and_then(|m| m.at(&["tile", "media"]))
            .cloned()
            .unwrap_or(Json::Array(Vec::new())),
    );
    // A published folder keeps its tags (reviewers accepted them) and gains the categories and
    // submitted data types the declaration implies; a new one gets every tag it implies.

    let mut tags = vocabulary::classifier_tags(spec);
    if let Some(declared) = spec.listing.classifier_tags {
        tags = declared.iter().map(|t| (*t).to_owned()).collect();
    } else if let Some(published) = old
        .and_then(|m| m.at(&["tile", "classifier_tags"]))
        .and_then(Json::as_array)
    {
        let mut kept: Vec<String> = published
            .iter()
            .filter_map(Json::as_str)
            .map(str::to_owned)
            .collect();
        // What the declaration says of its data: its categories (Log Collection for logs
        // included, which ddev pairs with the README's `### Logs`) and the data types it submits.
        for tag in tags
            .iter()
            .filter(|t| t.starts_with("Category::") || t.starts_with("Submitted Data Type::"))
        {
            if !kept.iter().any(|t| t == tag) {
                kept.push(tag.clone());
            }
        }
        tags = kept;
    }
    tile.insert(
        "classifier_tags",
        Json::strings(tags.iter().map(String::as_str)),
    );
    if !spec.listing.resources.is_empty() {
        let resources = spec.listing.resources.iter().map(|r| {
            let mut resource = Object::new();
            resource.insert("resource_type", Json::string(r.kind));
            resource.insert("url", Json::string(r.url));
            if let Some(published) = old
                .and_then(|m| m.at(&["tile", "resources"]))
                .and_then(Json::as_array)
                .and_then(|a| a.first())
                .and_then(Json::as_object)
            {
                resource.order_like(published);
            }
            resource.into()
        });
        tile.insert("resources", Json::Array(resources.collect()));
    }
    keep_others(&mut tile, old_object(&["tile"]));
    m.insert("tile", tile.into());

    let mut assets = Object::new();
    if has_integration(spec, old) {
        assets.insert(
            "integration",
            integration(
                spec,
                old_object(&["assets", "integration"]),
                &dir,
                now,
                notes,
            )
            .into(),
        );
    }
    if let Some(old_assets) = old_object(&["assets"]) {
        for (key, value) in old_assets.iter() {
            if key != "integration" && key != "oauth" {
                assets.insert(key, value.clone());
            }
        }
    }
    if super::dashboard::wanted(spec, old) && assets.get("dashboards").is_none() {
        let mut dashboards = Object::new();
        dashboards.insert(
            &super::dashboard::key(spec),
            Json::string(super::dashboard::path(&dir)),
        );
        assets.insert("dashboards", dashboards.into());
    }
    if spec.submits.contains(&DataKind::Logs) && assets.get("logs").is_none() {
        if old.is_none() {
            // The source the SDK's telemetry stamps on every log (`ddsource`).
            let mut logs = Object::new();
            logs.insert("source", Json::string(spec.logs_source()));
            assets.insert("logs", logs.into());
        } else {
            // A published manifest without it is left as merged: adding it is the partner's
            // decision, with the log pipeline it keys.
            notes.push(Note {
                file: MANIFEST,
                message: format!(
                    "assets.logs is absent; the integration's logs carry the source `{}`: add \
                     `\"logs\": {{\"source\": \"{}\"}}` to assets when its log pipeline is \
                     keyed by it",
                    spec.logs_source(),
                    spec.logs_source()
                ),
                rule: None,
            });
        }
    }
    assets.insert("oauth", Json::string(OAUTH_CLIENTS));
    if let Some(published) = old_object(&["assets"]) {
        assets.order_like(published);
    }
    m.insert("assets", assets.into());

    let mut author = Object::new();
    author.insert("name", Json::string(spec.author.name));
    author.insert("homepage", Json::string(spec.author.homepage));
    author.insert("support_email", Json::string(spec.author.support_email));
    if !spec.author.sales_email.trim().is_empty() {
        author.insert("sales_email", Json::string(spec.author.sales_email));
    }
    if let Some(vendor_id) = spec.author.vendor_id {
        author.insert("vendor_id", Json::string(vendor_id));
    }
    keep_others(&mut author, old_object(&["author"]));
    m.insert("author", author.into());

    if let Some(listing) = spec.listing.marketplace {
        let pricing = listing.pricing.iter().map(|p| {
            let mut entry = Object::new();
            entry.insert("billing_type", Json::string(p.billing_type.as_str()));
            let price = serde_json::Number::from_str(p.unit_price)
                .map_or_else(|_| Json::string(p.unit_price), Json::Number);
            entry.insert("unit_price", price);
            entry.insert("unit_label", Json::string(p.unit_label));
            if let Some(metric) = p.metric {
                entry.insert("metric", Json::string(metric));
            }
            if let Some(tag) = p.tag {
                entry.insert("tag", Json::string(tag));
            }
            entry.insert("product_id", Json::string(listing.product_id));
            entry.insert("short_description", Json::string(p.short_description));
            entry.insert("includes_assets", Json::Bool(true));
            entry.into()
        });
        m.insert("pricing", Json::Array(pricing.collect()));
        let mut terms = Object::new();
        terms.insert("eula", Json::string(listing.legal_terms));
        keep_others(&mut terms, old_object(&["legal_terms"]));
        m.insert("legal_terms", terms.into());
    }

    keep_others(&mut m, old.and_then(Json::as_object));
    m.into()
}

/// Whether the manifest has `assets.integration` (and the folder `service_checks.json`): when
/// the integration sends data, declares metrics or service checks or a `source_type_id`, or
/// its published manifest has one. A query-only integration has none and gets no
/// `source_type_id` (vantage, merged so: the id names a source of data).
pub(crate) fn has_integration(spec: &IntegrationSpec, old: Option<&Json>) -> bool {
    !spec.submits.is_empty()
        || spec.creates_events
        || !spec.metrics.is_empty()
        || !spec.service_checks.is_empty()
        || spec.source_type_id.is_some()
        || old.is_some_and(|m| m.at(&["assets", "integration"]).is_some())
}

/// `assets.integration`.
fn integration(
    spec: &IntegrationSpec,
    old: Option<&Object>,
    dir: &str,
    now: SystemTime,
    notes: &mut Vec<Note>,
) -> Object {
    let source_type_id = id(
        spec.source_type_id.map(u64::from),
        old.and_then(|o| o.get("source_type_id"))
            .and_then(Json::as_number)
            .and_then(serde_json::Number::as_u64),
        || new_source_type_id(now),
        "assets.integration.source_type_id",
        |v| format!("source_type_id = {v}"),
        notes,
    );
    let mut integration = Object::new();
    integration.insert(
        "auto_install",
        // A Marketplace listing is installed by the customer's purchase, not automatically
        // (ddev's marketplace template).
        declared_or_kept(
            spec.listing
                .auto_install
                .or(spec.listing.marketplace.map(|_| false)),
            old.and_then(|o| o.get("auto_install")),
        ),
    );
    integration.insert("source_type_id", Json::from(source_type_id));
    integration.insert("source_type_name", Json::string(spec.source_type_name()));
    integration.insert(
        "configuration",
        old.and_then(|o| o.get("configuration"))
            .cloned()
            .unwrap_or_else(|| Object::new().into()),
    );
    let mut events = Object::new();
    events.insert(
        "creates_events",
        Json::Bool(spec.submits.contains(&DataKind::Events) || spec.creates_events),
    );
    integration.insert("events", events.into());
    if !spec.metrics.is_empty()
        || spec.submits.contains(&DataKind::Metrics)
        || spec.metric_prefix.is_some()
    {
        let mut metrics = Object::new();
        let prefix = spec
            .metric_prefix
            .map_or_else(|| format!("{dir}."), str::to_owned);
        metrics.insert("prefix", Json::string(prefix));
        let check = match spec.listing.metrics_check {
            Some(names) => Json::strings(names.iter().copied()),
            None => Json::strings(spec.metrics.iter().map(|m| m.name)),
        };
        metrics.insert("check", check);
        metrics.insert("metadata_path", Json::string(METADATA));
        integration.insert("metrics", metrics.into());
    }
    let mut service_checks = Object::new();
    service_checks.insert("metadata_path", Json::string(SERVICE_CHECKS));
    integration.insert("service_checks", service_checks.into());
    // A manifest that stopped declaring metrics loses its `metrics`: keep everything else.
    if let Some(old) = old {
        for (key, value) in old.iter() {
            if key != "metrics" && integration.get(key).is_none() {
                integration.insert(key, value.clone());
            }
        }
        integration.order_like(old);
    }
    integration
}

/// A flag: the declared value, else the published one, else `true` (what every merged
/// API integration's manifest says).
fn declared_or_kept(declared: Option<bool>, published: Option<&Json>) -> Json {
    match (declared, published) {
        (Some(flag), _) => Json::Bool(flag),
        (None, Some(published)) => published.clone(),
        (None, None) => Json::Bool(true),
    }
}

/// Copies the keys of `old` that `new` does not have, in their order.
/// Keeps the keys only the published object has, and its key order.
fn keep_others(new: &mut Object, old: Option<&Object>) {
    if let Some(old) = old {
        for (key, value) in old.iter() {
            if new.get(key).is_none() {
                new.insert(key, value.clone());
            }
        }
        new.order_like(old);
    }
}

/// An immutable id: the declaration's, else the folder's, else a new one; the partner is told
/// to declare it when it is not declared.
fn id<T: std::fmt::Display>(
    declared: Option<T>,
    in_folder: Option<T>,
    generate: impl FnOnce() -> T,
    field: &str,
    declaration: impl Fn(&T) -> String,
    notes: &mut Vec<Note>,
) -> T {
    if let Some(value) = declared {
        return value;
    }
    let (value, origin) = match in_folder {
        Some(value) => (value, "kept from the folder"),
        None => (generate(), "generated"),
    };
    notes.push(Note {
        file: MANIFEST,
        message: format!(
            "{field} {value} was {origin}: add `{}` to the `#[datadog_integration]` attribute, \
             since it can never change once published and only the declaration survives a lost \
             folder",
            declaration(&value)
        ),
        rule: Some(Rule::Undeclared),
    });
    value
}

/// A random (version 4) UUID, lowercase.
fn new_uuid() -> String {
    let mut bytes = [0_u8; 16];
    getrandom::fill(&mut bytes).expect("the OS random number generator is unavailable");
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// ddev's formula: seconds since the epoch minus 1,700,000,000; and never an id this process
/// already gave out, since one run renders several integrations within a second and each id
/// must be unique.
fn new_source_type_id(now: SystemTime) -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let seconds = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let wanted = seconds.saturating_sub(SOURCE_TYPE_EPOCH).max(1);
    let previous = LAST
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |last| {
            Some(wanted.max(last + 1))
        })
        .unwrap_or_else(|last| last);
    wanted.max(previous + 1)
}

/// Keys Datadog defines, for the unknown-key warning.
const TOP_KEYS: &[&str] = &[
    "manifest_version",
    "app_uuid",
    "app_id",
    "owner",
    "display_on_public_website",
    "tile",
    "assets",
    "author",
    "oauth",
    "pricing",
    "legal_terms",
];
const TILE_KEYS: &[&str] = &[
    "overview",
    "configuration",
    "support",
    "uninstallation",
    "changelog",
    "description",
    "title",
    "media",
    "classifier_tags",
    "resources",
];
const ASSET_KEYS: &[&str] = &[
    "integration",
    "dashboards",
    "monitors",
    "saved_views",
    "logs",
    "oauth",
];
const INTEGRATION_KEYS: &[&str] = &[
    "auto_install",
    "source_type_id",
    "source_type_name",
    "configuration",
    "events",
    "metrics",
    "service_checks",
    "process_signatures",
    "supports_ddr_coordinated_failover",
    "id",
];
const AUTHOR_KEYS: &[&str] = &[
    "name",
    "homepage",
    "support_email",
    "sales_email",
    "vendor_id",
    "contact_link",
];

/// The longest tile description, on integrations-extras and on the Marketplace.
const MAX_DESCRIPTION: usize = 80;
use dd_integration_facts::names::MAX_DESCRIPTION_MARKETPLACE;
const MAX_TITLE: usize = 50;
const MAX_MEDIA: usize = 8;
const MAX_CAPTION: usize = 300;
const MAX_IMAGE_BYTES: usize = 1_000_000;

/// Typed access to the manifest, reporting missing and mistyped fields.
struct Fields<'m, 'c, 'f> {
    manifest: &'m Json,
    c: &'c mut Checker<'f>,
}

impl<'m> Fields<'m, '_, '_> {
    fn get(&mut self, path: &[&str], required: bool) -> Option<&'m Json> {
        let value = self.manifest.at(path);
        if value.is_none() && required {
            self.c.error(
                Rule::ManifestRequired,
                MANIFEST,
                format!("{} is missing; Datadog requires it", path.join(".")),
            );
        }
        value
    }

    fn typed<T>(
        &mut self,
        path: &[&str],
        required: bool,
        want: &str,
        convert: impl Fn(&'m Json) -> Option<T>,
    ) -> Option<T> {
        let value = self.get(path, required)?;
        let converted = convert(value);
        if converted.is_none() {
            let name = if path.is_empty() {
                "the manifest".to_owned()
            } else {
                path.join(".")
            };
            self.c.error(
                Rule::ManifestType,
                MANIFEST,
                format!("{name} is {}; it must be {want}", value.kind()),
            );
        }
        converted
    }

    fn string(&mut self, path: &[&str], required: bool) -> Option<&'m str> {
        self.typed(path, required, "a string", Json::as_str)
    }

    fn object(&mut self, path: &[&str], required: bool) -> Option<&'m Object> {
        let object = self.typed(path, required, "an object", Json::as_object);
        if let Some(object) = object {
            let known: &[&str] = match path {
                [] => TOP_KEYS,
                ["tile"] => TILE_KEYS,
                ["assets"] => ASSET_KEYS,
                ["assets", "integration"] => INTEGRATION_KEYS,
                ["author"] => AUTHOR_KEYS,
                _ => return Some(object),
            };
            for key in object.keys().filter(|k| !known.contains(k)) {
                let at = path.iter().copied().chain([key]).collect::<Vec<_>>();
                self.c.warning(
                    Rule::ManifestUnknownKey,
                    MANIFEST,
                    format!(
                        "{} is not a manifest field{}",
                        at.join("."),
                        hint(vocabulary::closest(key, known))
                    ),
                );
            }
        }
        object
    }

    fn array(&mut self, path: &[&str], required: bool) -> Option<&'m [Json]> {
        self.typed(path, required, "an array", Json::as_array)
    }

    fn bool(&mut self, path: &[&str], required: bool) -> Option<bool> {
        self.typed(path, required, "a boolean (true or false)", Json::as_bool)
    }

    /// A required non-empty string.
    fn text(&mut self, rule: Rule, path: &[&str]) -> Option<&'m str> {
        let value = self.string(path, true)?;
        if value.trim().is_empty() {
            self.c
                .error(rule, MANIFEST, format!("{} is empty", path.join(".")));
            return None;
        }
        Some(value)
    }
}

fn hint(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!("; did you mean {s}?"))
}

/// Checks manifest.json on its own and against the files it names (the README's sections are
/// checked by the README's checks).
pub(crate) fn check(c: &mut Checker<'_>, manifest: &Json) {
    let mut f = Fields { manifest, c };
    if f.object(&[], true).is_none() {
        return;
    }
    let marketplace = manifest.at(&["pricing"]).is_some();

    if let Some(version) = f.string(&["manifest_version"], true)
        && version != "2.0.0"
    {
        f.c.error(
            Rule::ManifestVersion,
            MANIFEST,
            format!("manifest_version is \"{version}\"; it must be \"2.0.0\" (manifest v2)"),
        );
    }
    if let Some(uuid) = f.string(&["app_uuid"], true)
        && !vocabulary::is_uuid(uuid)
    {
        f.c.error(
            Rule::AppUuid,
            MANIFEST,
            format!("app_uuid `{uuid}` is not a lowercase 8-4-4-4-12 hex UUID"),
        );
    }
    if let Some(app_id) = f.string(&["app_id"], true) {
        if let Some(problem) = vocabulary::app_id_problem(app_id) {
            f.c.error(Rule::AppId, MANIFEST, format!("app_id {problem}"));
        } else if let Some(name) = f.c.folder.name() {
            let expected = vocabulary::folder_name(app_id);
            if name != expected {
                f.c.warning(
                    Rule::FolderName,
                    MANIFEST,
                    format!("the folder is `{name}`; for app_id `{app_id}` it is `{expected}`"),
                );
            }
        }
    }
    f.text(Rule::ManifestRequired, &["owner"]);
    if f.bool(&["display_on_public_website"], true) == Some(false) {
        f.c.warning(
            Rule::DisplayOnPublicWebsite,
            MANIFEST,
            "display_on_public_website is false: the tile stays off Datadog's public \
             integrations page (once true, it cannot go back)",
        );
    }

    if f.object(&["tile"], true).is_some() {
        check_tile(&mut f, marketplace);
    }
    if f.object(&["assets"], true).is_some() {
        check_assets(&mut f);
    }
    if f.object(&["author"], true).is_some() {
        check_author(&mut f, marketplace);
    }
    if marketplace {
        check_marketplace(&mut f);
    }
}

/// A Marketplace listing's own fields: [`Rule::MarketplacePricing`], [`Rule::MarketplaceAppId`],
/// [`Rule::MarketplaceEula`].
fn check_marketplace(f: &mut Fields<'_, '_, '_>) {
    let pricing = f.manifest.at(&["pricing"]).and_then(Json::as_array);
    let error = |f: &mut Fields<'_, '_, '_>, message: String| {
        f.c.error(Rule::MarketplacePricing, MANIFEST, message);
    };
    let mut product_ids: Vec<&str> = Vec::new();
    match pricing {
        None => error(f, "pricing must be an array of pricing entries".to_owned()),
        Some([]) => error(
            f,
            "pricing is empty; a Marketplace listing has at least one entry".to_owned(),
        ),
        Some(entries) => {
            let mut types: Vec<&str> = Vec::new();
            for (i, entry) in entries.iter().enumerate() {
                let at = |key: &str| entry.at(&[key]);
                let billing = at("billing_type").and_then(Json::as_str);
                match billing {
                    Some(t @ ("one_time" | "flat_fee" | "tag_count")) => {
                        if !types.contains(&t) {
                            types.push(t);
                        }
                    }
                    other => error(
                        f,
                        format!(
                            "pricing[{i}].billing_type is {}; it must be one_time, flat_fee or \
                             tag_count",
                            other.map_or_else(|| "missing".to_owned(), |t| format!("\"{t}\""))
                        ),
                    ),
                }
                match at("unit_price")
                    .and_then(Json::as_number)
                    .and_then(serde_json::Number::as_f64)
                {
                    None => error(f, format!("pricing[{i}].unit_price must be a number")),
                    Some(price) if price <= 0.0 => f.c.warning(
                        Rule::MarketplacePricing,
                        MANIFEST,
                        format!("pricing[{i}].unit_price is not a positive number"),
                    ),
                    Some(_) => {}
                }
                for key in ["unit_label", "short_description", "product_id"] {
                    if at(key)
                        .and_then(Json::as_str)
                        .is_none_or(|s| s.trim().is_empty())
                    {
                        error(f, format!("pricing[{i}].{key} is missing or empty"));
                    }
                }
                if let Some(product) = at("product_id").and_then(Json::as_str) {
                    if let Some(problem) = vocabulary::app_id_problem(product) {
                        error(f, format!("pricing[{i}].product_id {problem}"));
                    }
                    if !product_ids.contains(&product) {
                        product_ids.push(product);
                    }
                }
                if at("includes_assets").and_then(Json::as_bool) != Some(true) {
                    error(f, format!("pricing[{i}].includes_assets must be true"));
                }
                if billing == Some("tag_count") {
                    match at("metric").and_then(Json::as_str) {
                        Some(m) if m.starts_with("datadog.marketplace.") => {}
                        other => error(
                            f,
                            format!(
                                "pricing[{i}].metric is {}; tag_count bills by a metric \
                                 `datadog.marketplace.<vendor>.<product>`",
                                other.map_or_else(|| "missing".to_owned(), |m| format!("`{m}`"))
                            ),
                        ),
                    }
                    if at("tag").and_then(Json::as_str).is_none_or(str::is_empty) {
                        error(
                            f,
                            format!("pricing[{i}].tag is missing; tag_count bills by its values"),
                        );
                    }
                }
            }
            if types.len() > 1 {
                error(
                    f,
                    format!(
                        "pricing mixes billing types ({}); a listing has one",
                        types.join(", ")
                    ),
                );
            }
        }
    }
    if product_ids.len() > 1 {
        f.c.error(
            Rule::MarketplaceAppId,
            MANIFEST,
            format!(
                "pricing names several product_ids ({}); a listing is one product, the second \
                 half of its app_id",
                product_ids.join(", ")
            ),
        );
    }
    if let (Some(app_id), Some(vendor), [product]) = (
        f.manifest.str_at(&["app_id"]),
        f.manifest.str_at(&["author", "vendor_id"]),
        product_ids.as_slice(),
    ) {
        let wanted = format!("{vendor}-{product}");
        if app_id != wanted {
            f.c.error(
                Rule::MarketplaceAppId,
                MANIFEST,
                format!(
                    "app_id is `{app_id}`; a Marketplace listing's is `<vendor_id>-<product_id>`, \
                     `{wanted}`"
                ),
            );
        }
    }
    let eula = |f: &mut Fields<'_, '_, '_>, message: String| {
        f.c.error(Rule::MarketplaceEula, MANIFEST, message);
    };
    match f.manifest.str_at(&["legal_terms", "eula"]) {
        None => eula(
            f,
            "legal_terms.eula is missing; a Marketplace listing names its End User License \
             Agreement PDF there"
                .to_owned(),
        ),
        Some(path) if !path.ends_with(".pdf") => {
            eula(
                f,
                format!("legal_terms.eula `{path}` is missing the pdf extension"),
            );
        }
        Some(path) => match f.c.folder.get(path) {
            None => eula(
                f,
                format!("legal_terms.eula `{path}` does not exist in the folder"),
            ),
            Some(bytes)
                if !bytes
                    .split(|b| *b == b'\n')
                    .next()
                    .is_some_and(|line| line.windows(4).any(|w| w == b"%PDF")) =>
            {
                eula(f, format!("legal_terms.eula `{path}` is not a PDF file"));
            }
            Some(_) => {}
        },
    }
}

/// The tile's rules, one function each, named after the [`Rule`] it applies.
fn check_tile(f: &mut Fields<'_, '_, '_>, marketplace: bool) {
    for rule in [
        tile_links,
        tile_uninstallation,
        tile_description,
        tile_title,
        tile_media_and_tags,
        tile_resources,
        logs_category,
    ] {
        rule(f, marketplace);
    }
}

/// [`Rule::TileLinks`] (and the CHANGELOG `tile.changelog` names).
fn tile_links(f: &mut Fields<'_, '_, '_>, _: bool) {
    for (key, expected) in TILE_LINKS {
        let required = key != "uninstallation";
        let Some(value) = f.string(&["tile", key], required) else {
            continue;
        };
        let accepted =
            value == expected || (key == "support" && value == "README.md#Troubleshooting");
        if !accepted && key == "support" {
            // Merged tiles point `support` at other README sections and even at an e-mail
            // address (blink): Datadog accepts it, so it is only worth a look.
            f.c.warning(
                Rule::TileLinks,
                MANIFEST,
                format!("tile.support is \"{value}\"; Datadog's docs use \"{expected}\""),
            );
        } else if !accepted {
            f.c.error(
                Rule::TileLinks,
                MANIFEST,
                format!("tile.{key} is \"{value}\"; it must be \"{expected}\""),
            );
        }
    }
    if let Some(changelog) = f.manifest.str_at(&["tile", "changelog"])
        && changelog == CHANGELOG
        && !f.c.folder.contains(CHANGELOG)
    {
        f.c.error(
            Rule::FileMissing,
            CHANGELOG,
            "is missing; tile.changelog points to it",
        );
    }
}

/// [`Rule::TileUninstallation`].
fn tile_uninstallation(f: &mut Fields<'_, '_, '_>, _: bool) {
    if f.manifest.at(&["assets", "oauth"]).is_some()
        && f.manifest.at(&["tile", "uninstallation"]).is_none()
    {
        f.c.error(
            Rule::TileUninstallation,
            MANIFEST,
            "tile.uninstallation is missing; an integration with an OAuth client needs \
             \"README.md#Uninstallation\" beside tile.support",
        );
    }
}

/// [`Rule::TileDescription`]: 80 characters (70 on the Marketplace, where it refuses).
fn tile_description(f: &mut Fields<'_, '_, '_>, marketplace: bool) {
    if let Some(description) = f.text(Rule::TileDescription, &["tile", "description"]) {
        let limit = if marketplace {
            MAX_DESCRIPTION_MARKETPLACE
        } else {
            MAX_DESCRIPTION
        };
        let len = description.chars().count();
        let message = format!("tile.description is {len} characters; the limit is {limit}");
        if len > limit && marketplace {
            f.c.error(Rule::TileDescription, MANIFEST, message);
        } else if len > limit {
            // 23 merged manifests pass over 80 characters: outside the Marketplace, nothing
            // refuses it, but the tile cuts it.
            f.c.warning(Rule::TileDescription, MANIFEST, message);
        }
    }
}

/// [`Rule::TileTitle`].
fn tile_title(f: &mut Fields<'_, '_, '_>, _: bool) {
    if let Some(title) = f.text(Rule::TileTitle, &["tile", "title"]) {
        let len = title.chars().count();
        if len > MAX_TITLE {
            f.c.error(
                Rule::TileTitle,
                MANIFEST,
                format!("tile.title is {len} characters; the limit is {MAX_TITLE}"),
            );
        }
    }
}

/// [`Rule::TileMedia`] and [`Rule::ClassifierTags`].
fn tile_media_and_tags(f: &mut Fields<'_, '_, '_>, _: bool) {
    if let Some(media) = f.array(&["tile", "media"], true) {
        check_media(f.c, media);
    }
    if let Some(tags) = f.array(&["tile", "classifier_tags"], true) {
        check_tags(f.c, tags);
    }
}

/// [`Rule::TileResources`].
fn tile_resources(f: &mut Fields<'_, '_, '_>, _: bool) {
    if let Some(resources) = f.array(&["tile", "resources"], false) {
        for (i, resource) in resources.iter().enumerate() {
            let kind = resource.str_at(&["resource_type"]);
            if !matches!(kind, Some("blog" | "documentation" | "faq" | "other")) {
                f.c.error(
                    Rule::TileResources,
                    MANIFEST,
                    format!(
                        "tile.resources[{i}].resource_type is {}; it must be blog, \
                         documentation, faq or other",
                        kind.map_or_else(|| "missing".to_owned(), |k| format!("\"{k}\""))
                    ),
                );
            }
            if !resource
                .str_at(&["url"])
                .is_some_and(vocabulary::is_web_url)
            {
                f.c.error(
                    Rule::TileResources,
                    MANIFEST,
                    format!("tile.resources[{i}].url must be an absolute http(s) URL"),
                );
            }
        }
    }
}

/// [`Rule::LogsCategory`], as ddev's `LogsCategoryValidator` with its `has_logs`.
fn logs_category(f: &mut Fields<'_, '_, '_>, _: bool) {
    // ddev's `LogsCategoryValidator` with its `has_logs`: an API integration "has logs" when
    // its README has a `# logs` or `# log collection` heading (any level, any case).
    let readme_logs =
        f.c.folder
            .text(super::README)
            .and_then(Result::ok)
            .is_some_and(|text| {
                let text = text.to_lowercase();
                text.contains("# log collection") || text.contains("# logs")
            });
    let logs_tag = f
        .manifest
        .at(&["tile", "classifier_tags"])
        .and_then(Json::as_array)
        .is_some_and(|tags| {
            tags.iter()
                .any(|t| t.as_str() == Some(vocabulary::LOG_COLLECTION))
        });
    if readme_logs != logs_tag {
        let message = if readme_logs {
            "README.md has a logs heading but tile.classifier_tags lacks \
             \"Category::Log Collection\" (ddev's LogsCategoryValidator wants both or neither)"
        } else {
            "tile.classifier_tags has \"Category::Log Collection\" but README.md has no `### Logs` \
             heading (ddev's LogsCategoryValidator wants both or neither)"
        };
        f.c.error(Rule::LogsCategory, MANIFEST, message);
    }
}

fn check_media(c: &mut Checker<'_>, media: &[Json]) {
    let error = |c: &mut Checker<'_>, message: String| c.error(Rule::TileMedia, MANIFEST, message);
    if media.len() > MAX_MEDIA {
        error(
            c,
            format!(
                "tile.media has {} items; the limit is {MAX_MEDIA}",
                media.len()
            ),
        );
    }
    let videos = media
        .iter()
        .filter(|m| m.str_at(&["media_type"]) == Some("video"))
        .count();
    if videos > 1 {
        error(c, format!("tile.media has {videos} videos; the limit is 1"));
    }
    for (i, item) in media.iter().enumerate() {
        let at = format!("tile.media[{i}]");
        let kind = item.str_at(&["media_type"]);
        if !matches!(kind, Some("image" | "video")) {
            error(c, format!("{at}.media_type must be \"image\" or \"video\""));
        }
        match item.str_at(&["caption"]) {
            None => error(c, format!("{at}.caption is missing")),
            Some(caption) if caption.chars().count() > MAX_CAPTION => error(
                c,
                format!(
                    "{at}.caption is {} characters; the limit is {MAX_CAPTION}",
                    caption.chars().count()
                ),
            ),
            Some(_) => {}
        }
        match item.str_at(&["image_url"]) {
            None => error(c, format!("{at}.image_url is missing")),
            Some(url) => {
                let lower = url.to_ascii_lowercase();
                if !(lower.contains(".png") || lower.contains(".jpg")) {
                    error(
                        c,
                        format!("{at}.image_url `{url}` is not a .png or .jpg image"),
                    );
                } else if url.contains("://") || url.starts_with('/') {
                    error(
                        c,
                        format!(
                            "{at}.image_url `{url}` must be relative to the folder (images/...)"
                        ),
                    );
                } else {
                    match c.folder.get(url) {
                        None => error(c, format!("{at}.image_url `{url}` is not in the folder")),
                        Some(bytes) if bytes.len() >= MAX_IMAGE_BYTES => error(
                            c,
                            format!(
                                "{at}.image_url `{url}` is {} bytes; images must be under \
                                 1,000,000",
                                bytes.len()
                            ),
                        ),
                        Some(_) => {}
                    }
                }
            }
        }
        if kind == Some("video")
            && item
                .at(&["vimeo_id"])
                .and_then(Json::as_number)
                .is_none_or(|n| !n.is_u64())
        {
            error(
                c,
                format!("{at}.vimeo_id must be the video's Vimeo id, an integer"),
            );
        }
    }
}

fn check_tags(c: &mut Checker<'_>, tags: &[Json]) {
    let mut seen = Vec::new();
    for tag in tags {
        let Some(tag) = tag.as_str() else {
            c.error(
                Rule::ManifestType,
                MANIFEST,
                format!(
                    "tile.classifier_tags holds {}; it must hold strings",
                    tag.kind()
                ),
            );
            continue;
        };
        if seen.contains(&tag) {
            c.error(
                Rule::ClassifierTags,
                MANIFEST,
                format!("tile.classifier_tags lists `{tag}` twice"),
            );
            continue;
        }
        seen.push(tag);
        match vocabulary::classifier_tag(tag) {
            TagCheck::Accepted => {}
            TagCheck::Doubtful(why) => c.warning(
                Rule::ClassifierTags,
                MANIFEST,
                format!("tile.classifier_tags: {why}"),
            ),
            TagCheck::Refused(why) => c.error(
                Rule::ClassifierTags,
                MANIFEST,
                format!("tile.classifier_tags: {why}"),
            ),
        }
    }
}

fn check_assets(f: &mut Fields<'_, '_, '_>) {
    if f.object(&["assets", "integration"], false).is_some() {
        check_integration(f);
    } else if f.c.folder.contains(METADATA) {
        f.c.error(
            Rule::MetricsMetadata,
            METADATA,
            "is in the folder but the manifest has no assets.integration.metrics to name it",
        );
    }
    if let Some(path) = f.string(&["assets", "oauth"], false) {
        if path != OAUTH_CLIENTS {
            f.c.error(
                Rule::AssetPaths,
                MANIFEST,
                format!("assets.oauth is \"{path}\"; it must be \"{OAUTH_CLIENTS}\""),
            );
        }
        if !f.c.folder.contains(path) {
            f.c.error(
                Rule::FileMissing,
                path,
                "is missing; assets.oauth points to it (the OAuth client Datadog shows on the \
                 Developer Platform's Publishing tab)",
            );
        }
    }
    let app_uuid = f.manifest.str_at(&["app_uuid"]);
    for kind in ["dashboards", "monitors", "saved_views"] {
        let Some(map) = f.object(&["assets", kind], false) else {
            continue;
        };
        if map.keys().next().is_none() {
            f.c.error(
                Rule::AssetsEmpty,
                MANIFEST,
                format!("assets.{kind} is empty; remove it until there is one to list"),
            );
        }
        for (key, value) in map.iter() {
            let Some(path) = value.as_str() else {
                f.c.error(
                    Rule::ManifestType,
                    MANIFEST,
                    format!(
                        "assets.{kind}[\"{key}\"] is {}; it must be a path",
                        value.kind()
                    ),
                );
                continue;
            };
            if path.starts_with('/') || path.contains("://") || path.split('/').any(|s| s == "..") {
                f.c.error(
                    Rule::AssetPaths,
                    MANIFEST,
                    format!(
                        "assets.{kind}[\"{key}\"] is `{path}`; it must be a path inside the \
                         folder (assets/{kind}/...)"
                    ),
                );
                continue;
            }
            if f.c.folder.contains(path) {
                let parsed = f.c.json(path);
                if kind == "dashboards"
                    && let Some(dashboard) = parsed
                {
                    super::dashboard::check(f.c, key, path, &dashboard, app_uuid);
                }
            } else {
                f.c.error(
                    Rule::FileMissing,
                    path,
                    format!("is missing; assets.{kind}[\"{key}\"] points to it"),
                );
            }
        }
    }
    if f.object(&["assets", "logs"], false).is_some() {
        f.string(&["assets", "logs", "source"], true);
    }
    let dashboards = f
        .manifest
        .at(&["assets", "dashboards"])
        .and_then(Json::as_object)
        .is_some_and(|d| d.keys().next().is_some());
    if !dashboards {
        f.c.warning(
            Rule::RecommendedAssets,
            MANIFEST,
            "assets.dashboards lists no dashboard; Datadog's docs ask every integration for one: \
             build it in Datadog, export its JSON into assets/dashboards/ and list it here",
        );
    }
    let logo =
        f.c.folder
            .paths()
            .any(|p| p.starts_with("assets/") && p.to_ascii_lowercase().ends_with(".svg"));
    if !logo {
        f.c.warning(
            Rule::RecommendedAssets,
            MANIFEST,
            "the folder has no SVG logo; Datadog's docs ask for one in assets/logos/",
        );
    }
}

fn check_integration(f: &mut Fields<'_, '_, '_>) {
    const AT: [&str; 2] = ["assets", "integration"];
    let path = |key: &'static str| [AT[0], AT[1], key];
    f.bool(&path("auto_install"), true);
    if let Some(id) = f.get(&path("source_type_id"), true) {
        let positive = id
            .as_number()
            .and_then(serde_json::Number::as_u64)
            .is_some_and(|n| n > 0);
        if !positive {
            f.c.error(
                Rule::SourceTypeId,
                MANIFEST,
                format!(
                    "assets.integration.source_type_id is {}; it must be a positive integer",
                    serde_json::to_string(id).unwrap_or_default()
                ),
            );
        }
    }
    f.text(Rule::SourceTypeName, &path("source_type_name"));
    f.object(&path("configuration"), true);
    if f.object(&path("events"), true).is_some() {
        f.bool(&["assets", "integration", "events", "creates_events"], true);
    }
    let metadata_path = if f.object(&path("metrics"), false).is_some() {
        let metrics = |key| ["assets", "integration", "metrics", key];
        if let Some(prefix) = f.string(&metrics("prefix"), true)
            && !prefix.ends_with('.')
        {
            f.c.warning(
                Rule::MetricsPrefix,
                MANIFEST,
                format!(
                    "assets.integration.metrics.prefix \"{prefix}\" does not end with `.` \
                     (write \"{prefix}.\")"
                ),
            );
        }
        f.typed(
            &metrics("check"),
            true,
            "a metric name or a list of them",
            |v| match v {
                Json::String(_) => Some(()),
                Json::Array(items) => items.iter().all(|i| i.as_str().is_some()).then_some(()),
                _ => None,
            },
        );
        f.string(&metrics("metadata_path"), true)
    } else {
        None
    };
    match metadata_path {
        Some(path) if !f.c.folder.contains(path) => f.c.error(
            Rule::FileMissing,
            path,
            "is missing; assets.integration.metrics.metadata_path points to it",
        ),
        None if f.c.folder.contains(METADATA) => f.c.error(
            Rule::MetricsMetadata,
            METADATA,
            "is in the folder but assets.integration.metrics.metadata_path does not name it",
        ),
        _ => {}
    }
    if f.object(&path("service_checks"), true).is_some()
        && let Some(path) = f.string(
            &["assets", "integration", "service_checks", "metadata_path"],
            false,
        )
        && !f.c.folder.contains(path)
    {
        f.c.error(
            Rule::FileMissing,
            path,
            "is missing; assets.integration.service_checks.metadata_path points to it (write \
             `[]` when there are no service checks)",
        );
    }
}

fn check_author(f: &mut Fields<'_, '_, '_>, marketplace: bool) {
    f.text(Rule::ManifestRequired, &["author", "name"]);
    for key in ["homepage", "contact_link"] {
        if let Some(url) = f.string(&["author", key], key == "homepage")
            && !vocabulary::is_web_url(url)
        {
            f.c.error(
                Rule::AuthorUrl,
                MANIFEST,
                format!("author.{key} `{url}` is not an absolute http(s) URL"),
            );
        }
    }
    if f.manifest.at(&["author", "sales_email"]).is_none() {
        // fauna was merged without one.
        f.c.warning(
            Rule::ManifestRequired,
            MANIFEST,
            "author.sales_email is missing; Datadog's docs ask for it",
        );
    }
    for key in ["support_email", "sales_email"] {
        if let Some(email) = f.string(&["author", key], key == "support_email")
            && !vocabulary::is_email(email)
        {
            f.c.error(
                Rule::AuthorEmail,
                MANIFEST,
                format!("author.{key} `{email}` is not an ASCII e-mail address"),
            );
        }
    }
    match f.string(&["author", "vendor_id"], false) {
        Some(vendor) => {
            let problem = if marketplace {
                dd_integration_facts::names::marketplace_vendor_id(vendor)
                    .err()
                    .map(|e| format!("`{vendor}` {e}"))
            } else {
                vocabulary::app_id_problem(vendor)
            };
            if let Some(problem) = problem {
                f.c.error(
                    Rule::VendorId,
                    MANIFEST,
                    format!("author.vendor_id {problem}"),
                );
            }
        }
        None if marketplace => f.c.error(
            Rule::VendorId,
            MANIFEST,
            "author.vendor_id is missing; a Marketplace listing (one with pricing) needs it",
        ),
        None => {}
    }
}
