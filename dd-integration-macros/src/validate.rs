//! Datadog's rules, applied to the parsed arguments: [`Args`] in, [`Integration`] out.
//!
//! Every rule that fails adds an error at the user's token and checking goes on, so that one
//! compile reports every mistake of a declaration. The model is built only when nothing failed.

use std::collections::HashSet;

use darling::error::Accumulator;
use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Ident, Item, ItemStruct, LitStr, Path};

use crate::attrs::{
    Args, AuthorArgs, EnvironmentArgs, Keyed, MarketplaceArgs, MetricArgs, PricingArgs,
    ResourceArgs, ServiceCheckArgs, error_at,
};
use crate::model::{
    Author, DataKind, Environment, Integration, Marketplace, Metric, Pricing, ServiceCheck, Warning,
};
use dd_integration_facts::vocabulary::{self, TagCheck};
use dd_integration_facts::{catalog, names, suggest, url};

/// The private scope that creates the marketplace API key, without which no data is accepted.
const API_KEYS_WRITE: &str = "api_keys_write";

/// What Cargo tells the macro about the package being compiled (`CARGO_PKG_*`): the defaults of
/// `description` and `author(name, homepage)`.
#[derive(Debug, Default, Clone)]
pub struct Package {
    pub description: Option<String>,
    pub authors: Option<String>,
    pub homepage: Option<String>,
    /// The directory of the package's Cargo.toml: where `metadata_csv = "..."` is read from.
    pub manifest_dir: Option<std::path::PathBuf>,
}

impl Package {
    /// From the environment Cargo sets for the crate being compiled.
    pub fn from_env() -> Package {
        let var = |name| {
            std::env::var(name)
                .ok()
                .filter(|v: &String| !v.trim().is_empty())
        };
        Package {
            description: var("CARGO_PKG_DESCRIPTION"),
            authors: var("CARGO_PKG_AUTHORS"),
            homepage: var("CARGO_PKG_HOMEPAGE"),
            manifest_dir: var("CARGO_MANIFEST_DIR").map(Into::into),
        }
    }

    /// The first author's name, without an `<e-mail>`.
    fn author_name(&self) -> Option<String> {
        let first = self.authors.as_deref()?.split(':').next()?;
        let name = first.split('<').next()?.trim();
        (!name.is_empty()).then(|| name.to_owned())
    }
}

/// The runtime crate's path when the declaration does not say `crate = ...`.
pub fn default_crate() -> Path {
    syn::parse_quote!(::dd_integration)
}

/// Checks the declaration on `item`; `None` when any rule failed (see `errors`).
pub fn validate(
    args: Args,
    item: &Item,
    package: &Package,
    errors: &mut Accumulator,
) -> Option<Integration> {
    let item = target(item, errors);
    let mut v = Validator {
        errors,
        failed: false,
        typos: args.typos.clone(),
        warnings: Vec::new(),
    };

    let name = v.name(args.name.as_ref());
    let app_id = v.app_id(args.app_id.as_ref(), args.name.as_ref(), name.as_deref());
    let app_uuid = v.optional(args.app_uuid.as_ref(), names::uuid);
    let description = v.description(args.description.as_ref(), package);
    let author = v.author(args.author.as_ref(), package);
    let mut classifier_tags = v.categories(args.categories.as_ref());
    let scopes = v.scopes(args.scopes.as_ref(), &args.uncatalogued_scopes);
    let redirect_uris = v.redirects(args.redirect.as_ref());
    let onboarding = v.onboarding(args.onboarding.as_ref());
    let mut warnings = v.default_origin(args.redirect.as_ref(), args.onboarding.as_ref());
    let environments = v.environments(&args.environments);
    let submits = v.submits(args.submits.as_ref());
    warnings.extend(v.api_key_rules(args.scopes.as_ref(), args.submits.as_ref(), &submits));
    let oauth_client_id = v.optional(args.oauth_client_id.as_ref(), names::uuid);
    let source_type_id = v.source_type_id(args.source_type_id.as_ref());
    let source_type_name = v.optional(args.source_type_name.as_ref(), names::display_text);
    let oauth_client_name = v.optional(args.oauth_client_name.as_ref(), names::display_text);
    let oauth_client_description =
        v.optional(args.oauth_client_description.as_ref(), names::display_text);
    let logs_source = v.logs_source(args.logs_source.as_ref(), &submits);
    let creates_events = args.creates_events.as_ref().is_some_and(|b| b.value.value);
    let metric_prefix = v.metric_prefix(
        args.metric_prefix.as_ref(),
        app_id.as_deref(),
        !args.metrics.is_empty() || args.metadata_csv.is_some(),
    );
    let mut metrics = v.metrics(&args.metrics, metric_prefix.as_deref(), &submits);
    let metadata_csv = v.metadata_csv(
        args.metadata_csv.as_ref(),
        package,
        metric_prefix.as_deref(),
        &submits,
        &mut metrics,
    );
    let metrics_check = v.metrics_check(args.metrics_check.as_ref(), &metrics);
    let service_checks = v.service_checks(&args.service_checks, &submits);
    let explicit_tags = v.explicit_tags(
        args.classifier_tags.as_ref(),
        args.categories.as_ref(),
        &submits,
    );
    if let Some(tags) = &explicit_tags {
        classifier_tags = tags
            .iter()
            .filter(|t| t.starts_with("Category::"))
            .cloned()
            .collect();
    }
    let resources = v.resources(&args.resources);
    let tile_support = v.optional(args.tile_support.as_ref(), tile_support);
    // The README's H2 sections the renderer writes; another anchor needs the partner's own
    // section (the validator's `manifest-tile-links` asks the README for it).
    if let (Some(anchor), Some(lit)) = (
        tile_support
            .as_deref()
            .and_then(|s| s.strip_prefix("README.md#")),
        &args.tile_support,
    ) && ![
        "Support",
        "Troubleshooting",
        "Overview",
        "Setup",
        "Uninstallation",
    ]
    .contains(&anchor)
    {
        v.warn(
            lit.value.span(),
            format!(
                "the README the SDK writes has no `## {anchor}`: add that section to README.md \
                 yourself, or point `tile_support` at `README.md#Support`"
            ),
        );
    }
    let flag = |b: &Option<Keyed<syn::LitBool>>| b.as_ref().map(|b| b.value.value);
    let auto_install = flag(&args.auto_install);
    let display_on_public_website = flag(&args.display_on_public_website);
    let starter_dashboard = flag(&args.starter_dashboard);
    let log_facets = v.log_facets(args.log_facets.as_ref(), &submits);
    let marketplace = args.marketplace.as_ref().and_then(|m| {
        v.marketplace(
            m,
            app_id.as_deref(),
            &description,
            &author,
            args.description.as_ref(),
        )
    });

    if v.failed {
        return None;
    }
    warnings.append(&mut v.warnings);
    Some(Integration {
        item: item?,
        krate: args.krate.map_or_else(default_crate, |k| k.value),
        name: name?,
        app_id: app_id?,
        app_uuid,
        description,
        author,
        classifier_tags,
        uncatalogued_scopes: args
            .uncatalogued_scopes
            .iter()
            .map(ToString::to_string)
            .collect(),
        scopes: scopes?,
        redirect_uris: redirect_uris?,
        onboarding_url: onboarding?,
        submits,
        oauth_client_id,
        source_type_id,
        source_type_name,
        oauth_client_name,
        oauth_client_description,
        logs_source,
        creates_events,
        metric_prefix,
        metrics,
        service_checks,
        environments,
        explicit_tags,
        resources,
        tile_support,
        metrics_check,
        auto_install,
        display_on_public_website,
        starter_dashboard,
        marketplace,
        log_facets,
        metadata_csv,
        warnings,
    })
}

/// `tile_support`: a README anchor, an e-mail address or a web page (merged tiles use all
/// three; RULES.md, `manifest-tile-links`).
fn tile_support(text: &str) -> Result<(), String> {
    if let Some(anchor) = text.strip_prefix("README.md#") {
        if anchor.is_empty() || anchor.contains(char::is_whitespace) {
            return Err("needs a heading after `README.md#` (`README.md#Support`)".to_owned());
        }
        return Ok(());
    }
    if names::email(text).is_ok() || names::homepage(text).is_ok() {
        return Ok(());
    }
    Err("is neither `README.md#<heading>`, an e-mail address nor an https URL".to_owned())
}

/// The origin of a URL that passed `url::check` (`https://acme.example:8443`), lowercase.
fn origin(text: &str) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        rest[..end].to_ascii_lowercase()
    ))
}

/// The struct the attribute is on; anything else is an error at the item's keyword.
pub fn target(item: &Item, errors: &mut Accumulator) -> Option<ItemStruct> {
    let (what, span) = match item {
        Item::Struct(s) if s.generics.params.is_empty() && s.generics.where_clause.is_none() => {
            return Some(s.clone());
        }
        Item::Struct(s) => {
            errors.push(error_at(
                s.generics.span(),
                format!(
                    "`{}` has generic parameters: an integration is one concrete type, so \
                     `#[datadog_integration]` goes on a struct without them",
                    s.ident
                ),
            ));
            return None;
        }
        Item::Enum(e) => ("an enum", e.enum_token.span),
        Item::Union(u) => ("a union", u.union_token.span),
        Item::Fn(f) => ("a function", f.sig.fn_token.span),
        Item::Trait(t) => ("a trait", t.trait_token.span),
        Item::Impl(i) => ("an impl block", i.impl_token.span),
        Item::Mod(m) => ("a module", m.mod_token.span),
        Item::Type(t) => ("a type alias", t.type_token.span),
        Item::Const(c) => ("a const", c.const_token.span),
        Item::Static(s) => ("a static", s.static_token.span),
        other => ("this item", first_span(other)),
    };
    errors.push(error_at(
        span,
        format!(
            "`#[datadog_integration]` goes on a struct, such as `pub struct AcmePager;`, not on \
             {what}"
        ),
    ));
    None
}

fn first_span(item: &Item) -> Span {
    item.to_token_stream()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}

struct Validator<'a> {
    errors: &'a mut Accumulator,
    failed: bool,
    /// Top-level keys an unknown key was taken for: already reported.
    typos: Vec<&'static str>,
    /// What Datadog accepts but is likely a mistake: compiled as warnings at the user's token.
    warnings: Vec<Warning>,
}

