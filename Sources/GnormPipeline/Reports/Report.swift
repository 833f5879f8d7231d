import Foundation
import GroupNormKernel

/// The formats of `stats` and `apply --report` (SPEC §4).
public enum ReportFormat: String, CaseIterable, Sendable {
    case table, csv, json, ndjson

    /// The format a report path asks for by its extension; CSV for `-`.
    public init?(path: String) {
        if path == "-" {
            self = .csv
            return
        }
        let lowered = path.lowercased()
        if lowered.hasSuffix(".csv") {
            self = .csv
        } else if lowered.hasSuffix(".ndjson") || lowered.hasSuffix(".jsonl") {
            self = .ndjson
        } else if lowered.hasSuffix(".json") {
            self = .json
        } else if lowered.hasSuffix(".txt") {
            self = .table
        } else {
            return nil
        }
    }
}

/// What a report says about one dataset besides its rows.
struct ReportedDataset {
    let path: String
    let shape: [Int]
    let elementType: String
    let mode: NormalizationMode
    let groups: Int
    let epsilon: Double
    let layout: ChannelLayout
    /// Values per statistic.
    let count: Int
    let sampleCount: Int
    var perChannel: Bool { mode == .batch }
}

/// Which input files a report's rows come from.
enum ReportedFiles {
    /// One file: the rows carry no file (SPEC §4).
    case one(String)
    /// Several files, each with its own rows: a `file` column (key) first.
    case each([String])
    /// Several files whose statistics were merged (batch mode): rows carry no file.
    case merged([String])
}

/// Writes statistics rows as they are computed: csv and ndjson stream,
/// json and table are written whole at the end.
final class ReportWriter {
    let format: ReportFormat
    private let output: TextOutput
    private let files: ReportedFiles
    /// The file whose rows are being added.
    private var fileName: String
    private var wroteHeader = false
    private var current: ReportedDataset?
    private var finished: [(file: String, dataset: ReportedDataset, rows: [Moments])] = []
    private var rows: [Moments] = []
    /// The table shows at most this many rows per dataset (nil: all).
    let rowLimit: Int?

    convenience init(format: ReportFormat, output: TextOutput, fileName: String, rowLimit: Int? = nil) {
        self.init(format: format, output: output, files: .one(fileName), rowLimit: rowLimit)
    }

    init(format: ReportFormat, output: TextOutput, files: ReportedFiles, rowLimit: Int? = nil) {
        self.format = format
        self.output = output
        self.files = files
        switch files {
        case .one(let name): fileName = name
        case .each(let names), .merged(let names): fileName = names.first ?? ""
        }
        self.rowLimit = rowLimit
    }

    /// The rows added from now on come from `name`.
    func beginFile(_ name: String) { fileName = name }

    private var labelsRows: Bool {
        if case .each = files { return true }
        return false
    }

    func begin(_ dataset: ReportedDataset) {
        current = dataset
        rows = []
    }

    /// Adds the statistics of the next samples (or, per channel, all of them).
    func add(_ moments: [Moments]) throws(PipelineError) {
        guard let dataset = current else { return }
        switch format {
        case .csv:
            var text = ""
            if !wroteHeader {
                text +=
                    (labelsRows ? "file," : "")
                    + (dataset.perChannel ? "dataset,channel,mean,var\n" : "dataset,sample,group,mean,var\n")
                wroteHeader = true
            }
            let key = (labelsRows ? csvField(fileName) + "," : "") + csvField(dataset.path)
            for (offset, moment) in moments.enumerated() {
                let (first, second) = position(rows.count + offset, in: dataset)
                let mean = Self.number(moment.mean)
                let variance = Self.number(moment.variance)
                text +=
                    dataset.perChannel
                    ? "\(key),\(first),\(mean),\(variance)\n"
                    : "\(key),\(first),\(second),\(mean),\(variance)\n"
            }
            try output.write(text)
        case .ndjson:
            var text = ""
            let file = labelsRows ? "\"file\":\(jsonString(fileName))," : ""
            let key = jsonString(dataset.path)
            for (offset, moment) in moments.enumerated() {
                let (first, second) = position(rows.count + offset, in: dataset)
                let mean = Self.json(moment.mean)
                let variance = Self.json(moment.variance)
                text +=
                    dataset.perChannel
                    ? "{\(file)\"dataset\":\(key),\"channel\":\(first),\"mean\":\(mean),\"var\":\(variance)}\n"
                    : "{\(file)\"dataset\":\(key),\"sample\":\(first),\"group\":\(second),"
                        + "\"mean\":\(mean),\"var\":\(variance)}\n"
            }
            try output.write(text)
        case .json, .table:
            break
        }
        rows.append(contentsOf: moments)
    }

    func end() {
        if let current { finished.append((fileName, current, rows)) }
        current = nil
        rows = []
    }

    func finish() throws(PipelineError) {
        switch format {
        case .csv:
            if !wroteHeader { try output.write((labelsRows ? "file," : "") + "dataset,sample,group,mean,var\n") }
        case .ndjson:
            break
        case .json:
            try output.write(jsonDocument())
        case .table:
            try output.write(table())
        }
        try output.synchronize()
    }

