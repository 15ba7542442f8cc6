use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use refreshkit::{StoreError, TokenStore, Tokens};

/// An in-memory `TokenStore` whose load and save can be made to fail.
#[derive(Default)]
pub struct MemoryStore {
    tokens: Mutex<Option<Tokens>>,
    pub fail_load: AtomicBool,
    pub fail_save: AtomicBool,
    pub saves: AtomicU64,
}

impl MemoryStore {
    pub fn holding(tokens: Tokens) -> MemoryStore {
        MemoryStore { tokens: Mutex::new(Some(tokens)), ..Default::default() }
    }

    pub fn get(&self) -> Option<Tokens> {
        self.tokens.lock().unwrap().clone()
    }

    pub fn fail_load(&self, on: bool) {
        self.fail_load.store(on, Ordering::SeqCst);
    }

    pub fn fail_save(&self, on: bool) {
        self.fail_save.store(on, Ordering::SeqCst);
    }
}

impl TokenStore for MemoryStore {
    fn load(&self) -> Result<Option<Tokens>, StoreError> {
        if self.fail_load.load(Ordering::SeqCst) {
            return Err(StoreError::Locked);
        }
        Ok(self.get())
    }

    fn save(&self, tokens: Tokens) -> Result<(), StoreError> {
        if self.fail_save.load(Ordering::SeqCst) {
            return Err(StoreError::Failed { detail: "disk full".into() });
        }
        self.saves.fetch_add(1, Ordering::SeqCst);
        *self.tokens.lock().unwrap() = Some(tokens);
        Ok(())
    }

    fn clear(&self) -> Result<(), StoreError> {
        *self.tokens.lock().unwrap() = None;
        Ok(())
    }
}
