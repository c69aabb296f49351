//! Presence of unattended agents on this replica and the notices sent to
//! them ("an expert asks to connect"). Each enrolled agent keeps one control
//! connection; the hub maps (tenant, device) to that connection's outbox.
//! A newer connection of the same device replaces the older one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// Notices waiting for a slow agent before new ones are refused.
const OUTBOX: usize = 16;

type Key = (String, String);

struct Entry {
    generation: u64,
    outbox: mpsc::Sender<String>,
}

/// Online agents of this replica.
#[derive(Default)]
pub struct AgentHub {
    online: Mutex<HashMap<Key, Entry>>,
    generation: AtomicU64,
}

/// Keeps an agent online until dropped.
pub struct Presence<'a> {
    hub: &'a AgentHub,
    key: Key,
    generation: u64,
}

impl AgentHub {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        self.online.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Mark `device` of `tenant` online; notices arrive on the receiver.
    pub fn connect(&self, tenant: &str, device: &str) -> (Presence<'_>, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(OUTBOX);
        let generation = self.generation.fetch_add(1, Ordering::Relaxed);
        let key = (tenant.to_owned(), device.to_owned());
        self.map().insert(
            key.clone(),
            Entry {
                generation,
                outbox: tx,
            },
        );
        (
            Presence {
                hub: self,
                key,
                generation,
            },
            rx,
        )
    }

    /// Whether the device has a control connection here.
    pub fn is_online(&self, tenant: &str, device: &str) -> bool {
        self.map()
            .get(&(tenant.to_owned(), device.to_owned()))
            .is_some_and(|e| !e.outbox.is_closed())
    }

    /// Send a notice (JSON text); `false` if the device is not online here
    /// or its outbox is full.
    pub fn notify(&self, tenant: &str, device: &str, notice: String) -> bool {
        self.map()
            .get(&(tenant.to_owned(), device.to_owned()))
            .is_some_and(|e| e.outbox.try_send(notice).is_ok())
    }

    /// How many agents are online here.
    pub fn count(&self) -> usize {
        self.map().len()
    }
}

impl Drop for Presence<'_> {
    fn drop(&mut self) {
        let mut map = self.hub.map();
        if map
            .get(&self.key)
            .is_some_and(|e| e.generation == self.generation)
        {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_newer_connection_replaces_the_older_and_presence_ends_with_it() {
        let hub = AgentHub::default();
        let (old, mut old_rx) = hub.connect("t", "d");
        let (new, mut new_rx) = hub.connect("t", "d");
        assert!(hub.notify("t", "d", "hello".into()));
        assert_eq!(new_rx.recv().await.as_deref(), Some("hello"));
        assert!(old_rx.recv().await.is_none(), "the old outbox is closed");
        drop(old);
        assert!(
            hub.is_online("t", "d"),
            "dropping the old one keeps the new one"
        );
        assert!(!hub.is_online("other", "d"));
        drop(new);
        assert!(!hub.is_online("t", "d"));
        assert!(!hub.notify("t", "d", "x".into()));
        assert_eq!(hub.count(), 0);
    }
}
