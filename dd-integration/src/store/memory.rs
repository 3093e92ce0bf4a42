//! [`MemoryStore`]: installations in the process's memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::{FlowClaim, InstallationStore, StoreError, TokenUpdate};
use crate::api_key::MarketplaceApiKey;
use crate::installation::{Installation, InstallationId, InstallationStatus};

/// Installations in the process's memory: for tests and single-process development. Nothing
/// survives a restart.
#[derive(Default, Debug)]
pub struct MemoryStore {
    inner: Mutex<Memory>,
}

#[derive(Default, Debug)]
struct Memory {
    installations: Vec<Installation>,
    flows: HashMap<String, (FlowClaim, SystemTime)>,
    leases: HashMap<InstallationId, (String, SystemTime)>,
}

impl Memory {
    fn find(&mut self, id: &InstallationId) -> Result<&mut Installation, StoreError> {
        self.installations
            .iter_mut()
            .find(|i| &i.id == id)
            .ok_or_else(|| StoreError::NotFound(id.clone()))
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
        let mut memory = self.lock();
        if memory.installations.iter().any(|i| i.id == installation.id) {
            return Err(StoreError::Duplicate(installation.id.clone()));
        }
        if let Some(previous) = &installation.previous
            && let Some(old) = memory.installations.iter_mut().find(|i| &i.id == previous)
        {
            old.status = InstallationStatus::Replaced {
                by: installation.id.clone(),
            };
            old.updated_at = installation.created_at;
            old.version += 1;
        }
        memory.installations.push(installation.clone());
        Ok(())
    }

    async fn get(&self, id: &InstallationId) -> Result<Option<Installation>, StoreError> {
        Ok(self
            .lock()
            .installations
            .iter()
            .find(|i| &i.id == id)
            .cloned())
    }

    async fn find_by_org(&self, org_id: &str) -> Result<Option<Installation>, StoreError> {
        Ok(self
            .lock()
            .installations
            .iter()
            .rev()
            .find(|i| {
                i.org_id.as_deref() == Some(org_id)
                    && !matches!(i.status, InstallationStatus::Replaced { .. })
            })
            .cloned())
    }

    async fn list(&self) -> Result<Vec<Installation>, StoreError> {
        Ok(self.lock().installations.clone())
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
        let before = memory.installations.len();
        memory.installations.retain(|i| &i.id != id);
        memory.leases.remove(id);
        Ok(memory.installations.len() != before)
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
        let mut memory = self.lock();
        if let Some((claim, _)) = memory.flows.get_mut(flow_id) {
            *claim = match installed {
                Some(id) => FlowClaim::Installed(id.clone()),
                None => FlowClaim::Failed,
            };
        }
        Ok(())
    }
}
