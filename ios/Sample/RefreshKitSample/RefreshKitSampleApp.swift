import RefreshKit
import SwiftUI

/// Signs in against the local auth server on the Mac (run
/// `cargo run -p auth-server -- --port 8080 --access-ttl-ms 5000` there; the simulator
/// reaches it at 127.0.0.1), shows the session state, and fires 20 parallel requests
/// across a token expiry.
@main
struct RefreshKitSampleApp: App {
    @StateObject private var model = SampleModel()

    var body: some Scene {
        WindowGroup { ContentView(model: model) }
    }
}

@MainActor
final class SampleModel: ObservableObject {
    @Published var state: SessionState = .loading
    @Published var report = ""
    private let events = SessionEvents()
    private let session: Session
    private let baseURL = "http://127.0.0.1:8080"

    init() {
        do {
            session = try Session(
                config: SessionConfig(baseUrl: baseURL, refreshLeewayMs: 1_000),
                store: KeychainTokenStore(),
                listener: events
            )
        } catch {
            fatalError("refreshkit configuration: \(error)")
        }
        state = session.state()  // .loading until the Keychain has been read
        Task { [session, weak self] in self?.state = await session.restoredState() }
        Task { [stream = events.stream, weak self] in
            for await event in stream {
                self?.state = self?.session.state() ?? .signedOut
                if case .expired = event { self?.report = "Session expired: sign in again" }
            }
        }
    }

    func signIn() async {
        do {
            // A real app gets these from its login screen.
            var request = URLRequest(url: URL(string: "\(baseURL)/login")!)
            request.httpMethod = "POST"
            let (data, _) = try await URLSession.shared.data(for: request)
            let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            try await session.signIn(tokens: Tokens(
                accessToken: json["access_token"] as? String ?? "",
                refreshToken: json["refresh_token"] as? String
            ))
            report = "Signed in"
        } catch let error as SessionError {
            report = error.message
        } catch {
            report = "Auth server unreachable: \(error.localizedDescription)"
        }
        state = session.state()
    }

    func fireTwenty() async {
        let before = session.metrics().refreshes
        let ok = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask { [session] in
                    (try? await session.execute(HttpRequest(url: "/api/resource")).status) == 200
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        report = "\(ok) of 20 succeeded, \(session.metrics().refreshes - before) refresh(es)"
        state = session.state()
    }

    func signOut() async {
        do {
            try await session.signOut()
        } catch let error as SessionError {
            report = "Sign-out failed (still signed in): \(error.message)"
        } catch {
            report = "Sign-out failed (still signed in): \(error.localizedDescription)"
        }
        state = session.state()
    }
}

struct ContentView: View {
    @ObservedObject var model: SampleModel

    var body: some View {
        VStack(alignment: .leading, spacing: 16) {
            Text("Session: \(String(describing: model.state))").font(.title2)
            // The login only when nobody is signed in: `.locked` (the Keychain before the
            // first unlock) and `.loading` keep the signed-in screen.
            if model.state.needsSignIn() {
                Button("Sign in") { Task { await model.signIn() } }
            } else {
                Button("Fire 20 requests") { Task { await model.fireTwenty() } }
                Button("Sign out") { Task { await model.signOut() } }
            }
            Text(model.report)
        }
        .padding()
    }
}
