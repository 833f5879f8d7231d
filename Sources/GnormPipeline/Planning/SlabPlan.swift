/// How many samples to process at once: as many as fit in the memory budget,
/// at least one, never more than the dataset has.
struct SlabPlan: Equatable {
    let sampleCount: Int
    private(set) var samplesPerSlab: Int

    init(sampleCount: Int, bytesPerSample: Int, memoryLimit: Int) {
        self.sampleCount = sampleCount
        let fitting = bytesPerSample > 0 ? memoryLimit / bytesPerSample : sampleCount
        samplesPerSlab = max(1, min(sampleCount, fitting))
    }

    /// The same budget in slabs of a multiple of `rows` samples (whole chunks), at least `rows`.
    func aligned(to rows: Int) -> SlabPlan {
        guard rows > 1 else { return self }
        var plan = self
        plan.samplesPerSlab = max(rows, samplesPerSlab / rows * rows)
        return plan
    }

    /// The sample ranges of successive slabs.
    var slabs: [Range<Int>] {
        stride(from: 0, to: sampleCount, by: samplesPerSlab).map { $0..<min($0 + samplesPerSlab, sampleCount) }
    }
}
