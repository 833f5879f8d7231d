import Foundation
import HDF5
import Platform

/// Where `apply` writes: a new file made under a temporary name beside
/// OUTPUT and renamed when complete, INPUT itself (`--in-place`), or standard
/// output (`-`), which receives the finished file image.
final class OutputDestination {
    enum Target {
        case path(final: String, temporary: String)
        /// The file is made under `temporary` in $TMPDIR, then copied to standard output.
        case standardOutput(temporary: String)
    }

    let target: Target
    /// The name used in messages.
    let name: String
    /// OUTPUT replaces INPUT (`--in-place`): it keeps INPUT's permission bits.
    let replacesInput: Bool
    var registration: SignalCleanup.Registration?

    private init(target: Target, name: String, replacesInput: Bool = false) {
        self.target = target
        self.name = name
        self.replacesInput = replacesInput
    }

    /// Checks OUTPUT against INPUT and `--force`, and picks the temporary name.
    static func prepare(output: String, input: String, force: Bool, inPlace: Bool) throws(PipelineError)
        -> OutputDestination
    {
        if output == "-" {
            let folder = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
            let temporary = folder + "/.gnorm-stdout-\(getpid())-\(UInt32.random(in: 0 ... .max)).h5"
            return OutputDestination(target: .standardOutput(temporary: temporary), name: "<stdout>")
        }
        var outputStatus = stat()
        let exists = stat(output, &outputStatus) == 0
        if exists && !inPlace {
            var inputStatus = stat()
            if input != "-", stat(input, &inputStatus) == 0,
                inputStatus.st_dev == outputStatus.st_dev, inputStatus.st_ino == outputStatus.st_ino
            {
                throw .outputUnavailable("OUTPUT is INPUT; use --in-place to rewrite INPUT", file: output)
            }
            if outputStatus.st_mode & S_IFMT == S_IFDIR {
                throw .outputUnavailable("OUTPUT is a directory", file: output)
            }
            guard force else { throw .outputUnavailable("OUTPUT exists; use --force to replace it", file: output) }
        }
        // Write beside the final file (through a symlink, beside its target) so the rename is atomic.
        let finalPath = inPlace ? resolvingSymlinks(output) : output
        let url = URL(fileURLWithPath: finalPath)
        let folder = url.deletingLastPathComponent().path
        var folderStatus = stat()
        guard stat(folder, &folderStatus) == 0, folderStatus.st_mode & S_IFMT == S_IFDIR else {
            throw .outputUnavailable("folder \(folder) does not exist", file: output)
        }
        guard access(folder, W_OK) == 0 else {
            throw .outputUnavailable("folder \(folder) is not writable", file: output)
        }
        // Under MPI every process writes the file that process 0 names.
        let temporary = Processes.current.broadcast(
            folder + "/." + url.lastPathComponent + ".gnorm-tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        return OutputDestination(
            target: .path(final: finalPath, temporary: temporary), name: output, replacesInput: inPlace)
    }

