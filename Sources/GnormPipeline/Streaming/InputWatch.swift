import Foundation
import HDF5
import Platform

/// INPUT's file, as libhdf5 opened it, watched for change while gnorm reads it.
///
/// libhdf5 checks a file's length only when it opens it: 1.10 fills reads past a later end
/// of file with zeros, so an INPUT truncated during a run was normalized as zeros and
/// committed with status 0. gnorm keeps a duplicate of libhdf5's descriptor (the same open
/// file, whatever happens to INPUT's name) and checks, after every slab or piece it reads
/// and once more before OUTPUT is committed, that the file still has the size libhdf5 took
/// it to have when it opened it, the same modification time, and that INPUT's path still
/// names it. Any change is a read failure (status 74) and nothing is committed; a failure
/// of anything else while INPUT changed is reported as the change, its cause.
final class InputWatch {
    let path: String
    private let descriptor: Int32
    private let size: Int
    private let modified: timespec
    private let device: dev_t
    private let inode: ino_t
    /// Tests' hook (`GNORM_TEST_INPUT_HOOK=N:COMMAND`): COMMAND runs once the Nth check has
    /// passed, as if INPUT changed just after it (the race made deterministic).
    private let hook: (check: Int, command: String)?
    /// What the error says a change means for the run.
    private let consequence: String
    private let lock = NSLock()
    private var checks = 0

    /// `writing`: the run commits OUTPUT, which a change prevents.
    /// nil for a file libhdf5 does not read through a POSIX descriptor (a file image from
    /// standard input, which cannot change; MPI-IO). Fails when the file already differs
    /// from what libhdf5 opened.
    init?(_ file: borrowing File, writing: Bool = true) throws(PipelineError) {
        guard let handle = file.posixDescriptor() else { return nil }
        path = file.name
        consequence = writing ? "; nothing was written" : ""
        descriptor = fcntl(handle, F_DUPFD_CLOEXEC, 0)
        guard descriptor >= 0 else {
            let failure = SystemCallError("fcntl(F_DUPFD_CLOEXEC)", path: file.name)
            throw .io("cannot watch INPUT: \(failure.reason)", file: file.name, cause: failure)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let failure = SystemCallError("fstat", path: file.name)
            close(descriptor)
            throw .io("cannot watch INPUT: \(failure.reason)", file: file.name, cause: failure)
        }
        do { size = try file.size() } catch {
            close(descriptor)
            throw .io("cannot watch INPUT: \(error.reason ?? error.description)", file: file.name, cause: error)
        }
        modified = status.st_mtim
        device = status.st_dev
        inode = status.st_ino
        hook = Self.testHook()
        // Shorter than libhdf5 saw: it shrank between libhdf5's open and this.
        if let change = change(of: status) { throw change }
    }

    deinit { close(descriptor) }

    /// Fails with status 74 if INPUT changed since it was opened.
    func check() throws(PipelineError) {
        lock.lock()
        checks += 1
        let count = checks
        lock.unlock()
        if let change = change() { throw change }
        if let hook, hook.check == count { Self.run(hook.command) }
    }

    /// The change of INPUT, where there was one, in place of `error`: a failure while INPUT
    /// changed (a libhdf5 error on a truncated object header, a copy that found nothing) is that change.
    func explaining(_ error: PipelineError) -> PipelineError {
        change() ?? error
    }

    /// What changed, or nil.
    func change() -> PipelineError? {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let failure = SystemCallError("fstat", path: path)
            return .io("cannot check INPUT: \(failure.reason)", file: path, cause: failure)
        }
        return change(of: status)
    }

    private func change(of status: stat) -> PipelineError? {
        if Int(status.st_size) != size {
            return changed("its size went from \(size) to \(status.st_size) bytes")
        }
        if status.st_mtim.tv_sec != modified.tv_sec || status.st_mtim.tv_nsec != modified.tv_nsec {
            return changed("it was written to")
        }
        var named = stat()
        guard stat(path, &named) == 0 else { return changed("its name was removed") }
        if named.st_dev != device || named.st_ino != inode { return changed("its name now names another file") }
        return nil
    }

    private func changed(_ how: String) -> PipelineError {
        .io("INPUT changed while gnorm read it (\(how))\(consequence)", file: path)
    }

    private static func testHook() -> (check: Int, command: String)? {
        guard let value = ProcessInfo.processInfo.environment["GNORM_TEST_INPUT_HOOK"],
            let colon = value.firstIndex(of: ":"), let check = Int(value[..<colon])
        else { return nil }
        return (check, String(value[value.index(after: colon)...]))
    }

    /// Runs `command` with /bin/sh and waits for it.
    private static func run(_ command: String) {
        let arguments = ["/bin/sh", "-c", command].map { (argument: String) in strdup(argument) }
        defer { for argument in arguments { free(argument) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/sh", nil, nil, arguments + [nil], environ) == 0 else { return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
