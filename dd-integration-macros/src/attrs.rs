//! The attribute's arguments as written: keys and values with their tokens, not yet checked
//! against Datadog's rules (that is `validate`).
//!
//! Parsing never stops at the first mistake: an unknown or repeated key, or a value of the wrong
//! shape, is reported and parsing goes on, so that every mistake of a declaration is reported
//! together and `validate` still sees every well-formed key.

use darling::ast::NestedMeta;
use darling::error::Accumulator;
use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, LitInt, LitStr, Meta, Path};

use dd_integration_facts::suggest;

/// A value and the key it was given under (`name` in `name = "..."`), for errors about the key.
#[derive(Debug, Clone)]
pub struct Keyed<T> {
    /// The key as written.
    pub key: Ident,
    /// The value.
    pub value: T,
}

/// The arguments of `#[datadog_integration(...)]`.
#[derive(Debug, Default)]
pub struct Args {
    pub name: Option<Keyed<LitStr>>,
    pub app_id: Option<Keyed<LitStr>>,
    pub app_uuid: Option<Keyed<LitStr>>,
    pub description: Option<Keyed<LitStr>>,
    pub author: Option<Keyed<AuthorArgs>>,
    pub categories: Option<Keyed<Vec<LitStr>>>,
    pub scopes: Option<Keyed<Vec<Ident>>>,
    /// The names of `scopes` written `uncatalogued(name)`: Datadog grants them, the SDK's
    /// catalog lacks them.
    pub uncatalogued_scopes: Vec<Ident>,
    pub redirect: Option<Keyed<Vec<LitStr>>>,
    pub onboarding: Option<Keyed<LitStr>>,
    pub submits: Option<Keyed<Vec<Ident>>>,
    pub oauth_client_id: Option<Keyed<LitStr>>,
    pub source_type_id: Option<Keyed<LitInt>>,
    pub source_type_name: Option<Keyed<LitStr>>,
    pub oauth_client_name: Option<Keyed<LitStr>>,
    pub oauth_client_description: Option<Keyed<LitStr>>,
    pub logs_source: Option<Keyed<LitStr>>,
    pub creates_events: Option<Keyed<syn::LitBool>>,
    pub metric_prefix: Option<Keyed<LitStr>>,
    pub metrics: Vec<Keyed<MetricArgs>>,
    pub service_checks: Vec<Keyed<ServiceCheckArgs>>,
    pub environments: Vec<Keyed<EnvironmentArgs>>,
    pub classifier_tags: Option<Keyed<Vec<LitStr>>>,
    pub resources: Vec<Keyed<ResourceArgs>>,
    pub tile_support: Option<Keyed<LitStr>>,
    pub metrics_check: Option<Keyed<Vec<LitStr>>>,
    pub metadata_csv: Option<Keyed<LitStr>>,
    pub auto_install: Option<Keyed<syn::LitBool>>,
    pub display_on_public_website: Option<Keyed<syn::LitBool>>,
    pub starter_dashboard: Option<Keyed<syn::LitBool>>,
    pub marketplace: Option<Keyed<MarketplaceArgs>>,
    pub log_facets: Option<Keyed<Vec<LitStr>>>,
    pub krate: Option<Keyed<Path>>,
    /// Keys that an unknown key was taken for (`scopes` for `scope`): their absence is not
    /// reported again.
    pub typos: Vec<&'static str>,
}

/// `author(...)`.
#[derive(Debug, Default, Clone)]
pub struct AuthorArgs {
    pub name: Option<Keyed<LitStr>>,
    pub homepage: Option<Keyed<LitStr>>,
    pub support_email: Option<Keyed<LitStr>>,
    pub sales_email: Option<Keyed<LitStr>>,
    pub vendor_id: Option<Keyed<LitStr>>,
    pub typos: Vec<&'static str>,
}

/// `metric(...)`.
#[derive(Debug, Default, Clone)]
pub struct MetricArgs {
    pub name: Option<Keyed<LitStr>>,
    pub kind: Option<Keyed<Ident>>,
    pub unit: Option<Keyed<LitStr>>,
    pub per_unit: Option<Keyed<LitStr>>,
    pub description: Option<Keyed<LitStr>>,
    pub orientation: Option<Keyed<Ident>>,
    pub short_name: Option<Keyed<LitStr>>,
    pub interval: Option<Keyed<LitInt>>,
    pub sample_tags: Option<Keyed<Vec<LitStr>>>,
    pub curated_metric: Option<Keyed<Vec<Ident>>>,
    pub typos: Vec<&'static str>,
}

