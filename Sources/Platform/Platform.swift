import CPlatform

// gnorm's platform layer, Swift half: the one file that imports the C library (Glibc, Musl or
// Darwin; re-exported, so `import Platform` is all the rest of gnorm needs for POSIX calls), the
// calls CPlatform wraps (Linux's copy_file_range, syncfs, sync_file_range, mallopt,
// MADV_POPULATE_READ; CPU features), and `SystemCallError`, which every failed system call
// becomes.
#if canImport(Glibc)
    @_exported import Glibc
#elseif canImport(Musl)
    @_exported import Musl
#elseif canImport(Darwin)
    @_exported import Darwin
#else
    #error("gnorm's platform layer knows Glibc, Musl and Darwin")
#endif

/// A failed system call: the call, the file it was about (where there is one) and errno, kept as
/// the cause of the one-line error gnorm prints (swift-system's `Errno` and SwiftNIO's
/// `FileSystemError` are the models).
public struct SystemCallError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The call that failed, e.g. "open" or "copy_file_range".
    public let call: String
    /// The file the call was about, where there is one.
    public let path: String?
    /// errno, e.g. ENOSPC.
    public let code: Int32

    /// The failure of `call` on `path` with `code`, by default the calling thread's errno.
    public init(_ call: String, path: String? = nil, code: Int32 = errno) {
        self.call = call
        self.path = path
        self.code = code
    }

    /// The C library's text for errno, e.g. "No space left on device".
    public var reason: String { String(cString: strerror(code)) }

    /// "open(/data/x.h5): Permission denied (errno 13)".
    public var description: String {
        "\(call)\(path.map { "(\($0))" } ?? ""): \(reason) (errno \(code))"
    }
}

/// The system calls gnorm makes that differ between systems, each with its fallback.
public enum System {
    /// Opens `path`; `mode` is used with O_CREAT.
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws(SystemCallError) -> Int32 {
        let descriptor = platformOpen(path, flags, mode)
        guard descriptor >= 0 else { throw SystemCallError("open", path: path) }
        return descriptor
    }

    /// Renames `source` to `destination`, replacing it.
    public static func rename(_ source: String, to destination: String) throws(SystemCallError) {
        guard platformRename(source, destination) == 0 else { throw SystemCallError("rename", path: destination) }
    }

