//! The conformance battery: what every [`InstallationStore`] must do, as tests any backend can
//! run, races and faults included. The memory, SQLite and PostgreSQL stores pass it; a
//! partner's own backend runs it the same way.
//!
//! Implement [`StoreFactory`] for the backend (how to make empty storage, and how to open a
//! store on it), then generate one test per case with
//! [`installation_store_conformance!`](crate::installation_store_conformance), or run the whole
//! battery from one async test with [`run`]. A failing case panics with what the store did
//! wrong.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use dd_integration::Sealer;
//! use dd_integration::store::MemoryStore;
//! use dd_integration::store::conformance::{self, StoreFactory};
//!
//! /// A partner's backend opens its own store here (a table in its database, a fresh schema).
//! struct MyFactory;
//!
//! #[async_trait::async_trait]
//! impl StoreFactory for MyFactory {
//!     type Store = Arc<MemoryStore>;
//!     type Storage = Arc<MemoryStore>;
//!
//!     async fn storage(&self) -> Option<Self::Storage> {
//!         Some(Arc::new(MemoryStore::new()))
//!     }
//!
//!     async fn open(&self, storage: &Self::Storage, _sealer: Sealer) -> Self::Store {
//!         Arc::clone(storage)
//!     }
//!
//!     fn durable(&self) -> bool {
//!         false
//!     }
//!
//!     fn seals(&self) -> bool {
//!         false
//!     }
//! }
//!
//! // In a test file: one #[test] per case.
//! dd_integration::installation_store_conformance!(MyFactory);
//!
//! // Or every case from one async test.
//! async fn whole_battery() {
//!     conformance::run(&MyFactory).await;
//! }
//! # fn main() {}
//! ```
//!
//! What the battery holds a store to, beyond each method's documentation:
//! - times are kept to the millisecond at least;
//! - every write is atomic, also when the caller's future is dropped half-way;
//! - two stores opened on the same storage (two processes, in the real world) see each other's
//!   writes, and compare-and-swap, refresh leases and flow claims hold between them;
//! - a durable store keeps everything across closing and opening again;
//! - a sealing store opens values sealed under an older key while it is configured, and fails
//!   with [`StoreError::Sealed`] (not a panic, not a wrong value) when it is not.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use super::{FlowClaim, InstallationStore, MemoryStore, StoreError, TokenUpdate};
use crate::installation::MarketplaceApiKey;
use crate::installation::{
    Installation, InstallationId, InstallationStatus, OrgId, Revocation, RevocationCause,
};
use crate::scope::ScopeSet;
use crate::seal::{Sealer, SealingKey};
use crate::secret::{AccessToken, ApiKey, RefreshToken};
use crate::site::{Domain, Site};

/// Makes storage and opens stores on it, for the battery.
#[async_trait]
pub trait StoreFactory: Send + Sync {
    /// The store under test.
    type Store: InstallationStore;
    /// Where a store keeps its data: a file's path, a database's URL, a shared handle.
    type Storage: Send + Sync;

    /// New, empty storage, for one case. `None` when the backend cannot be reached here; the
    /// case is then skipped, so say why on stderr, loudly (and fail instead on CI).
    async fn storage(&self) -> Option<Self::Storage>;

    /// A store on `storage`, sealing with `sealer`. The battery calls it more than once for one
    /// storage: to have two stores on it at once (as two processes would), and to open it again
    /// after dropping every store (as after a restart).
    async fn open(&self, storage: &Self::Storage, sealer: Sealer) -> Self::Store;

    /// Whether data survives dropping every store and opening the storage again.
    fn durable(&self) -> bool {
        true
    }

    /// Whether the store seals secrets with the [`Sealer`] it is given (so the rotation case
    /// applies).
    fn seals(&self) -> bool {
        true
    }
}

/// The factory of [`MemoryStore`]s: the storage is one shared store, which forgets everything
/// when the last handle goes.
#[derive(Debug, Default, Clone, Copy)]
pub struct MemoryFactory;

#[async_trait]
impl StoreFactory for MemoryFactory {
    type Store = Arc<MemoryStore>;
    type Storage = Arc<MemoryStore>;

    async fn storage(&self) -> Option<Arc<MemoryStore>> {
        Some(Arc::new(MemoryStore::new()))
    }

    async fn open(&self, storage: &Arc<MemoryStore>, _sealer: Sealer) -> Arc<MemoryStore> {
        Arc::clone(storage)
    }

    fn durable(&self) -> bool {
        false
    }

    fn seals(&self) -> bool {
        false
    }
}

/// The cases, by name; [`run_case`] takes one of these.
pub const CASES: &[&str] = &[
    "insert_then_get_round_trips_every_field",
    "get_of_an_unknown_id_is_none",
    "insert_of_an_existing_id_is_refused",
    "insert_marks_the_previous_installation_replaced",
    "find_by_org_returns_the_current_installation_whatever_its_status",
    "list_is_in_creation_order",
    "list_by_org_has_every_installation_of_the_org_in_order",
    "set_api_key_then_get",
    "the_key_journal_is_cleared_by_the_key_or_by_a_clear",
    "update_tokens_compares_and_swaps",
    "concurrent_token_updates_have_one_winner_per_version",
    "refresh_lease_is_exclusive",
    "refresh_lease_expires",
    "concurrent_lease_takers_have_one_winner",
    "leases_leave_the_version_alone",
    "set_status_records_revocation_and_removal",
    "delete_removes_the_installation",
    "flow_claims_record_how_flows_end",
    "concurrent_flow_claims_have_one_winner",
    "insert_for_flow_stores_the_installation_and_ends_its_flow",
    "concurrent_installs_of_one_org_replace_one_after_the_other",
    "data_survives_reopening",
    "sealing_key_rotation",
    "cancelled_writes_leave_whole_records",
];

/// Runs every case, each on new storage, and panics at the first that fails. Call it from an
/// async test (a multi-threaded runtime tests the races best).
pub async fn run<F: StoreFactory>(factory: &F) {
    for case in CASES {
        run_case_async(factory, case).await;
    }
}

/// Runs one case by name on new storage, on a runtime of its own (what
/// [`installation_store_conformance!`](crate::installation_store_conformance) generates).
///
/// # Panics
/// When the case fails, or the name is not in [`CASES`].
pub fn run_case<F: StoreFactory>(factory: &F, case: &str) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime for the conformance case")
        .block_on(run_case_async(factory, case));
}

/// Checks that a list of generated cases is the whole battery.
#[doc(hidden)]
pub fn check_complete(generated: &[&str]) {
    let missing: Vec<_> = CASES.iter().filter(|c| !generated.contains(c)).collect();
    assert!(
        missing.is_empty(),
        "conformance cases not generated: {missing:?}"
    );
}

