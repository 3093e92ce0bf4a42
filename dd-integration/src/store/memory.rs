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
    leases: HashMap<InstallationId, (String, SystemTime)>,
}

impl Memory {
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
        // Forget claims whose flows can no longer arrive, so memory stays bounded.
        if memory.flows.len() > 1024 {
            memory.flows.retain(|_, (_, expiry)| *expiry > now);
        }
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