/// `service_check(...)`.
#[derive(Debug, Default, Clone)]
pub struct ServiceCheckArgs {
    pub name: Option<Keyed<LitStr>>,
    pub title: Option<Keyed<LitStr>>,
    pub description: Option<Keyed<LitStr>>,
    pub statuses: Option<Keyed<Vec<Ident>>>,
    pub typos: Vec<&'static str>,
}

/// `marketplace(product_id = ..., legal_terms = ..., pricing(...))`: a Marketplace listing.
#[derive(Debug, Default, Clone)]
pub struct MarketplaceArgs {
    pub product_id: Option<Keyed<LitStr>>,
    pub legal_terms: Option<Keyed<LitStr>>,
    pub pricing: Vec<Keyed<PricingArgs>>,
    pub typos: Vec<&'static str>,
}

/// `pricing(billing_type = ..., unit_price = ..., ...)`: one entry of the manifest's `pricing`.
#[derive(Debug, Default, Clone)]
pub struct PricingArgs {
    pub billing_type: Option<Keyed<Ident>>,
    /// The price as written: an integer or decimal literal.
    pub unit_price: Option<Keyed<Lit>>,
    pub unit_label: Option<Keyed<LitStr>>,
    pub metric: Option<Keyed<LitStr>>,
    pub tag: Option<Keyed<LitStr>>,
    pub short_description: Option<Keyed<LitStr>>,
    pub typos: Vec<&'static str>,
}

/// `resource(type = documentation, url = "...")`: one of `tile.resources`.
#[derive(Debug, Default, Clone)]
pub struct ResourceArgs {
    pub kind: Option<Keyed<Ident>>,
    pub url: Option<Keyed<LitStr>>,
    pub typos: Vec<&'static str>,
}

/// `environment(...)`: another deployment of the same integration (staging), with its own
/// onboarding URL and redirect URI.
#[derive(Debug, Default, Clone)]
pub struct EnvironmentArgs {
    pub name: Option<Keyed<LitStr>>,
    pub redirect: Option<Keyed<LitStr>>,
    pub onboarding: Option<Keyed<LitStr>>,
    pub typos: Vec<&'static str>,
}

/// The keys of `#[datadog_integration(...)]`, in the order the reference documents them.
pub const KEYS: &[&str] = &[
    "name",
    "scopes",
    "redirect",
    "onboarding",
    "submits",
    "app_id",
    "app_uuid",
    "description",
    "author",
    "categories",
    "oauth_client_id",
    "source_type_id",
    "source_type_name",
    "oauth_client_name",
    "oauth_client_description",
    "logs_source",
    "creates_events",
    "metric_prefix",
    "metric",
    "service_check",
    "environment",
    "metadata_csv",
    "metrics_check",
    "classifier_tags",
    "resource",
    "tile_support",
    "auto_install",
    "display_on_public_website",
    "starter_dashboard",
    "marketplace",
    "log_facets",
    "crate",
];

/// Keys that may be given more than once, each time adding one item.
const REPEATABLE: &[&str] = &["metric", "service_check", "environment", "resource"];
const RESOURCE_KEYS: &[&str] = &["type", "url"];
const MARKETPLACE_KEYS: &[&str] = &["product_id", "legal_terms", "pricing"];
const PRICING_KEYS: &[&str] = &[
    "billing_type",
    "unit_price",
    "unit_label",
    "metric",
    "tag",
    "short_description",
];
const ENVIRONMENT_KEYS: &[&str] = &["name", "redirect", "onboarding"];

const AUTHOR_KEYS: &[&str] = &[
    "name",
    "homepage",
    "support_email",
    "sales_email",
    "vendor_id",
];
const METRIC_KEYS: &[&str] = &[
    "name",
    "type",
    "unit",
    "per_unit",
    "description",
    "orientation",
    "short_name",
    "interval",
    "sample_tags",
    "curated_metric",
];
const SERVICE_CHECK_KEYS: &[&str] = &["name", "title", "description", "statuses"];