async fn run_case_async<F: StoreFactory>(factory: &F, case: &str) {
    let Some(storage) = factory.storage().await else {
        eprintln!("conformance case `{case}` SKIPPED: the backend is not reachable here");
        return;
    };
    let t = Bench { factory, storage };
    match case {
        "insert_then_get_round_trips_every_field" => insert_then_get(&t).await,
        "get_of_an_unknown_id_is_none" => get_unknown(&t).await,
        "insert_of_an_existing_id_is_refused" => insert_duplicate(&t).await,
        "insert_marks_the_previous_installation_replaced" => insert_replaces(&t).await,
        "find_by_org_returns_the_current_installation_whatever_its_status" => find_by_org(&t).await,
        "list_is_in_creation_order" => list_order(&t).await,
        "list_by_org_has_every_installation_of_the_org_in_order" => list_by_org(&t).await,
        "set_api_key_then_get" => set_api_key(&t).await,
        "the_key_journal_is_cleared_by_the_key_or_by_a_clear" => key_journal(&t).await,
        "update_tokens_compares_and_swaps" => update_tokens(&t).await,
        "concurrent_token_updates_have_one_winner_per_version" => cas_race(&t).await,
        "refresh_lease_is_exclusive" => lease_exclusive(&t).await,
        "refresh_lease_expires" => lease_expiry(&t).await,
        "concurrent_lease_takers_have_one_winner" => lease_race(&t).await,
        "leases_leave_the_version_alone" => lease_version(&t).await,
        "set_status_records_revocation_and_removal" => set_status(&t).await,
        "delete_removes_the_installation" => delete(&t).await,
        "flow_claims_record_how_flows_end" => flow_lifecycle(&t).await,
        "concurrent_flow_claims_have_one_winner" => flow_race(&t).await,
        "insert_for_flow_stores_the_installation_and_ends_its_flow" => {
            insert_for_flow(&t).await;
        }
        "concurrent_installs_of_one_org_replace_one_after_the_other" => {
            installs_of_one_org_race(&t).await;
        }
        "data_survives_reopening" => reopen(&t).await,
        "sealing_key_rotation" => rotation(&t).await,
        "cancelled_writes_leave_whole_records" => cancelled_writes(&t).await,
        other => panic!("no conformance case named `{other}`; the cases are {CASES:?}"),
    }
}

/// Generates one `#[test]` per conformance case for a [`StoreFactory`] expression, plus a test
/// that the list is complete. Use it in a test module of its own (the module's name tells the
/// backends apart in the test output):
///
/// ```no_run
/// mod memory_conformance {
///     dd_integration::installation_store_conformance!(
///         dd_integration::store::conformance::MemoryFactory
///     );
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! installation_store_conformance {
    ($factory:expr) => {
        $crate::installation_store_conformance!(@cases $factory;
            insert_then_get_round_trips_every_field,
            get_of_an_unknown_id_is_none,
            insert_of_an_existing_id_is_refused,
            insert_marks_the_previous_installation_replaced,
            find_by_org_returns_the_current_installation_whatever_its_status,
            list_is_in_creation_order,
            list_by_org_has_every_installation_of_the_org_in_order,
            set_api_key_then_get,
            the_key_journal_is_cleared_by_the_key_or_by_a_clear,
            update_tokens_compares_and_swaps,
            concurrent_token_updates_have_one_winner_per_version,
            refresh_lease_is_exclusive,
            refresh_lease_expires,
            concurrent_lease_takers_have_one_winner,
            leases_leave_the_version_alone,
            set_status_records_revocation_and_removal,
            delete_removes_the_installation,
            flow_claims_record_how_flows_end,
            concurrent_flow_claims_have_one_winner,
            insert_for_flow_stores_the_installation_and_ends_its_flow,
            concurrent_installs_of_one_org_replace_one_after_the_other,
            data_survives_reopening,
            sealing_key_rotation,
            cancelled_writes_leave_whole_records,
        );
    };
    (@cases $factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::store::conformance::run_case(&$factory, ::core::stringify!($case));
            }
        )*

        #[test]
        fn conformance_battery_is_complete() {
            $crate::store::conformance::check_complete(&[$(::core::stringify!($case)),*]);
        }
    };
}

