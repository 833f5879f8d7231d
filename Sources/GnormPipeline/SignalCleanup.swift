import Foundation
import Platform
import Synchronization

/// Removes temporary OUTPUT files when SIGINT or SIGTERM arrives, then exits 130 (or on
/// SIGBUS from a mapped INPUT that shrank, then exits 74).
///
/// Paths live in fixed C buffers so that the handler only calls
/// async-signal-safe functions (`unlink`, `_exit`) and reads plain memory.
/// Several runs in one process (a library caller, the tests) each hold a slot.
public enum SignalCleanup {
    /// Two batches of files (one being committed, one filling) and a few single runs.
    private static let slotCount = 2 * DurableBatch.size + 16
    private static let capacity = 4096
    nonisolated(unsafe) private static let paths: UnsafeMutablePointer<CChar> = {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: slotCount * capacity)
        buffer.initialize(repeating: 0, count: slotCount * capacity)
        return buffer
    }()
    /// 1 while slot i names a file to remove; read by the handler.
    nonisolated(unsafe) private static let armed: UnsafeMutablePointer<sig_atomic_t> = {
        let flags = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: slotCount)
        flags.initialize(repeating: 0, count: slotCount)
        return flags
    }()
    /// Set by the first SIGBUS handled.
    private static let busReported = Atomic<Bool>(false)
    /// Serializes register/unregister between threads (never taken by the handler).
    private static let lock = NSLock()

    /// A registered temporary file; pass it back to `unregister`.
    struct Registration: Sendable {
        fileprivate let slot: Int?
    }

    /// Installs the handlers; called once at start by `GnormProcess.prepare()`.
    static func install() {
        _ = paths
        _ = armed
        // A parent may have blocked these (some job runners and Foundation's Process do).
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        sigaddset(&unblocked, SIGINT)
        sigaddset(&unblocked, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &unblocked, nil)
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { _ in
                for slot in 0..<SignalCleanup.slotCount where SignalCleanup.armed[slot] != 0 {
                    unlink(SignalCleanup.paths + slot * SignalCleanup.capacity)
                }
                _exit(130)
            }
        }
        // A mapped INPUT (MappedDataset) that shrinks under gnorm faults with SIGBUS: the
        // temporary files go, and the run ends as the I/O error it is.
        signal(SIGBUS) { _ in
            // Kernel threads reading the mapping fault together: the first one reports and exits.
            guard
                SignalCleanup.busReported.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
            else { while true { pause() } }
            let message: StaticString = "gnorm: error: an input file changed while it was being read (SIGBUS)\n"
            _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
            for slot in 0..<SignalCleanup.slotCount where SignalCleanup.armed[slot] != 0 {
                unlink(SignalCleanup.paths + slot * SignalCleanup.capacity)
            }
            _exit(74)
        }
        // A closed pipe is reported by write() as EPIPE, not by killing gnorm.
        signal(SIGPIPE, SIG_IGN)
        // Past `ulimit -f` a write must fail with EFBIG (status 74), not kill gnorm mid-file.
        signal(SIGXFSZ, SIG_IGN)
    }

    static func register(_ path: String) -> Registration {
        lock.lock()
        defer { lock.unlock() }
        guard let slot = (0..<slotCount).first(where: { armed[$0] == 0 }) else { return Registration(slot: nil) }
        let bytes = Array(path.utf8.prefix(capacity - 1))
        let buffer = paths + slot * capacity
        for (index, byte) in bytes.enumerated() { buffer[index] = CChar(bitPattern: byte) }
        buffer[bytes.count] = 0
        armed[slot] = 1
        return Registration(slot: slot)
    }

    /// Removes every registered temporary file now (a process about to end an MPI job).
    static func removeRegistered() {
        lock.lock()
        defer { lock.unlock() }
        for slot in 0..<slotCount where armed[slot] != 0 {
            unlink(paths + slot * capacity)
            armed[slot] = 0
        }
    }

    static func unregister(_ registration: Registration) {
        guard let slot = registration.slot else { return }
        lock.lock()
        defer { lock.unlock() }
        armed[slot] = 0
    }
}
