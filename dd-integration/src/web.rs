//! The install flow's handlers as an axum router.
//!
//! ```ignore
//! let app = axum::Router::new().merge(dd_integration::web::router(installer));
//! ```

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::install::Installer;

/// A router serving the onboarding URL and the redirect URI of `installer` at their paths.
pub fn router(installer: Installer) -> Router {
    let onboarding = installer.onboarding_path().to_owned();
    let callback = installer.callback_path().to_owned();
    Router::new()
        .route(&onboarding, get(onboarding_handler))
        .route(&callback, get(callback_handler))
        .with_state(installer)
}

async fn onboarding_handler(
    State(installer): State<Installer>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    installer.onboarding(&uri, &headers).await.into_response()
}

async fn callback_handler(
    State(installer): State<Installer>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    installer
        .callback(&method, &uri, &headers)
        .await
        .into_response()
}
