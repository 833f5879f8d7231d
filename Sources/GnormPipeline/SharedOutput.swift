import Foundation
import HDF5

#if canImport(Glibc)
    import Glibc
#endif

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
        var failure: Int32 = 0
        if group.rank == 0 { failure = copy(path, to: temporary, leavingHoles: holes) }
        failure = Int32(group.allGather([Double(failure)])[0][0])
        guard failure == 0 else {
            abandon()
            throw copyFailure(failure)
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
            outcome = syncFile(temporary)
            if outcome == 0 && rename(temporary, finalPath) != 0 { outcome = -errno }
        }
        outcome = Int32(group.allGather([Double(outcome)])[0][0])
        guard outcome == 0 else {
            abandon()
            if outcome > 0 { throw .io("cannot write: \(String(cString: strerror(outcome)))", file: name) }
            throw .outputUnavailable("cannot rename into place: \(String(cString: strerror(-outcome)))", file: name)
        }
        release()
        if group.rank == 0, let finalFolder { syncFolder(finalFolder) }
    }
}