impl Args {
    /// Parses the attribute's arguments; every mistake goes to `errors`.
    pub fn parse(tokens: TokenStream, errors: &mut Accumulator) -> Args {
        let mut args = Args::default();
        let Some(items) = errors.handle(NestedMeta::parse_meta_list(tokens).map_err(Into::into))
        else {
            return args;
        };
        let mut keys = Keys::new("#[datadog_integration]", KEYS, REPEATABLE);
        for item in &items {
            let Some((key, meta)) = keys.next(item, errors) else {
                continue;
            };
            let k = key.clone();
            match key.to_string().as_str() {
                "name" => args.name = string(k, meta, "\"Acme Pager\"", errors),
                "scopes" => {
                    args.scopes = names(
                        k,
                        meta,
                        "[monitors_read, api_keys_write]",
                        Some(&mut args.uncatalogued_scopes),
                        errors,
                    );
                }
                "redirect" => args.redirect = strings(k, meta, true, REDIRECT_EXAMPLE, errors),
                "onboarding" => {
                    args.onboarding = string(k, meta, "\"https://acme.example/connect\"", errors);
                }
                "submits" => args.submits = names(k, meta, "[metrics, events]", None, errors),
                "app_id" => args.app_id = string(k, meta, "\"acme-pager\"", errors),
                "app_uuid" => args.app_uuid = string(k, meta, UUID_EXAMPLE, errors),
                "description" => args.description = string(k, meta, "\"...\"", errors),
                "author" => args.author = nested(k, meta, AuthorArgs::parse, errors),
                "categories" => {
                    args.categories = strings(k, meta, false, "\"Alerting\"", errors);
                }
                "oauth_client_id" => args.oauth_client_id = string(k, meta, UUID_EXAMPLE, errors),
                "source_type_id" => args.source_type_id = int(k, meta, errors),
                "source_type_name" => {
                    args.source_type_name = string(k, meta, "\"Acme Pager\"", errors);
                }
                "oauth_client_name" => {
                    args.oauth_client_name = string(k, meta, "\"Acme Pager\"", errors);
                }
                "oauth_client_description" => {
                    args.oauth_client_description = string(k, meta, "\"...\"", errors);
                }
                "logs_source" => args.logs_source = string(k, meta, "\"acme\"", errors),
                "creates_events" => args.creates_events = boolean(k, meta, errors),
                "metric_prefix" => args.metric_prefix = string(k, meta, "\"acme.\"", errors),
                "metric" => args
                    .metrics
                    .extend(nested(k, meta, MetricArgs::parse, errors)),
                "service_check" => {
                    args.service_checks
                        .extend(nested(k, meta, ServiceCheckArgs::parse, errors));
                }
                "environment" => {
                    args.environments
                        .extend(nested(k, meta, EnvironmentArgs::parse, errors));
                }
                "metadata_csv" => {
                    args.metadata_csv = string(k, meta, "\"metadata.csv\"", errors);
                }
                "metrics_check" => {
                    args.metrics_check = strings(k, meta, false, "\"acme.pages.sent\"", errors);
                }
                "classifier_tags" => {
                    args.classifier_tags =
                        strings(k, meta, false, "\"Supported OS::Linux\"", errors);
                }
                "resource" => args
                    .resources
                    .extend(nested(k, meta, ResourceArgs::parse, errors)),
                "tile_support" => {
                    args.tile_support = string(k, meta, "\"README.md#Troubleshooting\"", errors);
                }
                "auto_install" => args.auto_install = boolean(k, meta, errors),
                "display_on_public_website" => {
                    args.display_on_public_website = boolean(k, meta, errors);
                }
                "starter_dashboard" => args.starter_dashboard = boolean(k, meta, errors),
                "marketplace" => {
                    args.marketplace = nested(k, meta, MarketplaceArgs::parse, errors);
                }
                "log_facets" => {
                    args.log_facets = strings(k, meta, false, "\"acme.job_id\"", errors);
                }
                "crate" => args.krate = path(k, meta, errors),
                _ => unreachable_key(&key, errors),
            }
        }
        args.typos = keys.typos;
        args
    }
}

impl EnvironmentArgs {
    fn parse(items: &[NestedMeta], errors: &mut Accumulator) -> EnvironmentArgs {
        let mut args = EnvironmentArgs::default();
        let mut keys = Keys::new("environment(...)", ENVIRONMENT_KEYS, &[]);
        for item in items {
            let Some((key, meta)) = keys.next(item, errors) else {
                continue;
            };
            let k = key.clone();
            match key.to_string().as_str() {
                "name" => args.name = string(k, meta, "\"staging\"", errors),
                "redirect" => {
                    args.redirect =
                        string(k, meta, "\"https://staging.acme.example/callback\"", errors);
                }
                "onboarding" => {
                    args.onboarding =
                        string(k, meta, "\"https://staging.acme.example/connect\"", errors);
                }
                _ => unreachable_key(&key, errors),
            }
        }
        args.typos = keys.typos;
        args
    }
}

