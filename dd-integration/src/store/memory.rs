//! [`MemoryStore`]: installations in the process's memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::{FlowClaim, InstallationStore, StoreError, TokenUpdate};
use crate::installation::MarketplaceApiKey;
use crate::installation::{Installation, InstallationId, InstallationStatus, OrgId};

/// Installations in the process's memory: for tests and single-process development. Nothing
/// survives a restart.
#[derive(Default, Debug)]
pub struct MemoryStore {
    inner: Mutex<Memory>,
}

/// Installations in creation order (a deleted one leaves an empty slot), found by index: by id,
/// and by org (its slots in creation order). An installation's org never changes.
#[derive(Default, Debug)]
struct Memory {
    installations: Vec<Option<Installation>>,
    by_id: HashMap<InstallationId, usize>,
    by_org: HashMap<OrgId, Vec<usize>>,
    flows: HashMap<String, (FlowClaim, SystemTime)>,
    /// How many flows make the next claim sweep the expired ones (see [`Memory::sweep_flows`]).
    sweep_flows_at: usize,
    /// Sweeps so far, for the tests.
    #[cfg(test)]
    sweeps: usize,
    leases: HashMap<InstallationId, (String, SystemTime)>,
}

/// The flows the store holds before it first looks for expired ones.
const FLOWS_BEFORE_SWEEP: usize = 1024;

impl Memory {
    /// Forgets the claims whose flows can no longer arrive, so that memory stays bounded: once
    /// the flows held reach twice what the last sweep kept (and at least
    /// [`FLOWS_BEFORE_SWEEP`]), so that a sweep's cost is shared by as many claims as it
    /// looks at, rather than every claim looking at every flow.
    fn sweep_flows(&mut self, now: SystemTime) {
        if self.flows.len() < self.sweep_flows_at.max(FLOWS_BEFORE_SWEEP) {
            return;
        }
        self.flows.retain(|_, (_, expiry)| *expiry > now);
        self.sweep_flows_at = self.flows.len() * 2;
        #[cfg(test)]
        {
            self.sweeps += 1;
        }
    }

    fn find(&mut self, id: &InstallationId) -> Result<&mut Installation, StoreError> {
        self.by_id
            .get(id)
            .and_then(|&slot| self.installations[slot].as_mut())
            .ok_or_else(|| StoreError::NotFound(id.clone()))
    }

    fn get(&self, id: &InstallationId) -> Option<&Installation> {
        self.by_id
            .get(id)
            .and_then(|&slot| self.installations[slot].as_ref())
    }

    /// Stores a new installation, marking its previous one replaced.
    fn insert(&mut self, installation: &Installation) -> Result<(), StoreError> {
        if self.by_id.contains_key(&installation.id) {
            return Err(StoreError::Duplicate(installation.id.clone()));
        }
        if let Some(previous) = &installation.previous
            && let Ok(old) = self.find(previous)
        {
            old.status = InstallationStatus::Replaced {
                by: installation.id.clone(),
            };
            old.updated_at = installation.created_at;
            old.version += 1;
        }
        let slot = self.installations.len();
        self.installations.push(Some(installation.clone()));
        self.by_id.insert(installation.id.clone(), slot);
        if let Some(org) = &installation.org_id {
            self.by_org.entry(org.clone()).or_default().push(slot);
        }
        Ok(())
    }

    /// The org's newest installation that no newer one replaced.
    fn current_of_org(&self, org_id: &OrgId) -> Option<&Installation> {
        self.of_org(org_id)
            .rev()
            .find(|i| !matches!(i.status, InstallationStatus::Replaced { .. }))
    }

    fn finish_flow(&mut self, flow_id: &str, installed: Option<&InstallationId>) {
        if let Some((claim, _)) = self.flows.get_mut(flow_id) {
            *claim = match installed {
                Some(id) => FlowClaim::Installed(id.clone()),
                None => FlowClaim::Failed,
            };
        }
    }