/// An installation such as the install flow stores, with fresh ids and secrets (recognizable
/// strings, so tests can look for them where they must not be), times to the millisecond.
pub fn sample_installation(org_id: &str) -> Installation {
    let tag = random_tag();
    let now = whole_millis(SystemTime::now());
    Installation {
        id: InstallationId::generate(),
        org_id: Some(OrgId::from_confirmed(org_id)),
        org_hint: Some(org_id.to_owned()),
        org_name: Some(format!("Org {org_id}")),
        site: Site::parse("acme.datadoghq.eu").expect("a valid site"),
        domain: Domain::Eu1,
        granted_scopes: ScopeSet::parse("api_keys_write monitors_read").expect("valid scopes"),
        access_token: AccessToken::new(format!("conformance-access-token-{tag}")),
        access_token_expires_at: now + Duration::from_secs(3600),
        refresh_token: RefreshToken::new(format!("conformance-refresh-token-{tag}")),
        api_key: None,
        api_key_requested_at: Some(now),
        refresh_started_at: None,
        partner_account: Some(format!("account-{tag}")),
        status: InstallationStatus::Active,
        previous: None,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// A marketplace API key with a fresh, recognizable value.
pub fn sample_api_key() -> MarketplaceApiKey {
    let tag = random_tag();
    MarketplaceApiKey {
        id: format!("key-id-{tag}"),
        key: ApiKey::new(format!("conformance-api-key-{tag}")),
        name: Some(format!("Acme Pager OAuth Client API Key {tag}")),
        created_at: Some("2026-11-22T10:00:00.000000+00:00".to_owned()),
    }
}

/// New tokens, as a refresh returns them, with fresh recognizable values.
pub fn sample_tokens() -> TokenUpdate {
    let tag = random_tag();
    TokenUpdate {
        access_token: AccessToken::new(format!("conformance-access-token-{tag}")),
        access_token_expires_at: whole_millis(SystemTime::now()) + Duration::from_secs(3600),
        refresh_token: RefreshToken::new(format!("conformance-refresh-token-{tag}")),
        granted_scopes: None,
        refresh_started_at: None,
    }
}

fn random_tag() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the OS random source failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn whole_millis(at: SystemTime) -> SystemTime {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    UNIX_EPOCH + Duration::from_millis(u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
}

fn sealer_a() -> Sealer {
    Sealer::new(key("conformance-a", 0xA1))
}

fn key(id: &str, byte: u8) -> SealingKey {
    SealingKey::from_bytes(id, &[byte; 32]).expect("a valid key")
}

/// One case's storage, and how to open stores on it.
struct Bench<'f, F: StoreFactory> {
    factory: &'f F,
    storage: F::Storage,
}

impl<F: StoreFactory> Bench<'_, F> {
    async fn open(&self) -> F::Store {
        self.factory.open(&self.storage, sealer_a()).await
    }

    async fn open_with(&self, sealer: Sealer) -> F::Store {
        self.factory.open(&self.storage, sealer).await
    }

    /// Two stores on the one storage, as two processes would have.
    async fn two(&self) -> [Arc<F::Store>; 2] {
        [Arc::new(self.open().await), Arc::new(self.open().await)]
    }
}

async fn must_get<S: InstallationStore + ?Sized>(store: &S, id: &InstallationId) -> Installation {
    store
        .get(id)
        .await
        .unwrap_or_else(|e| panic!("get({id}) failed: {e}"))
        .unwrap_or_else(|| panic!("get({id}) found nothing after it was stored"))
}

/// The flow `flow_id` ended with `installed`, as a later claim of it finds.
async fn assert_flow_installed<S: InstallationStore + ?Sized>(
    store: &S,
    flow_id: &str,
    installed: &InstallationId,
) {
    assert_eq!(
        store
            .claim_flow(flow_id, SystemTime::now())
            .await
            .expect("claim_flow"),
        FlowClaim::Installed(installed.clone()),
        "the outcome of {flow_id}"
    );
}

async fn must_insert<S: InstallationStore + ?Sized>(store: &S, installation: &Installation) {
    store
        .insert(installation)
        .await
        .unwrap_or_else(|e| panic!("insert({}) failed: {e}", installation.id));
}

fn assert_same(found: &Installation, expected: &Installation, what: &str) {
    let id = &expected.id;
    assert_eq!(found.id, expected.id, "{what}: id");
    assert_eq!(found.org_id, expected.org_id, "{what}: org_id of {id}");
    assert_eq!(
        found.org_hint, expected.org_hint,
        "{what}: org_hint of {id}"
    );
    assert_eq!(
        found.org_name, expected.org_name,
        "{what}: org_name of {id}"
    );
    assert_eq!(found.site, expected.site, "{what}: site of {id}");
    assert_eq!(found.domain, expected.domain, "{what}: domain of {id}");
    assert_eq!(
        found.granted_scopes, expected.granted_scopes,
        "{what}: granted_scopes of {id}"
    );
    assert!(
        found.access_token == expected.access_token,
        "{what}: access_token of {id} differs"
    );
    assert_eq!(
        found.access_token_expires_at, expected.access_token_expires_at,
        "{what}: access_token_expires_at of {id} (times are kept to the millisecond)"
    );
    assert!(
        found.refresh_token == expected.refresh_token,
        "{what}: refresh_token of {id} differs"
    );
    assert_same_key(found.api_key.as_ref(), expected.api_key.as_ref(), what);
    assert_eq!(
        found.partner_account, expected.partner_account,
        "{what}: partner_account of {id}"
    );
    assert_eq!(found.status, expected.status, "{what}: status of {id}");
    assert_eq!(
        found.previous, expected.previous,
        "{what}: previous of {id}"
    );
    assert_eq!(
        found.created_at, expected.created_at,
        "{what}: created_at of {id}"
    );
    assert_eq!(found.version, expected.version, "{what}: version of {id}");
}

fn assert_same_key(
    found: Option<&MarketplaceApiKey>,
    expected: Option<&MarketplaceApiKey>,
    what: &str,
) {
    match (found, expected) {
        (None, None) => {}
        (Some(f), Some(e)) => {
            assert_eq!(f.id, e.id, "{what}: api key id");
            assert!(f.key == e.key, "{what}: api key value differs");
            assert_eq!(f.name, e.name, "{what}: api key name");
            assert_eq!(f.created_at, e.created_at, "{what}: api key created_at");
        }
        (f, e) => panic!(
            "{what}: api key {} but expected {}",
            if f.is_some() { "present" } else { "absent" },
            if e.is_some() { "present" } else { "absent" }
        ),
    }
}

fn assert_tokens(found: &Installation, tokens: &TokenUpdate, what: &str) {
    assert!(
        found.access_token == tokens.access_token,
        "{what}: access token is not the one written"
    );
    assert!(
        found.refresh_token == tokens.refresh_token,
        "{what}: refresh token is not the one written"
    );
    assert_eq!(
        found.access_token_expires_at, tokens.access_token_expires_at,
        "{what}: access token expiry"
    );
    assert_eq!(
        found.refresh_started_at, tokens.refresh_started_at,
        "{what}: the refresh journal (refresh_started_at) is not the one written"
    );
}

async fn insert_then_get<F: StoreFactory>(t: &Bench<'_, F>) {
    let store = t.open().await;
    let installation = sample_installation("org-roundtrip");
    must_insert(&store, &installation).await;
    let found = must_get(&store, &installation.id).await;
    assert_same(&found, &installation, "read back after insert");

    // Every optional field absent, another site and region.
    let mut bare = sample_installation("org-bare");
    bare.org_id = None;
    bare.org_hint = None;
    bare.api_key_requested_at = None;
    bare.org_name = None;
    bare.partner_account = None;
    bare.site = Site::of(Domain::Us5);
    bare.domain = Domain::Us5;
    bare.granted_scopes = ScopeSet::new();
    must_insert(&store, &bare).await;
    assert_same(
        &must_get(&store, &bare.id).await,
        &bare,
        "a record with no optional field",
    );

    // An installation stored with its key at once.
    let mut keyed = sample_installation("org-keyed");
    keyed.api_key = Some(sample_api_key());
    must_insert(&store, &keyed).await;
    assert_same(
        &must_get(&store, &keyed.id).await,
        &keyed,
        "a record stored with its key",
    );
}

async fn get_unknown<F: StoreFactory>(t: &Bench<'_, F>) {
    let store = t.open().await;
    let id = InstallationId::generate();
    assert!(
        store
            .get(&id)
            .await
            .expect("get of an unknown id")
            .is_none(),
        "get of an unknown id found something"
    );
    assert!(
        store.list().await.expect("list").is_empty(),
        "new storage is not empty"
    );
    assert!(
        store
            .find_by_org(&OrgId::from_confirmed("nobody"))
            .await
            .expect("find_by_org")
            .is_none()
    );
}

async fn insert_duplicate<F: StoreFactory>(t: &Bench<'_, F>) {
    let store = t.open().await;
    let first = sample_installation("org-dup");
    must_insert(&store, &first).await;
    let mut again = sample_installation("org-other");
    again.id = first.id.clone();
    match store.insert(&again).await {
        Err(StoreError::Duplicate(id)) => assert_eq!(id, first.id),
        other => panic!("a second insert with the same id gave {other:?}, not Duplicate"),
    }
    assert_same(
        &must_get(&store, &first.id).await,
        &first,
        "the first record after a refused duplicate",
    );
    assert_eq!(store.list().await.expect("list").len(), 1);
}

async fn insert_replaces<F: StoreFactory>(t: &Bench<'_, F>) {
    let store = t.open().await;
    let old = sample_installation("org-reinstall");
    must_insert(&store, &old).await;
    let mut new = sample_installation("org-reinstall");
    new.previous = Some(old.id.clone());
    must_insert(&store, &new).await;

    let old_now = must_get(&store, &old.id).await;
    assert_eq!(
        old_now.status,
        InstallationStatus::Replaced { by: new.id.clone() },
        "the previous installation is marked replaced by the new one"
    );
    assert_eq!(
        old_now.version,
        old.version + 1,
        "marking it replaced bumps its version"
    );
    assert_same(
        &must_get(&store, &new.id).await,
        &new,
        "the new installation",
    );
    let active = store
        .find_by_org(&OrgId::from_confirmed("org-reinstall"))
        .await
        .expect("find_by_org")
        .expect("the org has an active installation");
    assert_eq!(
        active.id, new.id,
        "find_by_org returns the new installation"
    );
}

async fn list_by_org<F: StoreFactory>(t: &Bench<'_, F>) {
    let store = t.open().await;
    assert!(
        store
            .list_by_org(&OrgId::from_confirmed("org-a"))
            .await
            .expect("list_by_org")
            .is_empty()
    );
    let a = sample_installation("org-a");
    let b = sample_installation("org-b");
    let mut a2 = sample_installation("org-a");
    a2.previous = Some(a.id.clone());
    let a3 = sample_installation("org-a");
    for i in [&a, &b, &a2, &a3] {
        must_insert(&store, i).await;
    }
    store
        .set_status(&a3.id, &InstallationStatus::Removed)
        .await
        .expect("set_status");
    let found: Vec<_> = store
        .list_by_org(&OrgId::from_confirmed("org-a"))
        .await
        .expect("list_by_org")
        .into_iter()
        .map(|i| (i.id, i.status))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                a.id.clone(),
                InstallationStatus::Replaced { by: a2.id.clone() }
            ),
            (a2.id.clone(), InstallationStatus::Active),
            (a3.id.clone(), InstallationStatus::Removed),
        ],
        "org-a's installations, replaced and removed included, oldest first; none of org-b's"
    );
}

