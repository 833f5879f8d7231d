import Foundation
import Platform

/// The processes that run one gnorm command together: one process for `gnorm`, the ranks
/// of an MPI job for `gnorm-mpi` under `mpirun`/`srun`. The pipeline talks to the others
/// only through these few collective calls, which every process makes in the same order.
public protocol ProcessGroup: AnyObject, Sendable {
    /// This process's place, 0 ..< size; process 0 prints and renames.
    var rank: Int { get }
    var size: Int { get }
    /// Whether OUTPUT is one file written by every process together (MPI-IO): true in an MPI job,
    /// of any size.
    var sharesFiles: Bool { get }
    /// Waits until every process has arrived. The MPI call is `MPI_Barrier`.
    func barrier()
    /// Process 0's `text` on every process. The MPI call is `MPI_Bcast`.
    func broadcast(_ text: String) -> String
    /// Every process's `values`, in rank order (lengths may differ). The MPI calls are
    /// `MPI_Allgather` (lengths) and `MPI_Allgatherv`.
    func allGather(_ values: [Double]) -> [[Double]]
    /// Sends `count` (this process's progress) to process 0 without waiting: dropped while the
    /// last one is still in flight, unless `final`, which waits for it and is always sent. Not
    /// on process 0. The MPI calls are `MPI_Test`, `MPI_Isend`, `MPI_Wait`, `MPI_Send`.
    func sendProgress(_ count: Int, final: Bool)
    /// Process 0: every process's latest progress received so far, without waiting (`final`
    /// false), or once each process's final count has come, so that no message is left behind.
    /// The MPI calls are `MPI_Iprobe` and `MPI_Recv`.
    func receiveProgress(into counts: inout [Int], final: Bool)
    /// Ends every process of the job with `status`, at once. The MPI call is `MPI_Abort`.
    func abort(status: Int32) -> Never
    /// Leaves the group at a normal end. The MPI call is `MPI_Finalize`.
    func finish()
}

/// `gnorm` alone: the serial build, and `gnorm-mpi` run without a launcher.
public final class SoloProcess: ProcessGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public var sharesFiles: Bool { false }
    public func barrier() {}
    public func broadcast(_ text: String) -> String { text }
    public func allGather(_ values: [Double]) -> [[Double]] { [values] }
    public func sendProgress(_ count: Int, final: Bool) {}
    public func receiveProgress(into counts: inout [Int], final: Bool) {}
    public func abort(status: Int32) -> Never { _exit(status) }
    public func finish() {}
}

/// The group this process belongs to, chosen once at start by `GnormProcess.prepare`.
public enum Processes {
    // Set once, before any command runs or any thread starts; read-only afterwards.
    private static let joined = ProcessGlobal<any ProcessGroup>(SoloProcess())
    public static var current: any ProcessGroup { joined.value }

    /// Whether work has begun that differs between processes (each its own samples): a failure
    /// from then on is this process's alone, reported by it, and ends the others (`abort`).
    /// Before, every process meets the same failure at the same place, and process 0 reports it.
    public static var diverged: Bool {
        get { divergence.value }
        set { divergence.value = newValue }
    }
    // Set by the main thread, which runs the pipeline, when a failure unwinds it.
    private static let divergence = ProcessGlobal(false)

    static func join(_ group: any ProcessGroup) { joined.value = group }

    /// Whether a launcher started this process as one of several (`mpirun`, `srun`):
    /// OpenMPI's `OMPI_COMM_WORLD_SIZE`, PMIx's `PMIX_RANK`, Slurm's `SLURM_PROCID`
    /// (the latter only inside a job step of more than one task).
    static var launchedByMPI: Bool {
        let environment = ProcessInfo.processInfo.environment
        if environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil { return true }
        if environment["SLURM_PROCID"] != nil, let tasks = environment["SLURM_NTASKS"].flatMap(Int.init), tasks > 1 {
            return true
        }
        return false
    }
}

extension ProcessGroup {
    /// Per-rank contiguous ranges of `count` items, each a multiple of `multiple` (the last
    /// takes the remainder); ranks past the end get empty ranges. The same on every rank.
    func slices(of count: Int, multiple: Int = 1) -> [Range<Int>] {
        Self.slices(of: count, multiple: multiple, size: size)
    }

    static func slices(of count: Int, multiple: Int, size: Int) -> [Range<Int>] {
        let unit = max(1, multiple)
        let units = (count + unit - 1) / unit
        return (0..<size).map { rank in
            let first = units * rank / size
            let last = units * (rank + 1) / size
            return min(count, first * unit)..<min(count, last * unit)
        }
    }

    /// The sum over processes of an integer count.
    func sum(_ value: Int) -> Int {
        size == 1 ? value : allGather([Double(value)]).reduce(0) { $0 + Int($1[0]) }
    }
}

extension Processes {
    /// Ends this process of an MPI job after a failure, with `status`, so that no process is
    /// left waiting in a collective call.
    ///
    /// - A failure in work that differs between processes (`diverged`) is this process's
    ///   alone: it prints `message` and ends every process (`abort`; SIGTERM then runs the
    ///   others' clean-up of temporary files).
    /// - Any other failure is met by every process at the same place: process 0 prints, and
    ///   all leave MPI together. Should the others not come (a failure that was this process's
    ///   alone after all), an alarm prints the message and exits, and the launcher ends the rest.
    public static func end(status: Int32, message: String) -> Never {
        let group = current
        if diverged || group.size == 1 {
            writeMessage(message)
            if group.size == 1 {
                group.finish()
                _exit(status)
            }
            group.abort(status: status)
        }
        if group.rank == 0 {
            writeMessage(message)
        } else {
            armFallback(status: status, message: message)
        }
        group.finish()
        _exit(status)
    }

    private static func writeMessage(_ message: String) {
        var text = message
        text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }

    /// What the alarm handler prints and returns; plain memory, read by an async-signal-safe handler.
    private static let fallbackMessage = ProcessGlobal(UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0))
    private static let fallbackStatus = ProcessGlobal<Int32>(1)

    /// Seconds a process waits for the others to leave MPI after a shared failure.
    static let fallbackSeconds: UInt32 = 20

    private static func armFallback(status: Int32, message: String) {
        let bytes = Array(message.utf8)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
        _ = buffer.initialize(from: bytes)
        fallbackMessage.value = buffer
        fallbackStatus.value = status
        signal(SIGALRM) { _ in
            _ = write(2, Processes.fallbackMessage.value.baseAddress, Processes.fallbackMessage.value.count)
            _exit(Processes.fallbackStatus.value)
        }
        alarm(fallbackSeconds)
    }
}