    /// The org's installations, in creation order.
    fn of_org<'a>(&'a self, org_id: &OrgId) -> impl DoubleEndedIterator<Item = &'a Installation> {
        self.by_org
            .get(org_id)
            .into_iter()
            .flatten()
            .filter_map(|&slot| self.installations[slot].as_ref())
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Memory> {
        // A panic elsewhere while holding the lock leaves the data consistent (every change is
        // one assignment), so a poisoned lock is still usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[async_trait]
impl InstallationStore for MemoryStore {
    async fn insert(&self, installation: &Installation) -> Result<(), StoreError> {
        self.lock().insert(installation)
    }

    /// Under the one lock: two installs of one org at once replace one after the other.
    async fn insert_for_flow(
        &self,
        installation: &mut Installation,
        flow_id: &str,
    ) -> Result<Option<Installation>, StoreError> {
        let mut memory = self.lock();
        let replaced = installation
            .org_id
            .as_ref()
            .and_then(|org| memory.current_of_org(org))
            .filter(|current| current.domain == installation.domain)
            .cloned();
        let mut stored = installation.clone();
        stored.previous = replaced.as_ref().map(|r| r.id.clone());
        memory.insert(&stored)?;
        memory.finish_flow(flow_id, Some(&stored.id));
        installation.previous = stored.previous;
        Ok(replaced)
    }

    async fn get(&self, id: &InstallationId) -> Result<Option<Installation>, StoreError> {
        Ok(self.lock().get(id).cloned())
    }

    async fn find_by_org(&self, org_id: &OrgId) -> Result<Option<Installation>, StoreError> {
        Ok(self.lock().current_of_org(org_id).cloned())
    }

    async fn list(&self) -> Result<Vec<Installation>, StoreError> {
        Ok(self
            .lock()
            .installations
            .iter()
            .flatten()
            .cloned()
            .collect())
    }

    async fn list_by_org(&self, org_id: &OrgId) -> Result<Vec<Installation>, StoreError> {
        Ok(self.lock().of_org(org_id).cloned().collect())
    }

    async fn set_api_key(
        &self,
        id: &InstallationId,
        key: &MarketplaceApiKey,
    ) -> Result<(), StoreError> {
        let mut memory = self.lock();
        let installation = memory.find(id)?;
        installation.api_key = Some(key.clone());
        installation.api_key_requested_at = None;
        installation.updated_at = SystemTime::now();
        installation.version += 1;
        Ok(())
    }

    async fn clear_api_key_request(&self, id: &InstallationId) -> Result<(), StoreError> {
        let mut memory = self.lock();
        let installation = memory.find(id)?;
        installation.api_key_requested_at = None;
        installation.updated_at = SystemTime::now();
        installation.version += 1;
        Ok(())
    }

    async fn update_tokens(
        &self,
        id: &InstallationId,
        expected_version: u64,
        tokens: &TokenUpdate,
    ) -> Result<u64, StoreError> {
        let mut memory = self.lock();
        let installation = memory.find(id)?;
        if installation.version != expected_version {
            return Err(StoreError::Conflict {
                id: id.clone(),
                current: installation.version,
            });
        }
        installation.access_token = tokens.access_token.clone();
        installation.access_token_expires_at = tokens.access_token_expires_at;
        installation.refresh_token = tokens.refresh_token.clone();
        installation.refresh_started_at = tokens.refresh_started_at;
        if let Some(scopes) = &tokens.granted_scopes {
            installation.granted_scopes = scopes.clone();
        }
        installation.updated_at = SystemTime::now();
        installation.version += 1;
        Ok(installation.version)
    }

    async fn acquire_refresh_lease(
        &self,
        id: &InstallationId,
        holder: &str,
        until: SystemTime,
    ) -> Result<bool, StoreError> {
        let mut memory = self.lock();
        memory.find(id)?;
        let now = SystemTime::now();
        let free = match memory.leases.get(id) {
            None => true,
            Some((owner, expiry)) => owner == holder || *expiry <= now,
        };
        if free {
            memory.leases.insert(id.clone(), (holder.to_owned(), until));
        }
        Ok(free)
    }

    async fn release_refresh_lease(
        &self,
        id: &InstallationId,
        holder: &str,
    ) -> Result<(), StoreError> {
        let mut memory = self.lock();
        if memory
            .leases
            .get(id)
            .is_some_and(|(owner, _)| owner == holder)
        {
            memory.leases.remove(id);
        }
        Ok(())
    }

    async fn set_status(
        &self,
        id: &InstallationId,
        status: &InstallationStatus,
    ) -> Result<(), StoreError> {
        let mut memory = self.lock();
        let installation = memory.find(id)?;
        installation.status = status.clone();
        installation.updated_at = SystemTime::now();
        installation.version += 1;
        Ok(())
    }

    async fn delete(&self, id: &InstallationId) -> Result<bool, StoreError> {
        let mut memory = self.lock();
        memory.leases.remove(id);
        let Some(slot) = memory.by_id.remove(id) else {
            return Ok(false);
        };
        if let Some(org) = memory.installations[slot]
            .take()
            .and_then(|removed| removed.org_id)
            && let Some(slots) = memory.by_org.get_mut(&org)
        {
            slots.retain(|&s| s != slot);
        }
        Ok(true)
    }

    async fn claim_flow(
        &self,
        flow_id: &str,
        expires_at: SystemTime,
    ) -> Result<FlowClaim, StoreError> {
        let mut memory = self.lock();
        let now = SystemTime::now();
        memory.sweep_flows(now);
        match memory.flows.get(flow_id) {
            Some((claim, expiry)) if *expiry > now => Ok(match claim {
                FlowClaim::Claimed => FlowClaim::InProgress,
                other => other.clone(),
            }),
            _ => {
                let keep_until = expires_at.max(now) + Duration::from_secs(60);
                memory
                    .flows
                    .insert(flow_id.to_owned(), (FlowClaim::Claimed, keep_until));
                Ok(FlowClaim::Claimed)
            }
        }
    }

    async fn finish_flow(
        &self,
        flow_id: &str,
        installed: Option<&InstallationId>,
    ) -> Result<(), StoreError> {
        self.lock().finish_flow(flow_id, installed);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Claims of flows that are all still live sweep the flows a handful of times, not at each
    /// claim (before, past 1,024 flows, every claim looked at every flow).
    #[tokio::test]
    async fn claims_sweep_the_flows_once_they_doubled_not_at_each_claim() {
        let store = MemoryStore::new();
        let until = SystemTime::now() + Duration::from_secs(600);
        for i in 0..20_000 {
            let claim = store.claim_flow(&format!("flow-{i}"), until).await.unwrap();
            assert_eq!(claim, FlowClaim::Claimed);
        }
        let (flows, sweeps) = {
            let memory = store.lock();
            (memory.flows.len(), memory.sweeps)
        };
        assert_eq!(flows, 20_000, "a live flow is never forgotten");
        // At 1,024 flows, then at twice what each sweep kept: 2,048, 4,096, 8,192, 16,384.
        assert_eq!(sweeps, 5);
        assert_eq!(
            store.claim_flow("flow-7", until).await.unwrap(),
            FlowClaim::InProgress
        );
    }

    /// A sweep forgets the flows that can no longer arrive, and keeps the others.
    #[tokio::test]
    async fn a_sweep_forgets_expired_flows_and_keeps_live_ones() {
        let store = MemoryStore::new();
        let past = SystemTime::now() - Duration::from_secs(1);
        {
            let mut memory = store.lock();
            for i in 0..5_000 {
                memory
                    .flows
                    .insert(format!("old-{i}"), (FlowClaim::Failed, past));
            }
        }
        let until = SystemTime::now() + Duration::from_secs(600);
        store.claim_flow("live-0", until).await.unwrap();
        store.claim_flow("live-1", until).await.unwrap();
        let memory = store.lock();
        assert_eq!(memory.sweeps, 1);
        let mut left: Vec<&String> = memory.flows.keys().collect();
        left.sort();
        assert_eq!(left, ["live-0", "live-1"]);
    }
}
