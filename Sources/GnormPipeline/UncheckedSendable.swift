import Foundation
import GroupNormKernel

/// GnormPipeline's one unsafe corner. Swift cannot prove some values safe to share between
/// threads: buffers whose disjoint ranges workers write, objects one thread at a time touches,
/// process-wide variables set before any thread starts. Each is declared safe here, and only
/// here, with the invariant that makes it so; nothing else in the module writes
/// `@unchecked Sendable` or `nonisolated(unsafe)`.

/// A value handed to other threads under an invariant the compiler cannot check; the code that
/// wraps one states it (disjoint ranges of one buffer, one thread at a time).
struct Unchecked<Value>: @unchecked Sendable {
    var value: Value

    init(_ value: Value) { self.value = value }
}

/// A process-wide variable, set before any thread starts (or as its declaration states) and read
/// afterwards, also by signal handlers, which read it as plain memory.
final class ProcessGlobal<Value>: @unchecked Sendable {
    var value: Value

    init(_ value: Value) { self.value = value }
}

// Set once in init; the mapped pages are only read, by any thread.
extension MappedDataset: @unchecked Sendable {}

// Its checks take `lock`; everything else is set once in init.
extension InputWatch: @unchecked Sendable {}

// Only the calling thread adds to it, in the pipeline's `consume`.
extension DatasetStream.FillCount: @unchecked Sendable {}

// Touched by one computation at a time: the pipeline joins each before starting the next.
extension AccumulatorBox: @unchecked Sendable {}

// Touched by the committer until `done` is signalled, then by the caller.
extension DurableBatch.BackgroundCommit: @unchecked Sendable {}

// Its output is written by the background thread before `done` is signalled, read after `wait`.
extension BackgroundTask: @unchecked Sendable {}

#if MPI
    // Every MPI call is made from the main thread (MPI_THREAD_FUNNELED).
    extension MPIProcessGroup: @unchecked Sendable {}
#endif
