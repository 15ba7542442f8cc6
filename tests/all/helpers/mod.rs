//! Test helpers: the auth server process, oidc-provider's process, a memory store with
//! switchable failures, and a listener that records events.

mod child;
mod oidc;
mod server;
mod store;

pub use child::{child_binary, SessionChild};
pub use oidc::{pkce, OidcProvider};
pub use server::AuthServer;
pub use store::{Gate, GatedStore, MemoryStore};

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
    /// Waits until `done` holds for the events and returns them; fails the test when it
    /// never does.
    pub async fn wait_until(&self, done: impl Fn(&[SessionEvent]) -> bool) -> Vec<SessionEvent> {
        let mut seen = Vec::new();
        eventually("the listener to hear the expected events", || {
            seen = self.events.lock().unwrap().clone();
            std::future::ready(done(&seen))
        })
        .await;
        seen
    }
}

/// How long a test waits for something that should happen: far beyond every bound of
/// the session, so only a real hang reaches it, even on a busy machine.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `condition` until it holds; fails the test, naming `what`, when it never does.
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PATIENCE;
    while !condition().await {
        assert!(Instant::now() < deadline, "waited {PATIENCE:?} for {what}, in vain");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A session against `server` with the given config changes, a store and a recorder.
pub fn session_with(
    server: &AuthServer,
    store: Arc<dyn refreshkit::TokenStore>,
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

/// Polls `fut` once, so it runs up to its first wait (a store call queued, say), and
/// returns it for the test to finish later.
pub async fn started<F: std::future::Future>(fut: F) -> std::pin::Pin<Box<F>> {
    let mut fut = Box::pin(fut);
    std::future::poll_fn(|cx| {
        let _ = fut.as_mut().poll(cx);
        std::task::Poll::Ready(())
    })
    .await;
    fut
}
