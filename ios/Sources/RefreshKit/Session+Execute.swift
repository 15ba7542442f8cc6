extension Session {
    /// Sends `request` (the generated `execute(request:)`, with the label Swift's API
    /// guidelines give it). Cancelling the calling Task cancels the request: one that has
    /// not been sent (it waits for a refresh or a free connection) never is, and the call
    /// throws `CancellationError`; a refresh it waited for goes on for the others. Every
    /// async call of the bindings honours cancellation the same way
    /// (bindings/swift-idioms.sh).
    public func execute(_ request: HttpRequest) async throws -> HttpResponse {
        try await execute(request: request)
    }
}
