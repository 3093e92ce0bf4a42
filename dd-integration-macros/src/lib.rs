//! The `#[datadog_integration]` attribute macro of `dd-integration`.
//!
//! Users depend on `dd-integration`, which re-exports this macro and documents it; do not depend
//! on this crate directly.
//!
//! The pipeline: `attrs` parses the arguments as written, `validate` applies Datadog's rules and
//! builds the `model`, `expand` turns the model into tokens; on any error, `fallback` emits the
//! errors beside the unchanged struct. Every error is collected before anything is emitted.

mod attrs;
mod expand;
mod fallback;
mod model;
mod validate;

use proc_macro::TokenStream;

// Documented where `dd_integration` re-exports it (`dd-integration/src/attribute.md`): rustdoc
// would append any text here to that reference.
#[proc_macro_attribute]
pub fn datadog_integration(args: TokenStream, item: TokenStream) -> TokenStream {
    datadog_integration_impl(args.into(), item.into()).into()
}

fn datadog_integration_impl(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let mut errors = darling::Error::accumulator();
    let args = attrs::Args::parse(args, &mut errors);
    let krate = args
        .krate
        .as_ref()
        .map_or_else(validate::default_crate, |k| k.value.clone());
    let Some(parsed) = errors.handle(syn::parse2::<syn::Item>(item.clone()).map_err(Into::into))
    else {
        return fallback::fallback(finish(errors), item, None);
    };
    let stand_in = match &parsed {
        syn::Item::Struct(s) if s.generics.params.is_empty() => Some(&s.ident),
        _ => None,
    };
    let model = validate::validate(args, &parsed, &validate::Package::from_env(), &mut errors);
    match (errors.finish(), model) {
        (Ok(()), Some(model)) => expand::expand(&model),
        (Err(errors), _) => fallback::fallback(errors, item, stand_in.map(|i| (i, &krate))),
        (Ok(()), None) => fallback::fallback(
            darling::Error::custom("internal error: no model and no error; please report it"),
            item,
            None,
        ),
    }
}

/// The accumulated errors, which are known not to be empty here.
fn finish(errors: darling::error::Accumulator) -> darling::Error {
    errors
        .finish()
        .err()
        .unwrap_or_else(|| darling::Error::custom("internal error: an error was lost"))
}
