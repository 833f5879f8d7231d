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
    /// What the final name may hold when OUTPUT is put there (`OutputCommit`).
    let policy: OutputCommit.Policy
    /// `--in-place`: INPUT as it was, whose owner, permissions and extended attributes OUTPUT keeps.
    let original: InPlaceOriginal?
    var registration: SignalCleanup.Registration?
    /// Standard output's file, kept open: its name is removed as soon as libhdf5 has it open.
    private var imageDescriptor: Int32 = -1
    /// What could not be kept of INPUT with `--in-place` (an owner, an extended attribute).
    var warnings: [String] = []
    /// The processes that write OUTPUT: under MPI every one of them, into one file (SharedOutput.swift).
    let group: any ProcessGroup

    private init(
        target: Target, name: String, policy: OutputCommit.Policy, original: InPlaceOriginal? = nil,
        group: any ProcessGroup
    ) {
        self.target = target
        self.name = name
        self.policy = policy
        self.original = original
        self.group = group
    }

    /// Checks OUTPUT against INPUT and `--force`, and picks the temporary name.
    static func prepare(output: String, input: String, force: Bool, inPlace: Bool, group: any ProcessGroup)
        throws(PipelineError) -> OutputDestination
    {
        if output == "-" {
            return OutputDestination(
                target: .standardOutput(temporary: Temporaries.standardOutputName(sweeping: group.rank == 0)),
                name: "<stdout>",
                policy: .noReplace, group: group)
        }
        var original: InPlaceOriginal?
        if inPlace {
            original = try InPlaceOriginal(checking: resolvingSymlinks(output), name: output)
        } else {
            var outputStatus = stat()
            if lstat(output, &outputStatus) == 0 {
                var inputStatus = stat()
                if input != "-", stat(input, &inputStatus) == 0, stat(output, &outputStatus) == 0,
                    inputStatus.st_dev == outputStatus.st_dev, inputStatus.st_ino == outputStatus.st_ino
                {
                    throw .outputUnavailable("OUTPUT is INPUT; use --in-place to rewrite INPUT", file: output)
                }
                // Never anything but a regular file, --force or not.
                if let kind = OutputCommit.unreplaceable(output) {
                    throw OutputCommit.failure(.notRegular(kind), name: output)
                }
                guard force else { throw .outputUnavailable("OUTPUT exists; use --force to replace it", file: output) }
            }
        }
        // Write beside the final file (through a symlink, beside its target) so the rename is atomic.
        let finalPath = inPlace ? resolvingSymlinks(output) : output
        let folder = URL(fileURLWithPath: finalPath).deletingLastPathComponent().path
        var folderStatus = stat()
        guard stat(folder, &folderStatus) == 0 else {
            let error = SystemCallError("stat", path: folder)
            throw .outputUnavailable("folder \(folder) does not exist", file: output, cause: error)
        }
        guard folderStatus.st_mode & S_IFMT == S_IFDIR else {
            throw .outputUnavailable("folder \(folder) does not exist", file: output)
        }
        guard access(folder, W_OK) == 0 else {
            let error = SystemCallError("access", path: folder)
            throw .outputUnavailable("folder \(folder) is not writable", file: output, cause: error)
        }
        // Under MPI every process writes the file that process 0 names.
        let temporary = group.broadcast(Temporaries.name(for: finalPath, sweeping: group.rank == 0))
        let policy: OutputCommit.Policy =
            original.map { .replaceInput(device: $0.device, inode: $0.inode) } ?? (force ? .replace : .noReplace)
        return OutputDestination(
            target: .path(final: finalPath, temporary: temporary), name: output, policy: policy, original: original,
            group: group)
    }

    static func resolvingSymlinks(_ path: String) -> String {
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
        if group.sharesFiles { return try createShared(copying: input, leavingHoles: holes) }
        switch target {
        case .path(_, let temporary), .standardOutput(let temporary):
            registration = SignalCleanup.register(temporary)
            do throws(SystemCallError) {
                switch input {
                case .image(let bytes):
                    try ByteCopy.write(bytes, to: temporary, mode: creationMode)
                case .file(let path):
                    try copy(path, to: temporary, leavingHoles: holes)
                }
            } catch {
                abandon()
                throw copyFailure(error)
            }
            let file: File
            do { file = try File(openingForWriting: temporary) } catch {
                abandon()
                throw .outputUnavailable(
                    "cannot open the copy of INPUT: \(error.reason ?? error.description)", file: name, cause: error)
            }
            if case .standardOutput = target {
                // The image is read back through a descriptor of its own: with the name gone at once,
                // not even SIGKILL leaves a file of OUTPUT's size in $TMPDIR.
                imageDescriptor = open(temporary, O_RDONLY | O_CLOEXEC)
                guard imageDescriptor >= 0 else {
                    let failure = SystemCallError("open", path: temporary)
                    abandon()
                    throw copyFailure(failure)
                }
                unlink(temporary)
                release()
            }
            return file
        }
    }

    /// A new OUTPUT gets the umask's permissions, as cp does; `--in-place`'s copy is private to
    /// its owner until it takes INPUT's owner and permissions, just before the rename.
    private var creationMode: mode_t { original == nil ? 0o666 : 0o600 }

    /// Copies INPUT's bytes to `temporary`.
    func copy(_ path: String, to temporary: String, leavingHoles holes: [Range<Int>]) throws(SystemCallError) {
        try ByteCopy.copy(from: path, to: temporary, mode: creationMode, leavingHoles: holes)
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
        if group.sharesFiles { return try commitShared(file) }  // SharedOutput.swift
        try closeWriting(file)
        switch target {
        case .standardOutput:
            defer { abandon() }
            TestHooks.pauseBeforeCommit()
            try copyImage(to: 1)
        case .path(_, let temporary):
            if let original { warnings = original.keep(on: temporary) }
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

    /// Puts a file that is already durable (its data synced) in place, never over what `policy`
    /// protects; the batch syncs the folders.
    func renameIntoPlace() throws(PipelineError) {
        guard case .path(let finalPath, let temporary) = target else { return }
        TestHooks.pauseBeforeCommit()
        if let refusal = OutputCommit.put(temporary, at: finalPath, policy: policy) {
            abandon()
            throw OutputCommit.failure(refusal, name: name)
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
        if imageDescriptor >= 0 {
            close(imageDescriptor)
            imageDescriptor = -1
        }
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

    /// Copies standard output's finished image to `descriptor`, a MiB at a time.
    private func copyImage(to descriptor: Int32) throws(PipelineError) {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(imageDescriptor, $0.baseAddress, $0.count, offset) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                let failure = SystemCallError("pread", path: name)
                throw .io("cannot read back the image: \(failure.reason)", file: name, cause: failure)
            }
            if count == 0 { return }
            do throws(SystemCallError) {
                try buffer.withUnsafeBytes { bytes in
                    Result { () throws(SystemCallError) in
                        try System.writeFully(UnsafeRawBufferPointer(rebasing: bytes[0..<count]), to: descriptor)
                    }
                }.get()
            } catch {
                if error.code == EPIPE { throw .brokenPipe }
                throw .io("cannot write: \(error.reason)", file: name, cause: error)
            }
            offset += off_t(count)
        }
    }
}
