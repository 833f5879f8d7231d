import Foundation
import GroupNormKernel
import HDF5

/// Streams one dataset slab by slab through the kernel: reads samples,
/// computes their statistics, and (for `apply`) normalizes and writes them.
struct DatasetStream {
    let fileName: String
    let outputName: String
    let path: String
    let geometry: TensorGeometry
    let plan: GroupNormPlan
    let slabs: SlabPlan
    /// CF fill values to leave out of the statistics and keep in OUTPUT; empty: none.
    let fillMarkers: [Double]
    let report: ReportWriter?
    let progress: ProgressObserver?
    /// The samples this process streams when the processes of an MPI job share the dataset
    /// (SampleShare.swift); nil: all of them.
    var share: SampleShare? = nil

    /// Per-channel affine parameters and, for batch eval mode, given statistics.
    struct Affine: Sendable {
        var scale: [Double]?
        var shift: [Double]?
        var mean: [Double]?
        var variance: [Double]?
        var epsilon: Double
    }

    /// How many values were fill and left out (counted by `statistics` and `normalize`).
    final class FillCount: @unchecked Sendable {
        // Only the calling thread adds to it, in `consume`.
        var values = 0
    }

    private func fillMask<E: KernelElement>(_ type: E.Type) -> FillMask<E>? {
        fillMarkers.isEmpty ? nil : FillMask<E>(markers: fillMarkers, outputFill: fillMarkers[0])
    }

    /// Statistics of every (sample, group), or of every channel in batch mode.
    func statistics<E: KernelElement & NativeElement>(
        _ type: E.Type, input: borrowing Dataset, fillCount: FillCount = FillCount()
    ) throws(PipelineError) -> [Moments] {
        let plan = self.plan
        let mask = fillMask(E.self)
        let codec = inputCodec(E.self, for: input)
        let stored = StoredSlabs<E>(elementType: input.elementType, threadCount: plan.threadCount)
        var collected: [Moments] = []
        var slabParts: [[Moments]] = []  // shared per-channel statistics, merged after all processes' slabs are in
        var done = 0
        try pipeline(E.self, alignedTo: codec?.chunkRows ?? 1, wholeSlabs: plan.scope == .channels).run(
            read: { (slab, values) throws(PipelineError) in try read(slab, of: input, into: values, codec: codec, stored: stored) },
            compute: { slab, values -> ([Moments], Int) in
                let source = UnsafeBufferPointer(values)
                guard let mask else { return (plan.moments(of: source, sampleCount: slab.count), 0) }
                let fill = mask.positions(in: source)
                return (plan.moments(of: source, sampleCount: slab.count, excluding: fill), fill.count)
            },
            write: { _, _ in },
            consume: { (slab: Range<Int>, result: ([Moments], Int)) throws(PipelineError) in
                let moments = result.0
                fillCount.values += result.1
                if plan.scope == .channels, share != nil {
                    slabParts.append(moments)
                } else if plan.scope == .channels {
                    collected = collected.isEmpty ? moments : zip(collected, moments).map { $0.merging($1) }
                } else {
                    collected += moments
                    try report?.add(moments)
                }
                done += slab.count
                progress?.advanced(samplesDone: done)
            })
        if plan.scope == .channels {
            if let share { collected = share.merged(slabParts, channelCount: plan.channelCount) }
            if collected.isEmpty { collected = Array(repeating: Moments(count: 0, mean: .nan, m2: .nan), count: plan.channelCount) }
            try report?.add(collected)
        }
        return collected
    }