    private static func resolvingSymlinks(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Where INPUT's bytes are: a file, or the image read from standard input.
    enum InputBytes {
        case file(String)
        case image([UInt8])
    }

    /// Makes OUTPUT a byte copy of INPUT under its temporary name and opens it for writing.
    /// `holes` are byte ranges of INPUT that will be rewritten, not copied.
    func create(copying input: InputBytes, leavingHoles holes: [Range<Int>]) throws(PipelineError) -> File {
        // Under MPI every process opens the one copy (SharedOutput.swift).
        if Processes.current.sharesFiles { return try createShared(copying: input, leavingHoles: holes) }
        switch target {
        case .path(_, let temporary), .standardOutput(let temporary):
            registration = SignalCleanup.register(temporary)
            do throws(SystemCallError) {
                switch input {
                case .image(let bytes):
                    try ByteCopy.write(bytes, to: temporary, mode: 0o666)
                case .file(let path):
                    try copy(path, to: temporary, leavingHoles: holes)
                }
            } catch {
                abandon()
                throw copyFailure(error)
            }
            do { return try File(openingForWriting: temporary) } catch {
                abandon()
                throw .outputUnavailable(
                    "cannot open the copy of INPUT: \(error.reason ?? error.description)", file: name, cause: error)
            }
        }
    }

    /// Copies INPUT's bytes to `temporary`: --in-place keeps INPUT's permissions; a new OUTPUT
    /// gets the umask's, as cp does.
    func copy(_ path: String, to temporary: String, leavingHoles holes: [Range<Int>]) throws(SystemCallError) {
        var status = stat()
        let mode = replacesInput && stat(path, &status) == 0 ? status.st_mode & 0o7777 : 0o666
        try ByteCopy.copy(from: path, to: temporary, mode: mode, leavingHoles: holes)
    }

    /// A failed copy: a full disk or file-size limit is a write failure, anything else OUTPUT's.
    func copyFailure(_ failure: SystemCallError) -> PipelineError {
        if [ENOSPC, EFBIG, EIO].contains(failure.code) {
            return .io("cannot write: \(failure.reason)", file: name, cause: failure)
        }
        return .outputUnavailable("cannot create: \(failure.reason)", file: name, cause: failure)
    }

    /// Closes the file, makes it durable and puts it in place (or on standard output). With
    /// `batch`, the file is only closed and joins the batch, which makes every file of it
    /// durable at once and then puts each in place (`DurableBatch.commit`).
    func commit(_ file: consuming File, batch: DurableBatch? = nil) throws(PipelineError) {
        if Processes.current.sharesFiles { return try commitShared(file) }  // SharedOutput.swift
        try closeWriting(file)
        switch target {
        case .standardOutput(let temporary):
            defer { abandon() }
            guard let image = FileManager.default.contents(atPath: temporary) else {
                throw .io("cannot read back \(temporary)", file: name)
            }
            try writeAll([UInt8](image), to: 1)
        case .path(let final, let temporary):
            if let batch { return batch.pending.append(self) }
            do { try syncFile(temporary) } catch {
                abandon()
                throw .io("cannot write: \(error.reason)", file: name, cause: error)
            }
            try renameIntoPlace()
            if let finalFolder { syncFolder(finalFolder) }
        }
    }

    /// Closes the file, reporting (and removing the temporary file on) a failure to write it out.
    func closeWriting(_ file: consuming File) throws(PipelineError) {
        do { try file.close() } catch {
            abandon()
            throw .io("cannot write: \(error.reason ?? error.description)", file: name, cause: error)
        }
    }

    /// Puts a file that is already durable (its data synced) in place; the batch syncs the folders.
    func renameIntoPlace() throws(PipelineError) {
        guard case .path(let finalPath, let temporary) = target else { return }
        do { try System.rename(temporary, to: finalPath) } catch {
            abandon()
            throw .outputUnavailable("cannot rename into place: \(error.reason)", file: name, cause: error)
        }
        release()
    }

    var temporaryPath: String? {
        if case .path(_, let temporary) = target { return temporary }
        return nil
    }

    var finalFolder: String? {
        if case .path(let finalPath, _) = target {
            return URL(fileURLWithPath: finalPath).deletingLastPathComponent().path
        }
        return nil
    }

    /// Removes the temporary file after a failure.
    func abandon() {
        switch target {
        case .path(_, let temporary), .standardOutput(let temporary):
            unlink(temporary)
            release()
        }
    }

    func release() {
        if let registration { SignalCleanup.unregister(registration) }
        registration = nil
    }

    private func writeAll(_ bytes: [UInt8], to descriptor: Int32) throws(PipelineError) {
        do throws(SystemCallError) {
            try bytes.withUnsafeBytes { buffer in
                Result { () throws(SystemCallError) in try System.writeFully(buffer, to: descriptor) }
            }.get()
        } catch {
            if error.code == EPIPE { throw .brokenPipe }
            throw .io("cannot write: \(error.reason)", file: name, cause: error)
        }
    }
}
