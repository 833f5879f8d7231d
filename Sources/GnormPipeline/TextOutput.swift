import Foundation

/// Where reports go: standard output or a file, written as text. A report file is written
/// under a temporary name beside it and renamed by `commit()`, so that a failure (a full disk)
/// never leaves a truncated report under its name; a FIFO or a device is written to directly.
final class TextOutput {
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    let name: String
    /// Where a report file is written until `commit()` renames it to `final`.
    private var temporary: (path: String, final: String, registration: SignalCleanup.Registration)?

    static func standardOutput() -> TextOutput { TextOutput(descriptor: 1, owns: false, name: "<stdout>") }

    private init(descriptor: Int32, owns: Bool, name: String) {
        self.descriptor = descriptor
        self.ownsDescriptor = owns
        self.name = name
    }

    /// Creates a report file (replacing a file of that name when committed).
    convenience init(creating path: String) throws(PipelineError) {
        var status = stat()
        let exists = stat(path, &status) == 0
        if exists && status.st_mode & S_IFMT != S_IFREG {
            guard status.st_mode & S_IFMT != S_IFDIR else {
                throw .outputUnavailable("cannot create report: \(String(cString: strerror(EISDIR)))", file: path)
            }
            let descriptor = open(path, O_WRONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw .outputUnavailable("cannot create report: \(String(cString: strerror(errno)))", file: path)
            }
            self.init(descriptor: descriptor, owns: true, name: path)
            return
        }
        // Through a symbolic link the file it leads to is replaced, and the link stays.
        let final = exists ? OutputDestination.resolvingSymlinks(path) : path
        let temporary = Temporaries.name(for: final)
        let registration = SignalCleanup.register(temporary)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            let failure = errno
            SignalCleanup.unregister(registration)
            throw .outputUnavailable("cannot create report: \(String(cString: strerror(failure)))", file: path)
        }
        self.init(descriptor: descriptor, owns: true, name: path)
        self.temporary = (temporary, final, registration)
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
        // Not committed: a failure ended the run.
        if let temporary {
            unlink(temporary.path)
            SignalCleanup.unregister(temporary.registration)
        }
    }

    /// Puts a finished report file in place (after `synchronize()`), replacing a regular file
    /// of that name; nothing to do for standard output, a FIFO or a device.
    func commit() throws(PipelineError) {
        guard let (path, final, registration) = temporary else { return }
        if let refusal = OutputCommit.put(path, at: final, policy: .replace) {
            throw OutputCommit.failure(refusal, name: name)  // deinit removes the temporary file
        }
        SignalCleanup.unregister(registration)
        self.temporary = nil
        syncFolder(URL(fileURLWithPath: final).deletingLastPathComponent().path)
    }

    /// Writes all of `text`; a closed pipe ends the run quietly as EPIPE.
    func write(_ text: String) throws(PipelineError) {
        var text = text
        let failure = text.withUTF8 { writeFully(UnsafeRawBufferPointer($0), to: descriptor) }
        if failure == EPIPE { throw .brokenPipe }
        if failure != 0 {
            throw .io("cannot write report: \(String(cString: strerror(failure)))", file: name)
        }
    }

    /// Flushes a report file to disk.
    func synchronize() throws(PipelineError) {
        if ownsDescriptor && fsync(descriptor) != 0 && errno != EINVAL {
            throw .io("cannot write report: \(String(cString: strerror(errno)))", file: name)
        }
    }
}
