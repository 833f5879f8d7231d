import Foundation
import GroupNormKernel
import HDF5

/// `gnorm apply`: writes OUTPUT, a copy of INPUT with the selected datasets
/// normalized and their statistics under /gnorm (SPEC §3).
public enum ApplyRun {
    @discardableResult
    public static func run(
        input: String, output: String?, options: NormalizationOptions, apply: ApplyOptions,
        progress: ProgressObserver? = nil
    ) throws(PipelineError) -> [DatasetSummary] {
        try run(input: input, output: output, options: options, apply: apply, progress: progress, batch: nil)
    }

    /// `run`, leaving OUTPUT to `batch` to make durable and put in place when there is one.
    static func run(
        input: String, output: String?, options: NormalizationOptions, apply: ApplyOptions,
        progress: ProgressObserver?, batch: DurableBatch?
    ) throws(PipelineError) -> [DatasetSummary] {
        let outputArgument = try validate(input: input, output: output, options: options, apply: apply)
        let image = input == "-" ? try InputFile.readStandardInput() : nil
        let source = try InputFile.open(input, image: image)
        let watch = try InputWatch(source)
        do {
            return try run(
                source, input: input, image: image, output: outputArgument, watch: watch, options: options,
                apply: apply, progress: progress, batch: batch)
        } catch {
            // A failure while INPUT changed (the copy of a truncated file, say) is that change.
            throw watch?.explaining(error) ?? error
        }
    }

    /// `run` once INPUT is open and watched.
    private static func run(
        _ source: borrowing File, input: String, image: [UInt8]?, output outputArgument: String,
        watch: InputWatch?, options: NormalizationOptions, apply: ApplyOptions, progress: ProgressObserver?,
        batch: DurableBatch?
    ) throws(PipelineError) -> [DatasetSummary] {
        let destination = try OutputDestination.prepare(
            output: outputArgument, input: input, force: apply.force, inPlace: apply.inPlace,
            group: options.processGroup)
        let placement = try StatisticsPlacement.choose(
            apply: apply, input: source, inputPath: input, image: image, outputPath: outputArgument,
            group: options.processGroup)
        let jobs: [DatasetJob]
        let affines: [DatasetStream.Affine]
        if let inversion = apply.inversion {
            // `invert`: each dataset's settings and statistics from what apply stored, or --mean/--var.
            let inverted = try inversionJobs(in: source, options: options, apply: apply, inversion: inversion)
            jobs = inverted.map(\.job)
            affines = inverted.map(\.affine)
        } else {
            jobs = try DatasetSelection.select(options.datasets, in: source, allowingExternal: options.allowsExternal)
                .map { (selected) throws(PipelineError) in
                    try DatasetJob(selected, options: options, file: source.name)
                }
            affines = try jobs.map { (job) throws(PipelineError) in
                try affine(for: job, apply: apply, options: options, input: source)
            }
        }
        let layouts = try jobs.map { (job) throws(PipelineError) in
            try OutputLayout(job.dataset, in: source, apply: apply)
        }
        for (job, layout) in zip(jobs, layouts) {
            try job.missing.checkStored(as: layout.elementType, file: source.name, dataset: job.path)
            if layout.change != .none {
                try checkAttributeMemory(of: job, in: source, memoryLimit: options.memoryLimit)
            }
        }
        // Under MPI, process 0 writes the report of every process's rows.
        let report = try apply.report.flatMap { (path) throws(PipelineError) -> ReportWriter? in
            if options.processGroup.rank != 0 { return nil }
            guard let format = ReportFormat(path: path) else {
                throw .usage(
                    "--report \(path): unknown format; use a .csv, .json or .ndjson file, or - for CSV on stdout")
            }
            return ReportWriter(
                format: format, output: path == "-" ? .standardOutput() : try TextOutput(creating: path),
                fileName: source.name)
        }

        // Contiguous values that will be rewritten (or freed) need not be copied first.
        let holes = layouts.flatMap(\.rewrittenBytes)
        try watch?.check()
        let target = try destination.create(copying: image.map { .image($0) } ?? .file(input), leavingHoles: holes)
        let summaries: [DatasetSummary]
        do {
            // The copy is of the file libhdf5 reads, whole.
            try watch?.check()
            summaries = try fill(
                target, from: source, jobs: jobs, affines: affines, layouts: layouts,
                destination: destination, placement: placement, options: options, apply: apply, watch: watch,
                report: report, progress: progress)
            // Every value read came from INPUT as it was opened.
            try watch?.check()
            if case .file(let pending) = placement { try pending.write() }
        } catch {
            destination.abandon()
            placement.abandon()
            throw error
        }
        // A separate statistics file goes in place once OUTPUT is.
        do { try destination.commit(target, batch: batch) } catch {
            placement.abandon()
            throw error
        }
        if case .file(let pending) = placement { try pending.commit() }
        try report?.commit()
        progress?.warned(destination.warnings.map { "\($0) (\(destination.name))" })
        return summaries
    }

    /// libhdf5 copies an attribute of a replaced dataset through memory about five times over (the
    /// source's values, gnorm's buffer, the new attribute's, its encoding: two 100 MB attributes
    /// took 509 MB): a `--memory-limit` below that is refused up front, naming one that holds it.
    private static func checkAttributeMemory(of job: DatasetJob, in source: borrowing File, memoryLimit: Int)
        throws(PipelineError)
    {
        let dataset = try DatasetSelection.open(job.path, in: source)
        let largest: Int
        do { largest = try dataset.largestAttributeBytes() } catch {
            throw .io(
                "cannot read its attributes: \(error.reason ?? error.description)", file: source.name,
                dataset: job.path, cause: error)
        }
        let needed = SizeArithmetic.product(largest, 5) ?? Int.max / 2
        guard needed > max(memoryLimit, MemoryPlan.leastRefused) else { return }
        throw .data(
            "--memory-limit \(memoryLimit >> 20) is too small for this dataset: it is written anew (its type or "
                + "filters change) and libhdf5 copies its largest attribute (\((largest + (1 << 20) - 1) >> 20) MiB) "
                + "through memory about five times; use --memory-limit \((needed + (1 << 20) - 1) >> 20) or more",
            file: source.name, dataset: job.path)
    }

