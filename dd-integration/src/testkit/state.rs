//! What the sandbox knows: orgs, OAuth clients, codes, grants, tokens, keys, and what it received.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use url::Url;

use super::clock::Clock;
use super::faults::{Faults, Route};
use super::ids;
use super::intake::{IntakeTally, Received};
use crate::site::{Domain, Site};

/// How the authorize endpoint obtains the user's decision.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub enum Consent {
    /// The user approves at once: the authorize request redirects straight to the callback.
    #[default]
    Auto,
    /// Serve an HTML consent page naming the client and the scopes, with **Authorize** and
    /// **Deny** buttons (a form posted back to the sandbox).
    Page,
    /// The user always refuses: the authorize request redirects with `error=access_denied`.
    Deny,
}

/// The state of a refresh token, as [`Sandbox::refresh_token_state`](super::Sandbox::refresh_token_state) reports it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum TokenState {
    /// Never used: the next refresh with it succeeds.
    Active,
    /// Already used for a refresh. Under strict rotation it is dead; under lenient rotation it
    /// keeps working until the refresh token that replaced it is used.
    Rotated,
    /// Its grant was revoked (revoke endpoint, code re-use, `revoke_grants`).
    Revoked,
}

/// An organization to add to the sandbox: a name and a region, optionally a vanity subdomain
/// and the scopes its admins let OAuth clients have.
#[derive(Clone, Debug)]
pub struct OrgSpec {
    name: String,
    domain: Domain,
    vanity: Option<String>,
    grantable: Option<Vec<String>>,
}

impl OrgSpec {
    /// An org named `name` on the region `domain`.
    pub fn new(name: impl Into<String>, domain: Domain) -> OrgSpec {
        OrgSpec {
            name: name.into(),
            domain,
            vanity: None,
            grantable: None,
        }
    }

    /// A vanity subdomain (`bigcorp` for `bigcorp.datadoghq.eu`): the authorize page is then
    /// also served there, and only there is the org chosen without `dd_oid`.
    pub fn vanity(mut self, label: impl Into<String>) -> OrgSpec {
        self.vanity = Some(label.into());
        self
    }

    /// The only scopes this org lets OAuth clients have (an admin's narrowing). Default: all.
    pub fn grantable_scopes<I, S>(mut self, scopes: I) -> OrgSpec
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.grantable = Some(scopes.into_iter().map(Into::into).collect());
        self
    }
}

/// An organization of the sandbox, as returned by [`Sandbox::add_org`](super::Sandbox::add_org).
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct SandboxOrg {
    /// The org's UUID: `dd_oid` in the callback.
    pub id: String,
    /// The org's name: `dd_org_name` in the callback.
    pub name: String,
    /// The org's region: `domain` in the callback.
    pub domain: Domain,
    /// The org's UI origin (its vanity subdomain if it has one).
    pub site: Site,
}

impl SandboxOrg {
    /// The org's id as Datadog confirms it to an installation of the org (`GET /api/v2/users`):
    /// what `Installation::org_id` holds and `find_by_org` takes.
    pub fn org_id(&self) -> crate::installation::OrgId {
        crate::installation::OrgId::from_confirmed(self.id.clone())
    }
}

/// An OAuth client to register: a name, its redirect URIs and scopes, and whether it is
/// published.
#[derive(Clone, Debug)]
pub struct ClientSpec {
    name: String,
    redirect_uris: Vec<String>,
    scopes: Vec<String>,
    developer_org: Option<String>,
}

impl ClientSpec {
    /// A published client named `name` (the name appears on the consent page and in the name
    /// of its marketplace API keys), with no redirect URI and no scope yet.
    pub fn new(name: impl Into<String>) -> ClientSpec {
        ClientSpec {
            name: name.into(),
            redirect_uris: Vec::new(),
            scopes: Vec::new(),
            developer_org: None,
        }
    }

    /// Registers a redirect URI (may be called several times). Datadog compares it exactly.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> ClientSpec {
        self.redirect_uris.push(uri.into());
        self
    }

    /// The scopes configured on the client (include `api_keys_write` for the marketplace key).
    pub fn scopes<I, S>(mut self, scopes: I) -> ClientSpec
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Not published yet: only users of the developer org (`SandboxOrg::id`) may authorize it.
    pub fn unpublished(mut self, developer_org_id: impl Into<String>) -> ClientSpec {
        self.developer_org = Some(developer_org_id.into());
        self
    }
}

/// A registered OAuth client, as returned by [`Sandbox::add_client`](super::Sandbox::add_client).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SandboxClient {
    /// The client id (a UUID).
    pub client_id: String,
    /// The client secret (shown once in the Developer Platform).
    pub client_secret: String,
    /// The client's name.
    pub name: String,
    /// The registered redirect URIs.
    pub redirect_uris: Vec<String>,
    /// The configured scopes.
    pub scopes: Vec<String>,
}