const REDIRECT_EXAMPLE: &str = "\"https://acme.example/callback\"";
const UUID_EXAMPLE: &str = "\"9a5b1c4e-2f3d-4e6a-8b7c-0d1e2f3a4b5c\"";

impl AuthorArgs {
    fn parse(items: &[NestedMeta], errors: &mut Accumulator) -> AuthorArgs {
        let mut args = AuthorArgs::default();
        let mut keys = Keys::new("author(...)", AUTHOR_KEYS, &[]);
        for item in items {
            let Some((key, meta)) = keys.next(item, errors) else {
                continue;
            };
            let k = key.clone();
            let email = "\"support@acme.example\"";
            match key.to_string().as_str() {
                "name" => args.name = string(k, meta, "\"Acme Inc.\"", errors),
                "homepage" => args.homepage = string(k, meta, "\"https://acme.example\"", errors),
                "support_email" => args.support_email = string(k, meta, email, errors),
                "sales_email" => args.sales_email = string(k, meta, email, errors),
                "vendor_id" => args.vendor_id = string(k, meta, "\"acme\"", errors),
                _ => unreachable_key(&key, errors),
            }
        }
        args.typos = keys.typos;
        args
    }
}

impl MetricArgs {
    fn parse(items: &[NestedMeta], errors: &mut Accumulator) -> MetricArgs {
        let mut args = MetricArgs::default();
        let mut keys = Keys::new("metric(...)", METRIC_KEYS, &[]);
        for item in items {
            let Some((key, meta)) = keys.next(item, errors) else {
                continue;
            };
            let k = key.clone();
            match key.to_string().as_str() {
                "name" => args.name = string(k, meta, "\"acme.pages.sent\"", errors),
                "type" => args.kind = word(k, meta, "gauge", errors),
                "unit" => args.unit = string(k, meta, "\"page\"", errors),
                "per_unit" => args.per_unit = string(k, meta, "\"second\"", errors),
                "description" => args.description = string(k, meta, "\"...\"", errors),
                "orientation" => args.orientation = word(k, meta, "higher_is_better", errors),
                "short_name" => args.short_name = string(k, meta, "\"pages sent\"", errors),
                "interval" => args.interval = int(k, meta, errors),
                "sample_tags" => {
                    args.sample_tags = strings(k, meta, false, "\"team\"", errors);
                }
                "curated_metric" => {
                    args.curated_metric = names(k, meta, "[cpu]", None, errors);
                }
                _ => unreachable_key(&key, errors),
            }
        }
        args.typos = keys.typos;
        args
    }
}

impl ServiceCheckArgs {
    fn parse(items: &[NestedMeta], errors: &mut Accumulator) -> ServiceCheckArgs {
        let mut args = ServiceCheckArgs::default();
        let mut keys = Keys::new("service_check(...)", SERVICE_CHECK_KEYS, &[]);
        for item in items {
            let Some((key, meta)) = keys.next(item, errors) else {
                continue;
            };
            let k = key.clone();
            match key.to_string().as_str() {
                "name" => args.name = string(k, meta, "\"acme.can_connect\"", errors),
                "title" => args.title = string(k, meta, "\"Acme can connect\"", errors),
                "description" => args.description = string(k, meta, "\"...\"", errors),
                "statuses" => {
                    args.statuses = names(k, meta, "[ok, critical]", None, errors);
                }
                _ => unreachable_key(&key, errors),
            }
        }
        args.typos = keys.typos;
        args
    }
}

impl MarketplaceArgs {
    fn parse(items: &[NestedMeta], errors: &mut Accumulator) -> MarketplaceArgs {
        let mut args = MarketplaceArgs::default();
        let mut keys = Keys::new("marketplace(...)", MARKETPLACE_KEYS, &["pricing"]);
        for item in items {
            let Some((key, meta)) = keys.next(item, errors) else {
                continue;
            };
            let k = key.clone();
            match key.to_string().as_str() {
                "product_id" => args.product_id = string(k, meta, "\"insights\"", errors),
                "legal_terms" => args.legal_terms = string(k, meta, "\"assets/eula.pdf\"", errors),
                "pricing" => args
                    .pricing
                    .extend(nested(k, meta, PricingArgs::parse, errors)),
                _ => unreachable_key(&key, errors),
            }
        }
        args.typos = keys.typos;
        args
    }
}

