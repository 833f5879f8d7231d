import Foundation
import Platform

/// OUTPUT files of `apply INPUT... --output-dir` made durable together: each is written and
/// closed under its temporary name, then one `syncfs` of their filesystem (or an fsync of
/// each where `syncfs` is missing) makes them all durable, and only then is each renamed into
/// place and the folders synced. Every OUTPUT that appears is complete, as with a single
/// file, but the writeback of one file overlaps the work on the next and the disk is asked
/// to commit once per batch instead of twice per file. A full batch is committed on a
/// background thread while the next one fills (waiting on `syncfs` was a quarter of the
/// time over many small files); at most one batch is in flight.
final class DurableBatch {
    var pending: [OutputDestination] = []

    /// Files per batch: a crash loses at most this many finished files' work (never a partial OUTPUT).
    static let size = 64

    var isFull: Bool { pending.count >= Self.size }

    private let committer = DispatchQueue(label: "gnorm.durable-batch")
    private var inFlight: BackgroundCommit?

    /// The files of one batch and the outcome of committing them, handed to the committer.
    final class BackgroundCommit {
        // Touched by the committer until `done` is signalled, then by the caller.
        let files: [OutputDestination]
        var failure: PipelineError?
        let done = DispatchSemaphore(value: 0)

        init(_ files: [OutputDestination]) { self.files = files }
    }

    /// Commits the pending files on a background thread, once the batch before them is in
    /// place; throws that batch's failure.
    func commitInBackground() throws(PipelineError) {
        try waitForBackground()
        guard !pending.isEmpty else { return }
        let batch = BackgroundCommit(pending)
        pending.removeAll()
        inFlight = batch
        committer.async {
            do throws(PipelineError) { try Self.commit(batch.files) } catch { batch.failure = error }
            batch.done.signal()
        }
    }

    /// Makes every pending file durable and puts it in place, after the batch in flight; on a
    /// failure the files not yet renamed are removed and the first failure is thrown.
    func commit() throws(PipelineError) {
        var earlierFailure: PipelineError?
        do { try waitForBackground() } catch { earlierFailure = error }
        defer { pending.removeAll() }
        try Self.commit(pending)
        if let earlierFailure { throw earlierFailure }
    }

    private func waitForBackground() throws(PipelineError) {
        guard let batch = inFlight else { return }
        batch.done.wait()
        inFlight = nil
        if let failure = batch.failure { throw failure }
    }

    private static func commit(_ pending: [OutputDestination]) throws(PipelineError) {
        guard !pending.isEmpty else { return }
        if let failure = syncAll(pending) {
            for destination in pending { destination.abandon() }
            throw failure
        }
        var folders: Set<String> = []
        var firstFailure: PipelineError?
        for destination in pending {
            do throws(PipelineError) {
                try destination.renameIntoPlace()
                if let folder = destination.finalFolder { folders.insert(folder) }
            } catch {
                if firstFailure == nil { firstFailure = error }
            }
        }
        for folder in folders.sorted() { syncFolder(folder) }
        if let firstFailure { throw firstFailure }
    }

    /// One `syncfs` per filesystem holding a pending file, or an fsync per file where the
    /// system has no `syncfs` (all but Linux).
    private static func syncAll(_ pending: [OutputDestination]) -> PipelineError? {
        var synced: Set<UInt64> = []
        var filesystemSync = true
        for destination in pending {
            guard let temporary = destination.temporaryPath else { continue }
            do throws(SystemCallError) {
                let descriptor = try System.open(temporary, O_RDONLY | O_CLOEXEC)
                defer { close(descriptor) }
                var status = stat()
                let device = fstat(descriptor, &status) == 0 ? UInt64(status.st_dev) : UInt64.max
                if synced.contains(device) { continue }
                if device != UInt64.max && filesystemSync {
                    do {
                        try System.synchronizeFilesystem(descriptor, path: temporary)
                        synced.insert(device)
                        continue
                    } catch  where error.code == ENOSYS {
                        filesystemSync = false
                    }
                }
                try System.synchronize(descriptor, path: temporary)
            } catch {
                return .io("cannot write: \(error.reason)", file: destination.name, cause: error)
            }
        }
        return nil
    }
}