    /// Normalizes every slab into `output`; returns the statistics used.
    func normalize<E: KernelElement & NativeElement>(
        _ type: E.Type, input: borrowing Dataset, output: borrowing Dataset, affine: Affine,
        fillCount: FillCount = FillCount()
    ) throws(PipelineError) -> [Moments] {
        var given: [Moments]? = nil
        if plan.scope == .channels {
            if let mean = affine.mean, let variance = affine.variance {
                // Count 1 keeps `variance` (M2 / count) exactly the value given.
                given = zip(mean, variance).map { Moments(count: 1, mean: $0, m2: $1) }
                try report?.add(given!)
            } else {
                given = try statistics(type, input: input)
            }
        }
        let plan = self.plan
        let fixed = given
        let mask = fillMask(E.self)
        let readCodec = inputCodec(E.self, for: input)
        let storedInput = StoredSlabs<E>(elementType: input.elementType, threadCount: plan.threadCount)
        let storedOutput = StoredSlabs<E>(elementType: output.elementType, threadCount: plan.threadCount)
        // Direct chunk writes are not collective: under MPI, HDF5's own filter pipeline compresses.
        let writeCodec = share != nil ? nil : ParallelDeflate(creation: output.creation, shape: geometry.shape, elementType: output.elementType,
                                         elementSize: MemoryLayout<E>.size, threadCount: plan.threadCount)
        var collected: [Moments] = given ?? []
        var done = 0
        let alignment = lcm(readCodec?.chunkRows ?? 1, writeCodec?.chunkRows ?? share.map { _ in SampleShare.writeUnit(of: output) } ?? 1)
        try pipeline(E.self, alignedTo: alignment).run(
            read: { (slab, values) throws(PipelineError) in
                try read(slab, of: input, into: values, codec: readCodec, stored: storedInput)
            },
            compute: { slab, values -> ([Moments], Int) in
                let source = UnsafeBufferPointer(values)
                // Fill positions are found before the values are overwritten, and get the fill value back after.
                let fill = mask?.positions(in: source)
                // Lengths were checked when the parameters were loaded.
                do {
                    let moments: [Moments]
                    if let given = fixed ?? fill.map({ plan.moments(of: source, sampleCount: slab.count, excluding: $0) }) {
                        moments = given
                        try plan.normalize(source, into: values, sampleCount: slab.count, parameters: NormalizationParameters(
                            mean: moments.map(\.mean), variance: moments.map(\.variance),
                            scale: affine.scale, shift: affine.shift, epsilon: affine.epsilon))
                    } else {
                        moments = try plan.normalizeWithOwnStatistics(
                            source, into: values, sampleCount: slab.count,
                            scale: affine.scale, shift: affine.shift, epsilon: affine.epsilon)
                    }
                    if let fill, let mask { plan.restore(fill, in: values, fill: mask) }
                    return (moments, fill?.count ?? 0)
                } catch {
                    preconditionFailure("\(error)")
                }
            },
            write: { (slab, values) throws(PipelineError) in
                do throws(HDF5Error) {
                    if let writeCodec {
                        try writeCodec.write(rows: slab, of: output, from: UnsafeRawBufferPointer(values))
                    } else {
                        try storedOutput.write(rows: slab, of: output, from: UnsafeBufferPointer(values))
                    }
                } catch {
                    throw .io("cannot write: \(error.reason ?? error.description)", file: outputName, dataset: path, cause: error)
                }
                // Progress counts samples written, the last step of each slab.
                done += slab.count
                progress?.advanced(samplesDone: done)
            },
            consume: { (_: Range<Int>, result: ([Moments], Int)) throws(PipelineError) in
                let moments = result.0
                fillCount.values += result.1
                if fixed == nil {
                    collected += moments
                    try report?.add(moments)
                }
            })
        if let share {
            for _ in 0 ..< share.missingWrites(slabs.aligned(to: alignment), multiple: alignment) {
                do { try storedOutput.write(rows: 0..<0, of: output, from: UnsafeBufferPointer(start: nil, count: 0)) } catch {
                    throw .io("cannot write: \(error.reason ?? error.description)", file: outputName, dataset: path, cause: error)
                }
            }
        }
        return collected
    }

    private func pipeline<E>(_ type: E.Type, alignedTo rows: Int, wholeSlabs: Bool = false) -> SlabPipeline<E> {
        let plan = slabs.aligned(to: rows)
        return SlabPipeline(slabs: share?.slabs(plan, multiple: wholeSlabs ? plan.samplesPerSlab : rows) ?? plan.slabs, elementsPerSample: geometry.sampleElements, samplesPerSlab: plan.samplesPerSlab)
    }

    /// The parallel-deflate reader, when the input's chunks allow it and all are stored;
    /// otherwise (unwritten chunks read as fill values) HDF5's own pipeline reads it.
    private func inputCodec<E>(_ type: E.Type, for input: borrowing Dataset) -> ParallelDeflate? {
        guard let codec = ParallelDeflate(creation: input.creation, shape: geometry.shape, elementType: input.elementType,
                                          elementSize: MemoryLayout<E>.size, threadCount: plan.threadCount)
        else { return nil }
        do {
            let stored = try input.allocatedChunkCount()
            return stored == (geometry.sampleCount + codec.chunkRows - 1) / codec.chunkRows ? codec : nil
        } catch {
            return nil
        }
    }

    private func read<E>(
        _ slab: Range<Int>, of input: borrowing Dataset, into values: UnsafeMutableBufferPointer<E>, codec: ParallelDeflate?,
        stored: StoredSlabs<E>
    ) throws(PipelineError) {
        do throws(HDF5Error) {
            if let codec {
                try codec.read(rows: slab, of: input, into: UnsafeMutableRawBufferPointer(values))
            } else {
                try stored.read(rows: slab, of: input, into: values)
            }
        } catch {
            throw .io("cannot read samples \(slab.lowerBound)..<\(slab.upperBound): \(error.reason ?? error.description)",
                      file: fileName, dataset: path, cause: error)
        }
    }
}

func lcm(_ a: Int, _ b: Int) -> Int {
    var (x, y) = (a, b)
    while y != 0 { (x, y) = (y, x % y) }
    return a / x * b
}

/// The compute type for a stored type and the stored output type: Float for
/// float32 (and float16 read for statistics), Double otherwise (float64, integers,
/// and float16 output, which is then the float64 result correctly rounded once:
/// through Float it would be rounded twice).
func computesInDouble(_ input: ElementType, output: ElementType?) -> Bool {
    switch output {
    case .float(64, _)?, .float(16, _)?: return true
    default: break
    }
    switch input {
    case .float(let bits, _): return bits == 64
    default: return true
    }
}
