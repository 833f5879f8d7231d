import Platform

/// Where reports go: standard output or a file, written as text.
final class TextOutput {
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    let name: String

    static func standardOutput() -> TextOutput { TextOutput(descriptor: 1, owns: false, name: "<stdout>") }

    private init(descriptor: Int32, owns: Bool, name: String) {
        self.descriptor = descriptor
        self.ownsDescriptor = owns
        self.name = name
    }

    /// Creates (or truncates) a report file.
    convenience init(creating path: String) throws(PipelineError) {
        let descriptor: Int32
        do { descriptor = try System.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode: 0o644) } catch {
            throw .outputUnavailable("cannot create report: \(error.reason)", file: path, cause: error)
        }
        self.init(descriptor: descriptor, owns: true, name: path)
    }

    deinit { if ownsDescriptor { close(descriptor) } }

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