impl Validator<'_> {
    fn warn(&mut self, span: Span, message: impl Into<String>) {
        self.warnings.push(Warning {
            span,
            message: message.into(),
        });
    }

    fn error(&mut self, span: Span, message: impl std::fmt::Display) {
        self.failed = true;
        self.errors.push(error_at(span, message));
    }

    /// A required key that is absent: reported on the whole attribute, unless an unknown key
    /// was already reported as its misspelling.
    fn missing(&mut self, key: &str, what: &str) {
        if self.typos.contains(&key) {
            self.failed = true;
        } else {
            self.error(Span::call_site(), format!("missing `{key}`: {what}"));
        }
    }

    /// A required key of a nested list that is absent, reported on the list's key.
    fn missing_in(&mut self, list: &Ident, typos: &[&str], key: &str, message: &str) {
        if typos.contains(&key) {
            self.failed = true;
        } else {
            self.error(list.span(), message);
        }
    }

    /// An optional string checked by `check`.
    fn optional(
        &mut self,
        value: Option<&Keyed<LitStr>>,
        check: fn(&str) -> Result<(), String>,
    ) -> Option<String> {
        let lit = &value?.value;
        let text = lit.value();
        match check(&text) {
            Ok(()) => Some(text),
            Err(e) => {
                let key = &value?.key;
                let shown = if text.is_empty() {
                    String::new()
                } else {
                    format!(" `{text}`")
                };
                self.error(lit.span(), format!("`{key}`{shown} {e}"));
                None
            }
        }
    }

    fn name(&mut self, name: Option<&Keyed<LitStr>>) -> Option<String> {
        let Some(name) = name else {
            self.missing(
                "name",
                "add `name = \"...\"`, the display name (tile title and OAuth client name)",
            );
            return None;
        };
        let text = name.value.value();
        let len = text.chars().count();
        let problem = if text.trim().is_empty() {
            Some("is empty".to_owned())
        } else if text.trim() != text {
            Some("has leading or trailing spaces".to_owned())
        } else if text.chars().any(char::is_control) {
            Some("holds a control character".to_owned())
        } else if len > names::MAX_NAME {
            Some(format!(
                "is {len} characters long; Datadog allows {} for a tile title",
                names::MAX_NAME
            ))
        } else {
            None
        };
        match problem {
            Some(problem) => {
                self.error(name.value.span(), format!("`name` {problem}"));
                None
            }
            None => Some(text),
        }
    }

    fn app_id(
        &mut self,
        app_id: Option<&Keyed<LitStr>>,
        name: Option<&Keyed<LitStr>>,
        valid_name: Option<&str>,
    ) -> Option<String> {
        if app_id.is_some() {
            return self.optional(app_id, names::app_id);
        }
        let (name, valid_name) = (name?, valid_name?);
        let derived = names::kebab_case(valid_name);
        match derived.as_deref().map(|id| (id, names::app_id(id))) {
            Some((id, Ok(()))) => Some(id.to_owned()),
            Some((id, Err(e))) => {
                self.error(
                    name.value.span(),
                    format!(
                        "the `app_id` derived from `name`, `{id}`, {e}: set `app_id = \"...\"`"
                    ),
                );
                None
            }
            None => {
                self.error(
                    name.value.span(),
                    "no kebab-case `app_id` can be derived from this `name`: set \
                     `app_id = \"...\"` (lowercase ASCII letters, digits and dashes)",
                );
                None
            }
        }
    }

    /// The declared description, which must fit; else the package's, where it fits (a crate's
    /// description is often written for crates.io, longer than a tile's); else empty, which
    /// the submission checks report.
    fn description(&mut self, description: Option<&Keyed<LitStr>>, package: &Package) -> String {
        let Some(description) = description else {
            return package
                .description
                .as_deref()
                .map(str::trim)
                .filter(|d| d.chars().count() <= names::MAX_DESCRIPTION && !d.contains('\n'))
                .unwrap_or_default()
                .to_owned();
        };
        let text = description.value.value();
        let len = text.chars().count();
        if text.trim().is_empty() {
            // Datadog's check requires a tile description (RULES.md, `manifest-tile-description`).
            self.error(
                description.value.span(),
                "`description` is empty: say what the integration does in at most 80 characters \
                 (the tile shows it), or leave the key out to take Cargo.toml's `description`",
            );
        } else if len > names::MAX_DESCRIPTION {
            // Merged manifests pass with up to 113 characters: the tile cuts it, nothing
            // refuses it (RULES.md, `manifest-tile-description`).
            self.warn(
                description.value.span(),
                format!(
                    "`description` is {len} characters long; Datadog's docs allow {} for a tile \
                     description, and the tile cuts the rest",
                    names::MAX_DESCRIPTION
                ),
            );
        }
        text
    }

    fn author(&mut self, author: Option<&Keyed<AuthorArgs>>, package: &Package) -> Author {
        let args = author.map(|a| a.value.clone()).unwrap_or_default();
        let name = match &args.name {
            Some(name) if name.value.value().trim().is_empty() => {
                self.error(name.value.span(), "`author(name)` is empty");
                String::new()
            }
            Some(name) => name.value.value(),
            None => package.author_name().unwrap_or_default(),
        };
        let homepage = match &args.homepage {
            Some(_) => self
                .optional(args.homepage.as_ref(), names::homepage)
                .unwrap_or_default(),
            None => package
                .homepage
                .clone()
                .filter(|h| names::homepage(h).is_ok())
                .unwrap_or_default(),
        };
        Author {
            name,
            homepage,
            support_email: self
                .optional(args.support_email.as_ref(), names::email)
                .unwrap_or_default(),
            sales_email: self
                .optional(args.sales_email.as_ref(), names::email)
                .unwrap_or_default(),
            vendor_id: self.optional(args.vendor_id.as_ref(), names::app_id),
        }
    }

    /// `classifier_tags = [...]`: the tile's tags in full. Each is Datadog's vocabulary; the
    /// categories are among them, so `categories` is not also given.
    fn explicit_tags(
        &mut self,
        tags: Option<&Keyed<Vec<LitStr>>>,
        categories: Option<&Keyed<Vec<LitStr>>>,
        submits: &[DataKind],
    ) -> Option<Vec<String>> {
        let tags = tags?;
        if let Some(categories) = categories {
            self.error(
                categories.key.span(),
                "`categories` and `classifier_tags` are both given: with `classifier_tags`, \
                 write each category there as `\"Category::...\"` and remove `categories`",
            );
        }
        let mut out: Vec<String> = Vec::new();
        for lit in &tags.value {
            let tag = lit.value();
            match vocabulary::classifier_tag(&tag) {
                TagCheck::Refused(e) => self.error(lit.span(), e),
                _ if out.contains(&tag) => {
                    self.error(lit.span(), format!("the tag `{tag}` is listed twice"));
                }
                check => {
                    if let TagCheck::Doubtful(reason) = check {
                        self.warn(lit.span(), reason);
                    }
                    out.push(tag);
                }
            }
        }
        // ddev's `LogsCategoryValidator`: the README of an integration that sends logs has
        // `### Logs`, which asks for this category (RULES.md, `logs-category`).
        // Without the category, the rendered README has no `### Logs` (ddev wants both or
        // neither); merged integrations that send logs are listed either way.
        if submits.contains(&DataKind::Logs) && !out.iter().any(|t| t == vocabulary::LOG_COLLECTION)
        {
            self.warn(
                tags.key.span(),
                format!(
                    "the integration submits logs but `classifier_tags` lacks \
                     `\"{}\"`, so its README gets no `### Logs` section (ddev's \
                     LogsCategoryValidator pairs the two): add the tag to list its logs",
                    vocabulary::LOG_COLLECTION
                ),
            );
        }
        Some(out)
    }

    /// `marketplace(...)`: the Marketplace's own rules, where they differ from
    /// integrations-extras' (RULES.md: `manifest-vendor-id`, `marketplace-app-id`,
    /// `marketplace-pricing`, `marketplace-eula`, `manifest-tile-description`).
    fn marketplace(
        &mut self,
        listing: &Keyed<MarketplaceArgs>,
        app_id: Option<&str>,
        description: &str,
        author: &Author,
        description_lit: Option<&Keyed<LitStr>>,
    ) -> Option<Marketplace> {
        let args = &listing.value;
        let at = listing.key.span();
        let before = self.failed;
        self.failed = false;
        let vendor = match &author.vendor_id {
            None => {
                self.error(
                    at,
                    "a Marketplace listing needs `author(vendor_id = \"...\")`, the vendor id \
                     Datadog gave you (lowercase letters and dashes)",
                );
                None
            }
            Some(v) if names::marketplace_vendor_id(v).is_err() => {
                self.error(
                    at,
                    format!(
                        "the Marketplace's `vendor_id` holds only lowercase letters and dashes; \
                         `{v}` has others"
                    ),
                );
                None
            }
            Some(v) => Some(v.clone()),
        };
        if author.sales_email.is_empty() {
            self.error(
                at,
                "a Marketplace listing needs `author(sales_email = \"...\")`: Datadog sends \
                 subscription, trial and cancellation notices there",
            );
        }
        let len = description.chars().count();
        if len > names::MAX_DESCRIPTION_MARKETPLACE {
            self.error(
                description_lit.map_or(at, |d| d.value.span()),
                format!(
                    "`description` is {len} characters long; a Marketplace tile allows {}",
                    names::MAX_DESCRIPTION_MARKETPLACE
                ),
            );
        }
        let product_id = match &args.product_id {
            None => {
                self.missing_in(
                    &listing.key,
                    &args.typos,
                    "product_id",
                    "`marketplace(...)` needs `product_id = \"...\"`, the product half of \
                     `app_id`",
                );
                None
            }
            Some(_) => self.optional(args.product_id.as_ref(), names::app_id),
        };
        if let (Some(vendor), Some(product), Some(app_id)) = (&vendor, &product_id, app_id) {
            let wanted = format!("{vendor}-{product}");
            if app_id != wanted {
                self.error(
                    args.product_id.as_ref().map_or(at, |p| p.value.span()),
                    format!(
                        "a Marketplace `app_id` is `<vendor_id>-<product_id>`: add `app_id = \
                         \"{wanted}\"` (it is `{app_id}`)"
                    ),
                );
            }
        }
        let legal_terms = match &args.legal_terms {
            None => {
                self.missing_in(
                    &listing.key,
                    &args.typos,
                    "legal_terms",
                    "`marketplace(...)` needs `legal_terms = \"assets/eula.pdf\"`, the path of \
                     the End User License Agreement in the folder",
                );
                None
            }
            Some(_) => self.optional(args.legal_terms.as_ref(), |path| {
                if path.starts_with('/')
                    || path.contains("://")
                    || path.split('/').any(|s| s == "..")
                {
                    return Err("must be a path inside the folder (`assets/eula.pdf`)".to_owned());
                }
                if !path.ends_with(".pdf") {
                    return Err("must be a `.pdf` file (ddev `validate eula`)".to_owned());
                }
                Ok(())
            }),
        };
        if args.pricing.is_empty() {
            self.missing_in(
                &listing.key,
                &args.typos,
                "pricing",
                "`marketplace(...)` needs a `pricing(billing_type = ..., unit_price = ..., \
                 unit_label = \"...\", short_description = \"...\")`",
            );
        }
        let mut pricing = Vec::new();
        for entry in &args.pricing {
            pricing.extend(self.pricing(entry, vendor.as_deref(), product_id.as_deref()));
        }
        if let Some(first) = pricing.first()
            && pricing.iter().any(|p| p.billing_type != first.billing_type)
        {
            self.error(
                at,
                "a Marketplace listing has one billing type: its `pricing(...)` entries differ",
            );
        }
        let ok = !self.failed;
        self.failed |= before;
        if !ok {
            return None;
        }
        Some(Marketplace {
            product_id: product_id?,
            legal_terms: legal_terms?,
            pricing,
        })
    }

    fn pricing(
        &mut self,
        entry: &Keyed<PricingArgs>,
        vendor: Option<&str>,
        product: Option<&str>,
    ) -> Option<Pricing> {
        let args = &entry.value;
        for (present, key, what) in [
            (
                args.billing_type.is_some(),
                "billing_type",
                "`one_time`, `flat_fee` or `tag_count`",
            ),
            (
                args.unit_price.is_some(),
                "unit_price",
                "the price in US dollars",
            ),
            (
                args.unit_label.is_some(),
                "unit_label",
                "what a unit is (\"Host\")",
            ),
            (
                args.short_description.is_some(),
                "short_description",
                "a short description of the price",
            ),
        ] {
            if !present {
                self.missing_in(
                    &entry.key,
                    &args.typos,
                    key,
                    &format!("`pricing(...)` needs `{key}`: {what}"),
                );
            }
        }
        let billing_type = args.billing_type.as_ref().and_then(|b| {
            self.word(
                &b.value,
                "billing type",
                &[
                    ("one_time", "OneTime"),
                    ("flat_fee", "FlatFee"),
                    ("tag_count", "TagCount"),
                ],
                None,
            )
        });
        let unit_price = args.unit_price.as_ref().and_then(|p| {
            let text = match &p.value {
                syn::Lit::Int(i) => i.base10_digits().to_owned(),
                syn::Lit::Float(f) => f.base10_digits().to_owned(),
                _ => String::new(),
            };
            match text.parse::<f64>() {
                Ok(price) if price.is_finite() => {
                    if price <= 0.0 {
                        // No source says a price must be positive; a free listing is odd.
                        self.warn(
                            p.value.span(),
                            "`unit_price` is not a positive number of US dollars",
                        );
                    }
                    Some(text)
                }
                _ => {
                    self.error(p.value.span(), "`unit_price` is a number of US dollars");
                    None
                }
            }
        });
        let unit_label = self.optional(args.unit_label.as_ref(), non_empty);
        let short_description = self.optional(args.short_description.as_ref(), non_empty);
        let metric = self.optional(args.metric.as_ref(), |m| {
            names::metric_name(m)?;
            if !m.starts_with("datadog.marketplace.") {
                return Err("must be `datadog.marketplace.<vendor>.<product>`".to_owned());
            }
            Ok(())
        });
        let tag = self.optional(args.tag.as_ref(), |t| {
            if t.is_empty() || t.contains(char::is_whitespace) || t.contains(':') {
                return Err("is a tag key (`host`, `user`)".to_owned());
            }
            Ok(())
        });
        if billing_type == Some("TagCount") {
            if args.metric.is_none() {
                let hint = match (vendor, product) {
                    (Some(v), Some(p)) => format!("datadog.marketplace.{v}.{p}"),
                    _ => "datadog.marketplace.<vendor>.<product>".to_owned(),
                };
                self.error(
                    entry.key.span(),
                    format!(
                        "`billing_type = tag_count` needs `metric = \"{hint}\"`, the metering \
                         metric"
                    ),
                );
            }
            if args.tag.is_none() {
                self.error(
                    entry.key.span(),
                    "`billing_type = tag_count` needs `tag = \"...\"`, the tag whose values are \
                     billed",
                );
            }
        } else if billing_type.is_some() && (args.metric.is_some() || args.tag.is_some()) {
            // The Marketplace README requires them for tag_count only; elsewhere they are
            // unused: a warning.
            self.warn(
                entry.key.span(),
                "`metric` and `tag` are used by `billing_type = tag_count` only",
            );
        }
        Some(Pricing {
            billing_type: billing_type?,
            unit_price: unit_price?,
            unit_label: unit_label?,
            metric,
            tag,
            short_description: short_description?,
        })
    }

    /// `log_facets = [...]`: attribute paths of the integration's logs, each once; namespaced
    /// (`acme.job_id`) as Datadog's docs ask of a custom attribute before it is faceted.
    fn log_facets(
        &mut self,
        facets: Option<&Keyed<Vec<LitStr>>>,
        submits: &[DataKind],
    ) -> Vec<String> {
        let Some(facets) = facets else {
            return Vec::new();
        };
        if !submits.contains(&DataKind::Logs) {
            self.error(
                facets.key.span(),
                "`log_facets` names attributes of the integration's logs, but `submits` lacks \
                 `logs`: add it",
            );
        }
        let mut out: Vec<String> = Vec::new();
        for lit in &facets.value {
            let path = lit.value();
            let valid = !path.is_empty()
                && !path.starts_with('@')
                && path.split('.').all(|segment| {
                    !segment.is_empty()
                        && segment
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                });
            if !valid {
                self.error(
                    lit.span(),
                    format!(
                        "`{path}` is not a log attribute path: segments of letters, digits, `_` \
                         and `-`, joined by `.`, without the `@` of a query (`acme.job_id`)"
                    ),
                );
            } else if out.contains(&path) {
                self.error(lit.span(), format!("the facet `{path}` is listed twice"));
            } else {
                if !path.contains('.') {
                    self.warn(
                        lit.span(),
                        format!(
                            "`{path}` is not namespaced: Datadog's docs ask for \
                             `<integration>.{path}` before a custom attribute is faceted"
                        ),
                    );
                }
                out.push(path);
            }
        }
        out
    }

    /// `resource(type = ..., url = ...)`s.
    fn resources(&mut self, resources: &[Keyed<ResourceArgs>]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for resource in resources {
            let args = &resource.value;
            let kind = match &args.kind {
                None => {
                    self.missing_in(
                        &resource.key,
                        &args.typos,
                        "type",
                        "`resource(...)` needs `type = documentation`, `blog`, `faq` or `other`",
                    );
                    None
                }
                Some(kind) => self.word(
                    &kind.value,
                    "resource type",
                    &[
                        ("documentation", "documentation"),
                        ("blog", "blog"),
                        ("faq", "faq"),
                        ("other", "other"),
                    ],
                    None,
                ),
            };
            if args.url.is_none() {
                self.missing_in(
                    &resource.key,
                    &args.typos,
                    "url",
                    "`resource(...)` needs `url = \"https://...\"`",
                );
            }
            let url = self.optional(args.url.as_ref(), names::homepage);
            if let (Some(kind), Some(url)) = (kind, url) {
                out.push((kind.to_owned(), url));
            }
        }
        out
    }

    /// `metadata_csv = "..."`: the partner's own metadata.csv, read now and checked row by row
    /// like `metric(...)`; its metrics join the declared ones.
    fn metadata_csv(
        &mut self,
        path: Option<&Keyed<LitStr>>,
        package: &Package,
        prefix: Option<&str>,
        submits: &[DataKind],
        metrics: &mut Vec<Metric>,
    ) -> Option<String> {
        let keyed = path?;
        let lit = &keyed.value;
        let Some(dir) = &package.manifest_dir else {
            self.error(
                lit.span(),
                "`metadata_csv` needs Cargo (CARGO_MANIFEST_DIR is not set)",
            );
            return None;
        };
        let full = dir.join(lit.value());
        let text = match std::fs::read_to_string(&full) {
            Ok(text) => text,
            Err(e) => {
                self.error(
                    lit.span(),
                    format!(
                        "cannot read `{}` ({e}); the path is relative to the directory of \
                         Cargo.toml",
                        full.display()
                    ),
                );
                return None;
            }
        };
        if !submits.contains(&DataKind::Metrics) {
            self.error(
                keyed.key.span(),
                "`metadata_csv` declares metrics but `submits` lacks `metrics`: add it",
            );
        }
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(str::to_owned).collect(),
            Err(e) => {
                self.error(
                    lit.span(),
                    format!("`{}` is not valid CSV: {e}", lit.value()),
                );
                return None;
            }
        };
        // ddev `validate metadata`'s required columns.
        let missing: Vec<&str> = names::METADATA_REQUIRED_COLUMNS
            .iter()
            .copied()
            .filter(|column| !header.iter().any(|h| h == column))
            .collect();
        if !missing.is_empty() {
            self.error(
                lit.span(),
                format!(
                    "`{}` has no {} column{}, which ddev's `validate metadata` requires",
                    lit.value(),
                    missing.join(", "),
                    if missing.len() == 1 { "" } else { "s" }
                ),
            );
            return None;
        }
        let mut seen: HashSet<String> = metrics.iter().map(|m| m.name.clone()).collect();
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    self.error(
                        lit.span(),
                        format!("`{}` is not valid CSV: {e}", lit.value()),
                    );
                    return None;
                }
            };
            let line = record.position().map_or(0, csv::Position::line);
            let cell = |column: &str| {
                header
                    .iter()
                    .position(|h| h == column)
                    .and_then(|i| record.get(i))
                    .unwrap_or("")
                    .to_owned()
            };
            match metric_row(&cell, prefix) {
                Ok(metric) if !seen.insert(metric.name.clone()) => self.error(
                    lit.span(),
                    format!(
                        "{} line {line}: the metric `{}` is declared twice",
                        lit.value(),
                        metric.name
                    ),
                ),
                Ok(metric) => metrics.push(metric),
                Err(e) => self.error(lit.span(), format!("{} line {line}: {e}", lit.value())),
            }
        }
        Some(full.to_string_lossy().into_owned())
    }

    /// `metrics_check = [...]`: each a declared metric.
    fn metrics_check(
        &mut self,
        check: Option<&Keyed<Vec<LitStr>>>,
        metrics: &[Metric],
    ) -> Option<Vec<String>> {
        let check = check?;
        let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
        // datadog-checks-dev's `MetricToCheckValidator` (RULES.md, `manifest-metrics-check`),
        // which no command runs any more: a warning.
        if check.value.is_empty() && !names.is_empty() {
            self.warn(
                check.key.span(),
                "`metrics_check` is empty but metrics are declared: name at least one metric the \
                 integration always sends (Datadog shows the integration as working when it \
                 arrives)",
            );
        }
        let mut out: Vec<String> = Vec::new();
        for lit in &check.value {
            let name = lit.value();
            if !names.contains(&name.as_str()) {
                self.error(
                    lit.span(),
                    format!(
                        "`{name}` in `metrics_check` is not a declared metric{}",
                        match suggest::closest(&name, &names) {
                            Some(s) => format!("; did you mean `{s}`?"),
                            None => String::new(),
                        }
                    ),
                );
            } else if out.contains(&name) {
                self.error(lit.span(), format!("`{name}` is listed twice"));
            } else {
                out.push(name);
            }
        }
        Some(out)
    }

    fn categories(&mut self, categories: Option<&Keyed<Vec<LitStr>>>) -> Vec<String> {
        let mut tags = Vec::new();
        let mut seen = HashSet::new();
        for lit in categories.map_or(&[][..], |c| &c.value) {
            let value = lit.value();
            let check = vocabulary::category(&value);
            if let TagCheck::Refused(e) = check {
                self.error(lit.span(), e);
            } else if !seen.insert(value.clone()) {
                self.error(
                    lit.span(),
                    format!("the category `{value}` is listed twice"),
                );
            } else {
                if let TagCheck::Doubtful(reason) = check {
                    self.warn(lit.span(), reason);
                }
                tags.push(format!("Category::{value}"));
            }
        }
        tags
    }

    fn scopes(
        &mut self,
        scopes: Option<&Keyed<Vec<Ident>>>,
        uncatalogued: &[Ident],
    ) -> Option<Vec<Ident>> {
        let Some(scopes) = scopes else {
            self.missing(
                "scopes",
                "add `scopes = [...]`, the Datadog OAuth scopes the integration requests, such \
                 as `scopes = [monitors_read]`",
            );
            return None;
        };
        if scopes.value.is_empty() {
            self.error(
                scopes.key.span(),
                "`scopes` is empty: an integration requests at least one scope (`api_keys_write` \
                 to submit data, a `_read` scope to query Datadog)",
            );
            return None;
        }
        let mut seen: HashSet<String> = HashSet::new();
        let mut valid = Vec::new();
        for scope in &scopes.value {
            let name = scope.to_string();
            let known = catalog::SCOPES.binary_search(&name.as_str()).is_ok();
            let wrapped = uncatalogued.contains(scope);
            if wrapped && known {
                self.error(
                    scope.span(),
                    format!(
                        "`{name}` is in the SDK's catalog of Datadog scopes: write it without \
                         `uncatalogued(...)`"
                    ),
                );
            } else if wrapped {
                if let Err(e) = names::scope_name(&name) {
                    self.error(scope.span(), format!("`{name}` {e}"));
                    continue;
                }
                if !seen.insert(name.clone()) {
                    self.error(scope.span(), format!("the scope `{name}` is listed twice"));
                    continue;
                }
                self.warn(
                    scope.span(),
                    format!(
                        "`{name}` is not in the SDK's catalog of Datadog scopes; it is requested \
                         as written: make sure Datadog grants it (the scopes of your OAuth client \
                         in the Developer Platform), or it refuses the authorization"
                    ),
                );
                valid.push(scope.clone());
            } else if !known {
                let hint = suggest::scope(&name).map_or_else(
                    || {
                        format!(
                            " (see `dd_integration::Scope::catalog()`; a scope Datadog grants \
                             that the catalog lacks is written `uncatalogued({name})`)"
                        )
                    },
                    |s| format!("; did you mean `{s}`?"),
                );
                self.error(
                    scope.span(),
                    format!("unknown Datadog scope `{name}`{hint}"),
                );
            } else if !seen.insert(name.clone()) {
                self.error(scope.span(), format!("the scope `{name}` is listed twice"));
            } else {
                valid.push(scope.clone());
            }
        }
        Some(valid)
    }

    fn redirects(&mut self, redirect: Option<&Keyed<Vec<LitStr>>>) -> Option<Vec<String>> {
        let Some(redirect) = redirect else {
            self.missing(
                "redirect",
                "add `redirect = \"https://...\"`, the OAuth redirect URI (or a list: the \
                 testing and published clients may differ)",
            );
            return None;
        };
        if redirect.value.is_empty() {
            self.error(
                redirect.key.span(),
                "`redirect` is empty: give at least one URL",
            );
            return None;
        }
        let mut seen = HashSet::new();
        let mut uris = Vec::new();
        for lit in &redirect.value {
            let text = lit.value();
            if let Err(e) = url::check(&text).and_then(|_| url::sent_as_written(&text)) {
                self.error(lit.span(), format!("`redirect` `{text}` {e}"));
            } else if !seen.insert(text.clone()) {
                self.error(lit.span(), format!("the redirect `{text}` is listed twice"));
            } else {
                uris.push(text);
            }
        }
        Some(uris)
    }

    fn onboarding(&mut self, onboarding: Option<&Keyed<LitStr>>) -> Option<String> {
        if onboarding.is_none() {
            self.missing(
                "onboarding",
                "add `onboarding = \"https://...\"`, the URL the Datadog tile opens to connect \
                 an account",
            );
            return None;
        }
        self.optional(onboarding, |text| url::check_onboarding(text).map(drop))
    }

    /// The default deployment the SDK serves: the onboarding URL and a redirect URI on one
    /// origin, since the flow cookie set at onboarding reaches only a callback there. Redirect
    /// URIs on other hosts and domains are allowed (Datadog registers each one, and merged
    /// integrations list several domains); the SDK's own need is a warning here, with the fix,
    /// as it is no rule of Datadog's: an integration whose flow spans two origins declares
    /// the pair it serves as an `environment(...)` or picks it at run time.
    fn default_origin(
        &mut self,
        redirect: Option<&Keyed<Vec<LitStr>>>,
        onboarding: Option<&Keyed<LitStr>>,
    ) -> Vec<Warning> {
        let (Some(redirect), Some(onboarding)) = (redirect, onboarding) else {
            return Vec::new();
        };
        let text = onboarding.value.value();
        let Ok(checked) = url::check(&text) else {
            return Vec::new();
        };
        let Some(home) = origin(&text) else {
            return Vec::new();
        };
        let served = redirect.value.iter().any(|r| {
            let r = r.value();
            origin(&r).as_deref() == Some(home.as_str())
                || (checked.loopback && url::check(&r).is_ok_and(|u| u.loopback))
        });
        if served {
            return Vec::new();
        }
        vec![Warning {
            span: onboarding.value.span(),
            message: format!(
                "no `redirect` is on `{home}`, the onboarding URL's origin: the SDK's flow \
                 cookie, set at onboarding, reaches only a callback on that origin, so the \
                 installer will not build with these URLs. Add a redirect URI on `{home}`, or \
                 declare the pair the SDK serves: `environment(name = \"...\", onboarding = \
                 \"https://<host>/...\", redirect = \"https://<same host>/...\")`"
            ),
        }]
    }

    /// `environment(...)`s: a unique name, and an onboarding URL and a redirect URI that pass
    /// the top-level checks and share one origin.
    fn environments(&mut self, environments: &[Keyed<EnvironmentArgs>]) -> Vec<Environment> {
        let mut out: Vec<Environment> = Vec::new();
        for env in environments {
            let args = &env.value;
            let Some(name) = &args.name else {
                self.error(
                    env.key.span(),
                    "`environment(...)` needs `name = \"staging\"`, the name the installer picks \
                     it by (`InstallerBuilder::environment(\"staging\")`)",
                );
                continue;
            };
            let name_text = name.value.value();
            if name_text.is_empty()
                || name_text.len() > 32
                || !name_text
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            {
                self.error(
                    name.value.span(),
                    format!(
                        "the environment name `{name_text}` must be 1 to 32 characters of \
                         a-z, 0-9, `-` and `_`, such as `staging`"
                    ),
                );
                continue;
            }
            if out.iter().any(|e| e.name == name_text) {
                self.error(
                    name.value.span(),
                    format!("the environment `{name_text}` is declared twice"),
                );
                continue;
            }
            let (Some(redirect), Some(onboarding)) = (&args.redirect, &args.onboarding) else {
                self.error(
                    env.key.span(),
                    format!(
                        "`environment(name = \"{name_text}\", ...)` needs both `onboarding` and \
                         `redirect`, on one origin"
                    ),
                );
                continue;
            };
            let (r, o) = (redirect.value.value(), onboarding.value.value());
            if let Err(e) = url::check(&r).and_then(|_| url::sent_as_written(&r)) {
                self.error(redirect.value.span(), format!("`redirect` `{r}` {e}"));
                continue;
            }
            if let Err(e) = url::check_onboarding(&o) {
                self.error(onboarding.value.span(), format!("`onboarding` `{o}` {e}"));
                continue;
            }
            if origin(&r) != origin(&o) {
                self.error(
                    redirect.value.span(),
                    format!(
                        "the `{name_text}` environment's redirect `{r}` is not on its onboarding \
                         URL's origin `{}`: the SDK's flow cookie, set at onboarding, reaches \
                         only a callback on that origin. Put both on one host, such as `{}/...`",
                        origin(&o).unwrap_or_default(),
                        origin(&o).unwrap_or_default()
                    ),
                );
                continue;
            }
            out.push(Environment {
                name: name_text,
                redirect: r,
                onboarding: o,
            });
        }
        out
    }

    fn submits(&mut self, submits: Option<&Keyed<Vec<Ident>>>) -> Vec<DataKind> {
        let mut kinds = Vec::new();
        let names: Vec<&str> = DataKind::ALL.iter().map(|(name, _)| *name).collect();
        for ident in submits.map_or(&[][..], |s| &s.value) {
            let name = ident.to_string();
            match DataKind::ALL.iter().find(|(n, _)| *n == name) {
                Some((_, kind)) if kinds.contains(kind) => {
                    self.error(
                        ident.span(),
                        format!("`{name}` is listed twice in `submits`"),
                    );
                }
                Some((_, kind)) => kinds.push(*kind),
                None => {
                    let hint = match suggest::closest(&name, &names) {
                        Some(s) => format!("; did you mean `{s}`?"),
                        None => format!(" (one of {})", names.join(", ")),
                    };
                    self.error(
                        ident.span(),
                        format!("`{name}` is not a kind of data Datadog accepts{hint}"),
                    );
                }
            }
        }
        kinds
    }

    /// Data needs `api_keys_write` (an error); `api_keys_write` without data is a warning: the
    /// install would create a marketplace API key that nothing uses.
    fn api_key_rules(
        &mut self,
        scopes: Option<&Keyed<Vec<Ident>>>,
        submits: Option<&Keyed<Vec<Ident>>>,
        kinds: &[DataKind],
    ) -> Vec<Warning> {
        let Some(scopes) = scopes else {
            return Vec::new();
        };
        let key_scope = scopes.value.iter().find(|s| *s == API_KEYS_WRITE);
        match (key_scope, submits) {
            (None, Some(submits)) if !submits.value.is_empty() => {
                self.error(
                    submits.key.span(),
                    format!(
                        "`submits` needs `{API_KEYS_WRITE}` in `scopes`: Datadog accepts data \
                         only with the marketplace API key, which that scope creates"
                    ),
                );
                Vec::new()
            }
            (Some(scope), _) if kinds.is_empty() && submits.is_none_or(|s| s.value.is_empty()) => {
                vec![Warning {
                    span: scope.span(),
                    message: format!(
                        "`{API_KEYS_WRITE}` is declared but `submits` is empty: each install \
                         would create a marketplace API key that nothing uses; declare \
                         `submits = [...]` or remove `{API_KEYS_WRITE}`"
                    ),
                }]
            }
            _ => Vec::new(),
        }
    }

    fn source_type_id(&mut self, id: Option<&Keyed<syn::LitInt>>) -> Option<u32> {
        let lit = &id?.value;
        match lit.base10_parse::<u32>() {
            Ok(n) if n > 0 && lit.suffix().is_empty() => Some(n),
            _ => {
                self.error(
                    lit.span(),
                    "`source_type_id` is a positive integer below 2^32, without suffix (the \
                     number Datadog's scaffolding assigned)",
                );
                None
            }
        }
    }

    /// The declared prefix, or `<app_id with _>.` when metrics are declared without one.
    /// `logs_source`: a source name, only for an integration that submits logs.
    fn logs_source(
        &mut self,
        source: Option<&Keyed<LitStr>>,
        submits: &[DataKind],
    ) -> Option<String> {
        let keyed = source?;
        if !submits.contains(&DataKind::Logs) {
            self.error(
                keyed.key.span(),
                "`logs_source` names the source of the integration's logs, but `submits` lacks \
                 `logs`: add it, or remove `logs_source`",
            );
            return None;
        }
        self.optional(source, names::log_source)
    }

    fn metric_prefix(
        &mut self,
        prefix: Option<&Keyed<LitStr>>,
        app_id: Option<&str>,
        declares_metrics: bool,
    ) -> Option<String> {
        if let Some(keyed) = prefix {
            let text = keyed.value.value();
            // 18 of 190 merged prefixes have no trailing `.`: a warning, not an error
            // (RULES.md, `manifest-metrics-prefix`).
            if text.ends_with('.') {
                return self.optional(prefix, names::metric_prefix);
            }
            if let Err(e) = names::metric_name(&text) {
                self.error(keyed.value.span(), format!("`metric_prefix` `{text}` {e}"));
                return None;
            }
            self.warn(
                keyed.value.span(),
                format!(
                    "`metric_prefix` `{text}` does not end with `.`, as most do (`{text}.`): \
                     every declared metric must still start with it"
                ),
            );
            return Some(text);
        }
        if !declares_metrics {
            return None;
        }
        Some(format!("{}.", app_id?.replace('-', "_")))
    }

    fn metrics(
        &mut self,
        metrics: &[Keyed<MetricArgs>],
        prefix: Option<&str>,
        submits: &[DataKind],
    ) -> Vec<Metric> {
        if let Some(first) = metrics.first()
            && !submits.contains(&DataKind::Metrics)
        {
            self.error(
                first.key.span(),
                "a `metric(...)` is declared but `submits` lacks `metrics`: add it",
            );
        }
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for metric in metrics {
            if let Some(name) = &metric.value.name
                && !seen.insert(name.value.value())
            {
                self.error(
                    name.value.span(),
                    format!("the metric `{}` is declared twice", name.value.value()),
                );
                continue;
            }
            out.extend(self.metric(metric, prefix));
        }
        out
    }

    fn metric(&mut self, metric: &Keyed<MetricArgs>, prefix: Option<&str>) -> Option<Metric> {
        let args = &metric.value;
        let before = self.failed;
        self.failed = false;
        let name = match &args.name {
            None => {
                self.missing_in(
                    &metric.key,
                    &args.typos,
                    "name",
                    "`metric(...)` needs `name = \"...\"`, the full metric name",
                );
                None
            }
            Some(name) => {
                let text = name.value.value();
                match (names::metric_name(&text), prefix) {
                    (Err(e), _) => {
                        self.error(name.value.span(), format!("the metric name `{text}` {e}"));
                        None
                    }
                    (Ok(()), Some(prefix)) if !text.starts_with(prefix) => {
                        self.error(
                            name.value.span(),
                            format!(
                                "the metric name `{text}` does not start with the prefix \
                                 `{prefix}`: Datadog lists an integration's metrics under its \
                                 prefix"
                            ),
                        );
                        None
                    }
                    (Ok(()), _) => Some(text),
                }
            }
        };
        let metric_type = match &args.kind {
            None => {
                self.missing_in(
                    &metric.key,
                    &args.typos,
                    "type",
                    "`metric(...)` needs `type = gauge`, `count` or `rate`",
                );
                None
            }
            Some(kind) => self.word(
                &kind.value,
                "type",
                &[("gauge", "Gauge"), ("count", "Count"), ("rate", "Rate")],
                Some((
                    "distribution",
                    "metadata.csv accepts only `gauge`, `count` and `rate`",
                )),
            ),
        };
        let unit = self.optional(args.unit.as_ref(), names::unit);
        let per_unit = self.optional(args.per_unit.as_ref(), names::unit);
        if let (Some(u), Some(p), Some(lit)) = (&unit, &per_unit, &args.per_unit)
            && names::time_per_time(u, p)
        {
            self.error(
                lit.value.span(),
                format!("`{u}` per `{p}` is a time per time, which metadata.csv refuses: use `unit = \"fraction\"`"),
            );
        }
        let description = self
            .optional(args.description.as_ref(), |text| {
                names::csv_text(text)?;
                let len = text.chars().count();
                if len > names::MAX_METRIC_DESCRIPTION {
                    return Err(format!(
                        "is {len} characters long; metadata.csv allows {}",
                        names::MAX_METRIC_DESCRIPTION
                    ));
                }
                Ok(())
            })
            .unwrap_or_default();
        let orientation = match &args.orientation {
            None => Some("Neutral"),
            Some(o) => self.word(
                &o.value,
                "orientation",
                &[
                    ("higher_is_better", "HigherIsBetter"),
                    ("lower_is_better", "LowerIsBetter"),
                    ("neutral", "Neutral"),
                ],
                None,
            ),
        };
        let short_name = self.optional(args.short_name.as_ref(), names::csv_text);
        let interval = args
            .interval
            .as_ref()
            .and_then(|i| match i.value.base10_parse::<u32>() {
                Ok(seconds) if seconds > 0 => Some(seconds),
                _ => {
                    self.error(
                        i.value.span(),
                        "`interval` is the collection interval in seconds, a positive number",
                    );
                    None
                }
            });
        let mut sample_tags = Vec::new();
        for lit in args.sample_tags.as_ref().map_or(&[][..], |t| &t.value) {
            match sample_tag(&lit.value()) {
                Ok(()) => sample_tags.push(lit.value()),
                Err(e) => self.error(lit.span(), format!("`sample_tags` `{}` {e}", lit.value())),
            }
        }
        let mut curated_metric = Vec::new();
        for ident in args.curated_metric.as_ref().map_or(&[][..], |c| &c.value) {
            match self.word(
                ident,
                "curated type",
                &names::CURATED_METRIC_TYPES.map(|c| (c, c)),
                None,
            ) {
                Some(word) if curated_metric.contains(&word.to_owned()) => {
                    self.error(ident.span(), format!("`{word}` is listed twice"));
                }
                Some(word) => curated_metric.push(word.to_owned()),
                None => {}
            }
        }
        let ok = !self.failed;
        self.failed |= before;
        if !ok {
            return None;
        }
        Some(Metric {
            name: name?,
            metric_type: metric_type?,
            unit,
            per_unit,
            description,
            orientation: orientation?,
            short_name,
            interval,
            sample_tags,
            curated_metric,
        })
    }

    /// One of `choices` (as written, runtime variant); `refused` is a known word with the reason.
    fn word(
        &mut self,
        ident: &Ident,
        key: &str,
        choices: &[(&'static str, &'static str)],
        refused: Option<(&str, &str)>,
    ) -> Option<&'static str> {
        let text = ident.to_string();
        if let Some((_, variant)) = choices.iter().find(|(w, _)| *w == text) {
            return Some(variant);
        }
        let words: Vec<&str> = choices.iter().map(|(w, _)| *w).collect();
        let noun = if key.contains(' ') {
            key.to_owned()
        } else {
            format!("metric {key}")
        };
        let message = match refused {
            Some((word, reason)) if word == text => format!("`{key} = {text}`: {reason}"),
            _ => format!(
                "`{text}` is not a {noun}{}",
                match suggest::closest(&text, &words) {
                    Some(s) => format!("; did you mean `{s}`?"),
                    None => format!(" (one of {})", words.join(", ")),
                }
            ),
        };
        self.error(ident.span(), message);
        None
    }

    fn service_checks(
        &mut self,
        checks: &[Keyed<ServiceCheckArgs>],
        submits: &[DataKind],
    ) -> Vec<ServiceCheck> {
        if let Some(first) = checks.first()
            && !submits.contains(&DataKind::ServiceChecks)
        {
            self.error(
                first.key.span(),
                "a `service_check(...)` is declared but `submits` lacks `service_checks`: add it",
            );
        }
        let mut names_seen = HashSet::new();
        let mut titles_seen = HashSet::new();
        let mut out = Vec::new();
        for check in checks {
            let args = &check.value;
            let mut required = |field: &Option<Keyed<LitStr>>, key: &str, what: &str| {
                if field.is_none() {
                    self.missing_in(
                        &check.key,
                        &args.typos,
                        key,
                        &format!("`service_check(...)` needs `{key} = \"...\"`, {what}"),
                    );
                }
            };
            required(&args.name, "name", "the check name");
            required(&args.title, "title", "the name shown in Datadog");
            required(&args.description, "description", "what it checks");
            let mut statuses = Vec::new();
            for ident in args.statuses.as_ref().map_or(&[][..], |s| &s.value) {
                let choices = names::SERVICE_CHECK_STATUSES.map(|s| (s, s));
                match self.word(ident, "service check status", &choices, None) {
                    Some(word) if statuses.contains(&word.to_owned()) => {
                        self.error(ident.span(), format!("the status `{word}` is listed twice"));
                    }
                    Some(word) => statuses.push(word.to_owned()),
                    None => {}
                }
            }
            if let Some(list) = &args.statuses
                && list.value.is_empty()
            {
                self.error(
                    list.key.span(),
                    "`statuses` is empty; service_checks.json needs at least one (`[ok, critical]`)",
                );
            }
            if statuses.is_empty() {
                // All of them when none is declared.
                statuses = names::SERVICE_CHECK_STATUSES.map(str::to_owned).to_vec();
            }
            let name = self.optional(args.name.as_ref(), names::service_check_name);
            let title = self.optional(args.title.as_ref(), non_empty);
            let description = self.optional(args.description.as_ref(), non_empty);
            if let (Some(n), Some(lit)) = (&name, &args.name)
                && !names_seen.insert(n.clone())
            {
                self.error(
                    lit.value.span(),
                    format!("the service check `{n}` is declared twice"),
                );
                continue;
            }
            if let (Some(t), Some(lit)) = (&title, &args.title)
                && !titles_seen.insert(t.clone())
            {
                self.error(lit.value.span(), format!("the title `{t}` is used twice"));
                continue;
            }
            if let (Some(name), Some(title), Some(description)) = (name, title, description) {
                out.push(ServiceCheck {
                    name,
                    title,
                    description,
                    statuses,
                });
            }
        }
        out
    }
}

