//! Which sessions handed out a token lease (api/token_lease.rs), so the OkHttp
//! interceptor can ask, by two integers, whether a leased token is still the one to send.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock, Weak};

use once_cell::sync::Lazy;

use crate::engine::Engine;

/// Sessions that handed out a lease, by id. Weak: a lease never keeps a session alive.
static LEASED: Lazy<RwLock<HashMap<u64, Weak<Engine>>>> = Lazy::new(Default::default);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The id a session is known by in `LEASED`, given out on its first lease.
#[derive(Default)]
pub(crate) struct LeaseId(OnceLock<u64>);

impl LeaseId {
    pub fn get_or_register(&self, engine: &Arc<Engine>) -> u64 {
        *self.0.get_or_init(|| {
            let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
            LEASED.write().unwrap_or_else(|p| p.into_inner()).insert(id, Arc::downgrade(engine));
            id
        })
    }
}

impl Drop for LeaseId {
    fn drop(&mut self) {
        if let Some(id) = self.0.get() {
            LEASED.write().unwrap_or_else(|p| p.into_inner()).remove(id);
        }
    }
}

/// The engine of the session `session_id`, while the session lives.
pub(crate) fn engine(session_id: u64) -> Option<Arc<Engine>> {
    LEASED.read().unwrap_or_else(|p| p.into_inner()).get(&session_id).and_then(Weak::upgrade)
}

/// Whether the session `session_id` would send the token of `generation` right now
/// without refreshing first; false for a session that is gone.
pub(crate) fn is_current(session_id: u64, generation: u64) -> bool {
    engine(session_id).is_some_and(|engine| engine.is_current(generation))
}
