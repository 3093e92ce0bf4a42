//! Every rule the attribute macro or the submission validator enforces, each with its source.
//!
//! One [`Rule`] a rule: its stable id, the [`Source`] that makes it Datadog's (a ddev validator,
//! the `datadog-assets` pull-request check, Datadog's docs, its OAuth server), and the most a
//! finding under it can be ([`Rule::severity`]). A rule whose source is only a convention the SDK
//! believes ([`Source::Convention`]) is a warning and never an error: `Rule::severity` cannot
//! say otherwise, and the validator demotes anything stronger. The table in `docs/rules.md` is
//! generated from [`Rule::ALL`] by `cargo xtask codegen`.

use std::fmt;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Datadog's checks or reviewers refuse the folder: fix it before opening the pull request.
    Error,
    /// Datadog accepts it, but it is likely a mistake, or the folder is not ready yet.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a rule comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// A `ddev` command that integrations-extras CI runs (or reviewers run): `validate readmes`,
    /// `validate metadata`, `validate service-checks`, `create`.
    Ddev(&'static str),
    /// A manifest validator class shipped in `datadog-checks-dev` (40.0.1), the local copy of the
    /// rules the `datadog-assets` check applies.
    DdevLibrary(&'static str),
    /// The `datadog-assets` pull-request check: the manifest v2 schema, validated server side.
    AssetsCheck(&'static str),
    /// A script of integrations-extras CI.
    ExtrasCi(&'static str),
    /// Datadog's documentation for integration developers, which reviewers apply.
    Docs(&'static str),
    /// Datadog's OAuth 2.0 authorization server, as documented (and the RFC it follows).
    OAuth(&'static str),
    /// The SDK's own contract: the folder says what the running integration does.
    Sdk(&'static str),
    /// A convention the SDK believes but cannot source: never more than a warning.
    Convention(&'static str),
}

impl Source {
    /// The kind of source, as the rules table names it.
    pub const fn kind(self) -> &'static str {
        match self {
            Source::Ddev(_) => "ddev",
            Source::DdevLibrary(_) => "datadog-checks-dev",
            Source::AssetsCheck(_) => "datadog-assets check",
            Source::ExtrasCi(_) => "integrations-extras CI",
            Source::Docs(_) => "Datadog docs",
            Source::OAuth(_) => "Datadog OAuth",
            Source::Sdk(_) => "dd-integration",
            Source::Convention(_) => "convention",
        }
    }

    /// What exactly the source says.
    pub const fn detail(self) -> &'static str {
        match self {
            Source::Ddev(d)
            | Source::DdevLibrary(d)
            | Source::AssetsCheck(d)
            | Source::ExtrasCi(d)
            | Source::Docs(d)
            | Source::OAuth(d)
            | Source::Sdk(d)
            | Source::Convention(d) => d,
        }
    }

    /// Whether a rule from this source may refuse a folder: everything but a convention.
    pub const fn may_refuse(self) -> bool {
        !matches!(self, Source::Convention(_))
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind(), self.detail())
    }
}

macro_rules! rules {
    ($($(#[doc = $doc:literal])* $variant:ident = $id:literal, $severity:ident, $source:ident($detail:literal),)*) => {
        /// A rule of the submission files, as Datadog's checks (ddev, the `datadog-assets` pull
        /// request check) and reviewers apply them, plus the declaration-versus-folder checks.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum Rule {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Rule {
            /// Every rule, in the order `validate` applies them.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The rule's stable identifier (`manifest-tile-description`).
            pub const fn id(self) -> &'static str {
                match self {
                    $(Rule::$variant => $id,)*
                }
            }

            /// Where the rule comes from.
            pub const fn source(self) -> Source {
                match self {
                    $(Rule::$variant => Source::$source($detail),)*
                }
            }

            /// The most a finding under this rule can be: a rule from a convention is a warning.
            pub const fn severity(self) -> Severity {
                let declared = match self {
                    $(Rule::$variant => Severity::$severity,)*
                };
                match (declared, self.source().may_refuse()) {
                    (Severity::Error, true) => Severity::Error,
                    _ => Severity::Warning,
                }
            }

            /// What the rule asks, in one paragraph (its documentation).
            pub fn summary(self) -> String {
                let lines: &[&str] = match self {
                    $(Rule::$variant => &[$($doc),*],)*
                };
                lines.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ")
            }
        }
    };
}

rules! {
    /// A file the folder needs is missing: manifest.json, README.md, the file `tile.changelog`
    /// names, the OAuth client file `assets.oauth` names, metadata.csv when `metrics` names it,
    /// service_checks.json when `service_checks` names it, and every dashboard, monitor and
    /// saved view the manifest lists.
    FileMissing = "file-missing", Error, AssetsCheck("the `datadog-assets` check loads every file the manifest names; datadog-checks-dev `ChangelogValidator` and `MetricsMetadataValidator`"),
    /// A JSON file does not parse (duplicate keys included), or a text file is not UTF-8.
    FileSyntax = "file-syntax", Error, AssetsCheck("the `datadog-assets` check parses each JSON file"),
    /// A required manifest field is missing (`app_uuid`, `tile.title`, `author.sales_email`,
    /// `assets`, ...).
    ManifestRequired = "manifest-required", Error, AssetsCheck("the `datadog-assets` check: \"Missing data for required field.\" (integrations-extras #1327, #1340, #2134)"),
    /// A manifest field has the wrong type (`display_on_public_website` must be a boolean).
    ManifestType = "manifest-type", Error, AssetsCheck("the `datadog-assets` check validates the manifest v2 schema server side"),
    /// A manifest key Datadog does not define (a typo, usually): a warning.
    ManifestUnknownKey = "manifest-unknown-key", Warning, Convention("a key no merged manifest uses is likely a typo"),
    /// `manifest_version` is `"2.0.0"`.
    ManifestVersion = "manifest-version", Error, AssetsCheck("the `datadog-assets` check validates manifest v2 (all 262 merged manifests are `2.0.0`)"),
    /// `app_uuid` is a lowercase 8-4-4-4-12 UUID.
    AppUuid = "manifest-app-uuid", Error, AssetsCheck("the `datadog-assets` check: `app_uuid` is a UUID, never reused"),
    /// `app_id` is kebab-case (`^[a-z0-9]+(-[a-z0-9]+)*$`) and does not start with `datadog`.
    AppId = "manifest-app-id", Error, Ddev("`ddev create` refuses names starting with `datadog`; every merged `app_id` matches the pattern"),
    /// The folder is named `app_id` with `_` for `-`: a warning.
    FolderName = "folder-name", Warning, Convention("247 of 262 merged folders are named so"),
    /// `display_on_public_website` is false: a warning (the tile stays hidden).
    DisplayOnPublicWebsite = "manifest-display-on-public-website", Warning, DdevLibrary("datadog-checks-dev `DisplayOnPublicValidator` warns when false"),
    /// `tile.overview`, `tile.configuration`, `tile.support`, `tile.uninstallation` and
    /// `tile.changelog` hold the values Datadog expects, and the README has each H2 they name.
    TileLinks = "manifest-tile-links", Error, Docs("Datadog docs, create_a_tile: the tile tabs show the README sections the manifest names"),
    /// `tile.uninstallation` is present when the integration publishes an OAuth client.
    TileUninstallation = "manifest-tile-uninstallation", Error, Docs("Datadog docs, oauth_for_integrations: an OAuth integration documents its uninstallation on the tile"),
    /// `tile.description` is not empty and at most 80 characters (70 on the Marketplace).
    TileDescription = "manifest-tile-description", Error, DdevLibrary("datadog-checks-dev `TileDescriptionValidator` (80, 70 on the Marketplace); 23 merged manifests pass over 80, so beyond 80 is a warning outside the Marketplace"),
    /// `tile.title` is not empty and at most 50 characters.
    TileTitle = "manifest-tile-title", Error, Docs("Datadog docs, create_a_tile: a title of at most 50 characters"),
    /// `tile.media`: at most 8 items and 1 video; `image` items point at a `.png` or `.jpg` in
    /// the folder under 1,000,000 bytes; `video` items have an integer `vimeo_id`; captions at
    /// most 300 characters.
    TileMedia = "manifest-tile-media", Error, DdevLibrary("datadog-checks-dev `MediaGalleryValidator`"),
    /// `tile.classifier_tags`: `Facet::Value` from the vocabulary Datadog accepts, each once;
    /// spellings Datadog documents but reviewers rename are errors with the accepted spelling.
    ClassifierTags = "manifest-classifier-tags", Error, AssetsCheck("the `datadog-assets` check accepts the vocabulary of Datadog docs and merged manifests; spellings the docs list but reviewers renamed are warnings"),
    /// `Category::Log Collection` is a tag exactly when README.md has a `# logs` or `# log collection`
    /// heading (ddev's `has_logs`).
    LogsCategory = "manifest-logs-category", Warning, DdevLibrary("no command runs it since ddev removed `validate manifest` (integrations-core #17019), and notion was merged against it; datadog-checks-dev `LogsCategoryValidator` with `has_logs`: the README has `# logs` or `# log collection` exactly when the tags have `Category::Log Collection`"),
    /// A dashboard the manifest lists has `description`, `template_variables` and `widgets`.
    DashboardFields = "dashboard-fields", Error, DdevLibrary("datadog-checks-dev `validate dashboards`: \"does not contain the required fields\"; integrations-extras CI left these checks to Datadog's asset publishing check in #2699, which applies them and more"),
    /// A dashboard is in the /dashboard format: `layout_type`, `title` or `created_at` at the
    /// top, or widgets with a `definition`.
    DashboardFormat = "dashboard-format", Error, DdevLibrary("datadog-checks-dev `validate dashboards`: \"is not using the new /dashboard payload format\""),
    /// Each widget's `definition.app_id`, where there is one, is the manifest's `app_uuid`.
    DashboardAppId = "dashboard-app-id", Error, DdevLibrary("datadog-checks-dev `validate dashboards`: \"does not contain correct app_uuid\" (manifest v2)"),
    /// A dashboard has no numeric top-level `id`.
    DashboardId = "dashboard-id", Error, AssetsCheck("the asset publishing check accepts only string dashboard ids: the numeric ids were removed from every integration dashboard for it (integrations-core #14409)"),
    /// A key of `assets.dashboards` starts with a letter and holds letters, digits, spaces, `-`
    /// and `_`, at most 255.
    DashboardKey = "dashboard-key", Error, AssetsCheck("the manifest schema's `assets.dashboards` pattern `^[a-zA-Z][a-zA-Z0-9-_ ]{0,254}` (integrations-extras #2650)"),
    /// A dashboard's title has no `-`: a warning.
    DashboardTitle = "dashboard-title", Warning, Docs("Datadog docs, create-an-integration-dashboard: avoid `-` in the title, as the URL is made from it; merged dashboards have one, so a warning"),
    /// `assets.dashboards`, `assets.monitors` and `assets.saved_views` are not empty maps.
    AssetsEmpty = "manifest-assets-empty", Error, AssetsCheck("the asset publishing check refuses an empty `monitors` or `saved_views` map (integrations-extras #2650: \"It just doesn't like empty values\")"),
    /// Log pipelines live under `assets/logs/` as `<name>.yaml`, each with its
    /// `<name>_tests.yaml`.
    LogPipelineFiles = "logs-pipeline-files", Error, ExtrasCi("integrations-extras CI tests each pipeline against its test file: \"Missing test file for this integration... Expected test file path\" (#2339, a `.yml` file); files outside assets/ are not tested (#2356)"),
    /// A log pipeline's and its test file's `id` is the manifest's `app_id`.
    LogPipelineId = "logs-pipeline-id", Error, Docs("Datadog docs, log_pipeline: \"Ensure that the id field matches the app_id field in your integration's manifest.json file\""),
    /// An integration that sends logs has a log pipeline: a warning.
    LogPipelineMissing = "logs-pipeline-missing", Warning, Docs("Datadog docs, log_pipeline: \"A log pipeline is required if your integration sends logs to Datadog\"; merged folders go without, so a warning"),
    /// A Marketplace listing's `pricing`: one billing type (`one_time`, `flat_fee`,
    /// `tag_count`), each entry with `unit_price`, `unit_label`, `product_id`,
    /// `includes_assets: true` and `short_description`, and for `tag_count` a `metric`
    /// `datadog.marketplace.<vendor>.<product>` and a `tag`.
    MarketplacePricing = "marketplace-pricing", Error, Docs("the Marketplace repository's README, Pricing: \"Limited to one_time, flat_fee, or tag_count. Only one billing type can be selected\"; `includes_assets` \"Always set to true\"; `metric` and `tag` \"Only Required for tag_count\""),
    /// A Marketplace listing's `app_id` is `<vendor_id>-<product_id>`.
    MarketplaceAppId = "marketplace-app-id", Error, Ddev("`ddev create` for the marketplace repository makes `app_id` `<vendor>-<product>`, and the Marketplace README's `product_id` is \"the second half of your app_id\""),
    /// A Marketplace listing's `legal_terms.eula` is a PDF in the folder.
    MarketplaceEula = "marketplace-eula", Error, Ddev("`ddev validate eula`: \"does not exist\", \"is missing the pdf extension\", \"is not a PDF file\""),
    /// `tile.resources`: each `resource_type` is blog, documentation, faq or other, with a URL.
    TileResources = "manifest-tile-resources", Error, AssetsCheck("the `datadog-assets` check: `resource_type` is blog, documentation, faq or other"),
    /// `assets.integration.source_type_id` is a positive integer.
    SourceTypeId = "manifest-source-type-id", Error, AssetsCheck("the `datadog-assets` check: `source_type_id` is a positive integer"),
    /// `assets.integration.source_type_name` is not empty.
    SourceTypeName = "manifest-source-type-name", Error, AssetsCheck("the `datadog-assets` check: `source_type_name` is required"),
    /// metadata.csv exists exactly when `assets.integration.metrics.metadata_path` names it.
    MetricsMetadata = "manifest-metrics-metadata", Error, DdevLibrary("datadog-checks-dev `MetricsMetadataValidator`"),
    /// Every `metrics.check` metric is in metadata.csv, and metadata.csv rows need a `check`.
    MetricsCheck = "manifest-metrics-check", Error, DdevLibrary("datadog-checks-dev `MetricToCheckValidator`"),
    /// `metrics.prefix` ends with `.`: a warning.
    MetricsPrefix = "manifest-metrics-prefix", Warning, Convention("172 of 190 merged prefixes end with `.`; the others passed"),
    /// A dashboard (`assets.dashboards`) and an SVG logo (`assets/logos/*.svg`), which Datadog's
    /// docs ask every integration for: a warning.
    RecommendedAssets = "manifest-recommended-assets", Warning, Docs("Datadog docs ask for a dashboard and an SVG logo; 110 of 262 merged manifests have no dashboard"),
    /// Asset paths (`assets.dashboards`, `assets.monitors`, `assets.saved_views`) are relative
    /// JSON files in the folder that parse; `assets.oauth` is `assets/oauth_clients.json`.
    AssetPaths = "manifest-asset-paths", Error, AssetsCheck("the `datadog-assets` check resolves each asset path in the folder"),
    /// `author.homepage` and `author.contact_link` are absolute http(s) URLs.
    AuthorUrl = "manifest-author-url", Error, AssetsCheck("the manifest schema: `author.homepage` starts with `http(s)://`"),
    /// `author.support_email` and `author.sales_email` are ASCII e-mail addresses.
    AuthorEmail = "manifest-author-email", Error, DdevLibrary("datadog-checks-dev `MaintainerValidator`: `support_email` is ASCII; the `datadog-assets` check requires both addresses"),
    /// `author.vendor_id`, when present (required on the Marketplace), follows the `app_id` rules.
    VendorId = "manifest-vendor-id", Error, Docs("Datadog docs, Marketplace: `vendor_id` is required, unique and immutable"),
    /// README.md has only ASCII characters.
    ReadmeAscii = "readme-ascii", Error, Ddev("`ddev validate readmes` (integrations-extras CI): no character above U+0100"),
    /// README.md has the H2 sections Overview, Setup, Uninstallation (for OAuth) and Support,
    /// none of them empty.
    ReadmeSections = "readme-sections", Error, Ddev("`ddev validate readmes`: `## Overview` and `## Setup` present and not empty (and, on the Marketplace, `## Support` and `## Uninstallation`); Datadog docs, oauth_for_integrations: `## Uninstallation` for an OAuth client"),
    /// README.md's H2 sections come in Datadog's order: Overview, Setup, Uninstallation, Data
    /// Collected, Troubleshooting, Support, Further Reading.
    ReadmeOrder = "readme-order", Warning, Convention("the order of Datadog docs, create_a_tile; no check enforces it"),
    /// `## Uninstallation` is a H2 (not a H3) that says uninstalling revokes the authorizations
    /// and links to the API Keys page to disable the integration's keys, filtered by its name.
    ReadmeUninstallation = "readme-uninstallation", Warning, Docs("Datadog docs, oauth_for_integrations: say that uninstalling revokes the authorizations and, for a client that creates API keys, how to disable them"),
    /// Images are served from `raw.githubusercontent.com/DataDog/<repo>/` and exist in `images/`.
    ReadmeImages = "readme-images", Error, Ddev("`ddev validate readmes`: each image is served from raw.githubusercontent.com/DataDog/<repo>/ and exists in `images/`"),
    /// Links are reference-style (`[text][1]`), every reference is defined, and the numbers
    /// follow the order of first use.
    ReadmeLinks = "readme-links", Warning, Convention("reference-style links are the docs site convention; no check enforces them"),
    /// No Hugo shortcodes the docs build refuses (`{{< tabs >}}`, `{{< code-block`, a
    /// `{{< site-region` outside a `<!-- partial ... partial -->` comment).
    ReadmeShortcodes = "readme-shortcodes", Error, ExtrasCi("integrations-extras CI, `.github/workflows/check_partials.py`"),
    /// The regions dd-integration writes (`<!-- dd-integration:begin NAME -->` ... `end`) are
    /// well formed, so that regeneration can find them.
    ReadmeRegions = "readme-regions", Error, Sdk("regeneration finds the regions it owns by these markers"),
    /// Data Collected has a subsection for the metrics and service checks the manifest lists.
    ReadmeDataCollected = "readme-data-collected", Warning, Convention("merged READMEs list what they collect; no check enforces it"),
    /// CHANGELOG.md starts with `# CHANGELOG - <title>` and each entry is `## x.y.z / YYYY-MM-DD`.
    Changelog = "changelog-format", Warning, Convention("the layout `ddev release` writes; `ChangelogValidator` checks only that the file exists"),
    /// oauth_clients.json is `{"integration": {...}}` with exactly id, name, description,
    /// client_role, onboarding_url, redirect_uris and scopes.
    OAuthClientShape = "oauth-client-shape", Error, Docs("Datadog docs, Developer Platform publishing: the exported `oauth_clients.json` (all 37 merged files have this shape)"),
    /// The OAuth client's `id` is the UUID Datadog issued (a warning while it is not issued yet).
    OAuthClientId = "oauth-client-id", Error, Docs("Datadog docs, Developer Platform publishing: the client id Datadog issued"),
    /// The OAuth client's `name` and `description` are set; `name` is the tile title.
    OAuthClientName = "oauth-client-name", Error, Docs("Datadog docs, Developer Platform publishing: the client has a name and a description (they differ from the tile in 16 and 36 of 37 merged folders)"),
    /// `client_role` is `integration`.
    OAuthClientRole = "oauth-client-role", Error, Docs("Datadog docs, Developer Platform publishing (every merged client is `integration`)"),
    /// `onboarding_url` and each of `redirect_uris` (at least one, each once) are absolute
    /// `https` URLs (`http` only on loopback).
    OAuthClientUrls = "oauth-client-urls", Error, OAuth("Datadog docs, oauth_for_integrations: https URLs; RFC 6749 §3.1.2: a redirect URI has no fragment"),
    /// `scopes` is a non-empty list of Datadog scope names, each once.
    OAuthClientScopes = "oauth-client-scopes", Error, OAuth("Datadog's authorization server grants only scope names it knows; a name outside the SDK's catalog is a warning"),
    /// An integration that sends data (metrics, events, service checks) requests
    /// `api_keys_write`: Datadog accepts data only with the marketplace API key.
    ApiKeyScope = "oauth-api-keys-write", Warning, Docs("Datadog docs, api_integration and oauth_for_integrations: data goes in with the marketplace API key, which needs `api_keys_write`; blink was merged creating events without it. The macro refuses `submits` without it (dd-integration: its intake sends with that key)"),
    /// metadata.csv has a header with the required columns and no unknown one, and every row
    /// has every column.
    MetadataColumns = "metadata-columns", Error, Ddev("`ddev validate metadata` (integrations-extras CI)"),
    /// metric_name, metric_type, orientation and integration are not empty.
    MetadataRequired = "metadata-required", Error, Ddev("`ddev validate metadata`"),
    /// metric_name is a normalized Datadog metric name, listed once, under the manifest's prefix.
    MetadataMetricName = "metadata-metric-name", Error, Ddev("`ddev validate metadata`"),
    /// metric_type is gauge, count or rate.
    MetadataMetricType = "metadata-metric-type", Error, Ddev("`ddev validate metadata`"),
    /// interval is empty or a whole number of seconds.
    MetadataInterval = "metadata-interval", Error, Ddev("`ddev validate metadata`"),
    /// unit_name and per_unit_name are Datadog unit names, and not a time per time.
    MetadataUnit = "metadata-unit", Error, Ddev("`ddev validate metadata`"),
    /// orientation is -1, 0 or 1.
    MetadataOrientation = "metadata-orientation", Error, Ddev("`ddev validate metadata`"),
    /// integration is the normalized `source_type_name` (`Mergify OAuth` -> `mergify_oauth`).
    MetadataIntegration = "metadata-integration", Error, Ddev("`ddev validate metadata`"),
    /// description has no `|` and at most 400 characters (empty: a warning).
    MetadataDescription = "metadata-description", Error, Ddev("`ddev validate metadata` (an empty description is its warning)"),
    /// Every metadata.csv value is ASCII.
    MetadataAscii = "metadata-ascii", Error, Ddev("`ddev validate metadata`"),
    /// curated_metric is empty or a `|`-separated subset of cpu and memory.
    MetadataCuratedMetric = "metadata-curated-metric", Error, Ddev("`ddev validate metadata`"),
    /// sample_tags is a comma-separated list of tag keys.
    MetadataSampleTags = "metadata-sample-tags", Error, Ddev("`ddev validate metadata`"),
    /// service_checks.json is an array of objects with exactly agent_version, integration,
    /// check, statuses, groups, name and description.
    ServiceChecksShape = "service-checks-shape", Error, Ddev("`ddev validate service-checks`, which reviewers run"),
    /// agent_version is `x.y.z`.
    ServiceCheckAgentVersion = "service-check-agent-version", Error, Ddev("`ddev validate service-checks`"),
    /// integration is exactly `source_type_name`.
    ServiceCheckIntegration = "service-check-integration", Error, Ddev("`ddev validate service-checks`"),
    /// check is a valid service check name, listed once.
    ServiceCheckName = "service-check-name", Error, Ddev("`ddev validate service-checks`"),
    /// statuses is a non-empty subset of ok, warning, critical and unknown.
    ServiceCheckStatuses = "service-check-statuses", Error, Ddev("`ddev validate service-checks`"),
    /// groups is a list of tag keys.
    ServiceCheckGroups = "service-check-groups", Error, Ddev("`ddev validate service-checks`"),
    /// name (the display name) and description are not empty, and names are unique.
    ServiceCheckText = "service-check-text", Error, Ddev("`ddev validate service-checks`"),
    /// The declaration's scopes are the OAuth client's scopes.
    DeclaredScopes = "declared-scopes", Error, Sdk("the scopes the running integration asks for are the ones the published client holds, or Datadog answers `invalid_scope`"),
    /// The declaration's redirect URIs are the OAuth client's (else Datadog answers "Mismatching
    /// redirect URI").
    DeclaredRedirectUris = "declared-redirect-uris", Error, OAuth("Datadog compares the redirect URI with the registered ones byte for byte: \"Mismatching redirect URI\""),
    /// The declaration's onboarding URL is the OAuth client's.
    DeclaredOnboardingUrl = "declared-onboarding-url", Error, Sdk("the tile sends customers to the published onboarding URL, which the running integration serves"),
    /// The declaration's `oauth_client_id` is the OAuth client's `id`.
    DeclaredClientId = "declared-client-id", Error, Sdk("the running integration authenticates as the published client"),
    /// An immutable field (`app_uuid`, `app_id`, `source_type_name`, `source_type_id`,
    /// `assets.integration.id`, dashboard, monitor and saved-view keys) differs between the
    /// declaration and the folder, or between a published version and the folder.
    Immutable = "immutable", Error, DdevLibrary("datadog-checks-dev `ImmutableAttributesValidator`; Datadog docs: ids and asset keys never change once merged"),
    /// A file the declaration owns differs from what it renders: the folder is stale.
    DeclaredFiles = "declared-files", Error, Sdk("the folder is rendered from the declaration: `cargo xtask manifest` brings it up to date"),
    /// The folder holds an id the declaration lacks (`app_uuid`, `source_type_id`,
    /// `oauth_client_id`): a warning to copy it into the declaration.
    Undeclared = "undeclared", Warning, Sdk("an id in the folder that the declaration should keep"),
    /// CHANGELOG.md has an entry for the declared version: a warning.
    ChangelogVersion = "changelog-version", Warning, Convention("`ddev release` adds an entry per version; no check enforces it"),
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// The rules table of `docs/rules.md`, in Markdown: one row a rule.
pub fn table() -> String {
    let mut out =
        String::from("| rule | what it asks | at most | source |\n| --- | --- | --- | --- |\n");
    for rule in Rule::ALL {
        let source = rule.source();
        out.push_str(&format!(
            "| `{}` | {} | {} | {}: {} |\n",
            rule.id(),
            rule.summary().replace('|', "\\|"),
            rule.severity(),
            source.kind(),
            source.detail().replace('|', "\\|"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_from_a_convention_is_never_an_error() {
        for rule in Rule::ALL {
            if !rule.source().may_refuse() {
                assert_eq!(rule.severity(), Severity::Warning, "{rule}");
            }
        }
        assert_eq!(Rule::ReadmeLinks.severity(), Severity::Warning);
        assert_eq!(Rule::ReadmeAscii.severity(), Severity::Error);
    }

    #[test]
    fn every_rule_has_an_id_a_summary_and_a_source() {
        let mut ids = std::collections::BTreeSet::new();
        for rule in Rule::ALL {
            assert!(ids.insert(rule.id()), "{rule} twice");
            assert!(!rule.summary().is_empty(), "{rule}");
            assert!(!rule.source().detail().is_empty(), "{rule}");
        }
        assert!(table().lines().count() == Rule::ALL.len() + 2);
    }
}
