//! Where a session stands, as the app sees it.

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
/// Where the session stands.
pub enum SessionState {
    /// The store is being read, just after the session was made; `restoredState()` waits for it.
    Loading,
    /// Nobody is signed in.
    SignedOut,
    /// Signed in; requests carry the token.
    Active,
    /// Active, with a refresh in flight; requests wait for it.
    Refreshing,
    /// The session is over; the user must sign in again.
    Expired,
    /// The token store could not be read yet (a locked Keychain or Keystore); the next
    /// call that needs the tokens tries again.
    Locked,
}

#[uniffi::export]
impl SessionState {
    /// Whether the app should show its login screen: true when nobody is signed in or
    /// the session is over. A locked store is not signed out: its tokens come back once
    /// the device is unlocked, so `Locked` (like `Active` and `Refreshing`) is false.
    pub fn needs_sign_in(&self) -> bool {
        matches!(self, SessionState::SignedOut | SessionState::Expired)
    }
}
