import Foundation
import GroupNormKernel
import HDF5

/// Where `apply` puts the statistics (SPEC §3): under a group of OUTPUT (`/gnorm`, AnnData's
/// `/uns/gnorm`, or `--stats-group`), or in a separate file (`--stats-file`).
enum StatisticsPlacement {
    /// Under `base` + PATH in OUTPUT, the groups and datasets marked as `convention` says.
    case group(base: String, convention: Convention)
    /// In another file, written beside it and renamed once OUTPUT is in place.
    case file(StatisticsFile.Pending)

    /// The attributes that make the statistics readable by the tool that wrote INPUT.
    enum Convention {
        case plain
        /// AnnData's encoding attributes (dict groups, arrays), so that `anndata.read_h5ad`
        /// returns the statistics in `uns`.
        case annData
        /// MATLAB v7.3's classes (struct groups, double arrays), so that MATLAB, mat73 and
        /// hdf5storage load a struct `gnorm`.
        case matlab
    }

    static let defaultBase = "/gnorm"
    /// Where AnnData keeps unstructured data: `read_h5ad` passes every group at the root to
    /// `AnnData()` as a keyword argument, so a `/gnorm` there makes it fail.
    static let annDataBase = "/uns/gnorm"

    /// Whether `file` is an AnnData file (root attribute `encoding-type = "anndata"`).
    static func isAnnData(_ file: borrowing File) -> Bool {
        switch try? file.attribute("encoding-type") {
        case .string("anndata")?, .fixedString("anndata")?: return true
        default: return false
        }
    }

    /// Whether INPUT is a MATLAB v7.3 file: its user block starts with MATLAB's header.
    static func isMatlab(path: String, image: [UInt8]?) -> Bool {
        let header = Array("MATLAB 7.3 MAT-file".utf8)
        if let image { return image.starts(with: header) }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: header.count)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, header.count, 0) }
        return count == header.count && bytes == header
    }

    /// The placement `apply`'s options and INPUT ask for; a `--stats-file` is checked as OUTPUT is.
    static func choose(
        apply: ApplyOptions, input: borrowing File, inputPath: String, image: [UInt8]?, outputPath: String,
        group: any ProcessGroup
    ) throws(PipelineError) -> StatisticsPlacement {
        if let path = apply.statsFile {
            return .file(
                try StatisticsFile.Pending(
                    path: path, force: apply.force, input: inputPath, output: outputPath, group: group))
        }
        let anndata = isAnnData(input)
        let base = apply.statsGroup.map(canonical) ?? (anndata ? annDataBase : defaultBase)
        if let kind = input.kindOfObject(at: base), kind != .group {
            throw .data("--stats-group \(base) names an object that is not a group; name a group", file: input.name)
        }
        let convention: Convention =
            anndata ? .annData : isMatlab(path: inputPath, image: image) ? .matlab : .plain
        return .group(base: base, convention: convention)
    }

    /// `path` without repeated or trailing slashes.
    static func canonical(_ path: String) -> String {
        "/" + path.split(separator: "/").joined(separator: "/")
    }

    /// The statistics group of a dataset, where it is in OUTPUT (nil for a separate file).
    func group(of datasetPath: String) -> String? {
        guard case .group(let base, _) = self else { return nil }
        return base + datasetPath
    }

    /// Removes a statistics file not yet in place.
    func abandon() {
        if case .file(let pending) = self { pending.abandon() }
    }
}

/// What `apply` adds to OUTPUT besides values (SPEC §3): BASE/PATH/mean|var and their
/// attributes, and the gnorm_* attributes of the normalized dataset.
extension ApplyRun {
    static func writeStatistics(
        _ result: (summary: DatasetSummary, moments: [Moments]), of job: DatasetJob, epsilon: Double,
        sourceName: String, placement: StatisticsPlacement,
        in file: borrowing File, dataset: borrowing Dataset, outputName: String
    ) throws(PipelineError) {
        do {
            try writeStatistics(
                result.moments, of: job, epsilon: epsilon, sourceName: sourceName, placement: placement, in: file,
                dataset: dataset)
        } catch {
            throw .io(
                "cannot write statistics: \(error.reason ?? error.description)", file: outputName, dataset: job.path,
                cause: error)
        }
    }

    /// BASE/PATH/mean and /var with their attributes (replacing those of an earlier run), or the
    /// entry of the statistics file; gnorm_* on the dataset.
    static func writeStatistics(
        _ moments: [Moments], of job: DatasetJob, epsilon: Double, sourceName: String,
        placement: StatisticsPlacement, in file: borrowing File, dataset: borrowing Dataset
    ) throws(HDF5Error) {
        // A netCDF-4 classic-model file (netCDF-C marks it with `_nc3_strict`) allows only
        // NC_CHAR text and 32-bit integers: ncdump rejects anything else.
        let classic = file.hasAttribute("_nc3_strict")
        func text(_ value: String) -> AttributeValue { classic ? .fixedString(value) : .string(value) }
        func integer(_ value: Int) -> AttributeValue { classic ? .integer32(Int32(clamping: value)) : .integer(value) }
        switch placement {
        case .file(let pending):
            pending.entries.append(
                StatisticsFile.Entry(job: job, moments: moments, epsilon: epsilon, source: sourceName))
        case .group(let base, let convention):
            try StatisticsFile.writeGroup(
                StatisticsFile.Entry(job: job, moments: moments, epsilon: epsilon, source: sourceName),
                under: base, in: file, text: text, integer: integer)
            switch convention {
            case .plain: break
            case .annData: try StatisticsFile.markAnnData(base + job.path, in: file)
            case .matlab: try StatisticsFile.markMatlab(base + job.path, in: file)
            }
        }
        try dataset.setAttribute("gnorm_mode", text(job.mode.rawValue))
        try dataset.setAttribute("gnorm_groups", integer(job.plan.groupCount))
        try dataset.setAttribute("gnorm_eps", .double(epsilon))
    }
}
