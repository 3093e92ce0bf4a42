//! What a declaration with errors expands to: the errors, the struct unchanged, and stand-in
//! impls, so that the rest of the crate compiles as if the declaration were right and the only
//! errors are the declaration's own.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, Path};

/// `errors`, `item` as written, and, for a struct (`target`), a `DatadogIntegration` impl with a
/// placeholder spec, `HasScope` for every scope and `Submits` for every kind, so that no use of the struct adds an error.
pub fn fallback(
    errors: darling::Error,
    item: TokenStream,
    target: Option<(&Ident, &Path)>,
) -> TokenStream {
    let errors = errors.write_errors();
    let stand_ins = target.map(|(ident, krate)| {
        let p = quote!(#krate::__private);
        quote! {
            #[automatically_derived]
            impl #p::DatadogIntegration for #ident {
                const SPEC: &'static #p::IntegrationSpec = #p::INVALID_SPEC;
            }

            #[automatically_derived]
            impl<__DdScope: #p::ScopeMarker> #p::HasScope<__DdScope> for #ident {}

            #[automatically_derived]
            impl<__DdKind: #p::KindMarker> #p::Submits<__DdKind> for #ident {}
        }
    });
    quote! {
        #errors
        #item
        #stand_ins
    }
}
