import Foundation
import HDF5
import Platform

/// OUTPUT written by every process of an MPI job: process 0 makes the byte copy under the
/// temporary name they share (`prepare` broadcasts it), every process opens it with MPI-IO;
/// at the end every process closes it (collectively), and process 0 syncs and renames it.
extension OutputDestination {
    func createShared(copying input: InputBytes, leavingHoles holes: [Range<Int>]) throws(PipelineError) -> File {
        let group = Processes.current
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
        let group = Processes.current
        guard case .path(let finalPath, let temporary) = target else { preconditionFailure("shared standard output") }
        try closeWriting(file)
        group.barrier()
        // 0: done; > 0: fsync's errno; < 0: rename's errno, negated.
        var outcome: Int32 = 0
        if group.rank == 0 {
            do throws(SystemCallError) {
                try syncFile(temporary)
                do { try System.rename(temporary, to: finalPath) } catch { outcome = -error.code }
            } catch {
                outcome = error.code
            }
        }
        outcome = Int32(group.allGather([Double(outcome)])[0][0])
        guard outcome == 0 else {
            abandon()
            if outcome > 0 {
                let error = SystemCallError("fsync", path: temporary, code: outcome)
                throw .io("cannot write: \(error.reason)", file: name, cause: error)
            }
            let error = SystemCallError("rename", path: finalPath, code: -outcome)
            throw .outputUnavailable("cannot rename into place: \(error.reason)", file: name, cause: error)
        }
        release()
        if group.rank == 0, let finalFolder { syncFolder(finalFolder) }
    }
}
