internal import CHDF5

/// A failed HDF5 call: what was attempted and the messages of HDF5's error stack.
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    /// The operation that failed, e.g. "H5Fopen 'in.h5'".
    public let operation: String
    /// HDF5's error stack, innermost last: "H5Dread: can't read data", ...
    public let stack: [String]

    public init(operation: String, stack: [String] = []) {
        self.operation = operation
        self.stack = stack
    }

    /// The most specific message of the stack, for one-line reports.
    public var reason: String? {
        stack.last.map { line in
            line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingLeadingSpaces() } ?? line
        }
    }

    public var description: String {
        if let reason { return "\(operation) failed: \(reason)" }
        return "\(operation) failed"
    }

    /// The whole stack, one frame per line, for `--verbose`.
    public var detailedDescription: String {
        ([description] + stack.map { "  " + $0 }).joined(separator: "\n")
    }

    /// Copies the current thread's error stack. The HDF5 call is `H5Ewalk2`.
    static func capture(_ operation: String) -> HDF5Error {
        final class Frames { var lines: [String] = [] }
        let frames = Frames()
        let stackId = H5Eget_current_stack()
        if stackId >= 0 {
            withExtendedLifetime(frames) {
                let context = Unmanaged.passUnretained(frames).toOpaque()
                _ = H5Ewalk2(stackId, H5E_WALK_DOWNWARD, { _, frame, context in
                    guard let frame, let context else { return 0 }
                    let frames = Unmanaged<Frames>.fromOpaque(context).takeUnretainedValue()
                    let function = frame.pointee.func_name.map { String(cString: $0) } ?? "?"
                    let detail = frame.pointee.desc.map { String(cString: $0) } ?? ""
                    var minor = [CChar](repeating: 0, count: 256)
                    var kind = H5E_MINOR
                    let length = H5Eget_msg(frame.pointee.min_num, &kind, &minor, minor.count)
                    let minorText = length > 0 ? String(decoding: minor.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
                    let text = [detail, minorText].filter { !$0.isEmpty }.joined(separator: " — ")
                    frames.lines.append("\(function): \(text)")
                    return 0
                }, context)
            }
            _ = H5Eclose_stack(stackId)
        }
        return HDF5Error(operation: operation, stack: frames.lines)
    }
}

extension Substring {
    fileprivate func trimmingLeadingSpaces() -> String {
        String(drop { $0 == " " })
    }
}
