import GroupNormKernel
import HDF5

/// `stats` over several files under MPI: file i is read whole by process i mod K, and every
/// process receives every file's statistics, so that they are merged in file order exactly
/// as one process merges them (the same numbers, bit for bit).
enum FileShare {
    /// Each file's per-dataset statistics, or nil outside an MPI job of several processes.
    static func statistics(
        of inputs: [String], options: NormalizationOptions, progress: ProgressObserver?
    ) throws(PipelineError) -> [[(job: DatasetJob, moments: [Moments])]]? {
        let group = options.processGroup
        guard group.size > 1, inputs.count > 1 else { return nil }
        // Every process selects the datasets of every file (metadata only), so that a bad
        // file is found by all of them alike; each computes its own files' statistics.
        var jobs: [[DatasetJob]] = []
        for input in inputs {
            let file = try InputFile.open(input)
            jobs.append(
                try DatasetSelection.select(options.datasets, in: file, allowingExternal: options.allowsExternal).map {
                    (selected) throws(PipelineError) in
                    try DatasetJob(selected, options: options, file: file.name)
                })
        }
        var mine: [Double] = []
        for index in inputs.indices where index % group.size == group.rank {
            let results = try Processes.divergent { () throws(PipelineError) in
                let file = try InputFile.open(inputs[index])
                return try StatisticsRun.collect(file, options: options, report: nil, progress: progress)
            }
            for result in results { mine += SampleShare.flatten(result.moments) }
        }
        let parts = group.allGather(mine)
        var offsets = [Int](repeating: 0, count: group.size)
        return inputs.indices.map { index in
            let owner = index % group.size
            return jobs[index].map { job in
                let count = 4 * job.plan.channelCount  // batch statistics: one per channel, 4 numbers each
                let values = Array(parts[owner][offsets[owner]..<offsets[owner] + count])
                offsets[owner] += count
                return (job, SampleShare.unflatten(values))
            }
        }
    }
}

extension StatisticsRun {
    /// Standard output on process 0; the others' identical reports go nowhere.
    static func reportOutput(_ group: any ProcessGroup) throws(PipelineError) -> TextOutput {
        group.rank == 0 ? .standardOutput() : try TextOutput(creating: "/dev/null")
    }
}