/// A tag key of metadata.csv's `sample_tags` (a comma-separated cell).
fn sample_tag(key: &str) -> Result<(), String> {
    if key.is_empty() || key.contains(',') || key.chars().any(char::is_whitespace) {
        return Err("is not a tag key (no commas, no whitespace, not empty)".to_owned());
    }
    names::csv_text(key)
}

/// One row of the partner's metadata.csv as a metric: the rules of `metric(...)`, by column.
fn metric_row(cell: &dyn Fn(&str) -> String, prefix: Option<&str>) -> Result<Metric, String> {
    let name = cell("metric_name");
    names::metric_name(&name).map_err(|e| format!("the metric name `{name}` {e}"))?;
    if let Some(prefix) = prefix
        && !name.starts_with(prefix)
    {
        return Err(format!(
            "the metric name `{name}` does not start with the prefix `{prefix}`"
        ));
    }
    let of = |what: &str, e: String| format!("`{name}`: {what} {e}");
    let metric_type = match cell("metric_type").as_str() {
        "gauge" => "Gauge",
        "count" => "Count",
        "rate" => "Rate",
        other => {
            return Err(of(
                "metric_type",
                format!("`{other}` is not `gauge`, `count` or `rate`"),
            ));
        }
    };
    let optional = |column: &str| Some(cell(column)).filter(|v| !v.is_empty());
    let unit = optional("unit_name");
    let per_unit = optional("per_unit_name");
    for u in unit.iter().chain(&per_unit) {
        names::unit(u).map_err(|e| of("unit", format!("`{u}` {e}")))?;
    }
    if let (Some(u), Some(p)) = (&unit, &per_unit)
        && names::time_per_time(u, p)
    {
        return Err(of(
            "unit",
            format!("`{u}` per `{p}` is a time per time: use `fraction`"),
        ));
    }
    let description = cell("description");
    names::csv_text(&description).map_err(|e| of("description", e))?;
    if description.chars().count() > names::MAX_METRIC_DESCRIPTION {
        return Err(of(
            "description",
            format!(
                "is longer than {} characters",
                names::MAX_METRIC_DESCRIPTION
            ),
        ));
    }
    let orientation = match cell("orientation").as_str() {
        "-1" => "LowerIsBetter",
        "0" => "Neutral",
        "1" => "HigherIsBetter",
        "" => return Err(of("orientation", "is empty; write -1, 0 or 1".to_owned())),
        other => return Err(of("orientation", format!("`{other}` is not -1, 0 or 1"))),
    };
    let short_name = optional("short_name");
    if let Some(short) = &short_name {
        names::csv_text(short).map_err(|e| of("short_name", e))?;
    }
    let interval = match optional("interval") {
        None => None,
        Some(text) => match text.parse::<u32>() {
            Ok(seconds) if seconds > 0 => Some(seconds),
            _ => {
                return Err(of(
                    "interval",
                    format!("`{text}` is not a number of seconds"),
                ));
            }
        },
    };
    let mut sample_tags = Vec::new();
    for key in cell("sample_tags")
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        sample_tag(key).map_err(|e| of("sample_tags", format!("`{key}` {e}")))?;
        sample_tags.push(key.to_owned());
    }
    let mut curated_metric = Vec::new();
    for kind in cell("curated_metric").split('|').filter(|k| !k.is_empty()) {
        if !names::CURATED_METRIC_TYPES.contains(&kind) || curated_metric.iter().any(|c| c == kind)
        {
            return Err(of(
                "curated_metric",
                format!("`{kind}` is not `cpu` or `memory`, each once"),
            ));
        }
        curated_metric.push(kind.to_owned());
    }
    Ok(Metric {
        name,
        metric_type,
        unit,
        per_unit,
        description,
        orientation,
        short_name,
        interval,
        sample_tags,
        curated_metric,
    })
}