    private static func fill(
        _ target: borrowing File, from source: borrowing File, jobs: [DatasetJob], affines: [DatasetStream.Affine],
        layouts: [OutputLayout], destination: OutputDestination, placement: StatisticsPlacement,
        options: NormalizationOptions, apply: ApplyOptions, watch: InputWatch?,
        report: ReportWriter?, progress: ProgressObserver?
    ) throws(PipelineError) -> [DatasetSummary] {
        var summaries: [DatasetSummary] = []
        let group = options.processGroup
        let pass = DatasetPass(
            share: SampleShare(group: group, isShared: group.sharesFiles), report: report, progress: progress,
            watch: watch, epsilon: options.epsilon)
        let netCDF = source.hasAttribute("_NCProperties")
        for ((job, affine), layout) in zip(zip(jobs, affines), layouts) {
            if netCDF, case .float(16, _) = layout.elementType, layout.elementType != job.dataset.elementType {
                progress?.warned([
                    "float16 is not a netCDF type: ncdump, netCDF4-python and xarray's netcdf4 engine "
                        + "cannot read \(job.path) in OUTPUT (h5py and the h5netcdf engine can)"
                ])
            }
            let input = try DatasetSelection.open(job.path, in: source)
            let name = destination.name
            func failure(_ what: String, _ error: HDF5Error) -> PipelineError {
                .io("\(what): \(error.reason ?? error.description)", file: name, dataset: job.path, cause: error)
            }
            let result: (summary: DatasetSummary, moments: [Moments])
            switch layout.change {
            case .none:
                let output: Dataset
                do { output = try target.openDataset(job.path) } catch {
                    throw failure("cannot open for writing", error)
                }
                result = try normalize(
                    job, affine: affine, input: input, output: output, outputType: layout.elementType,
                    outputName: name, pass: pass)
                do { try CFAttributes.dropInvalidated(on: output) } catch {
                    throw failure("cannot update attributes", error)
                }
                if let inversion = apply.inversion {
                    do {
                        try clearStatistics(of: job.path, dataset: output, in: target, keep: inversion.keepsStatistics)
                    } catch { throw failure("cannot remove the statistics", error) }
                } else {
                    try writeStatistics(
                        result, of: job, epsilon: options.epsilon, sourceName: source.name, placement: placement,
                        in: target, dataset: output, outputName: name)
                }
            case .replaced(let creation):
                let replacement: DatasetReplacement
                do {
                    replacement = try target.beginReplacing(
                        job.path, elementType: layout.elementType, creation: creation,
                        attributes: CFAttributes.edits(retyping: layout.elementType != job.dataset.elementType))
                } catch { throw failure("cannot create the replacement dataset", error) }
                if layout.elementType != job.dataset.elementType {
                    do { try CFAttributes.updateMatlabClass(on: replacement.dataset, type: layout.elementType) } catch {
                        throw failure("cannot update attributes", error)
                    }
                }
                result = try normalize(
                    job, affine: affine, input: input, output: replacement.dataset,
                    outputType: layout.elementType, outputName: name, pass: pass)
                if let inversion = apply.inversion {
                    do {
                        try clearStatistics(
                            of: job.path, dataset: replacement.dataset, in: target, keep: inversion.keepsStatistics)
                    } catch { throw failure("cannot remove the statistics", error) }
                } else {
                    try writeStatistics(
                        result, of: job, epsilon: options.epsilon, sourceName: source.name, placement: placement,
                        in: target, dataset: replacement.dataset, outputName: name)
                }
                let unresolved: [String]
                do {
                    unresolved = try replacement.finish(in: target)
                } catch { throw failure("cannot put the replacement in place", error) }
                progress?.warned(unresolved.map { "\($0) (\(name):\(job.path))" })
            }
            summaries.append(result.summary)
        }
        if apply.history {
            try writeHistory(apply.commandLine, in: target, name: destination.name)
        }
        try report?.finish()
        return summaries
    }

    private static func normalize(
        _ job: DatasetJob, affine: DatasetStream.Affine, input: borrowing Dataset, output: borrowing Dataset,
        outputType: ElementType, outputName: String, pass: DatasetPass
    ) throws(PipelineError) -> (summary: DatasetSummary, moments: [Moments]) {
        // Inversion computes in float64 whatever the stored type, rounded once when stored.
        let inDouble = affine.direction == .invert || job.computesInDouble(storing: outputType)
        var job = job
        if case .float(16, _) = outputType, !inDouble { job.plan = job.plan.with(float16Output: true) }
        let passes = job.mode == .batch && affine.mean == nil && affine.direction == .normalize ? 2 : 1
        return try pass.run(job, outputName: outputName, bytesPerElement: inDouble ? 8 : 4, passes: passes) {
            (stream, fill) throws(PipelineError) in
            inDouble
                ? try stream.normalize(
                    Double.self, input: input, output: output, storing: outputType, affine: affine, fillCount: fill)
                : try stream.normalize(
                    Float.self, input: input, output: output, storing: outputType, affine: affine, fillCount: fill)
        }
    }
}
