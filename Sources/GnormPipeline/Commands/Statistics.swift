import Foundation
import GroupNormKernel
import HDF5

/// `gnorm stats`: statistics of each selected dataset, as a report.
public enum StatisticsRun {
    /// The report of one or several INPUTs: each file's rows in order, or in batch mode
    /// one set of per-channel statistics merged over every sample of every file. `save`
    /// also stores batch statistics as HDF5, in the layout of `apply`'s `/gnorm/PATH/mean|var`.
    public static func run(
        inputs: [String], options: NormalizationOptions, format: ReportFormat, rowLimit: Int? = nil,
        save: String? = nil, progress: ProgressObserver? = nil
    ) throws(PipelineError) {
        if inputs.filter({ $0 == "-" }).count > 1 { throw .usage("standard input (-) can be read once") }
        if save != nil && options.mode != .batch {
            throw .usage("--save stores batch statistics (per channel); use it with --mode batch")
        }
        if options.mode == .batch && (inputs.count > 1 || save != nil) {
            return try runMerged(
                inputs: inputs, options: options, format: format, rowLimit: rowLimit, save: save,
                progress: progress)
        }
        let names = inputs.map { $0 == "-" ? InputFile.standardInputName : $0 }
        let report = ReportWriter(
            format: format, output: try reportOutput(options.processGroup),
            files: names.count == 1 ? .one(names[0]) : .each(names), rowLimit: rowLimit)
        // Under MPI the processes share each dataset's samples; process 0 prints.
        let group = options.processGroup
        let share = SampleShare(group: group, isShared: group.size > 1)
        for input in inputs {
            let file = try InputFile.open(input)
            report.beginFile(file.name)
            _ = try collect(file, options: options, report: report, progress: progress, share: share)
        }
        try report.finish()
    }

    /// Batch statistics merged per dataset over the files, in file order (Chan's formula):
    /// the statistics of the files' samples concatenated.
    private static func runMerged(
        inputs: [String], options: NormalizationOptions, format: ReportFormat, rowLimit: Int?, save: String?,
        progress: ProgressObserver?
    ) throws(PipelineError) {
        var merged: [(job: DatasetJob, samples: Int, moments: [Moments])] = []
        var names: [String] = []
        // Under MPI each process computes the statistics of its share of the files (SharedStatistics.swift).
        let computed = try FileShare.statistics(of: inputs, options: options, progress: progress)
        for input in inputs {
            let file = try InputFile.open(input)
            names.append(file.name)
            let results: [(job: DatasetJob, moments: [Moments])]
            if let computed {
                results = computed[names.count - 1]
            } else {
                results = try collect(file, options: options, report: nil, progress: progress)
            }
            if merged.isEmpty && names.count == 1 {
                merged = results.map { ($0.job, $0.job.geometry.sampleCount, $0.moments) }
                continue
            }
            let expected = merged.map(\.job.path)
            let found = results.map(\.job.path)
            guard expected == found else {
                throw .data(
                    "its datasets \(found) differ from \(expected) in \(names[0]); batch statistics over "
                        + "several files need the same datasets in each (name them with -d)", file: file.name)
            }
            for (index, result) in results.enumerated() {
                let channels = merged[index].job.geometry.channelCount
                guard result.job.geometry.channelCount == channels else {
                    throw .data(
                        "\(result.job.geometry.channelCount) channels, but \(channels) in \(names[0])",
                        file: file.name, dataset: result.job.path)
                }
                merged[index].samples += result.job.geometry.sampleCount
                merged[index].moments = zip(merged[index].moments, result.moments).map { $0.merging($1) }
            }
        }
        let report = ReportWriter(
            format: format, output: try reportOutput(options.processGroup), files: .merged(names), rowLimit: rowLimit)
        for entry in merged {
            let first = entry.job.reported(epsilon: options.epsilon)
            report.begin(
                ReportedDataset(
                    path: first.path, shape: [entry.samples] + first.shape.dropFirst(), elementType: first.elementType,
                    mode: first.mode, groups: first.groups, epsilon: first.epsilon, layout: first.layout,
                    count: entry.moments.first.map { Int($0.count) } ?? 0, sampleCount: entry.samples))
            try report.add(entry.moments)
            report.end()
        }
        try report.finish()
        if let save, options.processGroup.rank == 0 {
            try StatisticsFile.write(
                merged.map {
                    StatisticsFile.Entry(
                        job: $0.job, moments: $0.moments, epsilon: options.epsilon,
                        source: names.joined(separator: "\n"), count: $0.moments.first?.count ?? 0)
                }, to: save, group: options.processGroup)
        }
    }

    /// The statistics of every selected dataset of an in-memory file image, without a report:
    /// what `gnorm stats -` computes, for callers (and fuzzers) that hold the bytes.
    public static func statistics(ofImage bytes: [UInt8], options: NormalizationOptions) throws(PipelineError)
        -> [[Moments]]
    {
        let file: File
        do { file = try File(image: bytes, name: "<image>") } catch {
            throw .inputUnavailable(
                "not an HDF5 file: \(error.reason ?? error.description)", file: "<image>", cause: error)
        }
        return try collect(file, options: options, report: nil, progress: nil).map(\.moments)
    }

    static func collect(
        _ file: borrowing File, options: NormalizationOptions, report: ReportWriter?, progress: ProgressObserver?,
        share: SampleShare = .whole
    ) throws(PipelineError) -> [(job: DatasetJob, moments: [Moments])] {
        let watch = try InputWatch(file, writing: false)
        do {
            let all = try collect(
                file, options: options, report: report, progress: progress, share: share, watch: watch)
            try watch?.check()
            return all
        } catch {
            throw watch?.explaining(error) ?? error
        }
    }

    private static func collect(
        _ file: borrowing File, options: NormalizationOptions, report: ReportWriter?, progress: ProgressObserver?,
        share: SampleShare, watch: InputWatch?
    ) throws(PipelineError) -> [(job: DatasetJob, moments: [Moments])] {
        let jobs = try DatasetSelection.select(options.datasets, in: file, allowingExternal: options.allowsExternal).map
        { (selected) throws(PipelineError) in
            try DatasetJob(selected, options: options, file: file.name)
        }
        let pass = DatasetPass(
            share: share, report: report, progress: progress, watch: watch, epsilon: options.epsilon)
        var all: [(job: DatasetJob, moments: [Moments])] = []
        for job in jobs {
            let inDouble = job.computesInDouble(storing: nil)
            let dataset = try DatasetSelection.open(job.path, in: file)
            let moments = try pass.run(job, outputName: file.name, bytesPerElement: inDouble ? 8 : 4, passes: 1) {
                (stream, fill) throws(PipelineError) in
                inDouble
                    ? try stream.statistics(Double.self, input: dataset, fillCount: fill)
                    : try stream.statistics(Float.self, input: dataset, fillCount: fill)
            }.moments
            all.append((job, moments))
        }
        return all
    }
}
