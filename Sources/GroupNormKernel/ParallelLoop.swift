import Dispatch

/// Runs `taskCount` independent tasks on up to `threadCount` threads, each
/// thread taking one contiguous range of tasks. Tasks write disjoint outputs,
/// so the result does not depend on the thread count or the schedule.
/// The pipeline runs its chunk codecs through it too: one loop, not two thread pools.
public struct ParallelLoop: Sendable {
    public let threadCount: Int

    public init(threadCount: Int) { self.threadCount = threadCount }

    public func run(taskCount: Int, _ body: (_ tasks: Range<Int>, _ worker: Int) -> Void) {
        let workers = min(threadCount, taskCount)
        if workers <= 1 {
            if taskCount > 0 { body(0..<taskCount, 0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // The closure is only called while `run` waits in concurrentPerform,
            // and every task writes only its own slots of the caller's buffers.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let start = taskCount * worker / workers
                let end = taskCount * (worker + 1) / workers
                body(start..<end, worker)
            }
        }
    }
}

/// A pointer shared with worker threads that write disjoint parts of it.
struct SharedPointer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
}