impl fmt::Debug for SandboxClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("name", &self.name)
            .field("redirect_uris", &self.redirect_uris)
            .field("scopes", &self.scopes)
            .finish()
    }
}

pub(super) struct Org {
    pub(super) public: SandboxOrg,
    pub(super) grantable: Option<Vec<String>>,
    /// The user who authorizes (and so creates the marketplace key) in this org.
    pub(super) user_id: String,
}

pub(super) struct Client {
    pub(super) public: SandboxClient,
    pub(super) developer_org: Option<String>,
}

/// An authorization request waiting on the consent page.
pub(super) struct Pending {
    pub(super) host: String,
    pub(super) issued: SystemTime,
    pub(super) approval: Approval,
}

/// Everything needed to issue a code once the user approved.
#[derive(Clone)]
pub(super) struct Approval {
    pub(super) host: String,
    pub(super) client_id: String,
    pub(super) org_id: String,
    pub(super) redirect_uri: String,
    pub(super) state: Option<String>,
    pub(super) challenge: String,
    pub(super) scopes: Vec<String>,
}

pub(super) struct Code {
    pub(super) approval: Approval,
    pub(super) issued: SystemTime,
    pub(super) used: bool,
    /// The grant issued from it, revoked if the code is presented again.
    pub(super) grant: Option<usize>,
}

pub(super) struct Grant {
    pub(super) org_id: String,
    pub(super) domain: Domain,
    pub(super) client_id: String,
    pub(super) scopes: Vec<String>,
    pub(super) revoked: bool,
}

pub(super) struct Access {
    pub(super) grant: usize,
    pub(super) expires: SystemTime,
}

pub(super) struct Refresh {
    pub(super) grant: usize,
    pub(super) used: bool,
    /// The refresh token this one replaced.
    pub(super) parent: Option<String>,
    /// A token issued in exchange for this one has itself been used.
    pub(super) superseded: bool,
}

/// Marketplace API keys: at most one per org and client, found by its text in one lookup
/// (every intake request looks its key up; a sandbox may hold thousands of orgs).
#[derive(Default)]
pub(super) struct ApiKeys {
    by_owner: HashMap<(String, String), String>,
    by_key: HashMap<String, String>,
}

impl ApiKeys {
    /// The key of this org and client, if there is one.
    pub(super) fn of(&self, org_id: &str, client_id: &str) -> Option<&str> {
        self.by_owner
            .get(&(org_id.to_owned(), client_id.to_owned()))
            .map(String::as_str)
    }

    /// The org this key belongs to.
    pub(super) fn org_of(&self, key: &str) -> Option<&str> {
        self.by_key.get(key).map(String::as_str)
    }

    /// Adds a key (the callers refuse a second one per org and client; one that got here would
    /// replace the first, which then stops authenticating).
    pub(super) fn insert(&mut self, org_id: &str, client_id: &str, key: String) {
        self.by_key.insert(key.clone(), org_id.to_owned());
        if let Some(old) = self
            .by_owner
            .insert((org_id.to_owned(), client_id.to_owned()), key)
        {
            self.by_key.remove(&old);
        }
    }

    /// Deletes the key of this org and client; whether there was one.
    pub(super) fn remove(&mut self, org_id: &str, client_id: &str) -> bool {
        let Some(key) = self
            .by_owner
            .remove(&(org_id.to_owned(), client_id.to_owned()))
        else {
            return false;
        };
        self.by_key.remove(&key);
        true
    }
}

pub(super) struct Settings {
    pub(super) consent: Consent,
    pub(super) strict_rotation: bool,
    pub(super) code_ttl: Duration,
    pub(super) access_token_ttl: Duration,
    pub(super) keep_payloads: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            consent: Consent::Auto,
            strict_rotation: false,
            code_ttl: Duration::from_secs(600),
            access_token_ttl: Duration::from_secs(3600),
            keep_payloads: true,
        }
    }
}

#[derive(Default)]
pub(super) struct State {
    pub(super) settings: Settings,
    pub(super) clock: Clock,
    /// Added only by `add_org`, which keeps the indexes below; never removed.
    orgs: Vec<Org>,
    /// Where each org is in `orgs`.
    org_index: HashMap<String, usize>,
    /// Where the org of each vanity subdomain (region, label) is in `orgs`.
    vanity_index: HashMap<(Domain, String), usize>,
    pub(super) clients: Vec<Client>,
    pub(super) pending: HashMap<String, Pending>,
    pub(super) codes: HashMap<String, Code>,
    pub(super) grants: Vec<Grant>,
    pub(super) access: HashMap<String, Access>,
    pub(super) refresh: HashMap<String, Refresh>,
    pub(super) api_keys: ApiKeys,
    pub(super) monitors: Vec<(String, serde_json::Value)>,
    pub(super) faults: Faults,
    pub(super) calls: HashMap<Route, usize>,
    /// Requests of each route being handled now, and the most there ever were at once.
    pub(super) active: HashMap<Route, usize>,
    pub(super) peak: HashMap<Route, usize>,
    pub(super) received: HashMap<Route, Vec<Received>>,
    pub(super) tallies: HashMap<(Route, String), IntakeTally>,
    pub(super) next_event_id: u64,
}

