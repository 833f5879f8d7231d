import Platform

#if MPI
    internal import CHDF5MPI
#else
    internal import CHDF5
#endif

/// A failed HDF5 call: what was attempted and the frames of HDF5's error stack, each with
/// HDF5's numbers for it (its major and minor error), the function that pushed it and its text.
/// Decisions look at the numbers; the text is what users read.
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    /// The operation that failed, e.g. "H5Fopen 'in.h5'".
    public let operation: String
    /// HDF5's error stack, outermost (the API call) first, innermost (where it went wrong) last.
    public let frames: [Frame]

    /// One frame of HDF5's error stack (`H5E_error2_t`).
    public struct Frame: Equatable, Sendable {
        /// The HDF5 function that pushed it, e.g. "H5F__super_read".
        public let function: String
        /// Its error class (`maj_num`), e.g. `.fileAccessibility`; nil in a frame of gnorm's own.
        public let major: Major?
        /// What went wrong (`min_num`), e.g. `.notHDF5`; nil in a frame of gnorm's own.
        public let minor: Minor?
        /// HDF5's words for this frame, e.g. "file signature not found".
        public let description: String
        /// HDF5's words for the minor number, e.g. "Not an HDF5 file" (`H5Eget_msg`).
        public let minorDescription: String

        /// "description — minor description", on one line.
        var text: String {
            [description, minorDescription].filter { !$0.isEmpty }.joined(separator: " — ")
                .split(whereSeparator: \.isNewline).joined(separator: " ")
        }
    }

    /// An HDF5 error class (a major error number, `H5E_*` of H5Epubgen.h). libhdf5 assigns the
    /// numbers as it opens, so they are compared with these named ones, never written down.
    public struct Major: Hashable, Sendable {
        let rawValue: Int64
        /// "File accessibility" (`H5E_FILE`): opening, creating and reading files.
        public static var fileAccessibility: Major { Major(rawValue: chdf5_error_file()) }
        /// "Plugin for dynamically loaded library" (`H5E_PLUGIN`).
        public static var plugin: Major { Major(rawValue: chdf5_error_plugin()) }
    }

    /// An HDF5 minor error number (`H5E_*` of H5Epubgen.h), assigned as `Major`'s are.
    public struct Minor: Hashable, Sendable {
        let rawValue: Int64
        /// "Not an HDF5 file" (`H5E_NOTHDF5`): no HDF5 signature where a superblock should be.
        public static var notHDF5: Minor { Minor(rawValue: chdf5_error_not_hdf5()) }
        /// "Wrong version number" (`H5E_VERSION`).
        public static var wrongVersion: Minor { Minor(rawValue: chdf5_error_version()) }
    }

    /// A failure gnorm finds itself around an HDF5 call: each line of `stack` a frame of its own,
    /// with no HDF5 numbers.
    public init(operation: String, stack: [String] = []) {
        self.operation = operation
        frames = stack.map { Frame(function: "gnorm", major: nil, minor: nil, description: $0, minorDescription: "") }
    }

    init(operation: String, frames: [Frame]) {
        self.operation = operation
        self.frames = frames
    }

    /// The most specific message of the stack, on one line, for reports: the system's error
    /// message where HDF5 gives an errno ("File too large", "No space left on device"), else the
    /// innermost frame's text (1.14's plugin search aside, which pushes "can't find plugin" below
    /// the frame that names the missing filter).
    public var reason: String? {
        if needsNewerLibrary {
            let versions =
                buildVersion == libraryVersion
                ? "HDF5 \(buildVersion), which gnorm was built with,"
                : "HDF5 \(libraryVersion) (gnorm was built with \(buildVersion))"
            return "the file uses a newer HDF5 format than \(versions) reads "
                + "(rewrite it with libver='v110' in h5py, or h5repack from the HDF5 that wrote it)"
        }
        if let systemError { return systemError.reason }
        let plugin = Major.plugin
        return (frames.last { $0.major != plugin } ?? frames.last)?.text
    }

    /// The failed system call underneath, where HDF5's POSIX driver gives one: the innermost frame
    /// that quotes an errno (HDF5 has no field for it; its drivers write "errno = 28" in the text),
    /// named by the HDF5 function that made the call, e.g. `H5FD__sec2_write`.
    public var systemError: SystemCallError? {
        for frame in frames.reversed() {
            guard let quoted = frame.description.firstRange(of: "errno = ") else { continue }
            let digits = frame.description[quoted.upperBound...].prefix { $0.isNumber }
            if let code = Int32(digits) { return SystemCallError(frame.function, code: code) }
        }
        return nil
    }

    /// Whether the file was written in a newer format than this libhdf5 knows (HDF5 2.0's layout
    /// message version 5, as h5py 3.16 writes with libver='latest'): INPUT unreadable, not an I/O
    /// failure. HDF5 says so with "Wrong version number" in some decoders; the layout message's
    /// reports it with the number it gives any bad value (1.10 `H5E_CANTLOAD`, 1.14
    /// `H5E_BADVALUE`), so there its text ("bad version number for layout message") is the sign.
    public var needsNewerLibrary: Bool {
        let wrongVersion = Minor.wrongVersion
        return frames.contains { $0.minor == wrongVersion || $0.description.contains("version number") }
    }

    public var description: String {
        if let reason { return "\(operation) failed: \(reason)" }
        return "\(operation) failed"
    }

    /// The stack, one frame a line ("H5F__super_read: file signature not found — Not an HDF5 file").
    public var stack: [String] {
        frames.map { "\($0.function): \($0.text)" }
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
        let (_, frames) = CallbackContext<[Frame]>.run([]) { context in
            H5Ewalk2(
                stackId, H5E_WALK_DOWNWARD,
                { _, frame, context in
                    guard let frame = frame?.pointee else { return 0 }
                    let captured = Frame(
                        function: frame.func_name.map { String(cString: $0) } ?? "?",
                        major: Major(rawValue: frame.maj_num), minor: Minor(rawValue: frame.min_num),
                        description: frame.desc.map { String(cString: $0) } ?? "",
                        minorDescription: messageText(frame.min_num))
                    return CallbackContext<[Frame]>.update(context) { $0.append(captured) }
                }, context)
        }
        return HDF5Error(operation: operation, frames: frames)
    }
}

/// HDF5's text for an error number. The HDF5 call is `H5Eget_msg`.
private func messageText(_ number: hid_t) -> String {
    var text = [CChar](repeating: 0, count: 256)
    var kind = H5E_MINOR
    guard H5Eget_msg(number, &kind, &text, text.count) > 0 else { return "" }
    return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
