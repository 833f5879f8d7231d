import HDF5

/// `gnorm ls`: what INPUT holds, what `apply` would pick by default, and what `invert` can undo.
public enum Listing {
    public enum Format: String, CaseIterable, Sendable { case table, json }

    struct Row {
        let path: String
        let kind: String
        let shape: [Int]?
        let dtype: String
        let chunks: [Int]?
        let filters: [String]
        let selected: Bool
        /// gnorm's statistics (`mean`/`var` of a group with gnorm's attributes, wherever `apply` put it).
        var statistics = false
        /// External raw files, as the dataset names them.
        var external: [String] = []
        /// A virtual dataset's sources.
        var sources: [VirtualSource] = []
        /// Whether `invert` finds its statistics under /gnorm (what it inverts by default).
        var invertible = false
    }

    public static func run(input: String, format: Format) throws(PipelineError) -> String {
        let file = try InputFile.open(input)
        let entries: [ObjectEntry]
        do { entries = try file.objects() } catch {
            throw .io("cannot list objects: \(error.reason ?? error.description)", file: file.name, cause: error)
        }
        var rows: [Row] = []
        for entry in entries where entry.path != "/" {
            switch entry.kind {
            case .dataset:
                do {
                    let dataset = try file.openDataset(entry.path)
                    let shape = dataset.shape
                    let type = dataset.elementType
                    let creation = dataset.creation
                    rows.append(
                        Row(
                            path: entry.path, kind: "dataset", shape: shape, dtype: type.name,
                            chunks: creation.chunkShape,
                            filters: creation.filters.map(\.name),
                            selected: DatasetSelection.isDefaultCandidate(path: entry.path, shape: shape, type: type),
                            statistics: isStatistics(entry.path, in: file),
                            external: try dataset.externalFiles(), sources: try dataset.virtualSources(),
                            invertible: ApplyRun.isInvertible(entry.path, in: file)))
                } catch {
                    throw .datasetOpenFailure(error, file: file.name, dataset: entry.path)
                }
            case .group:
                rows.append(
                    Row(
                        path: entry.path, kind: "group", shape: nil, dtype: "", chunks: nil, filters: [],
                        selected: false))
            case .namedType, .unknown:
                rows.append(
                    Row(
                        path: entry.path, kind: "type", shape: nil, dtype: "", chunks: nil, filters: [], selected: false
                    ))
            }
        }
        return format == .json ? json(rows, file: file.name) : table(rows)
    }

    /// Whether `path` is the `mean` or `var` of a statistics group that `apply` wrote (under
    /// `/gnorm`, AnnData's `/uns/gnorm` or `--stats-group`; `stats --save` and `--stats-file` files too).
    static func isStatistics(_ path: String, in file: borrowing File) -> Bool {
        guard let slash = path.lastIndex(of: "/"), ["mean", "var"].contains(path[path.index(after: slash)...])
        else { return false }
        let group = slash == path.startIndex ? "/" : String(path[..<slash])
        return ["mode", "groups", "eps", "layout", "version"].allSatisfy { file.hasAttribute($0, on: group) }
    }

    private static func table(_ rows: [Row]) -> String {
        func dims(_ shape: [Int]?) -> String {
            guard let shape else { return "-" }
            return "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
        }
        var lines = [["path", "shape", "dtype", "chunks", "filters", "apply", "invert"]]
        for row in rows {
            if row.kind == "group" {
                lines.append([row.path + "/", "", "", "", "", "", ""])
                continue
            }
            lines.append([
                row.path, dims(row.shape), row.dtype, storage(row),
                row.filters.isEmpty ? "-" : row.filters.joined(separator: ","),
                row.selected ? "yes" : row.statistics ? "stats" : "-", row.invertible ? "yes" : "-",
            ])
        }
        let widths = (0..<lines[0].count).map { column in lines.map { $0[column].count }.max() ?? 0 }
        return lines.map { line in
            line.enumerated().map { column, cell in
                column == line.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }.joined(separator: "\n") + "\n"
    }

    /// The table's storage cell: chunk shape, "contiguous", or the files the values are in.
    private static func storage(_ row: Row) -> String {
        if !row.external.isEmpty { return "external: " + row.external.joined(separator: ", ") }
        if !row.sources.isEmpty {
            return "virtual: " + row.sources.map { "\($0.file):\($0.dataset)" }.joined(separator: ", ")
        }
        guard let chunks = row.chunks else { return "contiguous" }
        return "(" + chunks.map(String.init).joined(separator: ", ") + (chunks.count == 1 ? ",)" : ")")
    }

    private static func json(_ rows: [Row], file: String) -> String {
        let objects = rows.map { row -> String in
            var fields = ["\"path\":\(jsonString(row.path))", "\"kind\":\"\(row.kind)\""]
            if row.kind == "dataset" {
                fields.append("\"shape\":[\((row.shape ?? []).map(String.init).joined(separator: ","))]")
                fields.append("\"dtype\":\(jsonString(row.dtype))")
                fields.append(
                    "\"chunks\":"
                        + (row.chunks.map { "[" + $0.map(String.init).joined(separator: ",") + "]" } ?? "null"))
                fields.append("\"filters\":[" + row.filters.map(jsonString).joined(separator: ",") + "]")
                fields.append("\"selected\":\(row.selected)")
                if row.statistics { fields.append("\"statistics\":true") }
                if !row.external.isEmpty {
                    fields.append("\"external\":[" + row.external.map(jsonString).joined(separator: ",") + "]")
                }
                if !row.sources.isEmpty {
                    let sources = row.sources.map {
                        "{\"file\":\(jsonString($0.file)),\"dataset\":\(jsonString($0.dataset))}"
                    }
                    fields.append("\"sources\":[" + sources.joined(separator: ",") + "]")
                }
                fields.append("\"invertible\":\(row.invertible)")
            }
            return "{" + fields.joined(separator: ",") + "}"
        }
        return "{\"file\":\(jsonString(file)),\"objects\":[" + objects.joined(separator: ",") + "]}\n"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        String(reversed().drop { $0 == " " }.reversed())
    }
}
