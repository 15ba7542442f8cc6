extension Session {
    /// A session whose tokens are bound to `dpopKey` (DPoP, RFC 9449): the refresh call
    /// and every request with a token of type `DPoP` carry a proof signed by the key, and
    /// the server's nonce is learnt and used. Bearer tokens keep working as they are.
    ///
    /// ```swift
    /// let session = try Session(config: config, store: store, dpopKey: try SecureEnclaveDpopKey())
    /// ```
    ///
    /// The same session as the generated `Session.withDpop(config:store:dpopKey:listener:)`,
    /// spelt as an initializer.
    public convenience init(config: SessionConfig, store: TokenStore, dpopKey: DpopKey, listener: SessionListener? = nil) throws {
        let made = try Session.withDpop(config: config, store: store, dpopKey: dpopKey, listener: listener)
        // A second handle on the same Rust session; `made` lets its own go when it ends.
        self.init(unsafeFromHandle: made.uniffiCloneHandle())
    }
}
