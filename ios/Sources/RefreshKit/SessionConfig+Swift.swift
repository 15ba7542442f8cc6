import Foundation

// The generated `SessionConfig` speaks Rust: `baseUrl: String`, timeouts in milliseconds.
// These give Swift its own words for the same fields: `URL`s and `Duration`s. Defaults
// stay the core's (a parameter left out keeps the generated initializer's default), so
// there is one list of them.
extension SessionConfig {
    /// A configuration for the API at `baseURL`; every parameter left out keeps the
    /// core's default (`SessionConfig(baseUrl:)` documents each one).
    ///
    /// ```swift
    /// let config = SessionConfig(baseURL: URL(string: "https://api.example.com")!,
    ///                            refreshTimeout: .seconds(10))
    /// ```
    ///
    /// A timeout of zero or less is kept as 0 ms, which `Session(config:store:)` refuses
    /// with `SessionError.invalidConfig`.
    @available(iOS 16, macOS 13, *)
    public init(
        baseURL: URL,
        refreshPath: String? = nil,
        requestTimeout: Duration? = nil,
        refreshTimeout: Duration? = nil,
        storeTimeout: Duration? = nil,
        refreshProtocol: RefreshProtocol? = nil,
        expiredStatuses: [UInt16]? = nil,
        expiredBodyRule: BodyRule? = nil,
        refreshLeeway: Duration? = nil,
        headerName: String? = nil,
        headerScheme: String? = nil,
        tokenHosts: [String]? = nil,
        allowInsecureHTTP: Bool? = nil,
        maxRefreshesPerWindow: UInt32? = nil,
        refreshWindow: Duration? = nil,
        maxConcurrentRequests: UInt32? = nil,
        maxResponseBytes: UInt64? = nil,
        revocationPath: String? = nil
    ) {
        self.init(baseUrl: baseURL.absoluteString)
        if let refreshPath { self.refreshPath = refreshPath }
        if let requestTimeout { self.requestTimeout = requestTimeout }
        if let refreshTimeout { self.refreshTimeout = refreshTimeout }
        if let storeTimeout { self.storeTimeout = storeTimeout }
        self.refreshProtocol = refreshProtocol
        self.expiredStatuses = expiredStatuses
        self.expiredBodyRule = expiredBodyRule
        if let refreshLeeway { self.refreshLeeway = refreshLeeway }
        if let headerName { self.headerName = headerName }
        if let headerScheme { self.headerScheme = headerScheme }
        if let tokenHosts { self.tokenHosts = tokenHosts }
        if let allowInsecureHTTP { self.allowInsecureHttp = allowInsecureHTTP }
        if let maxRefreshesPerWindow { self.maxRefreshesPerWindow = maxRefreshesPerWindow }
        if let refreshWindow { self.refreshWindow = refreshWindow }
        if let maxConcurrentRequests { self.maxConcurrentRequests = maxConcurrentRequests }
        if let maxResponseBytes { self.maxResponseBytes = maxResponseBytes }
        self.revocationPath = revocationPath
    }

    /// `baseUrl` as a `URL`; nil when the text is no URL (the session refuses it then).
    public var baseURL: URL? {
        get { URL(string: baseUrl) }
        set { baseUrl = newValue?.absoluteString ?? "" }
    }

    /// `requestTimeoutMs` as a `Duration`.
    @available(iOS 16, macOS 13, *)
    public var requestTimeout: Duration {
        get { .milliseconds(requestTimeoutMs) }
        set { requestTimeoutMs = newValue.wholeMilliseconds }
    }

    /// `refreshTimeoutMs` as a `Duration`.
    @available(iOS 16, macOS 13, *)
    public var refreshTimeout: Duration {
        get { .milliseconds(refreshTimeoutMs) }
        set { refreshTimeoutMs = newValue.wholeMilliseconds }
    }

    /// `storeTimeoutMs` as a `Duration`.
    @available(iOS 16, macOS 13, *)
    public var storeTimeout: Duration {
        get { .milliseconds(storeTimeoutMs) }
        set { storeTimeoutMs = newValue.wholeMilliseconds }
    }

    /// `refreshLeewayMs` as a `Duration`.
    @available(iOS 16, macOS 13, *)
    public var refreshLeeway: Duration {
        get { .milliseconds(refreshLeewayMs) }
        set { refreshLeewayMs = newValue.wholeMilliseconds }
    }

    /// `refreshWindowMs` as a `Duration`.
    @available(iOS 16, macOS 13, *)
    public var refreshWindow: Duration {
        get { .milliseconds(refreshWindowMs) }
        set { refreshWindowMs = newValue.wholeMilliseconds }
    }
}

extension HttpRequest {
    /// A request to `url` (absolute: one of the session's token hosts gets the token;
    /// the generated initializer also takes a path resolved against the base URL).
    @available(iOS 16, macOS 13, *)
    public init(method: String = "GET", url: URL, headers: [HttpHeader] = [], body: Data? = nil, timeout: Duration? = nil) {
        self.init(method: method, url: url.absoluteString, headers: headers, body: body, timeoutMs: timeout?.wholeMilliseconds)
    }
}

extension Session {
    /// Whether a request to `url` may carry the token (`mayReceiveToken(url:)` for a `URL`).
    public func mayReceiveToken(_ url: URL) -> Bool {
        mayReceiveToken(url: url.absoluteString)
    }

    /// The header carrying `accessToken` to `url`, or nil where it may not go
    /// (`tokenHeaderFor(url:accessToken:)` for a `URL`), for apps that send requests themselves.
    public func tokenHeader(for url: URL, accessToken: String) -> HttpHeader? {
        tokenHeaderFor(url: url.absoluteString, accessToken: accessToken)
    }

    /// Every header carrying `accessToken` on a `method` request to `url`, with a new DPoP
    /// proof for a DPoP-bound token (`tokenHeadersFor(method:url:accessToken:)` for a `URL`).
    public func tokenHeaders(method: String, url: URL, accessToken: String) async throws -> [HttpHeader] {
        try await tokenHeadersFor(method: method, url: url.absoluteString, accessToken: accessToken)
    }

    /// A DPoP proof for the app's own request to `url` (`dpopProof(method:url:nonce:)`
    /// for a `URL`): the login call, the authorization-code exchange.
    public func dpopProof(method: String, url: URL, nonce: String? = nil) async throws -> String {
        try await dpopProof(method: method, url: url.absoluteString, nonce: nonce)
    }
}

@available(iOS 16, macOS 13, *)
extension Duration {
    /// Whole milliseconds, rounded down; 0 for a negative duration (refused as a timeout),
    /// `UInt64.max` for one too long to count.
    var wholeMilliseconds: UInt64 {
        guard self > .zero else { return 0 }
        let (seconds, attoseconds) = components
        let (ms, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1000)
        if overflow { return .max }
        let (sum, overflowSum) = ms.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000_000_000))
        return overflowSum ? .max : sum
    }
}
