import Foundation
import Platform

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
                let failure = SystemCallError("open", path: path, code: EISDIR)
                throw .outputUnavailable("cannot create report: \(failure.reason)", file: path, cause: failure)
            }
            let descriptor: Int32
            do { descriptor = try System.open(path, O_WRONLY | O_CLOEXEC) } catch {
                throw .outputUnavailable("cannot create report: \(error.reason)", file: path, cause: error)
            }
            self.init(descriptor: descriptor, owns: true, name: path)
            return
        }
        // Through a symbolic link the file it leads to is replaced, and the link stays.
        let final = exists ? OutputDestination.resolvingSymlinks(path) : path
        // Only process 0 writes a report file under MPI: it sweeps the folder.
        let temporary = Temporaries.name(for: final, sweeping: true)
        let registration = SignalCleanup.register(temporary)
        let descriptor: Int32
        do { descriptor = try System.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o644) } catch {
            SignalCleanup.unregister(registration)
            throw .outputUnavailable("cannot create report: \(error.reason)", file: path, cause: error)
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
        do throws(SystemCallError) {
            try text.withUTF8 { bytes in
                Result { () throws(SystemCallError) in
                    try System.writeFully(UnsafeRawBufferPointer(bytes), to: descriptor, path: name)
                }
            }.get()
        } catch {
            if error.code == EPIPE { throw .brokenPipe }
            throw .io("cannot write report: \(error.reason)", file: name, cause: error)
        }
    }

    /// Flushes a report file to disk.
    func synchronize() throws(PipelineError) {
        guard ownsDescriptor else { return }
        do { try System.synchronize(descriptor, path: name) } catch  where error.code != EINVAL {
            throw .io("cannot write report: \(error.reason)", file: name, cause: error)
        } catch {
            // EINVAL: a report written to a pipe or a character device has nothing to flush.
        }
    }
}
