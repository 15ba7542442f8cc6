//! Test helpers: the auth server process, a memory store with switchable failures, and
//! a listener that records events.

mod server;
mod store;

pub use server::AuthServer;
pub use store::MemoryStore;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use refreshkit::{CallbackError, HttpRequest, Session, SessionConfig, SessionError, SessionEvent, SessionListener};

/// Events in the order the listener heard them.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<SessionEvent>>,
}

impl SessionListener for Recorder {
    fn on_event(&self, event: SessionEvent) -> Result<(), CallbackError> {
        self.events.lock().unwrap().push(event);
        Ok(())
    }
}

impl Recorder {
    /// Waits (bounded) until `done` holds for the events; returns them either way.
    pub async fn wait_until(&self, done: impl Fn(&[SessionEvent]) -> bool) -> Vec<SessionEvent> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let events = self.events.lock().unwrap().clone();
            if done(&events) || Instant::now() > deadline {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// A session against `server` with the given config changes, a store and a recorder.
pub fn session_with(
    server: &AuthServer,
    store: Arc<MemoryStore>,
    tweak: impl FnOnce(&mut SessionConfig),
) -> (Arc<Session>, Arc<Recorder>) {
    let mut config = SessionConfig::new(server.base_url());
    tweak(&mut config);
    let recorder = Arc::new(Recorder::default());
    let session = Session::new(config, store, Some(recorder.clone())).expect("valid config");
    (session, recorder)
}

/// Sends `n` concurrent GETs to `path`; their statuses or errors, in order. A request
/// that takes longer than 30 s (far beyond every bound of the session) fails the test.
pub async fn concurrent_gets(session: &Arc<Session>, n: usize, path: &'static str) -> Vec<Result<u16, SessionError>> {
    let calls: Vec<_> = (0..n)
        .map(|_| {
            let session = session.clone();
            tokio::spawn(async move { session.execute(HttpRequest::get(path)).await.map(|r| r.status) })
        })
        .collect();
    let mut results = Vec::with_capacity(n);
    for call in calls {
        results.push(tokio::time::timeout(Duration::from_secs(30), call).await.expect("a request hung").unwrap());
    }
    results
}

/// A session signed in with fresh login tokens whose access token the server has then
/// expired without telling the client: the usual start of a refresh test.
pub struct Expired {
    pub server: AuthServer,
    pub store: Arc<MemoryStore>,
    pub session: Arc<Session>,
    pub recorder: Arc<Recorder>,
    pub first: refreshkit::Tokens,
}

pub async fn signed_in_then_expired() -> Expired {
    let server = AuthServer::start();
    let store = Arc::new(MemoryStore::default());
    let (session, recorder) = session_with(&server, store.clone(), |_| {});
    let first = server.login().await;
    session.sign_in(first.clone()).await.unwrap();
    server.expire_all().await;
    Expired { server, store, session, recorder, first }
}