impl PricingArgs {
    fn parse(items: &[NestedMeta], errors: &mut Accumulator) -> PricingArgs {
        let mut args = PricingArgs::default();
        let mut keys = Keys::new("pricing(...)", PRICING_KEYS, &[]);
        for item in items {
            let Some((key, meta)) = keys.next(item, errors) else {
                continue;
            };
            let k = key.clone();
            match key.to_string().as_str() {
                "billing_type" => args.billing_type = word(k, meta, "tag_count", errors),
                "unit_price" => args.unit_price = number(k, meta, errors),
                "unit_label" => args.unit_label = string(k, meta, "\"Host\"", errors),
                "metric" => {
                    args.metric = string(k, meta, "\"datadog.marketplace.acme.insights\"", errors);
                }
                "tag" => args.tag = string(k, meta, "\"host\"", errors),
                "short_description" => {
                    args.short_description = string(k, meta, "\"Per host per month.\"", errors);
                }
                _ => unreachable_key(&key, errors),
            }
        }
        args.typos = keys.typos;
        args
    }
}

impl ResourceArgs {
    fn parse(items: &[NestedMeta], errors: &mut Accumulator) -> ResourceArgs {
        let mut args = ResourceArgs::default();
        let mut keys = Keys::new("resource(...)", RESOURCE_KEYS, &[]);
        for item in items {
            let Some((key, meta)) = keys.next(item, errors) else {
                continue;
            };
            let k = key.clone();
            match key.to_string().as_str() {
                "type" => args.kind = word(k, meta, "documentation", errors),
                "url" => args.url = string(k, meta, "\"https://docs.acme.example\"", errors),
                _ => unreachable_key(&key, errors),
            }
        }
        args.typos = keys.typos;
        args
    }
}

/// The keys of one argument list: refuses unknown keys (with a suggestion) and repeated ones.
struct Keys {
    context: &'static str,
    known: &'static [&'static str],
    repeatable: &'static [&'static str],
    seen: Vec<String>,
    typos: Vec<&'static str>,
}

impl Keys {
    fn new(
        context: &'static str,
        known: &'static [&'static str],
        repeatable: &'static [&'static str],
    ) -> Keys {
        Keys {
            context,
            known,
            repeatable,
            seen: Vec::new(),
            typos: Vec::new(),
        }
    }

    /// The key and meta of `item` when it is a known key not given before; else an error.
    fn next<'a>(
        &mut self,
        item: &'a NestedMeta,
        errors: &mut Accumulator,
    ) -> Option<(Ident, &'a Meta)> {
        let meta = match item {
            NestedMeta::Meta(meta) => meta,
            NestedMeta::Lit(lit) => {
                errors.push(error_at(
                    lit.span(),
                    format!(
                        "expected `key = value` in `{}`, found a bare literal",
                        self.context
                    ),
                ));
                return None;
            }
            NestedMeta::NameValueInvalidExpr(invalid) => {
                errors.push(error_at(
                    invalid.path.span(),
                    format!(
                        "the value of `{}` is not a valid expression",
                        path_text(&invalid.path)
                    ),
                ));
                return None;
            }
        };
        let path = meta.path();
        let name = path_text(path);
        let key = match path.get_ident() {
            Some(ident) if self.known.contains(&name.as_str()) => ident.clone(),
            _ => {
                let suggestion = suggest::closest(&name, self.known);
                self.typos.extend(suggestion);
                errors.push(error_at(
                    path.span(),
                    format!(
                        "unknown key `{name}` in `{}`{}",
                        self.context,
                        match suggestion {
                            Some(s) => format!("; did you mean `{s}`?"),
                            None => format!("; the keys are {}", self.known.join(", ")),
                        }
                    ),
                ));
                return None;
            }
        };
        if self.seen.contains(&name) && !self.repeatable.contains(&name.as_str()) {
            errors.push(error_at(
                key.span(),
                format!("`{name}` is given twice in `{}`", self.context),
            ));
            return None;
        }
        self.seen.push(name);
        Some((key, meta))
    }
}

/// A key matched by `Keys::next` always has an arm; this is reported rather than panicking.
fn unreachable_key(key: &Ident, errors: &mut Accumulator) {
    errors.push(error_at(
        key.span(),
        format!("internal error: key `{key}` has no parser"),
    ));
}

