// Only the name: the other required keys are reported on the attribute, each saying what it is.
use dd_integration::datadog_integration;

#[datadog_integration(name = "Acme Pager")]
struct AcmePager;

fn main() {}
