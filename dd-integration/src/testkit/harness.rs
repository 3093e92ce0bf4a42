//! A partner's own end-to-end test in one call: [`TestIntegration::start`].

use std::sync::Arc;

use url::Url;

use super::{ClientSpec, OrgSpec, Sandbox, SandboxClient, SandboxOrg, TestAuthorization};
use crate::error::ConfigError;
use crate::install::InstallerBuilder;
use crate::integration::DatadogIntegration;
use crate::seal::{Sealer, SealingKey};
use crate::secret::ClientSecret;
use crate::site::Domain;
use crate::store::{InstallationStore, MemoryStore};
use crate::{Installation, Installer};

/// A declared integration served on loopback against a Datadog sandbox: the sandbox, an OAuth
/// client registered there with the declared scopes and a loopback redirect URI, an
/// [`Installer`] wired to both (endpoints overridden, a fresh sealing key, a store), and the
/// install flow's router served with the SDK's server. [`TestIntegration::install`] then
/// does what a customer does from the tile (Datadog's Test Authorization button).
///
/// ```
/// use dd_integration::testkit::TestIntegration;
/// use dd_integration::{Domain, datadog_integration};
///
/// #[datadog_integration(
///     name = "Acme Pager",
///     scopes = [monitors_read, api_keys_write],
///     redirect = "https://acme.example/datadog/callback",
///     onboarding = "https://acme.example/datadog/connect",
///     submits = [events],
///     description = "Pages the on-call engineer when a Datadog monitor alerts.",
///     author(name = "Acme", homepage = "https://acme.example",
///            support_email = "support@acme.example", sales_email = "sales@acme.example"),
/// )]
/// struct AcmePager;
///
/// # #[tokio::main] async fn main() {
/// let world = TestIntegration::<AcmePager>::start().await;
/// let installation = world.install("Customer", Domain::Eu1).await;
/// assert!(installation.api_key.is_some());
/// // The partner's own code runs on `world.installer` (its API client, tokens, telemetry),
/// // and asserts on Datadog's side with `world.sandbox`.
/// # }
/// ```
pub struct TestIntegration<I> {
    /// The Datadog sandbox.
    pub sandbox: Sandbox,
    /// The OAuth client registered on it for the integration.
    pub client: SandboxClient,
    /// The installer, served on [`TestIntegration::base`].
    pub installer: Installer<I>,
    /// The partner app's loopback origin (`http://localhost:<port>`).
    pub base: Url,
    /// The onboarding URL the tile opens.
    pub onboarding: Url,
}

impl<I> std::fmt::Debug for TestIntegration<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIntegration")
            .field("base", &self.base.as_str())
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl<I: DatadogIntegration> TestIntegration<I> {
    /// Everything for the integration `I`, with installations in memory.
    ///
    /// # Panics
    /// If the loopback port cannot be bound or the installer cannot be built (a bug in the
    /// declaration that its own error message names).
    pub async fn start() -> TestIntegration<I> {
        TestIntegration::start_with(|b| b)
            .await
            .unwrap_or_else(|e| panic!("the test installer does not build: {e}"))
    }

    /// Everything for `I`, with the installer's builder handed to `configure` last (its own
    /// store, hooks, token settings...). Installations are in memory unless `configure` sets a
    /// store.
    ///
    /// # Errors
    /// The installer's configuration error.
    ///
    /// # Panics
    /// If the loopback port cannot be bound.
    pub async fn start_with(
        configure: impl FnOnce(InstallerBuilder<I>) -> InstallerBuilder<I>,
    ) -> Result<TestIntegration<I>, ConfigError> {
        let spec = I::SPEC;
        let sandbox = Sandbox::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the partner app");
        let port = listener.local_addr().expect("the bound address").port();
        let base = Url::parse(&format!("http://localhost:{port}")).expect("a loopback URL");
        let path = |declared: &str, fallback: &str| {
            Url::parse(declared).map_or_else(|_| fallback.to_owned(), |u| u.path().to_owned())
        };
        let declared = spec.redirect_uris.first().copied().unwrap_or_default();
        let redirect = base
            .join(&path(declared, "/datadog/callback"))
            .expect("a loopback redirect URI");
        // A redirect URI declared without a path is registered, and sent, without one.
        let redirect = match declared.split_once("://") {
            Some((_, rest)) if !rest.is_empty() && !rest.contains('/') => {
                redirect.as_str().trim_end_matches('/').to_owned()
            }
            _ => redirect.as_str().to_owned(),
        };
        let onboarding = base
            .join(&path(spec.onboarding_url, "/datadog/connect"))
            .expect("a loopback onboarding URL");
        let client = sandbox.add_client(
            ClientSpec::new(spec.name)
                .redirect_uri(redirect.as_str())
                .scopes(spec.scopes.iter().map(|s| s.as_str())),
        );
        let (key, _) = SealingKey::generate("test").expect("a sealing key");
        let builder = Installer::<I>::builder()
            .client(
                client.client_id.clone(),
                ClientSecret::new(client.client_secret.clone()),
            )
            .sealer(Sealer::new(key))
            .redirect_uri(redirect.as_str())
            .onboarding_url(onboarding.as_str())
            .endpoints(sandbox.endpoints())
            .store(Arc::new(MemoryStore::new()) as Arc<dyn InstallationStore>);
        let installer = configure(builder).build()?;
        let router = crate::web::router(installer.clone());
        tokio::spawn(crate::web::serve(listener, router));
        Ok(TestIntegration {
            sandbox,
            client,
            installer,
            base,
            onboarding,
        })
    }

    /// A new org named `name` on `domain`, installed as a customer would from the tile; the
    /// stored installation.
    ///
    /// # Panics
    /// If the flow does not end on the success page, with what the page said.
    pub async fn install(&self, name: &str, domain: Domain) -> Installation {
        let org = self.sandbox.add_org(OrgSpec::new(name, domain));
        self.install_org(&org).await
    }

    /// `org` installed as a customer would from the tile; the stored installation.
    ///
    /// # Panics
    /// If the flow does not end on the success page, with what the page said.
    pub async fn install_org(&self, org: &SandboxOrg) -> Installation {
        let done = self.test_authorization(org).await;
        assert_eq!(
            done.status, 200,
            "the install of {} did not succeed: {}",
            org.name, done.body
        );
        self.installer
            .store()
            .list()
            .await
            .expect("the store answers")
            .into_iter()
            .rev()
            .find(|i| i.org_hint.as_deref() == Some(org.id.as_str()))
            .expect("the installation is stored")
    }

    /// The tile's Test Authorization button for `org`, whatever the outcome: the last page.
    ///
    /// # Panics
    /// If the sandbox cannot be reached.
    pub async fn test_authorization(&self, org: &SandboxOrg) -> TestAuthorization {
        self.sandbox
            .test_authorization(&self.onboarding, org)
            .await
            .expect("the sandbox answers")
    }
}
