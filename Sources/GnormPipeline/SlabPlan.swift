/// How many samples to process at once: as many as fit in the memory budget,
/// at least one, never more than the dataset has.
struct SlabPlan: Equatable {
    let sampleCount: Int
    let samplesPerSlab: Int

    init(sampleCount: Int, bytesPerSample: Int, memoryLimit: Int) {
        self.sampleCount = sampleCount
        let fitting = bytesPerSample > 0 ? memoryLimit / bytesPerSample : sampleCount
        samplesPerSlab = max(1, min(sampleCount, fitting))
    }

    /// The sample ranges of successive slabs.
    var slabs: [Range<Int>] {
        stride(from: 0, to: sampleCount, by: samplesPerSlab).map { $0 ..< min($0 + samplesPerSlab, sampleCount) }
    }
}
