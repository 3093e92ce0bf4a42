//! What `validate` reports: one [`Finding`] a broken rule, each naming its [`Rule`].

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

/// One problem in a submission folder.
///
/// Displays as one line: `manifest.json: tile.description is 93 characters; the limit is 80`,
/// or with a line number, `metadata.csv:3: metric_type `histogram` is not gauge, count or rate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// The rule broken.
    pub rule: Rule,
    /// The file, relative to the folder (`assets/oauth_clients.json`).
    pub file: String,
    /// The line in that file, where the rule is about one line.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl Finding {
    /// A finding; its file and message are made one printable line here, whatever folder
    /// text a rule quotes in them (a pull request's files could otherwise put newlines or
    /// terminal escapes into CI's output).
    pub(crate) fn error(rule: Rule, file: &str, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Error,
            rule,
            file: printable(file),
            line: None,
            message: printable(&message.into()),
        }
    }

    pub(crate) fn warning(rule: Rule, file: &str, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(rule, file, message)
        }
    }

    pub(crate) fn at_line(mut self, line: usize) -> Finding {
        self.line = Some(line);
        self
    }

    /// Whether this finding must be fixed before submitting.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// `text` with every control character escaped (`\n`, `\u{1b}`), so that it prints as one line.
fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

macro_rules! rules {
    ($($(#[doc = $doc:literal])* $variant:ident = $id:literal,)*) => {
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
        }
    };
}

rules! {
    /// A file the folder needs is missing: manifest.json, README.md, the file `tile.changelog`
    /// names, the OAuth client file `assets.oauth` names, metadata.csv when `metrics` names it,
    /// service_checks.json when `service_checks` names it, and every dashboard, monitor and
    /// saved view the manifest lists.
    FileMissing = "file-missing",
    /// A JSON file does not parse (duplicate keys included), or a text file is not UTF-8.
    FileSyntax = "file-syntax",
    /// A required manifest field is missing (`app_uuid`, `tile.title`, `author.sales_email`,
    /// `assets`, ...).
    ManifestRequired = "manifest-required",
    /// A manifest field has the wrong type (`display_on_public_website` must be a boolean).
    ManifestType = "manifest-type",
    /// A manifest key Datadog does not define (a typo, usually): a warning.
    ManifestUnknownKey = "manifest-unknown-key",
    /// `manifest_version` is `"2.0.0"`.
    ManifestVersion = "manifest-version",
    /// `app_uuid` is a lowercase 8-4-4-4-12 UUID.
    AppUuid = "manifest-app-uuid",
    /// `app_id` is kebab-case (`^[a-z0-9]+(-[a-z0-9]+)*$`) and does not start with `datadog`.
    AppId = "manifest-app-id",
    /// The folder is named `app_id` with `_` for `-`: a warning.
    FolderName = "folder-name",
    /// `display_on_public_website` is false: a warning (the tile stays hidden).
    DisplayOnPublicWebsite = "manifest-display-on-public-website",
    /// `tile.overview`, `tile.configuration`, `tile.support`, `tile.uninstallation` and
    /// `tile.changelog` hold the values Datadog expects, and the README has each H2 they name.
    TileLinks = "manifest-tile-links",
    /// `tile.uninstallation` is present when the integration publishes an OAuth client.
    TileUninstallation = "manifest-tile-uninstallation",
    /// `tile.description` is not empty and at most 80 characters (70 on the Marketplace).
    TileDescription = "manifest-tile-description",
    /// `tile.title` is not empty and at most 50 characters.
    TileTitle = "manifest-tile-title",
    /// `tile.media`: at most 8 items and 1 video; `image` items point at a `.png` or `.jpg` in
    /// the folder under 1,000,000 bytes; `video` items have an integer `vimeo_id`; captions at
    /// most 300 characters.
    TileMedia = "manifest-tile-media",
    /// `tile.classifier_tags`: `Facet::Value` from the vocabulary Datadog accepts, each once;
    /// spellings Datadog documents but reviewers rename are errors with the accepted spelling.
    ClassifierTags = "manifest-classifier-tags",
    /// `Category::Log Collection` is a tag exactly when the manifest has log assets.
    LogsCategory = "manifest-logs-category",
    /// `tile.resources`: each `resource_type` is blog, documentation, faq or other, with a URL.
    TileResources = "manifest-tile-resources",
    /// `assets.integration.source_type_id` is a positive integer.
    SourceTypeId = "manifest-source-type-id",
    /// `assets.integration.source_type_name` is not empty.
    SourceTypeName = "manifest-source-type-name",
    /// metadata.csv exists exactly when `assets.integration.metrics.metadata_path` names it.
    MetricsMetadata = "manifest-metrics-metadata",
    /// Every `metrics.check` metric is in metadata.csv, and metadata.csv rows need a `check`.
    MetricsCheck = "manifest-metrics-check",
    /// `metrics.prefix` ends with `.`: a warning.
    MetricsPrefix = "manifest-metrics-prefix",
    /// A dashboard (`assets.dashboards`) and an SVG logo (`assets/logos/*.svg`), which Datadog's
    /// docs ask every integration for: a warning.
    RecommendedAssets = "manifest-recommended-assets",
    /// Asset paths (`assets.dashboards`, `assets.monitors`, `assets.saved_views`) are relative
    /// JSON files in the folder that parse; `assets.oauth` is `assets/oauth_clients.json`.
    AssetPaths = "manifest-asset-paths",
    /// `author.homepage` and `author.contact_link` are absolute http(s) URLs.
    AuthorUrl = "manifest-author-url",
    /// `author.support_email` and `author.sales_email` are ASCII e-mail addresses.
    AuthorEmail = "manifest-author-email",
    /// `author.vendor_id`, when present (required on the Marketplace), follows the `app_id` rules.
    VendorId = "manifest-vendor-id",
    /// README.md has only ASCII characters.
    ReadmeAscii = "readme-ascii",
    /// README.md has the H2 sections Overview, Setup, Uninstallation (for OAuth) and Support,
    /// none of them empty.
    ReadmeSections = "readme-sections",
    /// README.md's H2 sections come in Datadog's order: Overview, Setup, Uninstallation, Data
    /// Collected, Troubleshooting, Support, Further Reading.
    ReadmeOrder = "readme-order",
    /// `## Uninstallation` is a H2 (not a H3) that says uninstalling revokes the authorizations
    /// and links to the API Keys page to disable the integration's keys, filtered by its name.
    ReadmeUninstallation = "readme-uninstallation",
    /// Images are served from `raw.githubusercontent.com/DataDog/<repo>/` and exist in `images/`.
    ReadmeImages = "readme-images",
    /// Links are reference-style (`[text][1]`), every reference is defined, and the numbers
    /// follow the order of first use.
    ReadmeLinks = "readme-links",
    /// No Hugo shortcodes the docs build refuses (`{{< tabs >}}`, `{{< code-block`, a
    /// `{{< site-region` outside a `<!-- partial ... partial -->` comment).
    ReadmeShortcodes = "readme-shortcodes",
    /// The regions dd-integration writes (`<!-- dd-integration:begin NAME -->` ... `end`) are
    /// well formed, so that regeneration can find them.
    ReadmeRegions = "readme-regions",
    /// Data Collected has a subsection for the metrics and service checks the manifest lists.
    ReadmeDataCollected = "readme-data-collected",
    /// CHANGELOG.md starts with `# CHANGELOG - <title>` and each entry is `## x.y.z / YYYY-MM-DD`.
    Changelog = "changelog-format",
    /// oauth_clients.json is `{"integration": {...}}` with exactly id, name, description,
    /// client_role, onboarding_url, redirect_uris and scopes.
    OAuthClientShape = "oauth-client-shape",
    /// The OAuth client's `id` is the UUID Datadog issued (a warning while it is not issued yet).
    OAuthClientId = "oauth-client-id",
    /// The OAuth client's `name` and `description` are set; `name` is the tile title.
    OAuthClientName = "oauth-client-name",
    /// `client_role` is `integration`.
    OAuthClientRole = "oauth-client-role",
    /// `onboarding_url` and each of `redirect_uris` (at least one, each once) are absolute
    /// `https` URLs (`http` only on loopback).
    OAuthClientUrls = "oauth-client-urls",
    /// `scopes` is a non-empty list of Datadog scope names, each once.
    OAuthClientScopes = "oauth-client-scopes",
    /// An integration that sends data (metrics, events, service checks) requests
    /// `api_keys_write`: Datadog accepts data only with the marketplace API key.
    ApiKeyScope = "oauth-api-keys-write",
    /// metadata.csv has a header with the required columns and no unknown one, and every row
    /// has every column.
    MetadataColumns = "metadata-columns",
    /// metric_name, metric_type, orientation and integration are not empty.
    MetadataRequired = "metadata-required",
    /// metric_name is a normalized Datadog metric name, listed once, under the manifest's prefix.
    MetadataMetricName = "metadata-metric-name",
    /// metric_type is gauge, count or rate.
    MetadataMetricType = "metadata-metric-type",
    /// interval is empty or a whole number of seconds.
    MetadataInterval = "metadata-interval",
    /// unit_name and per_unit_name are Datadog unit names, and not a time per time.
    MetadataUnit = "metadata-unit",
    /// orientation is -1, 0 or 1.
    MetadataOrientation = "metadata-orientation",
    /// integration is the normalized `source_type_name` (`Mergify OAuth` -> `mergify_oauth`).
    MetadataIntegration = "metadata-integration",
    /// description has no `|` and at most 400 characters (empty: a warning).
    MetadataDescription = "metadata-description",
    /// Every metadata.csv value is ASCII.
    MetadataAscii = "metadata-ascii",
    /// curated_metric is empty or a `|`-separated subset of cpu and memory.
    MetadataCuratedMetric = "metadata-curated-metric",
    /// sample_tags is a comma-separated list of tag keys.
    MetadataSampleTags = "metadata-sample-tags",
    /// service_checks.json is an array of objects with exactly agent_version, integration,
    /// check, statuses, groups, name and description.
    ServiceChecksShape = "service-checks-shape",
    /// agent_version is `x.y.z`.
    ServiceCheckAgentVersion = "service-check-agent-version",
    /// integration is exactly `source_type_name`.
    ServiceCheckIntegration = "service-check-integration",
    /// check is a valid service check name, listed once.
    ServiceCheckName = "service-check-name",
    /// statuses is a non-empty subset of ok, warning, critical and unknown.
    ServiceCheckStatuses = "service-check-statuses",
    /// groups is a list of tag keys.
    ServiceCheckGroups = "service-check-groups",
    /// name (the display name) and description are not empty, and names are unique.
    ServiceCheckText = "service-check-text",
    /// The declaration's scopes are the OAuth client's scopes.
    DeclaredScopes = "declared-scopes",
    /// The declaration's redirect URIs are the OAuth client's (else Datadog answers "Mismatching
    /// redirect URI").
    DeclaredRedirectUris = "declared-redirect-uris",
    /// The declaration's onboarding URL is the OAuth client's.
    DeclaredOnboardingUrl = "declared-onboarding-url",
    /// The declaration's `oauth_client_id` is the OAuth client's `id`.
    DeclaredClientId = "declared-client-id",
    /// An immutable field (`app_uuid`, `app_id`, `source_type_name`, `source_type_id`,
    /// `assets.integration.id`, dashboard, monitor and saved-view keys) differs between the
    /// declaration and the folder, or between a published version and the folder.
    Immutable = "immutable",
    /// A file the declaration owns differs from what it renders: the folder is stale.
    DeclaredFiles = "declared-files",
    /// The folder holds an id the declaration lacks (`app_uuid`, `source_type_id`,
    /// `oauth_client_id`): a warning to copy it into the declaration.
    Undeclared = "undeclared",
    /// CHANGELOG.md has an entry for the declared version: a warning.
    ChangelogVersion = "changelog-version",
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}
