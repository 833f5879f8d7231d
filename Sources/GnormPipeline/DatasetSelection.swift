import HDF5

/// A dataset of INPUT chosen for normalization, with what was read about it.
struct SelectedDataset {
    let path: String
    let shape: [Int]
    let elementType: ElementType
}

/// Which datasets `apply` and `stats` process.
enum DatasetSelection {
    /// Whether the default selection takes a dataset: numeric, rank ≥ 3, not gnorm's own statistics.
    static func isDefaultCandidate(path: String, shape: [Int], type: ElementType) -> Bool {
        type.isNumeric && shape.count >= 3 && !path.hasPrefix("/gnorm/")
    }

    /// The datasets named by `-d` (in order, absolute paths), or by default every candidate.
    static func select(_ requested: [String], in file: borrowing File) throws(PipelineError) -> [SelectedDataset] {
        let entries: [ObjectEntry]
        do { entries = try file.objects() } catch {
            throw .io("cannot list objects: \(error.reason ?? error.description)", file: file.name, cause: error)
        }
        let datasetPaths = entries.filter { $0.kind == .dataset }.map(\.path)
        var selected: [SelectedDataset] = []
        if requested.isEmpty {
            for path in datasetPaths {
                let dataset = try open(path, in: file)
                let shape = dataset.shape, type = dataset.elementType
                if isDefaultCandidate(path: path, shape: shape, type: type) {
                    selected.append(SelectedDataset(path: path, shape: shape, elementType: type))
                }
            }
            guard !selected.isEmpty else {
                let found = datasetPaths.isEmpty ? "it has no datasets" : "datasets: " + datasetPaths.joined(separator: ", ")
                throw .data("no numeric dataset of rank ≥ 3 to normalize; name one with -d (\(found))", file: file.name)
            }
            return selected
        }
        for name in requested {
            // A soft link names its target: that dataset is normalized and the link kept.
            let path = file.resolvingSoftLinks(name.hasPrefix("/") ? name : "/" + name)
            guard file.exists(path), file.kindOfObject(at: path) == .dataset else {
                let known = datasetPaths.isEmpty ? "it has no datasets" : "datasets: " + datasetPaths.joined(separator: ", ")
                throw .data("dataset not found; \(known)", file: file.name, dataset: path)
            }
            guard !selected.contains(where: { $0.path == path }) else { continue }
            let dataset = try open(path, in: file)
            let type = dataset.elementType
            guard type.isNumeric else {
                throw .data("element type \(type.name) is not supported; expected float16/32/64 or integers",
                            file: file.name, dataset: path)
            }
            selected.append(SelectedDataset(path: path, shape: dataset.shape, elementType: type))
        }
        return selected
    }

    /// Opens a dataset of INPUT; a failure is a read failure (74) naming it.
    static func open(_ path: String, in file: borrowing File) throws(PipelineError) -> Dataset {
        do { return try file.openDataset(path) } catch {
            throw .io("cannot open dataset: \(error.reason ?? error.description)", file: file.name, dataset: path, cause: error)
        }
    }
}
