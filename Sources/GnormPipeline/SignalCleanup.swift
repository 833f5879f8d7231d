#if canImport(Glibc)
import Glibc
#endif

/// Removes the temporary OUTPUT when SIGINT or SIGTERM arrives, then exits 130.
///
/// The path lives in a fixed C buffer so that the handler only calls
/// async-signal-safe functions (`unlink`, `_exit`).
public enum SignalCleanup {
    private static let capacity = 4096
    nonisolated(unsafe) private static let pathBuffer: UnsafeMutablePointer<CChar> = {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: capacity)
        buffer.initialize(repeating: 0, count: capacity)
        return buffer
    }()
    /// 1 while `pathBuffer` names a file to remove; read by the handler.
    nonisolated(unsafe) private static var armed: sig_atomic_t = 0

    /// Installs the handlers; call once at start.
    public static func install() {
        keepLargeAllocationsMapped(from: 1 << 20)
        _ = pathBuffer
        // A parent may have blocked these (some job runners and Foundation's Process do).
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        sigaddset(&unblocked, SIGINT)
        sigaddset(&unblocked, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &unblocked, nil)
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { _ in
                if SignalCleanup.armed != 0 { unlink(SignalCleanup.pathBuffer) }
                _exit(130)
            }
        }
        // A closed pipe is reported by write() as EPIPE, not by killing gnorm.
        signal(SIGPIPE, SIG_IGN)
        // Past `ulimit -f` a write must fail with EFBIG (status 74), not kill gnorm mid-file.
        signal(SIGXFSZ, SIG_IGN)
    }

    static func register(_ path: String) {
        armed = 0
        let bytes = Array(path.utf8.prefix(capacity - 1))
        for (index, byte) in bytes.enumerated() { pathBuffer[index] = CChar(bitPattern: byte) }
        pathBuffer[bytes.count] = 0
        armed = 1
    }

    static func unregister() {
        armed = 0
    }
}