    /// Writes all of `bytes` to `descriptor`, retrying short writes and EINTR (EPIPE: the reader
    /// went away).
    public static func writeFully(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, path: String? = nil)
        throws(SystemCallError)
    {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw SystemCallError("write", path: path)
            }
            offset += written
        }
    }

    /// Copies up to `count` bytes between the files' offsets in the kernel, advancing both;
    /// returns the bytes copied (0 at the end of `input`). Linux only: elsewhere it throws ENOSYS,
    /// as do Linux filesystems that cannot (EXDEV, EINVAL, EOPNOTSUPP), and the caller copies
    /// through memory.
    public static func copyFileRange(
        from input: Int32, at inputOffset: inout Int64, to output: Int32, at outputOffset: inout Int64, count: Int,
        path: String? = nil
    ) throws(SystemCallError) -> Int {
        let copied = gnorm_copy_file_range(input, &inputOffset, output, &outputOffset, count)
        guard copied >= 0 else { throw SystemCallError("copy_file_range", path: path) }
        return copied
    }

    /// Whether copying through memory is the answer to this failure of `copyFileRange`.
    public static func copyFileRangeUnsupported(_ error: SystemCallError) -> Bool {
        [ENOSYS, EXDEV, EINVAL, EOPNOTSUPP].contains(error.code)
    }

    /// Makes every file of the filesystem holding `descriptor` durable (`syncfs`). Throws ENOSYS
    /// where the system has no such call (all but Linux): the caller syncs each file.
    public static func synchronizeFilesystem(_ descriptor: Int32, path: String? = nil) throws(SystemCallError) {
        guard gnorm_syncfs(descriptor) == 0 else { throw SystemCallError("syncfs", path: path) }
    }

    /// Makes a file's data durable: `fsync` (`F_FULLFSYNC` on Darwin).
    public static func synchronize(_ descriptor: Int32, path: String? = nil) throws(SystemCallError) {
        guard gnorm_full_fsync(descriptor) == 0 else { throw SystemCallError("fsync", path: path) }
    }

    /// Starts writing a file's dirty pages to disk without waiting (`sync_file_range` with
    /// `SYNC_FILE_RANGE_WRITE` on Linux; nothing elsewhere). Only a head start: durability is
    /// still `synchronize`'s.
    public static func startWriteback(_ descriptor: Int32) {
        gnorm_start_writeback(descriptor)
    }

    /// glibc's allocator: blocks of `mappedFrom` bytes or more mmap'ed (freeing them returns them to
    /// the system), up to `keptAtTop` bytes left at the top of the heap, at most `arenas` arenas.
    /// Nothing with other C libraries.
    public static func tuneAllocator(mappedFrom: Int32, keptAtTop: Int32, arenas: Int32) {
        gnorm_tune_allocator(mappedFrom, keptAtTop, arenas)
    }

    /// Reads a mapping's pages in (`MADV_POPULATE_READ`, Linux 5.14), so that an unreadable or
    /// truncated file is an error (EFAULT) rather than a SIGBUS on first touch. Throws EINVAL on
    /// older kernels and other systems, where gnorm reads without mapping.
    public static func populate(_ address: UnsafeMutableRawPointer, count: Int, path: String? = nil)
        throws(SystemCallError)
    {
        guard gnorm_populate_read(address, count) == 0 else {
            throw SystemCallError("madvise(MADV_POPULATE_READ)", path: path)
        }
    }

    /// Drops a mapping's pages (`MADV_DONTNEED`; the page cache keeps them). Only a hint.
    public static func dropPages(_ address: UnsafeMutableRawPointer, count: Int) {
        _ = gnorm_drop_pages(address, count)
    }

    /// Whether this CPU runs the kernel's AVX2 build — AVX2 and F16C (which every AVX2 CPU has) —
    /// with the system saving their registers (false on CPUs other than x86-64). Asked once.
    public static let cpuHasAVX2: Bool = gnorm_cpu_has_avx2()

    /// The size of a memory page.
    public static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Online processor count.
    public static var coreCount: Int { Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// Renames `source` to `destination` never replacing what is there (`renameat2`'s
    /// RENAME_NOREPLACE on Linux, `renamex_np`'s RENAME_EXCL on Darwin): EEXIST if a name is
    /// there; ENOSYS or EINVAL where the system or the file system cannot.
    public static func renameWithoutReplacing(_ source: String, to destination: String) throws(SystemCallError) {
        guard gnorm_rename2(source, destination, UInt32(GNORM_RENAME_NOREPLACE)) == 0 else {
            throw SystemCallError("renameat2(RENAME_NOREPLACE)", path: destination)
        }
    }

    /// Swaps the two names atomically (RENAME_EXCHANGE, RENAME_SWAP): ENOSYS or EINVAL where the
    /// system or the file system cannot.
    public static func exchange(_ source: String, _ destination: String) throws(SystemCallError) {
        guard gnorm_rename2(source, destination, UInt32(GNORM_RENAME_EXCHANGE)) == 0 else {
            throw SystemCallError("renameat2(RENAME_EXCHANGE)", path: destination)
        }
    }

    /// The names of `path`'s extended attributes (`listxattr`); ENOTSUP where there are none.
    public static func extendedAttributeNames(_ path: String) throws(SystemCallError) -> [String] {
        let size = gnorm_list_xattr(path, nil, 0)
        guard size >= 0 else { throw SystemCallError("listxattr", path: path) }
        guard size > 0 else { return [] }
        var names = [CChar](repeating: 0, count: size)
        let listed = gnorm_list_xattr(path, &names, size)
        guard listed >= 0 else { throw SystemCallError("listxattr", path: path) }
        return names[0..<listed].split(separator: 0).map {
            String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// The value of `path`'s extended attribute `name` (`getxattr`).
    public static func extendedAttribute(_ name: String, of path: String) throws(SystemCallError) -> [UInt8] {
        let size = gnorm_get_xattr(path, name, nil, 0)
        guard size >= 0 else { throw SystemCallError("getxattr", path: path) }
        var value = [UInt8](repeating: 0, count: max(size, 1))
        let read = gnorm_get_xattr(path, name, &value, size)
        guard read >= 0 else { throw SystemCallError("getxattr", path: path) }
        return Array(value[0..<read])
    }

    /// Sets the extended attribute `name` on an open file (`fsetxattr`).
    public static func setExtendedAttribute(_ name: String, _ value: [UInt8], on descriptor: Int32, path: String? = nil)
        throws(SystemCallError)
    {
        guard gnorm_set_xattr(descriptor, name, value, value.count) == 0 else {
            throw SystemCallError("fsetxattr", path: path)
        }
    }

    /// Ends the process at once with `status` (no atexit handlers beyond the C library's).
    public static func exit(_ status: Int32) -> Never { platformExit(status) }
}

// The C library's functions under names that `System`'s own members do not shadow.
private func platformOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func platformRename(_ source: String, _ destination: String) -> Int32 { rename(source, destination) }
private func platformExit(_ status: Int32) -> Never { exit(status) }

// Read-ahead hints (issue 19: INPUT larger than the page cache read at the disk's speed).
extension System {
    /// Starts reading a mapping's pages in without waiting (`MADV_WILLNEED`, in pieces Linux reads
    /// whole): they are in the page cache, or on their way, when populated or touched. Only a hint.
    public static func willNeed(_ address: UnsafeMutableRawPointer, count: Int) {
        gnorm_will_need(address, count)
    }

    /// Starts reading a file's byte range into the page cache without waiting
    /// (`POSIX_FADV_WILLNEED`; `F_RDADVISE` on Darwin). Only a hint.
    public static func readAhead(_ descriptor: Int32, range: Range<Int>) {
        gnorm_read_ahead(descriptor, Int64(range.lowerBound), Int64(range.count))
    }
}