fn non_empty(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        Err("is empty".into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proc_macro2::TokenStream;
    use quote::quote;

    use super::*;

    fn run(args: TokenStream, package: &Package) -> (Option<Integration>, Vec<String>) {
        let mut errors = darling::Error::accumulator();
        let parsed = Args::parse(args, &mut errors);
        let item: Item = syn::parse_quote!(
            pub struct Acme;
        );
        let model = validate(parsed, &item, package, &mut errors);
        let messages = errors
            .into_inner()
            .iter()
            .map(ToString::to_string)
            .collect();
        (model, messages)
    }

    fn check(args: TokenStream) -> (Option<Integration>, Vec<String>) {
        run(args, &Package::default())
    }

    fn errors_of(args: TokenStream) -> Vec<String> {
        let (model, errors) = check(args);
        assert!(model.is_none() || errors.is_empty());
        errors
    }

    fn model_of(args: TokenStream) -> Integration {
        let (model, errors) = check(args);
        assert!(errors.is_empty(), "{errors:?}");
        model.expect("a valid declaration")
    }

    fn minimal() -> TokenStream {
        quote! {
            name = "Acme Pager",
            scopes = [monitors_read],
            redirect = "https://acme.example/cb",
            onboarding = "https://acme.example/connect",
        }
    }

    #[test]
    fn minimal_declaration_derives_the_rest() {
        let (model, errors) = check(minimal());
        assert!(errors.is_empty(), "{errors:?}");
        let m = model.unwrap();
        assert_eq!(m.app_id, "acme-pager");
        assert_eq!(m.description, "");
        assert!(m.submits.is_empty() && m.metrics.is_empty() && m.warnings.is_empty());
        assert_eq!(m.metric_prefix, None);
        assert_eq!(m.krate.to_token_stream().to_string(), ":: dd_integration");
    }

    #[test]
    fn cargo_package_fills_description_and_author() {
        let package = Package {
            description: Some("Pages the on-call engineer.".into()),
            authors: Some("Acme Inc. <dev@acme.example>:Someone Else".into()),
            homepage: Some("https://acme.example".into()),
            manifest_dir: None,
        };
        let (model, errors) = run(minimal(), &package);
        assert!(errors.is_empty(), "{errors:?}");
        let m = model.unwrap();
        assert_eq!(m.description, "Pages the on-call engineer.");
        assert_eq!(m.author.name, "Acme Inc.");
        assert_eq!(m.author.homepage, "https://acme.example");
        assert_eq!(m.author.support_email, "");

        // A crate description too long for a tile is not used.
        let long = Package {
            description: Some("x".repeat(81)),
            ..Package::default()
        };
        let (model, errors) = run(minimal(), &long);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(model.unwrap().description, "");
    }

    #[test]
    fn missing_keys_are_named_with_what_they_are() {
        let errors = errors_of(quote!());
        assert_eq!(errors.len(), 4);
        assert!(errors[0].starts_with("missing `name`: add `name = \"...\"`"));
        assert!(errors[1].starts_with("missing `scopes`"));
        assert!(errors[2].starts_with("missing `redirect`"));
        assert!(errors[3].starts_with("missing `onboarding`"));
    }

    #[test]
    fn a_misspelt_key_is_not_also_missing() {
        let errors = errors_of(quote! {
            name = "Acme", scope = [api_keys_write], submits = [metrics],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/c",
            metric(nme = "acme.x", type = gauge),
        });
        assert_eq!(
            errors,
            [
                "unknown key `scope` in `#[datadog_integration]`; did you mean `scopes`?",
                "unknown key `nme` in `metric(...)`; did you mean `name`?",
            ]
        );
    }

    #[test]
    fn a_prefix_without_a_dot_and_an_uncatalogued_scope_are_warnings() {
        let model = model_of(quote! {
            name = "Acme", redirect = "https://acme.example/cb",
            onboarding = "https://acme.example/c",
            scopes = [api_keys_write, uncatalogued(mcp_read)],
            submits = [metrics],
            metric_prefix = "acme",
            metric(name = "acme.pages", type = gauge, description = "Pages."),
        });
        assert_eq!(model.metric_prefix.as_deref(), Some("acme"));
        assert_eq!(model.uncatalogued_scopes, ["mcp_read"]);
        let warnings: Vec<&str> = model.warnings.iter().map(|w| w.message.as_str()).collect();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("`mcp_read` is not in the SDK's catalog"))
        );
        assert!(warnings.iter().any(|w| w.contains("does not end with `.`")));
        let errors = errors_of(quote! {
            name = "Acme", redirect = "https://acme.example/cb",
            onboarding = "https://acme.example/c",
            scopes = [api_keys_write], submits = [metrics], metric_prefix = "1acme",
        });
        assert_eq!(
            errors,
            ["`metric_prefix` `1acme` does not start with a letter"]
        );
    }

    #[test]
    fn names_a_merged_folder_keeps_are_declared() {
        let model = model_of(quote! {
            name = "Acme", redirect = "https://acme.example/cb",
            onboarding = "https://acme.example/c",
            scopes = [api_keys_write], submits = [logs],
            source_type_name = "Acme Legacy",
            oauth_client_name = "Acme OAuth",
            oauth_client_description = "Reads monitors.",
            logs_source = "acme-evaluator",
        });
        assert_eq!(model.source_type_name.as_deref(), Some("Acme Legacy"));
        assert_eq!(model.oauth_client_name.as_deref(), Some("Acme OAuth"));
        assert_eq!(
            model.oauth_client_description.as_deref(),
            Some("Reads monitors.")
        );
        assert_eq!(model.logs_source.as_deref(), Some("acme-evaluator"));
        let errors = errors_of(quote! {
            name = "Acme", redirect = "https://acme.example/cb",
            onboarding = "https://acme.example/c",
            scopes = [monitors_read],
            source_type_name = " ", logs_source = "acme",
        });
        assert_eq!(
            errors,
            [
                "`source_type_name` ` ` is empty",
                "`logs_source` names the source of the integration's logs, but `submits` lacks \
                 `logs`: add it, or remove `logs_source`",
            ]
        );
    }

    #[test]
    fn unknown_and_duplicate_scopes() {
        let errors = errors_of(quote! {
            name = "Acme", redirect = "https://acme.example/cb",
            onboarding = "https://acme.example/c",
            scopes = [monitor_read, monitors_read, monitors_read, metrics_write],
        });
        assert_eq!(
            errors,
            [
                "unknown Datadog scope `monitor_read`; did you mean `monitors_read`?",
                "the scope `monitors_read` is listed twice",
                "unknown Datadog scope `metrics_write` (see `dd_integration::Scope::catalog()`; a \
                 scope Datadog grants that the catalog lacks is written \
                 `uncatalogued(metrics_write)`)",
            ]
        );
        let errors = errors_of(quote! {
            name = "Acme", redirect = "https://acme.example/cb",
            onboarding = "https://acme.example/c", scopes = [],
        });
        assert!(errors[0].starts_with("`scopes` is empty"));
    }

    #[test]
    fn submitting_needs_api_keys_write_and_the_reverse_warns() {
        let errors = errors_of(quote! {
            name = "Acme", redirect = "https://acme.example/cb",
            onboarding = "https://acme.example/c",
            scopes = [monitors_read], submits = [metrics, events],
        });
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("`submits` needs `api_keys_write` in `scopes`"));

        let (model, errors) = check(quote! {
            name = "Acme", redirect = "https://acme.example/cb",
            onboarding = "https://acme.example/c", scopes = [api_keys_write],
        });
        assert!(errors.is_empty());
        let warnings = model.unwrap().warnings;
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].message.contains("nothing uses"));

        let (model, errors) = check(quote! {
            name = "Acme", redirect = "https://acme.example/cb",
            onboarding = "https://acme.example/c", scopes = [api_keys_write], submits = [events],
        });
        assert!(errors.is_empty());
        assert!(model.unwrap().warnings.is_empty());
    }

    #[test]
    fn submits_names_kinds_of_data() {
        let errors = errors_of(quote! {
            name = "Acme", redirect = "https://acme.example/cb",
            onboarding = "https://acme.example/c",
            scopes = [api_keys_write], submits = [metric, traces, logs, logs],
        });
        assert_eq!(
            errors,
            [
                "`metric` is not a kind of data Datadog accepts; did you mean `metrics`?",
                "`traces` is not a kind of data Datadog accepts (one of metrics, logs, events, \
                 service_checks)",
                "`logs` is listed twice in `submits`",
            ]
        );
    }

    #[test]
    fn urls_follow_datadogs_rules_and_other_domains_are_allowed() {
        // Merged integrations register redirect URIs on a second domain (ably-dev.com beside
        // ably.com, notion.so beside notion.com): Datadog allows it, and so does the macro.
        let errors = errors_of(quote! {
            name = "Acme", scopes = [monitors_read],
            redirect = [
                "https://acme.example/cb",
                "https://staging.acme.example/cb",
                "http://localhost:3000/cb",
                "https://acme.example/cb",
                "https://other.example/cb",
                "http://acme.example/cb",
                "https://acme.example/cb#x",
            ],
            onboarding = "https://acme.example/connect",
        });
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert_eq!(
            errors[0],
            "the redirect `https://acme.example/cb` is listed twice"
        );
        assert!(errors[1].starts_with("`redirect` `http://acme.example/cb` uses http"));
        assert!(errors[2].starts_with("`redirect` `https://acme.example/cb#x` has a fragment"));
    }

    #[test]
    fn environments_pair_an_onboarding_url_and_a_redirect_on_one_origin() {
        let errors = errors_of(quote! {
            name = "Acme", scopes = [monitors_read],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/connect",
            environment(
                name = "staging",
                onboarding = "https://staging.acme.example/connect",
                redirect = "https://staging.acme.example/cb",
            ),
            environment(
                name = "preview",
                onboarding = "https://preview.acme.example/connect",
                redirect = "https://acme.example/cb",
            ),
            environment(name = "staging", onboarding = "https://x.example/c", redirect = "https://x.example/cb"),
            environment(name = "Bad Name", onboarding = "https://y.example/c", redirect = "https://y.example/cb"),
            environment(name = "half", onboarding = "https://z.example/c"),
        });
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(
            errors[0].starts_with(
                "the `preview` environment's redirect `https://acme.example/cb` is not on its \
                 onboarding URL's origin `https://preview.acme.example`"
            ),
            "{}",
            errors[0]
        );
        assert_eq!(errors[1], "the environment `staging` is declared twice");
        assert!(errors[2].starts_with("the environment name `Bad Name` must be"));
        assert!(errors[3].contains("needs both `onboarding` and `redirect`"));
    }

    #[test]
    fn a_default_onboarding_origin_without_a_redirect_there_is_a_warning_with_the_fix() {
        let args = quote! {
            name = "Acme", scopes = [monitors_read],
            redirect = ["https://www.acme.so/cb", "https://app.acme.example/cb"],
            onboarding = "https://integrations.acme.example/install",
        };
        assert!(
            errors_of(args.clone()).is_empty(),
            "a warning, not an error"
        );
        let model = model_of(args);
        assert_eq!(model.warnings.len(), 1);
        assert!(
            model.warnings[0].message.starts_with(
                "no `redirect` is on `https://integrations.acme.example`, the onboarding URL's origin"
            ),
            "{}",
            model.warnings[0].message
        );
        assert!(model.warnings[0].message.contains("environment(name"));
    }

    #[test]
    fn submission_fields_are_checked() {
        let errors = errors_of(quote! {
            name = "Acme", scopes = [monitors_read],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/c",
            app_id = "Acme_Pager",
            app_uuid = "not-a-uuid",
            description = "Pages the on-call engineer whenever a Datadog monitor fires, then keeps on paging.",
            oauth_client_id = "9A5B1C4E-2F3D-4E6A-8B7C-0D1E2F3A4B5C",
            source_type_id = 0,
            categories = ["Alerting", "Notifcations", "Alerting"],
            author(name = "Acme", homepage = "acme.example", support_email = "support"),
        });
        assert_eq!(
            errors,
            [
                "`app_id` `Acme_Pager` is not kebab-case: use lowercase letters, digits and \
                 single dashes, such as `acme-pager`",
                "`app_uuid` `not-a-uuid` is not a UUID: write it as 8-4-4-4-12 hex digits",
                "`homepage` `acme.example` is not an absolute URL: write `https://<host>`",
                "`support_email` `support` is not an e-mail address (ASCII, such as \
                 `support@acme.example`)",
                "`Notifcations` is not a Datadog category; did you mean `\"Notifications\"`?",
                "the category `Alerting` is listed twice",
                "`oauth_client_id` `9A5B1C4E-2F3D-4E6A-8B7C-0D1E2F3A4B5C` is in uppercase: \
                 Datadog uses the lowercase form `9a5b1c4e-2f3d-4e6a-8b7c-0d1e2f3a4b5c`",
                "`source_type_id` is a positive integer below 2^32, without suffix (the number \
                 Datadog's scaffolding assigned)",
            ]
        );
    }

    #[test]
    fn empty_submission_fields_are_errors_with_the_fix() {
        let errors = errors_of(quote! {
            name = "Acme", scopes = [monitors_read],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/c",
            description = " ",
            author(name = "", homepage = "", support_email = ""),
        });
        assert_eq!(
            errors,
            [
                "`description` is empty: say what the integration does in at most 80 characters \
                 (the tile shows it), or leave the key out to take Cargo.toml's `description`",
                "`author(name)` is empty",
                "`homepage` is not an absolute URL: write `https://<host>`",
                "`support_email` is not an e-mail address (ASCII, such as `support@acme.example`)",
            ]
        );
    }

    #[test]
    fn name_rules_and_derived_app_id() {
        let errors = errors_of(quote! {
            name = "An integration whose name is far too long for a tile",
            scopes = [monitors_read],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/c",
        });
        assert!(errors[0].starts_with("`name` is 52 characters long; Datadog allows 50"));
        let errors = errors_of(quote! {
            name = "Datadog Helper", scopes = [monitors_read],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/c",
        });
        assert!(errors[0].starts_with(
            "the `app_id` derived from `name`, `datadog-helper`, starts with `datadog`"
        ));
        let errors = errors_of(quote! {
            name = "Ünïcode", scopes = [monitors_read],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/c",
        });
        assert!(errors[0].starts_with("no kebab-case `app_id` can be derived"));
    }

    #[test]
    fn metrics_follow_metadata_csv() {
        let (model, errors) = check(quote! {
            name = "Acme Pager", scopes = [api_keys_write],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/c",
            submits = [metrics],
            metric(name = "acme_pager.pages.sent", type = count, unit = "page",
                   description = "Pages sent.", orientation = higher_is_better),
            metric(name = "acme_pager.latency", type = gauge, unit = "millisecond"),
        });
        assert!(errors.is_empty(), "{errors:?}");
        let m = model.unwrap();
        assert_eq!(m.metric_prefix.as_deref(), Some("acme_pager."));
        assert_eq!(m.metrics.len(), 2);
        assert_eq!(m.metrics[0].metric_type, "Count");
        assert_eq!(m.metrics[0].orientation, "HigherIsBetter");
        assert_eq!(m.metrics[1].orientation, "Neutral");

        let errors = errors_of(quote! {
            name = "Acme Pager", scopes = [api_keys_write],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/c",
            submits = [events],
            metric_prefix = "acme.",
            metric(name = "acme.pages-sent", type = count),
            metric(name = "other.pages", type = gauge),
            metric(name = "acme.a", type = distribution),
            metric(name = "acme.b", type = gauge, unit = "seconds"),
            metric(name = "acme.c", type = gauge, unit = "millisecond", per_unit = "second"),
            metric(name = "acme.d", type = guage, orientation = up),
            metric(type = gauge),
            metric(name = "acme.e"),
            metric(name = "acme.f", type = gauge, description = "a|b"),
            metric(name = "acme.f", type = gauge),
        });
        assert_eq!(
            errors,
            [
                "a `metric(...)` is declared but `submits` lacks `metrics`: add it",
                "the metric name `acme.pages-sent` contains '-': metric names use only ASCII \
                 letters, digits, `_` and `.`",
                "the metric name `other.pages` does not start with the prefix `acme.`: Datadog \
                 lists an integration's metrics under its prefix",
                "`type = distribution`: metadata.csv accepts only `gauge`, `count` and `rate`",
                "`unit` `seconds` is not a Datadog unit name; did you mean `second`?",
                "`millisecond` per `second` is a time per time, which metadata.csv refuses: use \
                 `unit = \"fraction\"`",
                "`guage` is not a metric type; did you mean `gauge`?",
                "`up` is not a metric orientation (one of higher_is_better, lower_is_better, \
                 neutral)",
                "`metric(...)` needs `name = \"...\"`, the full metric name",
                "`metric(...)` needs `type = gauge`, `count` or `rate`",
                "`description` `a|b` contains '|': metadata.csv takes ASCII text without `|` or \
                 control characters",
                "the metric `acme.f` is declared twice",
            ]
        );
    }

    #[test]
    fn service_checks_are_checked() {
        let errors = errors_of(quote! {
            name = "Acme", scopes = [api_keys_write],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/c",
            submits = [service_checks],
            service_check(name = "acme.up", title = "Up", description = "Is it up."),
            service_check(name = "acme.up", title = "Up again", description = "Again."),
            service_check(name = "acme..x", title = "X", description = ""),
            service_check(name = "acme.y"),
        });
        assert_eq!(
            errors,
            [
                "the service check `acme.up` is declared twice",
                "`name` `acme..x` has `__`, `..`, `_.`, `._` or a leading or trailing `_` or `.`",
                "`description` is empty",
                "`service_check(...)` needs `title = \"...\"`, the name shown in Datadog",
                "`service_check(...)` needs `description = \"...\"`, what it checks",
            ]
        );
        let errors = errors_of(quote! {
            name = "Acme", scopes = [api_keys_write],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/c",
            submits = [metrics],
            service_check(name = "acme.up", title = "Up", description = "Is it up."),
        });
        assert!(errors[0].contains("`submits` lacks `service_checks`"));
    }

    #[test]
    fn only_structs_without_generics() {
        for (item, what) in [
            (
                quote!(
                    enum Acme {}
                ),
                "an enum",
            ),
            (
                quote!(
                    fn acme() {}
                ),
                "a function",
            ),
            (
                quote!(
                    trait Acme {}
                ),
                "a trait",
            ),
        ] {
            let mut errors = darling::Error::accumulator();
            let item: Item = syn::parse2(item).unwrap();
            assert!(target(&item, &mut errors).is_none());
            let errors = errors.into_inner();
            assert!(
                errors[0].to_string().ends_with(&format!("not on {what}")),
                "{}",
                errors[0]
            );
        }
        let mut errors = darling::Error::accumulator();
        let item: Item = syn::parse_quote!(
            struct Acme<T>(T);
        );
        assert!(target(&item, &mut errors).is_none());
        assert!(
            errors.into_inner()[0]
                .to_string()
                .contains("has generic parameters")
        );
    }

    /// A scratch package directory, removed when dropped.
    struct Scratch(std::path::PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// A package directory holding `metadata.csv` with `text` (removed when the guard drops).
    fn package_with_csv(name: &str, text: &str) -> (Package, Scratch) {
        let dir = std::env::temp_dir().join(format!(
            "dd-integration-macros-{name}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("metadata.csv"), text).unwrap();
        let package = Package {
            manifest_dir: Some(dir.clone()),
            ..Package::default()
        };
        (package, Scratch(dir))
    }

    fn exporter(extra: TokenStream) -> TokenStream {
        quote! {
            name = "Acme", scopes = [api_keys_write], submits = [metrics],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/connect",
            metric_prefix = "acme.",
            #extra
        }
    }

    #[test]
    fn metrics_come_from_the_partners_metadata_csv_checked_by_row() {
        // Columns in the partner's order, as merged files have them.
        let (package, _scratch) = package_with_csv(
            "good",
            "metric_name,metric_type,unit_name,per_unit_name,description,orientation,\
             integration,short_name,sample_tags,interval,curated_metric\n\
             acme.jobs,count,job,,Jobs run,1,acme,jobs,\"team,env\",60,cpu|memory\n\
             acme.queue,gauge,,,Queue depth,-1,acme,,,,\n",
        );
        let (model, errors) = run(
            exporter(quote!(
                metadata_csv = "metadata.csv",
                metrics_check = ["acme.jobs"],
            )),
            &package,
        );
        assert!(errors.is_empty(), "{errors:?}");
        let m = model.unwrap();
        assert_eq!(m.metrics.len(), 2);
        assert_eq!(m.metrics[0].orientation, "HigherIsBetter");
        assert_eq!(m.metrics[0].interval, Some(60));
        assert_eq!(m.metrics[0].sample_tags, ["team", "env"]);
        assert_eq!(m.metrics[0].curated_metric, ["cpu", "memory"]);
        assert_eq!(m.metrics[1].orientation, "LowerIsBetter");
        assert_eq!(m.metrics[1].interval, None);
        assert_eq!(
            m.metrics_check.as_deref(),
            Some(&["acme.jobs".to_owned()][..])
        );
        assert!(m.metadata_csv.unwrap().ends_with("metadata.csv"));

        // Every bad row is reported, with its line, in one compile.
        let (package, _scratch) = package_with_csv(
            "bad",
            "metric_name,metric_type,interval,unit_name,per_unit_name,description,orientation,\
             integration,short_name\n\
             acme.a,distribution,,,,A,0,acme,\n\
             other.b,gauge,,,,B,0,acme,\n\
             acme.c,gauge,,seconds,,C,0,acme,\n\
             acme.d,gauge,0,,,D,2,acme,\n\
             acme.e,gauge,,,,E again,0,acme,\n",
        );
        let (model, errors) = run(
            exporter(quote!(
                metadata_csv = "metadata.csv",
                metric(name = "acme.e", type = gauge),
                metrics_check = ["acme.ee"],
            )),
            &package,
        );
        assert!(model.is_none());
        assert_eq!(
            errors,
            [
                "metadata.csv line 2: `acme.a`: metric_type `distribution` is not `gauge`, \
                 `count` or `rate`",
                "metadata.csv line 3: the metric name `other.b` does not start with the prefix \
                 `acme.`",
                "metadata.csv line 4: `acme.c`: unit `seconds` is not a Datadog unit name; did \
                 you mean `second`?",
                "metadata.csv line 5: `acme.d`: orientation `2` is not -1, 0 or 1",
                "metadata.csv line 6: the metric `acme.e` is declared twice",
                "`acme.ee` in `metrics_check` is not a declared metric; did you mean `acme.e`?",
            ]
        );

        let model = model_of(exporter(quote!(
            metric(name = "acme.e", type = gauge),
            metrics_check = [],
        )));
        assert_eq!(
            model
                .warnings
                .iter()
                .map(|w| w.message.as_str())
                .collect::<Vec<_>>(),
            [
                "`metrics_check` is empty but metrics are declared: name at least one metric the \
              integration always sends (Datadog shows the integration as working when it arrives)"
            ]
        );

        // Without `metric_prefix`, the rows are checked against the prefix the manifest gets.
        let (derived, _derived_dir) = package_with_csv(
            "derived",
            "metric_name,metric_type,interval,unit_name,per_unit_name,description,orientation,\
             integration,short_name\n\
             acme_pager.jobs,count,,,,Jobs,0,acme_pager,\n\
             other.jobs,count,,,,Jobs,0,acme_pager,\n",
        );
        let (_, errors) = run(
            quote! {
                name = "Acme Pager", scopes = [api_keys_write], submits = [metrics],
                redirect = "https://acme.example/cb", onboarding = "https://acme.example/connect",
                metadata_csv = "metadata.csv",
            },
            &derived,
        );
        assert_eq!(
            errors,
            [
                "metadata.csv line 3: the metric name `other.jobs` does not start with the prefix \
              `acme_pager.`"
            ]
        );

        let (_, errors) = run(exporter(quote!(metadata_csv = "absent.csv",)), &package);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("cannot read `"), "{errors:?}");
        assert!(errors[0].ends_with("the path is relative to the directory of Cargo.toml"));
    }

    #[test]
    fn listing_attributes_are_checked() {
        let m = model_of(quote! {
            name = "Acme", scopes = [monitors_read],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/connect",
            classifier_tags = ["Supported OS::Any", "Category::Alerting", "Offering::Integration"],
            resource(type = documentation, url = "https://docs.acme.example"),
            resource(type = blog, url = "https://acme.example/blog/datadog"),
            tile_support = "README.md#Troubleshooting",
            auto_install = false,
            display_on_public_website = true,
            author(name = "Acme", vendor_id = "acme-inc"),
        });
        assert_eq!(m.classifier_tags, ["Category::Alerting"]);
        assert_eq!(m.explicit_tags.as_ref().unwrap().len(), 3);
        assert_eq!(
            m.resources[1],
            (
                "blog".to_owned(),
                "https://acme.example/blog/datadog".to_owned()
            )
        );
        assert_eq!(m.tile_support.as_deref(), Some("README.md#Troubleshooting"));
        assert_eq!(
            (m.auto_install, m.display_on_public_website),
            (Some(false), Some(true))
        );
        assert_eq!(m.author.vendor_id.as_deref(), Some("acme-inc"));

        let errors = errors_of(quote! {
            name = "Acme", scopes = [monitors_read],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/connect",
            categories = ["Alerting"],
            classifier_tags = ["Category::Alerting", "Supported OS::Plan9", "Category::Alerting"],
            resource(type = video, url = "https://acme.example"),
            resource(type = faq),
            tile_support = "Support",
            author(name = "Acme", vendor_id = "Acme Inc"),
        });
        assert_eq!(
            errors,
            [
                "`vendor_id` `Acme Inc` is not kebab-case: use lowercase letters, digits and \
                 single dashes, such as `acme-inc`",
                "`categories` and `classifier_tags` are both given: with `classifier_tags`, write \
                 each category there as `\"Category::...\"` and remove `categories`",
                "`Supported OS::Plan9` is not a value of `Supported OS::`",
                "the tag `Category::Alerting` is listed twice",
                "`video` is not a resource type (one of documentation, blog, faq, other)",
                "`resource(...)` needs `url = \"https://...\"`",
                "`tile_support` `Support` is neither `README.md#<heading>`, an e-mail address nor \
                 an https URL",
            ]
        );
    }

    #[test]
    fn service_check_statuses_are_datadogs() {
        let m = model_of(quote! {
            name = "Acme", scopes = [api_keys_write], submits = [service_checks],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/connect",
            service_check(name = "acme.up", title = "Up", description = "Up.", statuses = [ok, critical]),
            service_check(name = "acme.sync", title = "Sync", description = "Synced."),
        });
        assert_eq!(m.service_checks[0].statuses, ["ok", "critical"]);
        assert_eq!(
            m.service_checks[1].statuses,
            ["ok", "warning", "critical", "unknown"]
        );
        let errors = errors_of(quote! {
            name = "Acme", scopes = [api_keys_write], submits = [service_checks],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/connect",
            service_check(name = "acme.up", title = "Up", description = "Up.", statuses = [ok, criticial, ok]),
            service_check(name = "acme.sync", title = "Sync", description = "Synced.", statuses = []),
        });
        assert_eq!(
            errors,
            [
                "`criticial` is not a service check status; did you mean `critical`?",
                "the status `ok` is listed twice",
                "`statuses` is empty; service_checks.json needs at least one (`[ok, critical]`)",
            ]
        );
    }

    #[test]
    fn log_facets_are_attribute_paths_of_logs_the_integration_sends() {
        let m = model_of(quote! {
            name = "Acme", scopes = [api_keys_write], submits = [logs],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/connect",
            log_facets = ["acme.job_id", "queue"],
        });
        assert_eq!(m.log_facets, ["acme.job_id", "queue"]);
        assert_eq!(
            m.warnings
                .iter()
                .map(|w| w.message.as_str())
                .collect::<Vec<_>>(),
            [
                "`queue` is not namespaced: Datadog's docs ask for `<integration>.queue` before a \
              custom attribute is faceted"
            ]
        );
        let errors = errors_of(quote! {
            name = "Acme", scopes = [monitors_read],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/connect",
            log_facets = ["@acme.job_id", "acme..x", "acme.job_id", "acme.job_id"],
        });
        assert_eq!(
            errors,
            [
                "`log_facets` names attributes of the integration's logs, but `submits` lacks \
                 `logs`: add it",
                "`@acme.job_id` is not a log attribute path: segments of letters, digits, `_` \
                 and `-`, joined by `.`, without the `@` of a query (`acme.job_id`)",
                "`acme..x` is not a log attribute path: segments of letters, digits, `_` and \
                 `-`, joined by `.`, without the `@` of a query (`acme.job_id`)",
                "the facet `acme.job_id` is listed twice",
            ]
        );
    }

    #[test]
    fn a_marketplace_listing_follows_the_marketplaces_rules() {
        let m = model_of(quote! {
            name = "Acme Insights", app_id = "acme-insights", scopes = [api_keys_write],
            submits = [metrics], metric_prefix = "acme_insights.",
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/connect",
            description = "Job analytics in Datadog.",
            author(name = "Acme", homepage = "https://acme.example",
                   support_email = "s@acme.example", sales_email = "sales@acme.example",
                   vendor_id = "acme"),
            marketplace(
                product_id = "insights",
                legal_terms = "assets/eula.pdf",
                pricing(billing_type = tag_count, unit_price = 2.5, unit_label = "Host",
                        metric = "datadog.marketplace.acme.insights", tag = "host",
                        short_description = "Per host."),
            ),
        });
        let listing = m.marketplace.unwrap();
        assert_eq!(listing.product_id, "insights");
        assert_eq!(listing.pricing[0].billing_type, "TagCount");
        assert_eq!(listing.pricing[0].unit_price, "2.5");

        // Every way it can break, in one compile.
        let errors = errors_of(quote! {
            name = "Acme Insights", scopes = [api_keys_write],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/connect",
            description = "Job analytics from Acme in Datadog, for every team and every host you run.",
            author(name = "Acme", homepage = "https://acme.example",
                   support_email = "s@acme.example", vendor_id = "acme-2"),
            marketplace(
                product_id = "insights",
                legal_terms = "assets/eula.txt",
                pricing(billing_type = tag_count, unit_price = 0, unit_label = "Host",
                        short_description = "Per host."),
                pricing(billing_type = flat_fee, unit_price = 10, unit_label = "Org",
                        tag = "org", short_description = "Per org."),
            ),
        });
        assert_eq!(
            errors,
            [
                "the Marketplace's `vendor_id` holds only lowercase letters and dashes; \
                 `acme-2` has others",
                "a Marketplace listing needs `author(sales_email = \"...\")`: Datadog sends \
                 subscription, trial and cancellation notices there",
                "`description` is 74 characters long; a Marketplace tile allows 70",
                "`legal_terms` `assets/eula.txt` must be a `.pdf` file (ddev `validate eula`)",
                "`billing_type = tag_count` needs `metric = \"datadog.marketplace.<vendor>.<product>\"`, \
                 the metering metric",
                "`billing_type = tag_count` needs `tag = \"...\"`, the tag whose values are billed",
                "a Marketplace listing has one billing type: its `pricing(...)` entries differ",
            ]
        );
        // The app_id must be `<vendor>-<product>`, with the fix.
        let errors = errors_of(quote! {
            name = "Acme Insights", scopes = [monitors_read],
            redirect = "https://acme.example/cb", onboarding = "https://acme.example/connect",
            description = "Job analytics.",
            author(name = "Acme", homepage = "https://acme.example",
                   support_email = "s@acme.example", sales_email = "sales@acme.example",
                   vendor_id = "acme"),
            marketplace(product_id = "analytics", legal_terms = "assets/eula.pdf",
                pricing(billing_type = flat_fee, unit_price = 10, unit_label = "Org",
                        short_description = "Per org.")),
        });
        assert_eq!(
            errors,
            [
                "a Marketplace `app_id` is `<vendor_id>-<product_id>`: add `app_id = \
              \"acme-analytics\"` (it is `acme-insights`)"
            ]
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Whatever the partner's metadata.csv holds (any bytes, or rows of hostile cells under
        /// a real header), the macro reads it or refuses it with errors: it never panics, and
        /// what it accepts passes the same rules as `metric(...)`.
        #[test]
        fn any_metadata_csv_is_read_or_refused(
            text in ".{0,300}",
            cells in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::prop_oneof![
                        proptest::strategy::Just(String::new()),
                        "[a-z_.]{1,12}",
                        "acme\\.[a-z_.]{1,12}",
                        "(gauge|count|rate|-1|0|1|60|byte|second|cpu|memory)",
                        "\\PC{0,20}",
                    ],
                    11,
                ),
                0..6,
            ),
        ) {
            let header = "metric_name,metric_type,interval,unit_name,per_unit_name,description,\
                          orientation,integration,short_name,curated_metric,sample_tags";
            let mut structured = String::from(header);
            for row in &cells {
                structured.push('\n');
                let quoted: Vec<String> =
                    row.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
                structured.push_str(&quoted.join(","));
            }
            for (i, file) in [text, structured].iter().enumerate() {
                let (package, _scratch) = package_with_csv(&format!("prop{i}"), file);
                let (model, errors) =
                    run(exporter(quote!(metadata_csv = "metadata.csv",)), &package);
                proptest::prop_assert!(model.is_some() == errors.is_empty(), "{errors:?}");
                if let Some(model) = model {
                    for metric in &model.metrics {
                        proptest::prop_assert!(names::metric_name(&metric.name).is_ok());
                        proptest::prop_assert!(metric.name.starts_with("acme."));
                        proptest::prop_assert!(names::csv_text(&metric.description).is_ok());
                    }
                }
            }
        }
    }
}