async fn find_by_org<F: StoreFactory>(t: &Bench<'_, F>) {
    let store = t.open().await;
    assert!(
        store
            .find_by_org(&OrgId::from_confirmed("org-a"))
            .await
            .expect("find_by_org")
            .is_none()
    );
    let a = sample_installation("org-a");
    let b = sample_installation("org-b");
    must_insert(&store, &a).await;
    must_insert(&store, &b).await;
    let found = store
        .find_by_org(&OrgId::from_confirmed("org-a"))
        .await
        .expect("find_by_org");
    assert_eq!(
        found.map(|i| i.id),
        Some(a.id.clone()),
        "org-a's installation"
    );

    store
        .set_status(
            &a.id,
            &InstallationStatus::Revoked(Revocation::new(RevocationCause::Refused, None)),
        )
        .await
        .expect("set_status");
    let found = store
        .find_by_org(&OrgId::from_confirmed("org-a"))
        .await
        .expect("find_by_org");
    assert!(
        matches!(
            found.as_ref().map(|i| (&i.id, &i.status)),
            Some((id, InstallationStatus::Revoked(_))) if *id == a.id
        ),
        "a revoked installation is still the org's current one (a reinstall links to it): {found:?}"
    );
    store
        .set_status(&b.id, &InstallationStatus::Removed)
        .await
        .expect("set_status");
    let found = store
        .find_by_org(&OrgId::from_confirmed("org-b"))
        .await
        .expect("find_by_org");
    assert_eq!(
        found.map(|i| (i.id, i.status)),
        Some((b.id.clone(), InstallationStatus::Removed)),
        "a removed installation is still the org's current one"
    );

    // A reinstall replaces it: the new one is found, never the replaced one.
    let mut a2 = sample_installation("org-a");
    a2.previous = Some(a.id.clone());
    must_insert(&store, &a2).await;
    let found = store
        .find_by_org(&OrgId::from_confirmed("org-a"))
        .await
        .expect("find_by_org");
    assert_eq!(
        found.map(|i| i.id),
        Some(a2.id.clone()),
        "the reinstall is org-a's current installation"
    );
    // Even when the newer one is revoked, the replaced one never comes back.
    store
        .set_status(&a2.id, &InstallationStatus::Removed)
        .await
        .expect("set_status");
    let found = store
        .find_by_org(&OrgId::from_confirmed("org-a"))
        .await
        .expect("find_by_org");
    assert_eq!(
        found.map(|i| i.id),
        Some(a2.id),
        "never the replaced installation"
    );
}

async fn list_order<F: StoreFactory>(t: &Bench<'_, F>) {
    let store = t.open().await;
    // Created in this order, all in the same millisecond: the order of insertion counts.
    let mut expected = Vec::new();
    let at = whole_millis(SystemTime::now());
    for n in 0..5 {
        let mut installation = sample_installation(&format!("org-{n}"));
        installation.created_at = at;
        installation.updated_at = at;
        must_insert(&store, &installation).await;
        expected.push(installation.id);
    }
    let listed: Vec<_> = store
        .list()
        .await
        .expect("list")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed, expected, "list is not in creation order");
}

async fn set_api_key<F: StoreFactory>(t: &Bench<'_, F>) {
    let [one, other] = t.two().await;
    let mut installation = sample_installation("org-key");
    must_insert(&*one, &installation).await;
    let key = sample_api_key();
    one.set_api_key(&installation.id, &key)
        .await
        .expect("set_api_key");
    installation.api_key = Some(key);
    installation.api_key_requested_at = None;
    installation.version += 1;
    // The other store (process) reads it too.
    assert_same(
        &must_get(&*other, &installation.id).await,
        &installation,
        "after set_api_key, from another store on the same storage",
    );
    match one
        .set_api_key(&InstallationId::generate(), &sample_api_key())
        .await
    {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("set_api_key of an unknown id gave {other:?}, not NotFound"),
    }
}

async fn key_journal<F: StoreFactory>(t: &Bench<'_, F>) {
    let [one, other] = t.two().await;
    // Inserted with the journal mark: the key is being created.
    let mut interrupted = sample_installation("org-key-journal");
    must_insert(&*one, &interrupted).await;
    let read = must_get(&*other, &interrupted.id).await;
    assert!(
        read.api_key_interrupted(),
        "the mark is durable and read back"
    );
    // A request that certainly created nothing clears it; the version moves.
    one.clear_api_key_request(&interrupted.id)
        .await
        .expect("clear_api_key_request");
    interrupted.api_key_requested_at = None;
    interrupted.version += 1;
    let read = must_get(&*other, &interrupted.id).await;
    assert_same(&read, &interrupted, "after clear_api_key_request");
    assert!(!read.api_key_interrupted());
    match one.clear_api_key_request(&InstallationId::generate()).await {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("clear_api_key_request of an unknown id gave {other:?}, not NotFound"),
    }
}

