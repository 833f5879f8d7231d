import Foundation
import Platform
import Synchronization

/// Removes gnorm's temporary files when a signal ends the run: SIGINT and SIGTERM exit 130
/// (SPEC §5); crashes (SIGSEGV, SIGABRT, … from gnorm or libhdf5) and the other signals whose
/// default action ends a process (SIGHUP of an ssh disconnect, SIGXCPU, SIGALRM, SIGUSR1, …) are
/// raised again with the action they had before, so the caller sees the signal (and a core
/// dump or the Swift runtime's backtrace where that was the action). SIGBUS from a mapped INPUT
/// that shrank exits 74. A signal the caller ignored (SIGINT in a background job, `nohup`'s
/// SIGHUP) stays ignored. SIGKILL cannot be caught: `Temporaries` removes what it leaves.
///
/// Paths live in fixed C buffers so that the handler only calls
/// async-signal-safe functions (`unlink`, `sigaction`, `raise`, `_exit`) and reads plain memory.
/// Several runs in one process (a library caller, the tests) each hold a slot.
public enum SignalCleanup {
    /// Two batches of files (one being committed, one filling) and a few single runs.
    private static let slotCount = 2 * DurableBatch.size + 16
    private static let capacity = 4096
    private static var paths: UnsafeMutablePointer<CChar> { pathStorage.value }
    private static let pathStorage = Unchecked<UnsafeMutablePointer<CChar>>(
        {
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: slotCount * capacity)
            buffer.initialize(repeating: 0, count: slotCount * capacity)
            return buffer
        }())
    /// 1 while slot i names a file to remove; read by the handler.
    private static var armed: UnsafeMutablePointer<sig_atomic_t> { armedStorage.value }
    private static let armedStorage = Unchecked<UnsafeMutablePointer<sig_atomic_t>>(
        {
            let flags = UnsafeMutablePointer<sig_atomic_t>.allocate(capacity: slotCount)
            flags.initialize(repeating: 0, count: slotCount)
            return flags
        }())
    /// Set by the first SIGBUS handled.
    private static let busReported = Atomic<Bool>(false)
    /// The action each signal had before gnorm's handler, put back before the signal is raised again.
    private static var previous: UnsafeMutablePointer<sigaction> { previousStorage.value }
    private static let previousStorage = Unchecked<UnsafeMutablePointer<sigaction>>(
        {
            let actions = UnsafeMutablePointer<sigaction>.allocate(capacity: Int(NSIG))
            actions.initialize(repeating: sigaction(), count: Int(NSIG))
            return actions
        }())

    /// Signals that end gnorm by their own (previous) action once the temporary files are gone.
    static let fatalSignals: [Int32] = [
        SIGSEGV, SIGABRT, SIGFPE, SIGILL, SIGTRAP, SIGSYS, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM,
        SIGVTALRM, SIGPROF, SIGXCPU, SIGPWR, SIGSTKFLT,
    ]

    /// Serializes register/unregister between threads (never taken by the handler).
    private static let lock = NSLock()

    /// A registered temporary file; pass it back to `unregister`.
    struct Registration: Sendable {
        fileprivate let slot: Int?
    }

    /// Installs the handlers; called first thing by `GnormProcess.prepare()`, before any file is touched.
    static func install() {
        _ = paths
        _ = armed
        _ = previous
        // A parent may have blocked these (some job runners and Foundation's Process do): a
        // blocked SIGHUP would let a run go on and commit after its terminal went away.
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        for signalNumber in [SIGINT, SIGTERM, SIGBUS] + fatalSignals { sigaddset(&unblocked, signalNumber) }
        sigprocmask(SIG_UNBLOCK, &unblocked, nil)
        // A stack of its own, so that the handler also runs after a stack overflow.
        let stackSize = 64 << 10
        if let stack = malloc(stackSize) {
            var alternate = stack_t(ss_sp: stack, ss_flags: 0, ss_size: stackSize)
            sigaltstack(&alternate, nil)
        }
        for signalNumber in [SIGINT, SIGTERM] where !isIgnored(signalNumber) {
            handle(signalNumber) { _ in
                SignalCleanup.removeAllFromHandler()
                _exit(130)
            }
        }
        for signalNumber in fatalSignals where !isIgnored(signalNumber) {
            handle(signalNumber) { signalNumber in
                SignalCleanup.removeAllFromHandler()
                // The previous action at once: the default one ends gnorm here; a handler (the
                // Swift runtime's backtrace on crashes) runs and may return, for a signal sent
                // with kill() as well as for a fault.
                sigaction(signalNumber, SignalCleanup.previous + Int(signalNumber), nil)
                var signals = sigset_t()
                sigemptyset(&signals)
                sigaddset(&signals, signalNumber)
                sigprocmask(SIG_UNBLOCK, &signals, nil)
                raise(signalNumber)
                // Then the default action, which ends the process whatever that handler did.
                var standard = sigaction()
                sigemptyset(&standard.sa_mask)
                sigaction(signalNumber, &standard, nil)
                raise(signalNumber)
            }
        }
        // A mapped INPUT (MappedDataset) that shrinks under gnorm faults with SIGBUS: the
        // temporary files go, and the run ends as the I/O error it is.
        handle(SIGBUS) { _ in
            // Kernel threads reading the mapping fault together: the first one reports and exits.
            guard
                SignalCleanup.busReported.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
            else { while true { pause() } }
            let message: StaticString = "gnorm: error: an input file changed while it was being read (SIGBUS)\n"
            _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
            SignalCleanup.removeAllFromHandler()
            _exit(74)
        }
        // A closed pipe is reported by write() as EPIPE, not by killing gnorm.
        signal(SIGPIPE, SIG_IGN)
        // Past `ulimit -f` a write must fail with EFBIG (status 74), not kill gnorm mid-file.
        signal(SIGXFSZ, SIG_IGN)
    }

    private static func isIgnored(_ signalNumber: Int32) -> Bool {
        var current = sigaction()
        guard sigaction(signalNumber, nil, &current) == 0 else { return false }
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self)
            == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    /// Installs `handler` for `signalNumber` on the alternate stack, keeping the previous action.
    private static func handle(_ signalNumber: Int32, _ handler: @convention(c) (Int32) -> Void) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handler
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_ONSTACK
        sigaction(signalNumber, &action, previous + Int(signalNumber))
    }

    /// Unlinks every registered file; async-signal-safe (no lock: the handler may interrupt a holder).
    private static func removeAllFromHandler() {
        for slot in 0..<slotCount where armed[slot] != 0 {
            unlink(paths + slot * capacity)
        }
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
