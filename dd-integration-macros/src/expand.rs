//! The checked declaration as tokens. Cannot fail: everything was checked by `validate`.
//!
//! The output is data and impls only: the struct unchanged, an impl of `DatadogIntegration`
//! whose `SPEC` holds the declaration, one impl of `HasScope` a declared scope, and, for each
//! warning, an item that makes rustc report it at the user's token.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use crate::model::{Integration, Metric, ServiceCheck, Warning};

pub fn expand(model: &Integration) -> TokenStream {
    let Integration {
        item,
        krate,
        name,
        app_id,
        description,
        author,
        classifier_tags,
        scopes,
        uncatalogued_scopes,
        redirect_uris,
        onboarding_url,
        submits,
        metrics,
        service_checks,
        environments,
        warnings,
        ..
    } = model;
    let ident = &item.ident;
    let p = quote!(#krate::__private);
    // Each environment's redirect URI is registered on the OAuth client too (listed once).
    let env_redirects: Vec<&String> = environments
        .iter()
        .map(|e| &e.redirect)
        .filter(|r| !redirect_uris.contains(r))
        .collect();
    let env_items: Vec<TokenStream> = environments
        .iter()
        .map(|e| {
            let (name, redirect, onboarding) = (&e.name, &e.redirect, &e.onboarding);
            quote!(#p::Environment {
                name: #name,
                redirect_uri: #redirect,
                onboarding_url: #onboarding,
            })
        })
        .collect();
    let app_uuid = option_str(model.app_uuid.as_deref());
    let oauth_client_id = option_str(model.oauth_client_id.as_deref());
    let source_type_name = option_str(model.source_type_name.as_deref());
    let oauth_client_name = option_str(model.oauth_client_name.as_deref());
    let oauth_client_description = option_str(model.oauth_client_description.as_deref());
    let logs_source = option_str(model.logs_source.as_deref());
    let creates_events = model.creates_events;
    let metric_prefix = option_str(model.metric_prefix.as_deref());
    let a_vendor = option_str(author.vendor_id.as_deref());
    let explicit_tags = match &model.explicit_tags {
        Some(tags) => quote!(::core::option::Option::Some(&[#(#tags),*])),
        None => quote!(::core::option::Option::None),
    };
    let resources = model
        .resources
        .iter()
        .map(|(kind, url)| quote!(#p::Resource { kind: #kind, url: #url }));
    let tile_support = option_str(model.tile_support.as_deref());
    let metrics_check = match &model.metrics_check {
        Some(names) => quote!(::core::option::Option::Some(&[#(#names),*])),
        None => quote!(::core::option::Option::None),
    };
    let option_bool = |b: Option<bool>| match b {
        Some(b) => quote!(::core::option::Option::Some(#b)),
        None => quote!(::core::option::Option::None),
    };
    let auto_install = option_bool(model.auto_install);
    let display = option_bool(model.display_on_public_website);
    let starter_dashboard = option_bool(model.starter_dashboard);
    let log_facets = &model.log_facets;
    let marketplace = match &model.marketplace {
        None => quote!(::core::option::Option::None),
        Some(m) => {
            let (product_id, legal_terms) = (&m.product_id, &m.legal_terms);
            let pricing = m.pricing.iter().map(|entry| {
                let billing = Ident::new(entry.billing_type, Span::call_site());
                let (price, label) = (&entry.unit_price, &entry.unit_label);
                let short = &entry.short_description;
                let metric = option_str(entry.metric.as_deref());
                let tag = option_str(entry.tag.as_deref());
                quote!(#p::Pricing {
                    billing_type: #p::BillingType::#billing,
                    unit_price: #price,
                    unit_label: #label,
                    metric: #metric,
                    tag: #tag,
                    short_description: #short,
                })
            });
            quote!(::core::option::Option::Some(#p::Marketplace {
                product_id: #product_id,
                legal_terms: #legal_terms,
                pricing: &[#(#pricing),*],
            }))
        }
    };
    // The build reads metadata.csv again whenever it changes.
    let tracked = model.metadata_csv.iter().map(|path| {
        quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        )
    });
    let source_type_id = match model.source_type_id {
        Some(id) => quote!(::core::option::Option::Some(#id)),
        None => quote!(::core::option::Option::None),
    };
    let (a_name, a_homepage, a_support, a_sales) = (
        &author.name,
        &author.homepage,
        &author.support_email,
        &author.sales_email,
    );
    let is_catalogued = |s: &&Ident| !uncatalogued_scopes.contains(&s.to_string());
    let scope_values = scopes.iter().map(|s| {
        if is_catalogued(&s) {
            let name = format_ident!("{}", s.to_string().to_ascii_uppercase());
            quote!(#p::Scope::#name)
        } else {
            let name = s.to_string();
            quote!(#p::Scope::uncatalogued(#name))
        }
    });
    let kinds = submits.iter().map(|k| format_ident!("{}", k.variant()));
    let metrics = metrics.iter().map(|m| metric(&p, m));
    let service_checks = service_checks.iter().map(|c| service_check(&p, c));
    // Each impl carries the span of the scope as written: "go to definition" on a scope in the
    // attribute lands on its marker, and when another scope is missing, rustc's "but
    // `HasScope<monitors_read>` is implemented" points at the declared list.
    let markers = scopes.iter().filter(is_catalogued).map(|scope| {
        let span = scope.span();
        let impl_token = quote_spanned!(span=> impl);
        let mut body = Group::new(Delimiter::Brace, TokenStream::new());
        body.set_span(span);
        quote! {
            #[automatically_derived]
            #impl_token #p::HasScope<#p::markers::#scope> for #ident #body
        }
    });
    // `Submits<kinds::logs>` for each kind in `submits`: sending a kind the declaration does
    // not list does not compile.
    let kind_markers = submits.iter().map(|k| {
        let marker = format_ident!("{}", k.name());
        quote! {
            #[automatically_derived]
            impl #p::Submits<#p::kinds::#marker> for #ident {}
        }
    });
    let warnings = warnings.iter().map(warning);

    quote! {
        #item

        #[automatically_derived]
        impl #p::DatadogIntegration for #ident {
            const SPEC: &'static #p::IntegrationSpec = &#p::IntegrationSpec {
                name: #name,
                app_id: #app_id,
                app_uuid: #app_uuid,
                description: #description,
                version: ::core::env!("CARGO_PKG_VERSION"),
                author: #p::Author {
                    name: #a_name,
                    homepage: #a_homepage,
                    support_email: #a_support,
                    sales_email: #a_sales,
                    vendor_id: #a_vendor,
                },
                classifier_tags: &[#(#classifier_tags),*],
                scopes: &[#(#scope_values),*],
                redirect_uris: &[#(#redirect_uris,)* #(#env_redirects),*],
                environments: &[#(#env_items),*],
                onboarding_url: #onboarding_url,
                submits: &[#(#p::DataKind::#kinds),*],
                oauth_client_id: #oauth_client_id,
                source_type_id: #source_type_id,
                source_type_name: #source_type_name,
                oauth_client: #p::OAuthClientText {
                    name: #oauth_client_name,
                    description: #oauth_client_description,
                },
                logs_source: #logs_source,
                creates_events: #creates_events,
                metric_prefix: #metric_prefix,
                metrics: &[#(#metrics),*],
                service_checks: &[#(#service_checks),*],
                listing: #p::Listing {
                    classifier_tags: #explicit_tags,
                    resources: &[#(#resources),*],
                    support: #tile_support,
                    metrics_check: #metrics_check,
                    auto_install: #auto_install,
                    display_on_public_website: #display,
                    starter_dashboard: #starter_dashboard,
                    marketplace: #marketplace,
                    log_facets: &[#(#log_facets),*],
                },
            };
        }

        #(#tracked)*

        #(#markers)*

        #(#kind_markers)*

        #(#warnings)*
    }
}

fn metric(p: &TokenStream, m: &Metric) -> TokenStream {
    let Metric {
        name, description, ..
    } = m;
    let metric_type = Ident::new(m.metric_type, Span::call_site());
    let orientation = Ident::new(m.orientation, Span::call_site());
    let unit = option_str(m.unit.as_deref());
    let per_unit = option_str(m.per_unit.as_deref());
    let short_name = option_str(m.short_name.as_deref());
    let interval = match m.interval {
        Some(seconds) => quote!(::core::option::Option::Some(#seconds)),
        None => quote!(::core::option::Option::None),
    };
    let (sample_tags, curated) = (&m.sample_tags, &m.curated_metric);
    quote! {
        #p::MetricSpec {
            name: #name,
            metric_type: #p::MetricType::#metric_type,
            unit: #unit,
            per_unit: #per_unit,
            description: #description,
            orientation: #p::Orientation::#orientation,
            short_name: #short_name,
            interval: #interval,
            sample_tags: &[#(#sample_tags),*],
            curated_metric: &[#(#curated),*],
        }
    }
}

fn service_check(p: &TokenStream, c: &ServiceCheck) -> TokenStream {
    let ServiceCheck {
        name,
        title,
        description,
        statuses,
    } = c;
    quote! {
        #p::ServiceCheckSpec {
            name: #name,
            title: #title,
            description: #description,
            statuses: &[#(#statuses),*],
        }
    }
}

fn option_str(value: Option<&str>) -> TokenStream {
    match value {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    }
}

/// Stable Rust has no way for a macro to emit a warning; using a deprecated item does it, at
/// the user's token, and `#[deny(warnings)]` turns it into an error as for any warning.
fn warning(warning: &Warning) -> TokenStream {
    let Warning { span, message } = warning;
    let name = Ident::new("__dd_warning", *span);
    quote! {
        const _: () = {
            #[deprecated(note = #message)]
            #[allow(non_camel_case_types)]
            struct __dd_warning;
            let _ = #name;
        };
    }
}
