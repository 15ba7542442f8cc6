//! The front door: the `Session` object Kotlin, Swift and Rust apps hold.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::api::config::SessionConfig;
use crate::dpop::key::DpopKey;
use crate::dpop::state::{key_failed, Dpop, NonceFor};
use crate::engine::events::{EventSink, SessionListener};
use crate::engine::lease::LeaseId;
use crate::engine::{Engine, Need, RefreshResult};
use crate::foundation::runtime::{self, Sockets};
use crate::net::wire::Wire;
use crate::store::{StoreHandle, TokenStore};
use crate::types::error::SessionError;
use crate::types::http::{HttpRequest, HttpResponse};
use crate::types::state::SessionState;
use crate::types::tokens::Tokens;

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
/// Counters since the session was built, for the app's diagnostics.
pub struct SessionMetrics {
    /// Requests given to `execute`.
    pub requests: u64,
    /// Successful refreshes against the server.
    pub refreshes: u64,
    /// Refreshes that failed (or ended the session).
    pub refresh_failures: u64,
    /// Requests sent again after a refresh.
    pub replays: u64,
    /// Refreshes whose result was thrown away: the user signed out, or another signed
    /// in, while they ran.
    pub refreshes_discarded: u64,
    /// Calls waiting for a refresh right now.
    pub waiting_for_refresh: u64,
    /// Requests waiting right now for a place among the `maxConcurrentRequests` on
    /// the wire.
    pub waiting_for_the_wire: u64,
}

/// A signed-in user's session: sends requests with a valid access token, refreshes it
/// once when it expires (however many requests notice at the same time), replays the
/// requests that met the old one, and persists rotated tokens through the `TokenStore`.
#[derive(uniffi::Object)]
pub struct Session {
    engine: Arc<Engine>,
    lease_id: LeaseId,
    /// Set by `use_callers_runtime`.
    callers_runtime: AtomicBool,
}

#[uniffi::export]
impl Session {
    /// Builds a session and starts reading the store in the background, so a user who
    /// signed in before is signed in again. Never reads the store on the calling thread:
    /// safe on the main thread. `state()` is `Loading` until the read ends; every call
    /// waits for it (bounded by the store timeout), and `restoredState()` says how it
    /// ended.
    #[uniffi::constructor(default(listener = None))]
    pub fn new(
        config: SessionConfig,
        store: Arc<dyn TokenStore>,
        listener: Option<Arc<dyn SessionListener>>,
    ) -> Result<Arc<Session>, SessionError> {
        Session::build(config, store, listener, None)
    }

    /// A session whose tokens are bound to the DPoP key (RFC 9449): the refresh call
    /// and every request with a token of type `DPoP` carry a proof signed by the key,
    /// and a server's nonce is learnt and used. Bearer tokens keep working as they are.
    #[uniffi::constructor(default(listener = None))]
    pub fn with_dpop(
        config: SessionConfig,
        store: Arc<dyn TokenStore>,
        dpop_key: Arc<dyn DpopKey>,
        listener: Option<Arc<dyn SessionListener>>,
    ) -> Result<Arc<Session>, SessionError> {
        Session::build(config, store, listener, Some(Dpop::new(dpop_key)))
    }

    /// A DPoP proof for the app's own request to `url` (the login call, the
    /// authorization-code exchange), signed by the session's key, so the tokens it gets
    /// are bound to the same key. For the `DPoP` header. `nonce`: the `DPoP-Nonce` the
    /// server answered an earlier try with (`use_dpop_nonce`); otherwise the newest nonce
    /// the session has from that origin's token endpoint (or else from its resources).
    #[uniffi::method(default(nonce = None))]
    pub async fn dpop_proof(&self, method: String, url: String, nonce: Option<String>) -> Result<String, SessionError> {
        let engine = Arc::clone(&self.engine);
        self.run(async move {
            let dpop = engine.dpop.as_ref().ok_or_else(|| SessionError::InvalidConfig {
                detail: "this session has no DPoP key (Session::with_dpop)".into(),
            })?;
            let url = reqwest::Url::parse(&url)
                .map_err(|_| SessionError::InvalidRequest { detail: "not an absolute URL".into() })?;
            engine.settings.check_transport(&url)?;
            if let Some(nonce) = nonce {
                dpop.use_nonce(&url, NonceFor::AuthorizationServer, &nonce);
            }
            let within = engine.settings.request_timeout;
            let proof = dpop.proof(&method.to_ascii_uppercase(), &url, None, within).await.map_err(key_failed)?;
            Ok(proof.to_str().unwrap_or_default().to_owned())
        })
        .await
    }

