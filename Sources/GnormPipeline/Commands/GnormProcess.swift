import Platform

/// Online processor count, for the default `--threads`.
func systemCoreCount() -> Int {
    System.coreCount
}

/// Keeps allocations of `bytes` or more mmap'ed, so that freeing a slab or chunk
/// buffer returns it to the system; glibc's adaptive threshold otherwise parks
/// them in per-thread arenas, which doubled peak RSS. Smaller blocks freed at the top
/// of the heap stay there (up to 64 MiB) rather than going back at once: libhdf5
/// callocs over half a MiB of cache tables per file opened, and trimming them after
/// every file made each open fault its pages in again (a tenth of the time over many
/// small files). Peak RSS is unchanged: the heap only keeps what it already reached.
func keepLargeAllocationsMapped(from bytes: Int32) {
    System.tuneAllocator(mappedFrom: bytes, keptAtTop: 64 << 20, arenas: 4)
}

/// What a gnorm process sets up before it runs a command.
public enum GnormProcess {
    /// Signal handling (temporary files removed on SIGINT/SIGTERM; EPIPE and
    /// EFBIG reported, not fatal) and the allocator policy for large buffers.
    public static func prepare() {
        keepLargeAllocationsMapped(from: 1 << 20)
        SignalCleanup.install()
    }
}
