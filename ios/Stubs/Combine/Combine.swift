// A stand-in for Apple's Combine, as far as SessionStateModel uses it: ObservableObject
// and @Published with Apple's names and shapes. scripts/swift-keychain-checks.sh
// type-checks the Swift layer against it (Linux has no Combine); nothing publishes here.
public final class ObservableObjectPublisher {
    public init() {}
    public func send() {}
}

public protocol ObservableObject: AnyObject {
    associatedtype ObjectWillChangePublisher = ObservableObjectPublisher
    var objectWillChange: ObjectWillChangePublisher { get }
}

extension ObservableObject where ObjectWillChangePublisher == ObservableObjectPublisher {
    public var objectWillChange: ObservableObjectPublisher { ObservableObjectPublisher() }
}

@propertyWrapper
public struct Published<Value> {
    public var wrappedValue: Value
    public init(wrappedValue: Value) { self.wrappedValue = wrappedValue }

    /// Apple's is a Publisher of the values; here only its place in the API.
    public struct Publisher {}
    public var projectedValue: Publisher { Publisher() }
}