    /// Saves `tokens` through the store, then makes them the session's tokens. Waits
    /// for a refresh under way in another process on the same store (its refresh lock),
    /// so that refresh's tokens never land over these. When the store does not answer in
    /// time this fails with a `Store` error; if the save was already running and still
    /// succeeds, the sign-in happens then, with its `SignedIn` event: the session never
    /// disagrees with the store about who is signed in.
    pub async fn sign_in(&self, tokens: Tokens) -> Result<(), SessionError> {
        let engine = Arc::clone(&self.engine);
        self.run(async move { engine.sign_in(tokens).await }).await
    }

    /// Clears the store, then signs out; a refresh still in flight, in this process or
    /// another on the same store, never writes its tokens back. If the store fails,
    /// nothing changes; a clear that outlives the store timeout and still succeeds signs
    /// out then, with its `SignedOut` event. With a `revocation_path`, the tokens signed
    /// out are then revoked at the provider in the background (RFC 7009): that never
    /// delays or changes this call's result, and a failure comes as `RevocationFailed`.
    pub async fn sign_out(&self) -> Result<(), SessionError> {
        let engine = Arc::clone(&self.engine);
        self.run(async move { engine.sign_out().await }).await
    }

    /// Sends `request` with the access token (only to allowed hosts), and on expiry
    /// refreshes once and replays it. Cancelling the call cancels this request only.
    pub async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, SessionError> {
        self.run(self.execute_task(request)).await
    }

    /// A valid access token for apps that send requests themselves; refreshed first
    /// when it expires within the leeway.
    pub async fn access_token(&self) -> Result<String, SessionError> {
        self.run(self.access_token_task()).await
    }

    /// After the server answered 401 to the rejected access token: a newer token. Refreshes
    /// at most once per token generation; if the token was already replaced, returns
    /// the current one without refreshing.
    pub async fn refresh_after_unauthorized(&self, rejected_access_token: String) -> Result<String, SessionError> {
        self.run(self.refresh_after_unauthorized_task(rejected_access_token)).await
    }

    /// Waits for the store read the session started when it was made (bounded by
    /// the store timeout) and returns the state then: `Active` for a user who signed in
    /// before, `Locked` when the store could not be read. It never reads the store again
    /// itself; the next call that needs the tokens does. Ask `needsSignIn()` of it
    /// before showing a login screen: `Locked` is not signed out.
    pub async fn restored_state(&self) -> SessionState {
        let engine = Arc::clone(&self.engine);
        // Only the runtime shutting down fails this; the state says where things stand.
        let _ = self
            .run(async move {
                engine.wait_for_read_under_way().await;
                Ok(())
            })
            .await;
        self.state()
    }

    /// Where the session stands now; never blocks.
    pub fn state(&self) -> SessionState {
        self.engine.session_state()
    }

    /// The session's counters now; never blocks.
    pub fn metrics(&self) -> SessionMetrics {
        let m = &self.engine.metrics;
        SessionMetrics {
            requests: m.requests.load(Ordering::Relaxed),
            refreshes: m.refreshes.load(Ordering::Relaxed),
            refresh_failures: m.refresh_failures.load(Ordering::Relaxed),
            replays: m.replays.load(Ordering::Relaxed),
            refreshes_discarded: m.discarded.load(Ordering::Relaxed),
            waiting_for_refresh: m.waiting.load(Ordering::Relaxed),
            waiting_for_the_wire: m.queued.load(Ordering::Relaxed),
        }
    }
}