    /// Puts a finished report file in place (`TextOutput.commit`): after OUTPUT, so that a
    /// failed run leaves neither.
    func commit() throws(PipelineError) { try output.commit() }

    /// (sample, group) of row `index`, or (channel, 0) per channel.
    private func position(_ index: Int, in dataset: ReportedDataset) -> (Int, Int) {
        dataset.perChannel ? (index, 0) : (index / dataset.groups, index % dataset.groups)
    }

    private func jsonDocument() -> String {
        switch files {
        case .one(let name):
            return "{\"file\":\(jsonString(name)),\"datasets\":[" + jsonDatasets(finished).joined(separator: ",")
                + "]}\n"
        case .merged(let names):
            return "{\"files\":[" + names.map(jsonString).joined(separator: ",") + "],\"datasets\":["
                + jsonDatasets(finished).joined(separator: ",") + "]}\n"
        case .each(let names):
            let byFile = Dictionary(grouping: finished, by: \.file)
            let perFile = names.map { name in
                "{\"file\":\(jsonString(name)),\"datasets\":["
                    + jsonDatasets(byFile[name] ?? []).joined(separator: ",") + "]}"
            }
            return "{\"files\":[" + perFile.joined(separator: ",") + "]}\n"
        }
    }

    private func jsonDatasets(_ entries: [(file: String, dataset: ReportedDataset, rows: [Moments])]) -> [String] {
        var parts: [String] = []
        for (_, dataset, moments) in entries {
            let means: String
            let variances: String
            if dataset.perChannel {
                means = "[" + moments.map { Self.json($0.mean) }.joined(separator: ",") + "]"
                variances = "[" + moments.map { Self.json($0.variance) }.joined(separator: ",") + "]"
            } else {
                let samples = (0..<dataset.sampleCount).map { sample in
                    moments[sample * dataset.groups..<(sample + 1) * dataset.groups]
                }
                means =
                    "["
                    + samples.map { "[" + $0.map { Self.json($0.mean) }.joined(separator: ",") + "]" }
                    .joined(separator: ",") + "]"
                variances =
                    "["
                    + samples.map { "[" + $0.map { Self.json($0.variance) }.joined(separator: ",") + "]" }
                    .joined(separator: ",") + "]"
            }
            parts.append(
                """
                {"dataset":\(jsonString(dataset.path)),\
                "shape":[\(dataset.shape.map(String.init).joined(separator: ","))],\
                "dtype":\(jsonString(dataset.elementType)),"mode":"\(dataset.mode.rawValue)",\
                "groups":\(dataset.groups),\
                "eps":\(Self.json(dataset.epsilon)),"layout":"\(dataset.layout.rawValue)","count":\(dataset.count),\
                "mean":\(means),"var":\(variances)}
                """)
        }
        return parts
    }

    private func table() -> String {
        var lines: [[String]] = []
        var omitted: [String] = []
        // The mode is one per run, so every dataset of a report has the same columns.
        let perChannel = finished.first?.dataset.perChannel ?? false
        let fileColumn = labelsRows ? ["file"] : []
        lines.append(
            fileColumn
                + (perChannel ? ["dataset", "channel", "mean", "var"] : ["dataset", "sample", "group", "mean", "var"]))
        for (file, dataset, moments) in finished {
            let shown = rowLimit.map { min($0, moments.count) } ?? moments.count
            for index in 0..<shown {
                let (first, second) = position(index, in: dataset)
                let moment = moments[index]
                lines.append(
                    (labelsRows ? [file] : []) + [dataset.path, String(first)] + (perChannel ? [] : [String(second)])
                        + [Self.number(moment.mean), Self.number(moment.variance)])
            }
            if shown < moments.count {
                omitted.append("\(dataset.path): \(moments.count - shown) more rows (use --limit 0 or --format csv)")
            }
        }
        let widths = (0..<lines[0].count).map { column in lines.map { $0[column].count }.max() ?? 0 }
        var text = ""
        for line in lines {
            let cells = line.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + pad : pad + cell
            }
            text += cells.joined(separator: "  ") + "\n"
        }
        for note in omitted { text += "… \(note)\n" }
        return text
    }

    /// Shortest text that reads back as the same float64; `nan`, `inf`, `-inf` otherwise.
    static func number(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return "\(value)"
    }

    /// JSON has no NaN or infinities: they are written as null.
    static func json(_ value: Double) -> String {
        value.isFinite ? "\(value)" : "null"
    }

    private func csvField(_ text: String) -> String {
        text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" })
            ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
    }
}

func jsonString(_ text: String) -> String {
    var escaped = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": escaped += "\\\""
        case "\\": escaped += "\\\\"
        case "\n": escaped += "\\n"
        case "\t": escaped += "\\t"
        case "\r": escaped += "\\r"
        default:
            if scalar.value < 0x20 {
                escaped += String(format: "\\u%04x", scalar.value)
            } else {
                escaped.unicodeScalars.append(scalar)
            }
        }
    }
    return escaped + "\""
}
