/// A shape or parameter that cannot be normalized, found when a plan is built.
public enum GroupNormError: Error, Equatable, Sendable, CustomStringConvertible {
    case channelsNotDivisible(channels: Int, groups: Int)
    case invalidCount(what: String, value: Int)
    case parameterLength(name: String, expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .channelsNotDivisible(let channels, let groups):
            let valid = (1...max(channels, 1)).filter { channels % $0 == 0 }.map(String.init).joined(separator: ", ")
            return "\(channels) channels cannot be split into \(groups) groups; valid group counts: \(valid)"
        case .invalidCount(let what, let value):
            return "\(what) must be positive, got \(value)"
        case .parameterLength(let name, let expected, let actual):
            return "\(name) has \(actual) values, expected \(expected) (one per channel)"
        }
    }
}
