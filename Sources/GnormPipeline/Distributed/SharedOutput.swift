import Foundation
import HDF5
import Platform

/// OUTPUT written by every process of an MPI job: process 0 makes the byte copy under the
/// temporary name they share (`prepare` broadcasts it), every process opens it with MPI-IO;
/// at the end every process closes it (collectively), and process 0 syncs and renames it.
extension OutputDestination {
    func createShared(copying input: InputBytes, leavingHoles holes: [Range<Int>]) throws(PipelineError) -> File {
        guard case .path(_, let temporary) = target, case .file(let path) = input else {
            throw .usage("standard input or output (-) cannot be shared by the processes of an MPI job; name files")
        }
        registration = SignalCleanup.register(temporary)
        // Process 0's errno, 0 when the copy is made, for every process.
        var failure: Int32 = 0
        if group.rank == 0 {
            do { try copy(path, to: temporary, leavingHoles: holes) } catch { failure = error.code }
        }
        failure = Int32(group.allGather([Double(failure)])[0][0])
        guard failure == 0 else {
            abandon()
            throw copyFailure(SystemCallError("copy", path: temporary, code: failure))
        }
        do { return try File(openingForWritingByAllProcesses: temporary) } catch {
            abandon()
            throw .outputUnavailable(
                "cannot open the copy of INPUT with MPI-IO: \(error.reason ?? error.description)", file: name,
                cause: error)
        }
    }

    func commitShared(_ file: consuming File) throws(PipelineError) {
        guard case .path(let finalPath, let temporary) = target else { preconditionFailure("shared standard output") }
        try closeWriting(file)
        group.barrier()
        // 0: done; > 0: fsync's errno; < 0: the refusal of the rename (`OutputCommit`), coded.
        var outcome: Int32 = 0
        if group.rank == 0 {
            if let original { warnings = original.keep(on: temporary) }
            do throws(SystemCallError) { try syncFile(temporary) } catch { outcome = error.code }
            TestHooks.pauseBeforeCommit()
            if outcome == 0, let refusal = OutputCommit.put(temporary, at: finalPath, policy: policy) {
                outcome = Self.code(refusal)
            }
        }
        outcome = Int32(group.allGather([Double(outcome)])[0][0])
        guard outcome == 0 else {
            abandon()
            if outcome > 0 {
                let error = SystemCallError("fsync", path: temporary, code: outcome)
                throw .io("cannot write: \(error.reason)", file: name, cause: error)
            }
            throw OutputCommit.failure(Self.refusal(outcome, at: finalPath), name: name)
        }
        release()
        if group.rank == 0, let finalFolder { syncFolder(finalFolder) }
    }

    private static func code(_ refusal: OutputCommit.Refusal) -> Int32 {
        switch refusal {
        case .appeared: return -1
        case .notRegular: return -2
        case .inputReplaced: return -3
        case .system(let code): return -1000 - code
        }
    }

    /// The refusal process 0 coded; what is at OUTPUT's name is looked at again for its kind.
    private static func refusal(_ code: Int32, at finalPath: String) -> OutputCommit.Refusal {
        switch code {
        case -1: return .appeared
        case -2: return .notRegular(OutputCommit.unreplaceable(finalPath) ?? "not a regular file")
        case -3: return .inputReplaced
        default: return .system(-1000 - code)
        }
    }
}
