import Foundation

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
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw .outputUnavailable("cannot create report: \(String(cString: strerror(errno)))", file: path)
        }
        self.init(descriptor: descriptor, owns: true, name: path)
    }

    deinit { if ownsDescriptor { close(descriptor) } }

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