impl State {
    pub(super) fn now(&self) -> SystemTime {
        self.clock.now()
    }

    pub(super) fn org(&self, id: &str) -> Option<&Org> {
        self.org_index.get(id).map(|&i| &self.orgs[i])
    }

    /// The first org added on `domain`.
    pub(super) fn first_org_on(&self, domain: Domain) -> Option<&Org> {
        self.orgs.iter().find(|o| o.public.domain == domain)
    }

    /// The org whose vanity subdomain `label` is, on `domain`.
    pub(super) fn vanity_org(&self, domain: Domain, label: &str) -> Option<&Org> {
        self.vanity_index
            .get(&(domain, label.to_owned()))
            .map(|&i| &self.orgs[i])
    }

    pub(super) fn client(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.public.client_id == id)
    }

    pub(super) fn add_org(&mut self, spec: OrgSpec) -> SandboxOrg {
        let site = match &spec.vanity {
            None => Site::of(spec.domain),
            Some(label) => {
                let site = Site::parse(&format!("{label}.{}", spec.domain))
                    .ok()
                    .filter(|s| s.vanity().is_some())
                    .unwrap_or_else(|| {
                        panic!(
                            "`{label}` is not usable as a vanity subdomain of {}",
                            spec.domain
                        )
                    });
                // The label as the site has it (lower case), as requests will look it up.
                let taken = site
                    .vanity()
                    .is_some_and(|label| self.vanity_org(spec.domain, label).is_some());
                assert!(
                    !taken,
                    "the vanity subdomain {site} is already taken by another sandbox org"
                );
                site
            }
        };
        let public = SandboxOrg {
            id: ids::uuid(),
            name: spec.name,
            domain: spec.domain,
            site: site.clone(),
        };
        self.org_index.insert(public.id.clone(), self.orgs.len());
        if let Some(label) = site.vanity() {
            self.vanity_index
                .insert((spec.domain, label.to_owned()), self.orgs.len());
        }
        self.orgs.push(Org {
            public: public.clone(),
            grantable: spec.grantable,
            user_id: ids::uuid(),
        });
        public
    }

    pub(super) fn add_client(&mut self, spec: ClientSpec) -> SandboxClient {
        for uri in &spec.redirect_uris {
            assert!(
                Url::parse(uri).is_ok(),
                "redirect URI `{uri}` is not an absolute URL"
            );
        }
        let public = SandboxClient {
            client_id: ids::uuid(),
            client_secret: ids::opaque(),
            name: spec.name,
            redirect_uris: spec.redirect_uris,
            scopes: spec.scopes,
        };
        self.clients.push(Client {
            public: public.clone(),
            developer_org: spec.developer_org,
        });
        public
    }

    /// Revokes a grant and, with it, every access and refresh token issued under it.
    pub(super) fn revoke_grant(&mut self, grant: usize) {
        if let Some(g) = self.grants.get_mut(grant) {
            g.revoked = true;
        }
    }

    /// The grant behind a live access token, if the token is known, unexpired and unrevoked.
    pub(super) fn live_access(&self, token: &str) -> Option<&Grant> {
        let access = self.access.get(token)?;
        let grant = self.grants.get(access.grant)?;
        (!grant.revoked && access.expires > self.now()).then_some(grant)
    }

    pub(super) fn refresh_state(&self, token: &str) -> Option<TokenState> {
        let r = self.refresh.get(token)?;
        let grant = self.grants.get(r.grant)?;
        Some(if grant.revoked {
            TokenState::Revoked
        } else if r.used {
            TokenState::Rotated
        } else {
            TokenState::Active
        })
    }

    /// Tallies `received` and keeps it, or gives it back when payloads are not kept: drop it
    /// after the lock is released (a payload can hold 100,000 decoded points).
    #[must_use = "drop a payload that is not kept outside the lock"]
    pub(super) fn record(&mut self, route: Route, received: Received) -> Option<Received> {
        self.tallies
            .entry((route, received.org_id.clone()))
            .or_default()
            .add(route, &received);
        if self.settings.keep_payloads {
            self.received.entry(route).or_default().push(received);
            None
        } else {
            Some(received)
        }
    }
}

/// The state shared by the server and every handle.
pub(super) struct Shared {
    state: Mutex<State>,
    pub(super) base: Url,
    /// TCP connections accepted so far.
    pub(super) connections: std::sync::atomic::AtomicUsize,
}

impl Shared {
    pub(super) fn new(settings: Settings, base: Url) -> Shared {
        Shared {
            state: Mutex::new(State {
                settings,
                ..State::default()
            }),
            base,
            connections: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Locks the state. A panic in another holder (a failed assertion in a test) does not make
    /// the sandbox unusable: the state is only ever left consistent between statements.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