/// For Rust apps.
impl Session {
    /// From now on, a call made on a tokio runtime keeps its request's sockets and timers
    /// on that runtime instead of the library's own, so no socket event crosses between
    /// runtimes (BENCHMARKS.md section 2). The runtime needs its IO and time drivers, as
    /// reqwest does (on one without them a call fails with `InvalidConfig`). Connections
    /// made on a runtime serve only calls on that runtime (each of the last four has a
    /// connection pool of its own) and close with it, as do the calls in flight there;
    /// the session goes on serving calls from other runtimes. Calls from threads without a runtime
    /// (Kotlin, Swift, the `_blocking` forms) and the refresh itself keep using the
    /// library's runtime.
    pub fn use_callers_runtime(&self) {
        self.callers_runtime.store(true, Ordering::Relaxed);
    }
}

/// The work behind each call, shared by the async and the blocking entry points.
impl Session {
    fn build(
        config: SessionConfig,
        store: Arc<dyn TokenStore>,
        listener: Option<Arc<dyn SessionListener>>,
        dpop: Option<Dpop>,
    ) -> Result<Arc<Session>, SessionError> {
        let settings = config.into_settings()?;
        let wire = Wire::new(settings.request_timeout)?;
        let store = StoreHandle::new(store, settings.store_timeout);
        let engine = Arc::new(Engine::new(settings, wire, store, EventSink::new(listener), dpop));
        engine.start_loading();
        Ok(Arc::new(Session { engine, lease_id: LeaseId::default(), callers_runtime: AtomicBool::new(false) }))
    }

    #[cfg(feature = "simulation")]
    pub(crate) fn from_engine(engine: Arc<Engine>) -> Arc<Session> {
        Arc::new(Session { engine, lease_id: LeaseId::default(), callers_runtime: AtomicBool::new(false) })
    }

    pub(crate) fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// Runs a call for the app (see `runtime::run`), on the runtime its sockets belong to.
    /// Not an `async fn`: a layer of its own would hold `fut` by value in every call's
    /// future (2 KB more per request waiting on a refresh).
    pub(crate) fn run<T, F>(&self, fut: F) -> impl Future<Output = Result<T, SessionError>> + use<T, F>
    where
        F: Future<Output = Result<T, SessionError>> + Send + 'static,
        T: Send + 'static,
    {
        let sockets = if self.callers_runtime.load(Ordering::Relaxed) { Sockets::Callers } else { Sockets::Library };
        runtime::run(fut, sockets)
    }

    /// The id this session is known by in the lease registry (engine/lease.rs), registered
    /// at the first ask: token leases and Kotlin's direct calls name the session by it.
    pub(crate) fn registry_id(&self) -> u64 {
        self.lease_id.get_or_register(&self.engine)
    }

    pub(crate) fn execute_task(
        &self,
        request: HttpRequest,
    ) -> impl Future<Output = Result<HttpResponse, SessionError>> + Send + 'static {
        Arc::clone(&self.engine).execute(request)
    }

    /// The tokens to send now, refreshed first when they expire within the leeway.
    pub(crate) fn current_tokens_task(&self) -> impl Future<Output = RefreshResult> + Send + 'static {
        let engine = Arc::clone(&self.engine);
        async move { engine.token_for(Need::Current).await }
    }

    pub(crate) fn access_token_task(&self) -> impl Future<Output = Result<String, SessionError>> + Send + 'static {
        let current = self.current_tokens_task();
        async move { Ok(current.await?.tokens.access_token.clone()) }
    }

    pub(crate) fn refresh_after_unauthorized_task(
        &self,
        rejected_access_token: String,
    ) -> impl Future<Output = Result<String, SessionError>> + Send + 'static {
        let engine = Arc::clone(&self.engine);
        async move {
            engine.ensure_loaded().await?;
            let need = engine.need_after_rejection(&rejected_access_token)?;
            Ok(engine.token_for(need).await?.tokens.access_token.clone())
        }
    }
}