/// The value after `=`, or an error saying how to write the key.
fn name_value<'a>(
    key: &Ident,
    meta: &'a Meta,
    example: &str,
    errors: &mut Accumulator,
) -> Option<&'a Expr> {
    match meta {
        Meta::NameValue(nv) => Some(unwrap_group(&nv.value)),
        _ => {
            errors.push(error_at(key.span(), format!("write `{key} = {example}`")));
            None
        }
    }
}

/// A macro_rules! caller's `$x:expr` arrives wrapped in an invisible group.
fn unwrap_group(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(group) => unwrap_group(&group.expr),
        other => other,
    }
}

fn string(
    key: Ident,
    meta: &Meta,
    example: &str,
    errors: &mut Accumulator,
) -> Option<Keyed<LitStr>> {
    let expr = name_value(&key, meta, example, errors)?;
    match as_str(expr) {
        Some(lit) => Some(Keyed { key, value: lit }),
        None => {
            errors.push(error_at(
                expr.span(),
                format!("`{key}` takes a string literal: `{key} = {example}`"),
            ));
            None
        }
    }
}

/// A list of strings, `key = [item, ...]`, or also a single string when `one_or_many`; `item`
/// is an example item for the messages.
fn strings(
    key: Ident,
    meta: &Meta,
    one_or_many: bool,
    item: &str,
    errors: &mut Accumulator,
) -> Option<Keyed<Vec<LitStr>>> {
    let expr = name_value(&key, meta, &format!("[{item}]"), errors)?;
    if one_or_many && let Some(lit) = as_str(expr) {
        return Some(Keyed {
            key,
            value: vec![lit],
        });
    }
    let Expr::Array(array) = expr else {
        let form = if one_or_many {
            format!("a string or a list of strings: `{key} = {item}` or `{key} = [{item}, ...]`")
        } else {
            format!("a list of strings: `{key} = [{item}]`")
        };
        errors.push(error_at(expr.span(), format!("`{key}` takes {form}")));
        return None;
    };
    let mut items = Vec::new();
    for element in &array.elems {
        match as_str(unwrap_group(element)) {
            Some(lit) => items.push(lit),
            None => errors.push(error_at(
                element.span(),
                format!("`{key}` lists strings, such as {item}"),
            )),
        }
    }
    Some(Keyed { key, value: items })
}

/// A list of bare names: `[monitors_read, api_keys_write]`.
///
/// With `wrapped`, a name may also be written `uncatalogued(name)` (only `scopes` allows it):
/// it is listed with the others and recorded in `wrapped`.
fn names(
    key: Ident,
    meta: &Meta,
    example: &str,
    mut wrapped: Option<&mut Vec<Ident>>,
    errors: &mut Accumulator,
) -> Option<Keyed<Vec<Ident>>> {
    let expr = name_value(&key, meta, example, errors)?;
    let Expr::Array(array) = expr else {
        errors.push(error_at(
            expr.span(),
            format!("`{key}` takes a list of names in brackets: `{key} = {example}`"),
        ));
        return None;
    };
    let mut items = Vec::new();
    for element in &array.elems {
        let element = unwrap_group(element);
        if let Some(ident) = as_ident(element) {
            items.push(ident);
        } else if let (Some(wrapped), Some(ident)) = (wrapped.as_deref_mut(), uncatalogued(element))
        {
            wrapped.push(ident.clone());
            items.push(ident);
        } else if let Some(lit) = as_str(element) {
            errors.push(error_at(
                lit.span(),
                format!(
                    "write the names in `{key}` without quotes: `{}`",
                    lit.value()
                ),
            ));
        } else {
            errors.push(error_at(
                element.span(),
                format!("`{key}` lists names, such as `{key} = {example}`"),
            ));
        }
    }
    Some(Keyed { key, value: items })
}

/// A boolean literal: `creates_events = true`.
fn boolean(key: Ident, meta: &Meta, errors: &mut Accumulator) -> Option<Keyed<syn::LitBool>> {
    let expr = name_value(&key, meta, "true", errors)?;
    if let Expr::Lit(ExprLit {
        lit: Lit::Bool(value),
        ..
    }) = expr
    {
        return Some(Keyed {
            key,
            value: value.clone(),
        });
    }
    errors.push(error_at(
        expr.span(),
        format!("`{key}` takes `true` or `false`"),
    ));
    None
}