async fn update_tokens<F: StoreFactory>(t: &Bench<'_, F>) {
    let store = t.open().await;
    let installation = sample_installation("org-cas");
    must_insert(&store, &installation).await;

    // The journal a refresh writes first, then clears with its outcome.
    let mut first = sample_tokens();
    first.refresh_started_at = Some(whole_millis(SystemTime::now()));
    let v2 = store
        .update_tokens(&installation.id, 1, &first)
        .await
        .expect("update_tokens at the current version");
    assert_eq!(v2, 2, "update_tokens returns the new version");
    let found = must_get(&store, &installation.id).await;
    assert_tokens(&found, &first, "after update_tokens");
    assert!(found.refresh_interrupted(), "the journal reads back");
    assert_eq!(found.version, 2);
    assert_eq!(
        found.granted_scopes, installation.granted_scopes,
        "scopes are kept when the update names none"
    );

    let mut second = sample_tokens();
    second.granted_scopes = Some(ScopeSet::parse("monitors_read").expect("valid scopes"));
    let v3 = store
        .update_tokens(&installation.id, 2, &second)
        .await
        .expect("update_tokens at the current version");
    assert_eq!(v3, 3);
    let found = must_get(&store, &installation.id).await;
    assert_tokens(&found, &second, "after the second update_tokens");
    assert!(
        !found.refresh_interrupted(),
        "the outcome clears the journal"
    );
    assert_eq!(
        found.granted_scopes,
        second.granted_scopes.clone().unwrap_or_default()
    );

    // A stale version loses, and changes nothing.
    match store
        .update_tokens(&installation.id, 2, &sample_tokens())
        .await
    {
        Err(StoreError::Conflict { id, current }) => {
            assert_eq!(id, installation.id);
            assert_eq!(current, 3, "Conflict carries the current version");
        }
        other => panic!("update_tokens at a stale version gave {other:?}, not Conflict"),
    }
    assert_tokens(
        &must_get(&store, &installation.id).await,
        &second,
        "after a lost compare-and-swap",
    );

    // Other changes bump the version too, so a token update read before them loses.
    store
        .set_api_key(&installation.id, &sample_api_key())
        .await
        .expect("set_api_key");
    match store
        .update_tokens(&installation.id, 3, &sample_tokens())
        .await
    {
        Err(StoreError::Conflict { current: 4, .. }) => {}
        other => panic!("update_tokens read before set_api_key gave {other:?}, not Conflict at 4"),
    }

    match store
        .update_tokens(&InstallationId::generate(), 1, &sample_tokens())
        .await
    {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("update_tokens of an unknown id gave {other:?}, not NotFound"),
    }
}

/// Runs `n` copies of `task` at once, half on each store.
async fn race<S, T, Fut>(stores: &[Arc<S>; 2], n: usize, task: T) -> Vec<Fut::Output>
where
    S: InstallationStore,
    T: Fn(Arc<S>, usize) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let start = Arc::new(tokio::sync::Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let job = task(Arc::clone(&stores[i % 2]), i);
            let start = Arc::clone(&start);
            tokio::spawn(async move {
                start.wait().await;
                job.await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(n);
    for handle in handles {
        results.push(handle.await.expect("a racing task panicked"));
    }
    results
}

async fn cas_race<F: StoreFactory>(t: &Bench<'_, F>) {
    const WRITERS: usize = 16;
    let stores = t.two().await;
    let installation = sample_installation("org-race");
    must_insert(&*stores[0], &installation).await;
    let id = installation.id.clone();
    for round in 0..4u64 {
        let version = 1 + round;
        let updates: Arc<Vec<TokenUpdate>> =
            Arc::new((0..WRITERS).map(|_| sample_tokens()).collect());
        let results = race(&stores, WRITERS, |store, i| {
            let id = id.clone();
            let updates = Arc::clone(&updates);
            async move { store.update_tokens(&id, version, &updates[i]).await }
        })
        .await;
        let mut winners = Vec::new();
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(new) => {
                    assert_eq!(new, version + 1, "the winner's new version");
                    winners.push(i);
                }
                Err(StoreError::Conflict { current, .. }) => {
                    assert_eq!(current, version + 1, "a loser sees the winner's version")
                }
                Err(e) => panic!("a racing update_tokens failed: {e}"),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "round {round}: {} of {WRITERS} writers won the compare-and-swap at version {version}",
            winners.len()
        );
        let found = must_get(&*stores[1], &id).await;
        assert_eq!(found.version, version + 1);
        assert_tokens(
            &found,
            &updates[winners[0]],
            "the winner's tokens are the ones stored",
        );
    }
}

async fn lease_exclusive<F: StoreFactory>(t: &Bench<'_, F>) {
    let [one, other] = t.two().await;
    let installation = sample_installation("org-lease");
    must_insert(&*one, &installation).await;
    let id = &installation.id;
    let until = SystemTime::now() + Duration::from_secs(60);

    assert!(
        one.acquire_refresh_lease(id, "a", until)
            .await
            .expect("acquire"),
        "a free lease"
    );
    assert!(
        !other
            .acquire_refresh_lease(id, "b", until)
            .await
            .expect("acquire"),
        "b took a lease a holds"
    );
    assert!(
        one.acquire_refresh_lease(id, "a", until + Duration::from_secs(5))
            .await
            .expect("acquire"),
        "the holder may take its lease again (to extend it)"
    );
    other.release_refresh_lease(id, "b").await.expect("release");
    assert!(
        !other
            .acquire_refresh_lease(id, "b", until)
            .await
            .expect("acquire"),
        "b's release freed a lease a holds"
    );
    one.release_refresh_lease(id, "a").await.expect("release");
    assert!(
        other
            .acquire_refresh_lease(id, "b", until)
            .await
            .expect("acquire"),
        "a released, so b may take it"
    );
    assert!(
        !one.acquire_refresh_lease(id, "a", until)
            .await
            .expect("acquire"),
        "a took the lease b now holds"
    );

    // Leases are per installation.
    let second = sample_installation("org-lease-2");
    must_insert(&*one, &second).await;
    assert!(
        one.acquire_refresh_lease(&second.id, "a", until)
            .await
            .expect("acquire")
    );

    match one
        .acquire_refresh_lease(&InstallationId::generate(), "a", until)
        .await
    {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("a lease on an unknown installation gave {other:?}, not NotFound"),
    }
}

async fn lease_expiry<F: StoreFactory>(t: &Bench<'_, F>) {
    let [one, other] = t.two().await;
    let installation = sample_installation("org-expiry");
    must_insert(&*one, &installation).await;
    let id = &installation.id;

    // A lease whose time is over is free: as when its holder crashed.
    let past = SystemTime::now() - Duration::from_secs(1);
    assert!(
        one.acquire_refresh_lease(id, "crashed", past)
            .await
            .expect("acquire")
    );
    let soon = SystemTime::now() + Duration::from_millis(400);
    assert!(
        other
            .acquire_refresh_lease(id, "b", soon)
            .await
            .expect("acquire"),
        "an expired lease was not free"
    );
    assert!(
        !one.acquire_refresh_lease(id, "a", SystemTime::now() + Duration::from_secs(60))
            .await
            .expect("acquire"),
        "a lease was taken before it expired"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(
        one.acquire_refresh_lease(id, "a", SystemTime::now() + Duration::from_secs(60))
            .await
            .expect("acquire"),
        "a lease was not free after it expired"
    );
}

async fn lease_race<F: StoreFactory>(t: &Bench<'_, F>) {
    const TAKERS: usize = 20;
    let stores = t.two().await;
    let installation = sample_installation("org-lease-race");
    must_insert(&*stores[0], &installation).await;
    let id = installation.id.clone();
    let until = SystemTime::now() + Duration::from_secs(60);
    let results = race(&stores, TAKERS, |store, i| {
        let id = id.clone();
        async move {
            store
                .acquire_refresh_lease(&id, &format!("holder-{i}"), until)
                .await
        }
    })
    .await;
    let taken = results
        .into_iter()
        .map(|r| r.expect("acquire_refresh_lease"))
        .filter(|taken| *taken)
        .count();
    assert_eq!(
        taken, 1,
        "{taken} of {TAKERS} concurrent takers got the lease"
    );
}

async fn lease_version<F: StoreFactory>(t: &Bench<'_, F>) {
    let store = t.open().await;
    let installation = sample_installation("org-lease-version");
    must_insert(&store, &installation).await;
    let id = &installation.id;
    assert!(
        store
            .acquire_refresh_lease(id, "a", SystemTime::now() + Duration::from_secs(60))
            .await
            .expect("acquire")
    );
    assert_eq!(
        must_get(&store, id).await.version,
        1,
        "taking a lease changed the version"
    );
    let tokens = sample_tokens();
    assert_eq!(
        store
            .update_tokens(id, 1, &tokens)
            .await
            .expect("update_tokens under the lease"),
        2
    );
    store.release_refresh_lease(id, "a").await.expect("release");
    let found = must_get(&store, id).await;
    assert_eq!(found.version, 2, "releasing a lease changed the version");
    assert_tokens(&found, &tokens, "after the lease was released");
}

async fn set_status<F: StoreFactory>(t: &Bench<'_, F>) {
    let store = t.open().await;
    let installation = sample_installation("org-status");
    must_insert(&store, &installation).await;
    let id = &installation.id;
    let revoked = InstallationStatus::Revoked(Revocation::new(
        RevocationCause::AnswerLost,
        Some("Invalid refresh token".into()),
    ));
    store.set_status(id, &revoked).await.expect("set_status");
    let found = must_get(&store, id).await;
    assert_eq!(found.status, revoked);
    assert!(!found.is_active());
    assert_eq!(found.version, 2, "set_status bumps the version");
    assert!(
        found.updated_at >= installation.updated_at,
        "updated_at moved backwards"
    );

    store
        .set_status(id, &InstallationStatus::Removed)
        .await
        .expect("set_status");
    assert_eq!(
        must_get(&store, id).await.status,
        InstallationStatus::Removed
    );
    let by = InstallationId::generate();
    store
        .set_status(id, &InstallationStatus::Replaced { by: by.clone() })
        .await
        .expect("set_status");
    assert_eq!(
        must_get(&store, id).await.status,
        InstallationStatus::Replaced { by }
    );
    store
        .set_status(id, &InstallationStatus::Active)
        .await
        .expect("set_status");
    let found = must_get(&store, id).await;
    assert!(found.is_active());
    assert_eq!(found.version, 5);

    match store
        .set_status(&InstallationId::generate(), &InstallationStatus::Removed)
        .await
    {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("set_status of an unknown id gave {other:?}, not NotFound"),
    }
}

async fn delete<F: StoreFactory>(t: &Bench<'_, F>) {
    let store = t.open().await;
    let gone = sample_installation("org-delete");
    let kept = sample_installation("org-keep");
    must_insert(&store, &gone).await;
    must_insert(&store, &kept).await;
    assert!(
        store
            .acquire_refresh_lease(&gone.id, "a", SystemTime::now() + Duration::from_secs(60))
            .await
            .expect("acquire")
    );
    assert!(
        store.delete(&gone.id).await.expect("delete"),
        "delete found nothing"
    );
    assert!(
        store.get(&gone.id).await.expect("get").is_none(),
        "a deleted installation is still there"
    );
    assert!(
        store
            .find_by_org(&OrgId::from_confirmed("org-delete"))
            .await
            .expect("find_by_org")
            .is_none()
    );
    let listed: Vec<_> = store
        .list()
        .await
        .expect("list")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed, vec![kept.id.clone()]);
    assert!(
        !store.delete(&gone.id).await.expect("delete"),
        "a second delete found something"
    );
    match store
        .acquire_refresh_lease(&gone.id, "a", SystemTime::now() + Duration::from_secs(60))
        .await
    {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("a lease on a deleted installation gave {other:?}, not NotFound"),
    }
    // Its id can be used again.
    must_insert(&store, &gone).await;
    assert_same(
        &must_get(&store, &gone.id).await,
        &gone,
        "stored again after delete",
    );
}

async fn flow_lifecycle<F: StoreFactory>(t: &Bench<'_, F>) {
    let [one, other] = t.two().await;
    let expires = SystemTime::now() + Duration::from_secs(600);
    let claim = |store: &Arc<F::Store>, flow: &'static str| {
        let store = Arc::clone(store);
        async move { store.claim_flow(flow, expires).await.expect("claim_flow") }
    };
    assert_eq!(claim(&one, "flow-ok").await, FlowClaim::Claimed);
    assert_eq!(claim(&other, "flow-ok").await, FlowClaim::InProgress);
    assert_eq!(claim(&one, "flow-ok").await, FlowClaim::InProgress);

    let installed = InstallationId::generate();
    one.finish_flow("flow-ok", Some(&installed))
        .await
        .expect("finish_flow");
    assert_eq!(
        claim(&other, "flow-ok").await,
        FlowClaim::Installed(installed.clone())
    );
    // A replay asks with the current time as expiry, as the install flow does.
    assert_eq!(
        other
            .claim_flow("flow-ok", SystemTime::now())
            .await
            .expect("claim_flow"),
        FlowClaim::Installed(installed)
    );

    assert_eq!(claim(&other, "flow-bad").await, FlowClaim::Claimed);
    other
        .finish_flow("flow-bad", None)
        .await
        .expect("finish_flow");
    assert_eq!(claim(&one, "flow-bad").await, FlowClaim::Failed);

    // Finishing a flow nobody claimed is harmless.
    one.finish_flow("flow-unknown", None)
        .await
        .expect("finish_flow of an unknown flow");
    assert_eq!(claim(&one, "flow-fresh").await, FlowClaim::Claimed);
}

