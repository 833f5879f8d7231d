#if MPI
    internal import CMPI
    import Platform

    /// The ranks of an MPI job (`MPI_COMM_WORLD`), for `gnorm-mpi` under `mpirun`/`srun`.
    /// Every call is made from the main thread (MPI_THREAD_FUNNELED); MPI's default error
    /// handler ends the job on a communication failure, so the calls do not throw.
    final class MPIProcessGroup: ProcessGroup {
        let rank: Int
        let size: Int
        var sharesFiles: Bool { true }

        /// Initialises MPI. The MPI calls are `MPI_Init_thread`, `MPI_Comm_rank`, `MPI_Comm_size`.
        init() {
            var provided: Int32 = 0
            MPI_Init_thread(nil, nil, cmpi_thread_funneled(), &provided)
            var rank: Int32 = 0
            var size: Int32 = 0
            MPI_Comm_rank(cmpi_comm_world(), &rank)
            MPI_Comm_size(cmpi_comm_world(), &size)
            self.rank = Int(rank)
            self.size = Int(size)
        }

        func barrier() { MPI_Barrier(cmpi_comm_world()) }

        func broadcast(_ text: String) -> String {
            var length = Int32(text.utf8.count)
            MPI_Bcast(&length, 1, cmpi_int(), 0, cmpi_comm_world())
            var bytes =
                rank == 0 ? Array(text.utf8).map { CChar(bitPattern: $0) } : [CChar](repeating: 0, count: Int(length))
            if length > 0 { MPI_Bcast(&bytes, length, cmpi_char(), 0, cmpi_comm_world()) }
            return String(decoding: bytes.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }

        func allGather(_ values: [Double]) -> [[Double]] {
            var count = Int32(values.count)
            var counts = [Int32](repeating: 0, count: size)
            MPI_Allgather(&count, 1, cmpi_int(), &counts, 1, cmpi_int(), cmpi_comm_world())
            var offsets = [Int32](repeating: 0, count: size)
            for index in 1..<max(1, size) { offsets[index] = offsets[index - 1] + counts[index - 1] }
            var all = [Double](repeating: 0, count: Int(counts.reduce(0, +)))
            var mine = values
            MPI_Allgatherv(&mine, count, cmpi_double(), &all, &counts, &offsets, cmpi_double(), cmpi_comm_world())
            return (0..<size).map { Array(all[Int(offsets[$0])..<Int(offsets[$0] + counts[$0])]) }
        }

        /// The message of `sendProgress` in flight, and its buffer (count, final flag), which
        /// must stay put until the send completes. Main thread only (UncheckedSendable.swift).
        private var progressRequest: MPI_Request? = nil
        private let progressBuffer = UnsafeMutablePointer<Int64>.allocate(capacity: 2)
        private static let progressTag: Int32 = 2020
        /// Process 0: the processes whose final count arrived before `receiveProgress(final: true)`.
        private var finalCounts: Set<Int> = []

        func sendProgress(_ count: Int, final: Bool) {
            if progressRequest != nil {
                var request = progressRequest
                if final {
                    MPI_Wait(&request, cmpi_status_ignore())
                } else {
                    var done: Int32 = 0
                    MPI_Test(&request, &done, cmpi_status_ignore())
                    progressRequest = request
                    if done == 0 { return }
                }
            }
            progressBuffer[0] = Int64(count)
            progressBuffer[1] = final ? 1 : 0
            if final {
                MPI_Send(progressBuffer, 2, cmpi_int64(), 0, Self.progressTag, cmpi_comm_world())
                progressRequest = nil
                return
            }
            var request: MPI_Request? = cmpi_request_null()
            MPI_Isend(progressBuffer, 2, cmpi_int64(), 0, Self.progressTag, cmpi_comm_world(), &request)
            progressRequest = request
        }

        func receiveProgress(into counts: inout [Int], final: Bool) {
            var message: [Int64] = [0, 0]
            var status = MPI_Status()
            if final {
                // Messages from one sender arrive in order: its final one comes last.
                for source in 1..<size where !finalCounts.contains(source) {
                    repeat {
                        MPI_Recv(&message, 2, cmpi_int64(), Int32(source), Self.progressTag, cmpi_comm_world(), &status)
                        counts[source] = Int(message[0])
                    } while message[1] == 0
                }
                finalCounts = []
                return
            }
            while true {
                var waiting: Int32 = 0
                MPI_Iprobe(cmpi_any_source(), Self.progressTag, cmpi_comm_world(), &waiting, &status)
                guard waiting != 0 else { return }
                let source = status.MPI_SOURCE
                MPI_Recv(&message, 2, cmpi_int64(), source, Self.progressTag, cmpi_comm_world(), &status)
                counts[Int(source)] = Int(message[0])
                if message[1] != 0 { finalCounts.insert(Int(source)) }
            }
        }

        func abort(status: Int32) -> Never {
            MPI_Abort(cmpi_comm_world(), status)
            _exit(status)
        }

        func finish() { MPI_Finalize() }
    }
#endif

extension Processes {
    /// Joins the MPI job when launched by `mpirun`/`srun`, or when `forced` (`--mpi`);
    /// otherwise (and always in the serial build) stays a process of its own.
    /// `arguments` without `--mpi` (the MPI build's own flag; the serial build leaves it to be refused).
    public static func start(arguments: [String]) -> [String] {
        #if MPI
            let forced = arguments.contains("--mpi")
            if forced || launchedByMPI { join(MPIProcessGroup()) }
            return arguments.filter { $0 != "--mpi" }
        #else
            return arguments
        #endif
    }
}
