import Foundation
import GroupNormKernel

/// The closing line of a dataset's run, for `apply` and `stats` alike.
enum Summaries {
    static func make(
        _ job: DatasetJob, moments: [Moments], since start: Date, passes: Int, bytesPerElement: Int, maskedValues: Int
    ) -> DatasetSummary {
        let seconds = Date().timeIntervalSince(start)
        let elements = job.geometry.sampleCount * job.geometry.sampleElements
        return DatasetSummary(
            path: job.path, shape: job.dataset.shape, groups: job.plan.groupCount, mode: job.mode.rawValue,
            elements: elements, seconds: seconds,
            bytesPerSecond: seconds > 0 ? Double(elements) * Double(bytesPerElement * passes) / seconds : 0,
            nonFiniteGroups: moments.filter { $0.count > 0 && $0.mean.isNaN }.count, maskedValues: maskedValues)
    }
}