async fn insert_for_flow<F: StoreFactory>(t: &Bench<'_, F>) {
    let [one, other] = t.two().await;
    let expires = SystemTime::now() + Duration::from_secs(600);
    let claimed = |store: Arc<F::Store>, flow: &'static str| async move {
        assert_eq!(
            store.claim_flow(flow, expires).await.expect("claim_flow"),
            FlowClaim::Claimed
        );
    };
    // The org's first installation replaces nothing, whatever `previous` it came with.
    claimed(Arc::clone(&one), "flow-insert").await;
    let mut first = sample_installation("org-flow");
    first.previous = Some(InstallationId::generate());
    let replaced = one
        .insert_for_flow(&mut first, "flow-insert")
        .await
        .expect("insert_for_flow");
    assert!(replaced.is_none(), "{replaced:?}");
    assert_eq!(first.previous, None);
    // Both halves, as seen from another connection: the installation, and the flow's outcome.
    let stored = must_get(&*other, &first.id).await;
    assert_eq!(
        (stored.id.clone(), stored.previous),
        (first.id.clone(), None)
    );
    assert_flow_installed(&*other, "flow-insert", &first.id).await;
    // The org's next installation on the same domain replaces its current one, in the same
    // write: linked, marked replaced, and returned as it was.
    claimed(Arc::clone(&one), "flow-second").await;
    let mut second = sample_installation("org-flow");
    let replaced = other
        .insert_for_flow(&mut second, "flow-second")
        .await
        .expect("insert_for_flow")
        .expect("the org's current installation is replaced");
    assert_eq!(replaced.id, first.id);
    assert_eq!(replaced.status, InstallationStatus::Active, "as it was");
    assert_eq!(second.previous.as_ref(), Some(&first.id));
    assert_eq!(
        must_get(&*one, &second.id).await.previous.as_ref(),
        Some(&first.id)
    );
    let first_now = must_get(&*one, &first.id).await;
    assert_eq!(
        first_now.status,
        InstallationStatus::Replaced {
            by: second.id.clone()
        }
    );
    assert_eq!(
        first_now.version,
        replaced.version + 1,
        "marking it is a change"
    );
    assert_flow_installed(&*other, "flow-second", &second.id).await;
    // On another Datadog domain, the org's current installation is not this one's to replace.
    claimed(Arc::clone(&one), "flow-domain").await;
    let mut elsewhere = sample_installation("org-flow");
    elsewhere.domain = Domain::Us1;
    elsewhere.site = Site::parse("app.datadoghq.com").expect("a valid site");
    let replaced = one
        .insert_for_flow(&mut elsewhere, "flow-domain")
        .await
        .expect("insert_for_flow");
    assert!(replaced.is_none(), "{replaced:?}");
    assert_eq!(elsewhere.previous, None);
    assert_flow_installed(&*other, "flow-domain", &elsewhere.id).await;
    assert_eq!(
        must_get(&*other, &second.id).await.status,
        InstallationStatus::Active
    );
    // Without a confirmed org, nothing is replaced.
    claimed(Arc::clone(&one), "flow-no-org").await;
    let mut unlinked = sample_installation("org-flow");
    unlinked.org_id = None;
    unlinked.previous = Some(second.id.clone());
    assert!(
        one.insert_for_flow(&mut unlinked, "flow-no-org")
            .await
            .expect("insert_for_flow")
            .is_none()
    );
    assert_eq!(unlinked.previous, None);
    assert_flow_installed(&*other, "flow-no-org", &unlinked.id).await;
    assert_eq!(
        must_get(&*other, &elsewhere.id).await.status,
        InstallationStatus::Active
    );
    // A duplicate id is refused, replaces nothing, ends no flow (its claim stays in progress)
    // and leaves the caller's installation as it was.
    claimed(Arc::clone(&one), "flow-dup").await;
    let mut duplicate = elsewhere.clone();
    duplicate.previous = Some(first.id.clone());
    assert!(matches!(
        one.insert_for_flow(&mut duplicate, "flow-dup").await,
        Err(StoreError::Duplicate(_))
    ));
    assert_eq!(duplicate.previous.as_ref(), Some(&first.id));
    assert_eq!(
        must_get(&*other, &elsewhere.id).await.status,
        InstallationStatus::Active
    );
    assert_eq!(
        other
            .claim_flow("flow-dup", expires)
            .await
            .expect("claim_flow"),
        FlowClaim::InProgress
    );
    // Many at once (a store may commit them together): each one's outcome is its own, a
    // duplicate among them fails alone, and every other is stored with its flow ended.
    let results = race(&[Arc::clone(&one), Arc::clone(&other)], 24, |store, n| {
        let mut installation = if n % 6 == 5 {
            first.clone()
        } else {
            sample_installation(&format!("org-many-{n}"))
        };
        async move {
            let flow = format!("flow-many-{n}");
            let claimed = store
                .claim_flow(&flow, SystemTime::now() + Duration::from_secs(600))
                .await;
            let stored = store.insert_for_flow(&mut installation, &flow).await;
            (n, installation.id, claimed, stored)
        }
    })
    .await;
    for (n, id, claimed, stored) in results {
        assert_eq!(claimed.expect("claim_flow"), FlowClaim::Claimed);
        if n % 6 == 5 {
            assert!(
                matches!(stored, Err(StoreError::Duplicate(_))),
                "{n}: {stored:?}"
            );
        } else {
            let replaced = stored.unwrap_or_else(|e| panic!("{n}: {e}"));
            assert!(replaced.is_none(), "{n}: a new org replaced {replaced:?}");
            assert_eq!(must_get(&*one, &id).await.id, id);
            assert_eq!(
                other
                    .claim_flow(&format!("flow-many-{n}"), SystemTime::now())
                    .await
                    .expect("claim_flow"),
                FlowClaim::Installed(id)
            );
        }
    }
}

