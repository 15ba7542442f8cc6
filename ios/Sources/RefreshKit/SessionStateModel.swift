#if canImport(Combine)
import Combine
#endif
import Foundation

/// The session's state for SwiftUI (iOS 15 and later): an `ObservableObject` whose
/// `state` is `@Published` on the main actor.
///
/// ```swift
/// let events = SessionEvents()
/// let session = try Session(config: config, store: store, listener: events)
///
/// struct RootView: View {
///     @StateObject var model: SessionStateModel   // SessionStateModel(session: session, events: events)
///     var body: some View {
///         if model.needsSignIn { LoginView() } else { HomeView() }
///     }
/// }
/// ```
///
/// Any number of models (and other `states(of:)` streams) can watch one session. A model
/// holds the session weakly; when the model is released it stops watching.
/// On iOS 17 and later, `ObservableSessionState` does the same with `@Observable`.
@MainActor
public final class SessionStateModel {
    #if canImport(Combine)
    /// Where the session stands (`events.states(of:)`): updated after every event.
    @Published public private(set) var state: SessionState
    #else
    /// Where the session stands (`events.states(of:)`): updated after every event.
    public private(set) var state: SessionState
    #endif

    /// Whether to show the login screen: nobody is signed in or the session is over
    /// (`SessionState.needsSignIn()`; a locked Keychain is not signed out).
    public var needsSignIn: Bool { state.needsSignIn() }

    private var watching: Task<Void, Never>?

    /// Watches `session`, whose listener is `events`.
    public init(session: Session, events: SessionEvents) {
        state = session.state()
        let states = events.states(of: session)
        watching = Task { [weak self] in
            for await state in states { self?.state = state }
        }
    }

    deinit {
        watching?.cancel()
    }
}

#if canImport(Combine)
extension SessionStateModel: ObservableObject {}
#endif

// Not on Linux: Debian's Swift 6.0.3 ships a libswiftObservation.so that does not link
// (undefined swift::threading::fatal). scripts/swift-keychain-checks.sh type-checks this
// part with REFRESHKIT_TYPECHECK_APPLE.
#if canImport(Observation) && (!os(Linux) || REFRESHKIT_TYPECHECK_APPLE)
import Observation

/// The session's state for SwiftUI on iOS 17 / macOS 14 and later, with the Observation
/// framework: views that read `state` or `needsSignIn` update when it changes.
///
/// ```swift
/// @State var session = ObservableSessionState(session: session, events: events)
/// var body: some View { if session.needsSignIn { LoginView() } else { HomeView() } }
/// ```
///
/// Like `SessionStateModel`, it holds the session weakly and stops watching when released.
@available(iOS 17, macOS 14, tvOS 17, watchOS 10, *)
@MainActor
@Observable
public final class ObservableSessionState {
    /// Where the session stands (`events.states(of:)`): updated after every event.
    public private(set) var state: SessionState

    /// Whether to show the login screen (`SessionState.needsSignIn()`).
    public var needsSignIn: Bool { state.needsSignIn() }

    @ObservationIgnored private var watching: Task<Void, Never>?

    /// Watches `session`, whose listener is `events`.
    public init(session: Session, events: SessionEvents) {
        state = session.state()
        let states = events.states(of: session)
        watching = Task { [weak self] in
            for await state in states { self?.state = state }
        }
    }

    deinit {
        watching?.cancel()
    }
}
#endif
