import Foundation
import RefreshKit
import XCTest

/// The README's paragraphs on the Swift forms (URL and Duration config, the DPoP
/// initializer, Codable tokens, state for SwiftUI), kept compiling. Not run: they talk to
/// api.example.com. SwiftUI itself is not on Linux, so the view is left out here.
final class ReadmeSwiftIdiomsTests: XCTestCase {
    func testTheSwiftFormsCompile() {
        _ = readmeSwiftForms
    }
}

@available(iOS 16, macOS 13, *)
@MainActor
private func readmeSwiftForms(store: TokenStore, dpopKey: DpopKey, tokens: Tokens, showLogin: @escaping @Sendable () -> Void) async throws {
    // URL and Duration; every parameter left out keeps the core's default.
    let config = SessionConfig(
        baseURL: URL(string: "https://api.example.com")!,
        refreshTimeout: .seconds(10),
        refreshLeeway: .seconds(90)
    )

    // A DPoP session is an initializer too (SecureEnclaveDpopKey() on a device).
    let events = SessionEvents()
    let session = try Session(config: config, store: store, dpopKey: dpopKey, listener: events)

    // Tokens are Codable, in the JSON the Swift stores write.
    let data = try JSONEncoder().encode(tokens)
    let again = try JSONDecoder().decode(Tokens.self, from: data)   // DecodingError when malformed
    try await session.signIn(tokens: again)

    // State for SwiftUI: `@StateObject var auth = SessionStateModel(session:events:)`,
    // then `if auth.needsSignIn { LoginView() }`. Any number of models may watch.
    let auth = SessionStateModel(session: session, events: events)
    _ = auth.needsSignIn

    // Or any number of plain streams of the state.
    Task { [states = events.states(of: session)] in
        for await state in states where state.needsSignIn() { showLogin() }
    }

    // Requests to a URL.
    let me = try await session.execute(HttpRequest(url: URL(string: "https://api.example.com/me")!))
    _ = me
}