/// One bare name: `type = gauge`.
fn word(key: Ident, meta: &Meta, example: &str, errors: &mut Accumulator) -> Option<Keyed<Ident>> {
    let expr = name_value(&key, meta, example, errors)?;
    if let Some(ident) = as_ident(expr) {
        return Some(Keyed { key, value: ident });
    }
    let found = as_str(expr).map(|lit| lit.value());
    errors.push(error_at(
        expr.span(),
        match found {
            Some(text) => format!("write `{key} = {text}`, without quotes"),
            None => format!("`{key}` takes a name: `{key} = {example}`"),
        },
    ));
    None
}

fn int(key: Ident, meta: &Meta, errors: &mut Accumulator) -> Option<Keyed<LitInt>> {
    let expr = name_value(&key, meta, "12345678", errors)?;
    if let Expr::Lit(ExprLit {
        lit: Lit::Int(lit), ..
    }) = expr
    {
        return Some(Keyed {
            key,
            value: lit.clone(),
        });
    }
    errors.push(error_at(
        expr.span(),
        format!("`{key}` takes an integer: `{key} = 12345678`"),
    ));
    None
}

/// A number literal, integer or decimal (`unit_price = 25`, `unit_price = 0.5`).
fn number(key: Ident, meta: &Meta, errors: &mut Accumulator) -> Option<Keyed<Lit>> {
    let expr = name_value(&key, meta, "25", errors)?;
    if let Expr::Lit(ExprLit {
        lit: lit @ (Lit::Int(_) | Lit::Float(_)),
        ..
    }) = expr
    {
        return Some(Keyed {
            key,
            value: lit.clone(),
        });
    }
    errors.push(error_at(
        expr.span(),
        format!("`{key}` takes a number: `{key} = 25` or `{key} = 0.5`"),
    ));
    None
}

/// `crate = ::path` or `crate = "path"`.
fn path(key: Ident, meta: &Meta, errors: &mut Accumulator) -> Option<Keyed<Path>> {
    let expr = name_value(&key, meta, "::my_dd_integration", errors)?;
    let parsed = match expr {
        Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => Some(p.path.clone()),
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => lit.parse::<Path>().ok(),
        _ => None,
    };
    match parsed {
        Some(value) => Some(Keyed { key, value }),
        None => {
            errors.push(error_at(
                expr.span(),
                "`crate` takes the path the runtime crate is reachable at: `crate = ::my_dd_integration`",
            ));
            None
        }
    }
}

/// A nested list: `author(name = "...", ...)`.
fn nested<T>(
    key: Ident,
    meta: &Meta,
    parse: fn(&[NestedMeta], &mut Accumulator) -> T,
    errors: &mut Accumulator,
) -> Option<Keyed<T>> {
    let Meta::List(list) = meta else {
        errors.push(error_at(
            key.span(),
            format!("`{key}` takes a list of keys: `{key}(name = \"...\", ...)`"),
        ));
        return None;
    };
    let items =
        errors.handle(NestedMeta::parse_meta_list(list.tokens.clone()).map_err(Into::into))?;
    Some(Keyed {
        key,
        value: parse(&items, errors),
    })
}

fn as_str(expr: &Expr) -> Option<LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit.clone()),
        _ => None,
    }
}

/// `uncatalogued(name)`: the one name inside.
fn uncatalogued(expr: &Expr) -> Option<Ident> {
    let Expr::Call(call) = expr else {
        return None;
    };
    let func = as_ident(&call.func)?;
    if func != "uncatalogued" || call.args.len() != 1 {
        return None;
    }
    as_ident(unwrap_group(call.args.first()?))
}

fn as_ident(expr: &Expr) -> Option<Ident> {
    match expr {
        Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => p.path.get_ident().cloned(),
        _ => None,
    }
}

fn path_text(path: &Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let lead = if path.leading_colon.is_some() {
        "::"
    } else {
        ""
    };
    format!("{lead}{}", segments.join("::"))
}