/// Installs of one org at the same moment, through two connections: each replaces the one
/// before it, so the org keeps one current installation and a chain of replaced ones, none
/// replaced twice.
async fn installs_of_one_org_race<F: StoreFactory>(t: &Bench<'_, F>) {
    const INSTALLS: usize = 12;
    let [one, other] = t.two().await;
    let mut first = sample_installation("org-one-at-a-time");
    one.insert_for_flow(&mut first, "flow-org-first")
        .await
        .expect("insert_for_flow");
    let results = race(
        &[Arc::clone(&one), Arc::clone(&other)],
        INSTALLS,
        |store, n| {
            let mut installation = sample_installation("org-one-at-a-time");
            async move {
                let replaced = store
                    .insert_for_flow(&mut installation, &format!("flow-org-{n}"))
                    .await;
                (installation, replaced)
            }
        },
    )
    .await;
    let mut replaced_ids = std::collections::HashSet::new();
    for (installation, replaced) in &results {
        let replaced = replaced
            .as_ref()
            .unwrap_or_else(|e| panic!("insert_for_flow: {e}"))
            .as_ref()
            .expect("every one of them replaces the one before it");
        assert_eq!(installation.previous.as_ref(), Some(&replaced.id));
        assert!(
            replaced_ids.insert(replaced.id.clone()),
            "{} was replaced twice",
            replaced.id
        );
    }
    let all = one
        .list_by_org(&OrgId::from_confirmed("org-one-at-a-time"))
        .await
        .expect("list_by_org");
    assert_eq!(all.len(), INSTALLS + 1);
    let current: Vec<_> = all
        .iter()
        .filter(|i| !matches!(i.status, InstallationStatus::Replaced { .. }))
        .collect();
    assert_eq!(current.len(), 1, "the org has one current installation");
    // Each replaced one names, as replaced by, the one that names it as previous.
    for installation in &all {
        if let InstallationStatus::Replaced { by } = &installation.status {
            let successor = all
                .iter()
                .find(|i| &i.id == by)
                .expect("replaced by a stored installation");
            assert_eq!(successor.previous.as_ref(), Some(&installation.id));
        }
    }
}

async fn flow_race<F: StoreFactory>(t: &Bench<'_, F>) {
    const CLAIMERS: usize = 50;
    let stores = t.two().await;
    let expires = SystemTime::now() + Duration::from_secs(600);
    let results = race(&stores, CLAIMERS, |store, _| async move {
        store.claim_flow("flow-raced", expires).await
    })
    .await;
    let mut claimed = 0;
    for result in results {
        match result.expect("claim_flow") {
            FlowClaim::Claimed => claimed += 1,
            FlowClaim::InProgress => {}
            other => panic!("a racing claim saw {other:?}"),
        }
    }
    assert_eq!(
        claimed, 1,
        "{claimed} of {CLAIMERS} concurrent claims of one flow won"
    );
}

