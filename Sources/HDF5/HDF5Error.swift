#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

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

    /// The most specific message of the stack, on one line, for reports:
    /// the system's error message when HDF5 quotes one (a failed write says
    /// "File too large" or "No space left on device" deep inside its text).
    public var reason: String? {
        // A missing filter is reported above HDF5's plugin search, which says only
        // that a plugin folder could not be read.
        if let filter = stack.first(where: { $0.contains("is not registered") }) {
            return filter.split(separator: ":", maxSplits: 1).last.map {
                String($0.split(separator: "—")[0]).trimmingCharacters()
            }
        }
        if needsNewerLibrary {
            let versions =
                buildVersion == libraryVersion
                ? "HDF5 \(buildVersion), which gnorm was built with,"
                : "HDF5 \(libraryVersion) (gnorm was built with \(buildVersion))"
            return "the file uses a newer HDF5 format than \(versions) reads "
                + "(rewrite it with libver='v110' in h5py, or h5repack from the HDF5 that wrote it)"
        }
        guard let line = stack.last else { return nil }
        if let quoted = line.firstRange(of: "error message = '") {
            let rest = line[quoted.upperBound...]
            if let end = rest.firstIndex(of: "'") { return String(rest[..<end]) }
        }
        let text = line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingLeadingSpaces() } ?? line
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// Whether the file was written in a newer format than this libhdf5 knows (HDF5 2.0's layout
    /// message version 5, as h5py 3.16 writes with libver='latest'): INPUT unreadable, not an I/O failure.
    public var needsNewerLibrary: Bool {
        stack.contains(where: { $0.contains("bad version number") || $0.contains("wrong version number") })
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
        let stackId = H5Eget_current_stack()
        guard stackId >= 0 else { return HDF5Error(operation: operation) }
        defer { H5Eclose_stack(stackId) }
        let (_, lines) = CallbackContext<[String]>.run([]) { context in
            H5Ewalk2(
                stackId, H5E_WALK_DOWNWARD,
                { _, frame, context in
                    guard let frame else { return 0 }
                    let function = frame.pointee.func_name.map { String(cString: $0) } ?? "?"
                    let detail = frame.pointee.desc.map { String(cString: $0) } ?? ""
                    var minor = [CChar](repeating: 0, count: 256)
                    var kind = H5E_MINOR
                    let length = H5Eget_msg(frame.pointee.min_num, &kind, &minor, minor.count)
                    let minorText =
                        length > 0
                        ? String(decoding: minor.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                        : ""
                    let text = [detail, minorText].filter { !$0.isEmpty }.joined(separator: " — ")
                    return CallbackContext<[String]>.update(context) { $0.append("\(function): \(text)") }
                }, context)
        }
        return HDF5Error(operation: operation, stack: lines)
    }
}

extension Substring {
    fileprivate func trimmingLeadingSpaces() -> String {
        String(drop { $0 == " " })
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
