//! Acme Insights: a paid listing on Datadog's Marketplace, billed per host, that sends job
//! analytics as metrics.
//!
//! The same declaration as an integrations-extras integration, plus `marketplace(...)`: the
//! product, its pricing and its terms. The submission folder then follows the Marketplace's rules
//! (a 70-character description, `<vendor_id>-<product_id>` as `app_id`, `pricing` and
//! `legal_terms` in the manifest) and goes to the DataDog/marketplace repository.

use dd_integration::datadog_integration;

/// The Marketplace listing.
#[datadog_integration(
    name = "Acme Insights",
    app_id = "acme-insights",
    scopes = [api_keys_write],
    redirect = "https://insights.acme.example/datadog/callback",
    onboarding = "https://insights.acme.example/datadog/connect",
    submits = [metrics],
    app_uuid = "ca06640e-8124-48c9-b896-af3b5ca0d727",
    description = "Job analytics from Acme in Datadog, billed per host.",
    author(
        name = "Acme Inc.",
        homepage = "https://acme.example",
        support_email = "support@acme.example",
        sales_email = "sales@acme.example",
        vendor_id = "acme",
    ),
    categories = ["Marketplace", "Metrics"],
    source_type_id = 98_765_433,
    metric_prefix = "acme_insights.",
    metric(
        name = "acme_insights.jobs.analyzed",
        type = count,
        unit = "job",
        description = "Jobs analyzed in the interval.",
        orientation = higher_is_better,
    ),
    metric(
        name = "acme_insights.jobs.duration",
        type = gauge,
        unit = "second",
        description = "Mean run time of the analyzed jobs.",
        orientation = lower_is_better,
    ),
    marketplace(
        product_id = "insights",
        legal_terms = "assets/eula.pdf",
        pricing(
            billing_type = tag_count,
            unit_price = 5,
            unit_label = "Host",
            metric = "datadog.marketplace.acme.insights",
            tag = "host",
            short_description = "Per host per month.",
        ),
    ),
)]
pub struct AcmeInsights;

#[cfg(test)]
mod tests {
    use dd_integration::DatadogIntegration;
    use dd_integration::integration::BillingType;

    use super::*;

    #[test]
    fn declaration_is_the_spec() {
        let listing = AcmeInsights::SPEC.listing.marketplace.unwrap();
        assert_eq!(listing.product_id, "insights");
        assert_eq!(listing.pricing[0].billing_type, BillingType::TagCount);
        assert_eq!(listing.pricing[0].unit_price, "5");
        assert_eq!(AcmeInsights::SPEC.author.vendor_id, Some("acme"));
    }
}