async fn reopen<F: StoreFactory>(t: &Bench<'_, F>) {
    if !t.factory.durable() {
        return;
    }
    let mut first = sample_installation("org-durable");
    let mut second = sample_installation("org-durable");
    second.previous = Some(first.id.clone());
    let tokens = sample_tokens();
    let key = sample_api_key();
    {
        let store = t.open().await;
        must_insert(&store, &first).await;
        must_insert(&store, &second).await;
        store
            .set_api_key(&second.id, &key)
            .await
            .expect("set_api_key");
        store
            .update_tokens(&second.id, 2, &tokens)
            .await
            .expect("update_tokens");
        assert_eq!(
            store
                .claim_flow("flow-durable", SystemTime::now() + Duration::from_secs(600))
                .await
                .expect("claim"),
            FlowClaim::Claimed
        );
        store
            .finish_flow("flow-durable", Some(&second.id))
            .await
            .expect("finish_flow");
        // The store is dropped here: a restart.
    }
    first.status = InstallationStatus::Replaced {
        by: second.id.clone(),
    };
    first.version = 2;
    second.api_key = Some(key);
    second.version = 3;
    second.access_token = tokens.access_token.clone();
    second.refresh_token = tokens.refresh_token.clone();
    second.access_token_expires_at = tokens.access_token_expires_at;

    let store = t.open().await;
    assert_same(
        &must_get(&store, &first.id).await,
        &first,
        "after reopening",
    );
    assert_same(
        &must_get(&store, &second.id).await,
        &second,
        "after reopening",
    );
    let listed: Vec<_> = store
        .list()
        .await
        .expect("list")
        .into_iter()
        .map(|i| i.id)
        .collect();
    assert_eq!(listed, vec![first.id.clone(), second.id.clone()]);
    assert_eq!(
        store
            .claim_flow("flow-durable", SystemTime::now())
            .await
            .expect("claim"),
        FlowClaim::Installed(second.id.clone())
    );
    assert_eq!(
        store
            .update_tokens(&second.id, 3, &sample_tokens())
            .await
            .expect("update_tokens after reopening"),
        4
    );
}

async fn rotation<F: StoreFactory>(t: &Bench<'_, F>) {
    if !t.factory.seals() {
        return;
    }
    let key_a = || key("conformance-a", 0xA1);
    let key_b = || key("conformance-b", 0xB2);
    let mut old = sample_installation("org-rotation");
    old.api_key = Some(sample_api_key());
    {
        let store = t.open_with(Sealer::new(key_a())).await;
        must_insert(&store, &old).await;
    }
    // Rotating: B seals, A still opens.
    let mut new = sample_installation("org-rotation-2");
    let tokens = sample_tokens();
    {
        let store = t
            .open_with(Sealer::new(key_b()).with_older_key(key_a()))
            .await;
        assert_same(
            &must_get(&store, &old.id).await,
            &old,
            "sealed under the older key",
        );
        must_insert(&store, &new).await;
        store
            .update_tokens(&old.id, 1, &tokens)
            .await
            .expect("update_tokens while rotating");
        new.version = 1;
    }
    // Only B: the new record opens; the old one still has its API key sealed under A.
    {
        let store = t.open_with(Sealer::new(key_b())).await;
        assert_same(
            &must_get(&store, &new.id).await,
            &new,
            "sealed under the current key",
        );
        let error = match store.get(&old.id).await {
            Err(e) => e,
            Ok(found) => panic!(
                "a value sealed under a key no longer configured opened (found: {})",
                found.map_or("nothing", |_| "the installation")
            ),
        };
        assert!(
            matches!(error, StoreError::Sealed { .. }),
            "a missing key gave {error:?}, not StoreError::Sealed"
        );
        let shown = format!("{error} {error:?}");
        assert!(
            shown.contains("conformance-a"),
            "the error does not name the missing key: {shown}"
        );
        let secrets = [
            old.api_key
                .as_ref()
                .map(|k| k.key.expose_secret().to_owned())
                .unwrap_or_default(),
            old.refresh_token.expose_secret().to_owned(),
            tokens.refresh_token.expose_secret().to_owned(),
        ];
        for secret in secrets {
            assert!(
                !shown.contains(&secret),
                "the error shows a secret: {shown}"
            );
        }
    }
    // A key with the right id but other bytes opens nothing.
    {
        let store = t.open_with(Sealer::new(key("conformance-b", 0x0F))).await;
        assert!(
            matches!(store.get(&new.id).await, Err(StoreError::Sealed { .. })),
            "a wrong key with the right id opened a value"
        );
    }
}

async fn cancelled_writes<F: StoreFactory>(t: &Bench<'_, F>) {
    const ATTEMPTS: u64 = 24;
    let store = t.open().await;
    // Each write is dropped at a later point than the one before. A driver may still finish a
    // write after its future is gone, so the records are checked once everything settled:
    // whatever happened must be whole.
    let cut = |step: u64| Duration::from_micros(step * step * 40);
    let mut inserts = Vec::new();
    for step in 0..ATTEMPTS {
        let previous = sample_installation(&format!("org-cancel-{step}"));
        must_insert(&store, &previous).await;
        let mut next = sample_installation(&format!("org-cancel-{step}"));
        next.previous = Some(previous.id.clone());
        let _ = tokio::time::timeout(cut(step), store.insert(&next)).await;
        inserts.push((previous, next));
    }
    let mut updates = Vec::new();
    for step in 0..ATTEMPTS {
        let installation = sample_installation(&format!("org-cancel-tokens-{step}"));
        must_insert(&store, &installation).await;
        let tokens = sample_tokens();
        let _ = tokio::time::timeout(cut(step), store.update_tokens(&installation.id, 1, &tokens))
            .await;
        updates.push((installation, tokens));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let other = t.open().await;
    for (previous, next) in &inserts {
        let before = must_get(&other, &previous.id).await;
        match other
            .get(&next.id)
            .await
            .expect("get after a cancelled insert")
        {
            Some(found) => {
                assert_same(&found, next, "an insert that was cut short but happened");
                assert_eq!(
                    before.status,
                    InstallationStatus::Replaced {
                        by: next.id.clone()
                    },
                    "the new installation is stored but its predecessor is not marked replaced"
                );
            }
            None => assert_same(
                &before,
                previous,
                "the predecessor of an insert that did not happen",
            ),
        }
    }
    for (installation, tokens) in &updates {
        let found = must_get(&other, &installation.id).await;
        match found.version {
            1 => assert!(
                found.refresh_token == installation.refresh_token
                    && found.access_token == installation.access_token,
                "the tokens changed without a new version"
            ),
            2 => assert_tokens(
                &found,
                tokens,
                "a token update that was cut short but happened",
            ),
            v => panic!("a single cancelled token update left version {v}"),
        }
    }
    // The store still works afterwards, and so does a lease on it.
    let (installation, _) = &updates[0];
    let current = must_get(&store, &installation.id).await.version;
    store
        .update_tokens(&installation.id, current, &sample_tokens())
        .await
        .expect("update_tokens after cancelled writes");
    assert!(
        store
            .acquire_refresh_lease(
                &installation.id,
                "a",
                SystemTime::now() + Duration::from_secs(5)
            )
            .await
            .expect("acquire after cancelled writes")
    );
}

#[cfg(test)]
mod tests {
    crate::installation_store_conformance!(super::MemoryFactory);

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_whole_battery_runs_from_one_test() {
        super::run(&super::MemoryFactory).await;
    }
}
