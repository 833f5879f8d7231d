import Dispatch

/// Overlaps computing one slab with the I/O of its neighbours:
/// read k+1 ‖ compute k ‖ write k−1, with two slab buffers.
///
/// Every HDF5 call (`read`, `write`) stays on the calling thread; `compute`
/// runs on a background thread and only touches the buffer it is handed.
struct SlabPipeline<E> {
    let slabs: [Range<Int>]
    /// Values in each slab's buffer.
    let elementCounts: [Int]

    init(slabs: [Range<Int>], elementsPerSample: Int) {
        self.slabs = slabs
        elementCounts = slabs.map { $0.count * elementsPerSample }
    }

    /// Pieces of one sample (`PiecePlan`): slab `i ..< i + 1` is piece i, of `elementCounts[i]` values.
    init(pieceElements: [Int]) {
        slabs = pieceElements.indices.map { $0..<$0 + 1 }
        elementCounts = pieceElements
    }

    func run<Output>(
        read: (Range<Int>, UnsafeMutableBufferPointer<E>) throws(PipelineError) -> Void,
        compute: @escaping @Sendable (Range<Int>, UnsafeMutableBufferPointer<E>) -> Output,
        write: (Range<Int>, UnsafeMutableBufferPointer<E>) throws(PipelineError) -> Void,
        consume: (Range<Int>, Output) throws(PipelineError) -> Void
    ) throws(PipelineError) {
        guard !slabs.isEmpty else { return }
        let capacity = elementCounts.max() ?? 0
        let storage = [capacity, slabs.count > 1 ? capacity : 0].map {
            SlabBuffers.take(byteCount: $0 * MemoryLayout<E>.stride)
        }
        defer { for buffer in storage { SlabBuffers.give(buffer) } }
        let buffers = storage.map { $0.bindMemory(to: E.self) }
        func view(_ index: Int) -> UnsafeMutableBufferPointer<E> {
            UnsafeMutableBufferPointer(rebasing: buffers[index % 2][0..<elementCounts[index]])
        }
        try read(slabs[0], view(0))
        for index in slabs.indices {
            let task = BackgroundTask(slab: slabs[index], buffer: view(index), compute)
            // Join the computation on every path: its buffer must outlive it.
            do {
                if index > 0 { try write(slabs[index - 1], view(index - 1)) }
                if index + 1 < slabs.count { try read(slabs[index + 1], view(index + 1)) }
            } catch {
                _ = task.wait()
                throw error
            }
            try consume(slabs[index], task.wait())
        }
        try write(slabs[slabs.count - 1], view(slabs.count - 1))
    }
}

/// One computation on a background thread, joined with `wait()`.
final class BackgroundTask<E, Output> {
    private let done = DispatchSemaphore(value: 0)
    // Written by the background thread before `done` is signalled, read after `wait`.
    private var output: Output?

    init(
        slab: Range<Int>, buffer: UnsafeMutableBufferPointer<E>,
        _ compute: @escaping @Sendable (Range<Int>, UnsafeMutableBufferPointer<E>) -> Output
    ) {
        // The buffer is handed to exactly one thread at a time: this task until `wait` returns.
        let buffer = Unchecked(buffer)
        DispatchQueue.global().async { [self] in
            output = compute(slab, buffer.value)
            done.signal()
        }
    }

    func wait() -> Output {
        done.wait()
        return output!
    }
}