/// An error at `span` with `message`.
pub fn error_at(span: Span, message: impl std::fmt::Display) -> darling::Error {
    syn::Error::new(span, message).into()
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    fn parse(tokens: TokenStream) -> (Args, Vec<String>) {
        let mut errors = darling::Error::accumulator();
        let args = Args::parse(tokens, &mut errors);
        let messages = errors
            .into_inner()
            .iter()
            .map(ToString::to_string)
            .collect();
        (args, messages)
    }

    #[test]
    fn parses_every_key() {
        let (args, errors) = parse(quote! {
            name = "Acme Pager",
            scopes = [monitors_read, api_keys_write],
            redirect = ["https://acme.example/a", "https://acme.example/b"],
            onboarding = "https://acme.example/connect",
            submits = [metrics],
            app_id = "acme-pager",
            app_uuid = "9a5b1c4e-2f3d-4e6a-8b7c-0d1e2f3a4b5c",
            description = "Pages people.",
            author(name = "Acme", homepage = "https://acme.example",
                   support_email = "s@acme.example", sales_email = "t@acme.example"),
            categories = ["Alerting"],
            oauth_client_id = "9a5b1c4e-2f3d-4e6a-8b7c-0d1e2f3a4b5c",
            source_type_id = 42,
            metric_prefix = "acme.",
            metric(name = "acme.a", type = gauge, unit = "page", per_unit = "second",
                   description = "A.", orientation = higher_is_better, short_name = "a"),
            metric(name = "acme.b", type = count),
            service_check(name = "acme.up", title = "Up", description = "Is it up."),
            crate = ::dd,
        });
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(args.name.unwrap().value.value(), "Acme Pager");
        let scopes: Vec<String> = args
            .scopes
            .unwrap()
            .value
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(scopes, ["monitors_read", "api_keys_write"]);
        assert_eq!(args.redirect.unwrap().value.len(), 2);
        assert_eq!(args.metrics.len(), 2);
        assert_eq!(args.metrics[0].value.kind.as_ref().unwrap().value, "gauge");
        assert_eq!(args.service_checks.len(), 1);
        assert_eq!(
            args.author
                .unwrap()
                .value
                .sales_email
                .unwrap()
                .value
                .value(),
            "t@acme.example"
        );
        assert_eq!(args.source_type_id.unwrap().value.base10_digits(), "42");
        assert_eq!(path_text(&args.krate.unwrap().value), "::dd");
    }

    #[test]
    fn one_redirect_is_a_list_of_one_and_crate_may_be_a_string() {
        let (args, errors) = parse(quote!(redirect = "https://a.example/cb", crate = "my::dd"));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(
            args.redirect.unwrap().value[0].value(),
            "https://a.example/cb"
        );
        assert_eq!(path_text(&args.krate.unwrap().value), "my::dd");
    }

    #[test]
    fn reports_every_mistake_and_keeps_the_rest() {
        let (args, errors) = parse(quote! {
            nme = "x",
            name = "A",
            name = "B",
            scopes = ["monitors_read", hosts_read],
            submits = metrics,
            author(name = "A", homepag = "https://a.example"),
            metric(type = "gauge"),
            onboarding = 5,
            "bare",
        });
        assert_eq!(
            errors,
            [
                "unknown key `nme` in `#[datadog_integration]`; did you mean `name`?",
                "`name` is given twice in `#[datadog_integration]`",
                "write the names in `scopes` without quotes: `monitors_read`",
                "`submits` takes a list of names in brackets: `submits = [metrics, events]`",
                "unknown key `homepag` in `author(...)`; did you mean `homepage`?",
                "write `type = gauge`, without quotes",
                "`onboarding` takes a string literal: `onboarding = \"https://acme.example/connect\"`",
                "expected `key = value` in `#[datadog_integration]`, found a bare literal",
            ]
        );
        assert_eq!(args.name.unwrap().value.value(), "A");
        assert_eq!(args.scopes.unwrap().value.len(), 1);
        assert!(args.author.unwrap().value.name.is_some());
    }

    #[test]
    fn unknown_key_without_a_near_miss_lists_the_keys() {
        let (_, errors) = parse(quote!(colour = "blue"));
        assert!(errors[0].starts_with(
            "unknown key `colour` in `#[datadog_integration]`; the keys are name, scopes,"
        ));
    }

    #[test]
    fn wrong_shapes_say_how_to_write_the_key() {
        let (_, errors) = parse(quote!(
            name,
            author = "Acme",
            categories = "Alerting",
            source_type_id = "1"
        ));
        assert_eq!(
            errors,
            [
                "write `name = \"Acme Pager\"`",
                "`author` takes a list of keys: `author(name = \"...\", ...)`",
                "`categories` takes a list of strings: `categories = [\"Alerting\"]`",
                "`source_type_id` takes an integer: `source_type_id = 12345678`",
            ]
        );
    }
}
