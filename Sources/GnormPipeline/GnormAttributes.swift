import GroupNormKernel
import HDF5

/// What `apply` adds to OUTPUT besides values (SPEC §3): /gnorm/PATH/mean|var and their
/// attributes, and the gnorm_* attributes of the normalized dataset.
extension ApplyRun {
    static func writeStatistics(
        _ result: (summary: DatasetSummary, moments: [Moments]), of job: DatasetJob, epsilon: Double,
        sourceName: String,
        in file: borrowing File, dataset: borrowing Dataset, outputName: String
    ) throws(PipelineError) {
        do {
            try writeStatistics(
                result.moments, of: job, epsilon: epsilon, sourceName: sourceName, in: file, dataset: dataset)
        } catch {
            throw .io(
                "cannot write statistics: \(error.reason ?? error.description)", file: outputName, dataset: job.path,
                cause: error)
        }
    }

    /// /gnorm/PATH/mean and /var with their attributes (replacing those of an earlier run), and gnorm_* on the dataset.
    static func writeStatistics(
        _ moments: [Moments], of job: DatasetJob, epsilon: Double, sourceName: String,
        in file: borrowing File, dataset: borrowing Dataset
    ) throws(HDF5Error) {
        // A netCDF-4 classic-model file (netCDF-C marks it with `_nc3_strict`) allows only
        // NC_CHAR text and 32-bit integers: ncdump rejects anything else.
        let classic = file.hasAttribute("_nc3_strict")
        func text(_ value: String) -> AttributeValue { classic ? .fixedString(value) : .string(value) }
        func integer(_ value: Int) -> AttributeValue { classic ? .integer32(Int32(clamping: value)) : .integer(value) }
        let group = "/gnorm" + job.path
        try file.removeLink(group + "/mean")
        try file.removeLink(group + "/var")
        let shape = job.mode == .batch ? [job.plan.channelCount] : [job.geometry.sampleCount, job.plan.groupCount]
        let mean = try file.createDataset(group + "/mean", shape: shape, elementType: .float64)
        try mean.writeAll(moments.map(\.mean))
        let variance = try file.createDataset(group + "/var", shape: shape, elementType: .float64)
        try variance.writeAll(moments.map(\.variance))
        let attributes: [(String, AttributeValue)] = [
            ("mode", text(job.mode.rawValue)),
            ("groups", integer(job.plan.groupCount)),
            ("eps", .double(epsilon)),
            ("layout", text(job.plan.layout.rawValue)),
            ("source", text(sourceName)),
            ("version", text(GnormVersion.current)),
        ]
        for (name, value) in attributes { try file.setAttribute(name, value, on: group) }
        try dataset.setAttribute("gnorm_mode", text(job.mode.rawValue))
        try dataset.setAttribute("gnorm_groups", integer(job.plan.groupCount))
        try dataset.setAttribute("gnorm_eps", .double(epsilon))
    }
}
