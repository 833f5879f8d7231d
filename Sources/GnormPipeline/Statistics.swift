import Foundation
import GroupNormKernel
import HDF5

/// `gnorm stats`: statistics of each selected dataset, as a report.
public enum StatisticsRun {
    public static func run(
        input: String, options: NormalizationOptions, format: ReportFormat, rowLimit: Int? = nil,
        progress: ProgressObserver? = nil
    ) throws(PipelineError) {
        let file = try InputFile.open(input)
        let report = ReportWriter(format: format, output: .standardOutput(), fileName: file.name, rowLimit: rowLimit)
        _ = try collect(file, options: options, report: report, progress: progress)
        try report.finish()
    }

    /// The statistics of every selected dataset of an in-memory file image, without a report:
    /// what `gnorm stats -` computes, for callers (and fuzzers) that hold the bytes.
    public static func statistics(ofImage bytes: [UInt8], options: NormalizationOptions) throws(PipelineError) -> [[Moments]] {
        let file: File
        do { file = try File(image: bytes, name: "<image>") } catch {
            throw .inputUnavailable("not an HDF5 file: \(error.reason ?? error.description)", file: "<image>")
        }
        return try collect(file, options: options, report: nil, progress: nil)
    }

    private static func collect(
        _ file: borrowing File, options: NormalizationOptions, report: ReportWriter?, progress: ProgressObserver?
    ) throws(PipelineError) -> [[Moments]] {
        let jobs = try DatasetSelection.select(options.datasets, in: file).map { (selected) throws(PipelineError) in
            try DatasetJob(selected, options: options, file: file.name)
        }
        var all: [[Moments]] = []
        for job in jobs {
            report?.begin(job.reported(epsilon: options.epsilon))
            let inDouble = computesInDouble(job.dataset.elementType, output: nil)
            let stream = job.stream(fileName: file.name, outputName: file.name,
                                    memoryLimit: options.memoryLimit, report: report, progress: progress)
            let started = Date()
            progress?.started(dataset: job.path, samples: job.geometry.sampleCount,
                              bytesPerSample: job.geometry.sampleBytes(elementSize: inDouble ? 8 : 4), passes: 1)
            let dataset = try DatasetSelection.open(job.path, in: file)
            let fill = DatasetStream.FillCount()
            let moments = inDouble
                ? try stream.statistics(Double.self, input: dataset, fillCount: fill)
                : try stream.statistics(Float.self, input: dataset, fillCount: fill)
            report?.end()
            progress?.finished(Summaries.make(job, moments: moments, since: started, passes: 1,
                                              bytesPerElement: inDouble ? 8 : 4, maskedValues: fill.values))
            all.append(moments)
        }
        return all
    }
}

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
