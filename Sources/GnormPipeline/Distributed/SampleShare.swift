import GroupNormKernel
import HDF5

/// The samples (axis 0) of one dataset that this process streams: all of them, or when the
/// processes of an MPI job share the dataset (`isShared`), a contiguous slice, a whole number
/// of `multiple`-sample units (chunks) long, possibly empty. Slices, slab counts and merges
/// depend on the sample count, the unit and the group size alone, so every process can
/// compute every other process's share without asking.
struct SampleShare {
    let group: any ProcessGroup
    /// Whether the processes of `group` share the dataset; false: this process streams it whole,
    /// and every answer below is the whole dataset's.
    let isShared: Bool

    /// The whole dataset, to one process.
    static let whole = SampleShare(group: SoloProcess(), isShared: false)

    /// The slabs of this process's slice: `plan`'s slab size over the slice, aligned to `multiple`.
    func slabs(_ plan: SlabPlan, multiple: Int) -> [Range<Int>] {
        isShared ? slabs(plan, multiple: multiple, rank: group.rank) : plan.slabs
    }

    private func slabs(_ plan: SlabPlan, multiple: Int, rank: Int) -> [Range<Int>] {
        let slice = group.slices(of: plan.sampleCount, multiple: multiple)[rank]
        return stride(from: slice.lowerBound, to: slice.upperBound, by: plan.samplesPerSlab).map {
            $0..<min($0 + plan.samplesPerSlab, slice.upperBound)
        }
    }

    /// How many writes this process must add, with no rows, so that it joins as many
    /// collective writes as the process with the most slabs.
    func missingWrites(_ plan: SlabPlan, multiple: Int) -> Int {
        guard isShared else { return 0 }
        let most = (0..<group.size).map { slabs(plan, multiple: multiple, rank: $0).count }.max() ?? 0
        return most - slabs(plan, multiple: multiple).count
    }

    /// This process's samples when each sample is streamed alone, in pieces (`PieceStream`):
    /// its slice of whole `multiple`-sample units (OUTPUT chunks along axis 0, so that no two
    /// processes write into one chunk).
    func samples(of count: Int, multiple: Int) -> Range<Int> {
        guard isShared else { return 0..<count }
        return group.slices(of: count, multiple: multiple)[group.rank]
    }

    /// How many writes of no rows this process must add after its own `writes` so that it joins
    /// every collective write of the process with the most (asked, not computed: the number of
    /// pieces follows each process's memory plan). Ask before writing: a collective call of its
    /// own. The MPI call is `MPI_Allgather`.
    func missingWrites(after writes: Int) -> Int {
        guard isShared else { return 0 }
        let most = group.allGather([Double(writes)]).map { Int($0[0]) }.max() ?? writes
        return most - writes
    }

    /// Per-channel statistics of the whole dataset from every process's per-slab statistics
    /// (`parts`, one array per slab of its slice), merged slab after slab in sample order with
    /// Chan's formula: the fold one process makes over the same slabs, so the same bits.
    func merged(_ parts: [[Moments]], channelCount: Int) -> [Moments] {
        var result: [Moments] = []
        for part in group.allGather(parts.flatMap(Self.flatten)).flatMap(Self.unflatten).chunks(of: channelCount) {
            result = result.isEmpty ? part : zip(result, part).map { $0.merging($1) }
        }
        return result
    }

    /// Every process's rows, in rank order: the rows of the whole dataset in sample order.
    func gathered(_ moments: [Moments]) -> [Moments] {
        group.allGather(Self.flatten(moments)).flatMap(Self.unflatten)
    }

    static func flatten(_ moments: [Moments]) -> [Double] {
        moments.flatMap { [$0.count, $0.mean, $0.m2, $0.scale] }
    }

    static func unflatten(_ values: [Double]) -> [Moments] {
        stride(from: 0, to: values.count - 3, by: 4).map {
            Moments(count: values[$0], mean: values[$0 + 1], m2: values[$0 + 2], scale: values[$0 + 3])
        }
    }

    /// The sample unit of writes to `output` when shared: its chunk's extent along axis 0 (1 when
    /// contiguous), so that no two processes write into one chunk; 1 when not shared.
    func writeUnit(of output: borrowing Dataset) -> Int {
        guard isShared else { return 1 }
        return output.creation.chunkShape.map { max(1, $0[0]) } ?? 1
    }
}

/// Per-channel statistics (batch scope) folded over the samples in sample order: by this
/// process alone, or under MPI from every process's parts once all are in (`SampleShare.merged`).
struct ChannelFold {
    private let plan: GroupNormPlan
    private let share: SampleShare
    private var running: [Moments]
    /// Under MPI, this process's per-sample channel statistics, one array per slab or sample.
    private var parts: [[Moments]] = []

    init(plan: GroupNormPlan, share: SampleShare) {
        self.plan = plan
        self.share = share
        running = [Moments](repeating: .empty, count: plan.channelCount)
    }

    /// Adds the per-sample channel statistics of `sampleCount` consecutive samples.
    mutating func add(_ moments: [Moments], sampleCount: Int) {
        if share.isShared {
            parts.append(moments)
        } else {
            plan.merge(moments, sampleCount: sampleCount, into: &running)
        }
    }

    /// The dataset's per-channel statistics; under MPI a collective call (`MPI_Allgather`).
    func finished() -> [Moments] {
        guard share.isShared, case let merged = share.merged(parts, channelCount: plan.channelCount), !merged.isEmpty
        else { return plan.finishedChannels(running) }
        return plan.finishedChannels(merged)
    }
}

extension SampleShare {
    /// Every process's rows in sample order (per-channel statistics are merged already) and
    /// the total count of fill values; the rows go to `report` (process 0's only).
    func collect(
        _ moments: [Moments], fillCount: Int, scope: StatisticsScope, into report: ReportWriter?
    ) throws(PipelineError) -> ([Moments], Int) {
        let all = scope == .channels ? moments : gathered(moments)
        try report?.add(all)
        return (all, group.sum(fillCount))
    }
}

extension Processes {
    /// Reports a failure of this process alone and ends the job (set by the command line tool,
    /// which owns messages and statuses); nil: the failure is thrown like any other.
    public static var loneFailure: ((PipelineError) -> Never)? {
        get { loneFailureHandler.value }
        set { loneFailureHandler.value = newValue }
    }
    // Set by `Gnorm.main` before any command runs.
    private static let loneFailureHandler = ProcessGlobal<((PipelineError) -> Never)?>(nil)

    /// Runs work that differs between processes (each its own samples or files) and marks
    /// a failure in it as this process's alone (see `diverged`).
    public static func divergent<R>(_ body: () throws(PipelineError) -> R) throws(PipelineError) -> R {
        do { return try body() } catch {
            diverged = true
            // Unwinding would close OUTPUT, a collective call the other processes never join:
            // end the job from here, temporary file first.
            if current.size > 1, let loneFailure {
                SignalCleanup.removeRegistered()
                loneFailure(error)
            }
            throw error
        }
    }
}

extension Array {
    /// Consecutive pieces of `size` elements (every process's slabs have the same channel count).
    fileprivate func chunks(of size: Int) -> [[Element]] {
        guard !isEmpty else { return [] }
        return stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
