import Foundation
import HDF5

/// Files outside INPUT that a dataset's values live in: external raw storage and the sources
/// of a virtual dataset (SPEC §3). libhdf5 reads them wherever they are named — an external
/// raw file of `/etc/passwd` or `/dev/urandom` was read silently — and by default resolves a
/// relative name against the current directory. gnorm opens every dataset with those names
/// resolved against INPUT's folder (`originRelativeAccess`), and before reading a selected
/// dataset refuses, with status 66 and the path, any file outside that folder unless
/// `--allow-external` is given, and any that does not exist: libhdf5 would read a missing
/// VDS source as the fill value, which gnorm would normalize as data.
enum ExternalFiles {
    /// Fails (66) when `dataset` of INPUT `file` reads values from a file outside INPUT's folder
    /// (unless `allowing`), or from one that is missing.
    static func check(_ dataset: borrowing Dataset, in file: String, allowing: Bool) throws(PipelineError) {
        let place = PipelineError.place(file, dataset.path)
        let external: [String]
        let sources: [VirtualSource]
        do {
            external = try dataset.externalFiles()
            sources = try dataset.virtualSources()
        } catch {
            throw .io(
                "cannot read where its values are stored: \(error.reason ?? error.description)", file: file,
                dataset: dataset.path, cause: error)
        }
        // "." names INPUT itself.
        let others = external + sources.map(\.file).filter { $0 != "." }
        guard !others.isEmpty else { return }
        guard file != InputFile.standardInputName || allowing else {
            throw .inputUnavailable(
                "its values are in other files (\(others.joined(separator: ", "))) "
                    + "and INPUT from standard input has no folder to find them in; pass --allow-external to read them",
                file: place)
        }
        let folder = self.folder(of: file)
        for name in external {
            try checkFile(name, kind: "external raw file", folder: folder, allowing: allowing, place: place)
        }
        for source in sources where source.file != "." {
            // A printf-style pattern (%b: one file per block of an unlimited axis) names files that may come and go.
            let pattern = source.file.contains("%b")
            let name = source.file.replacingOccurrences(of: "%b", with: "0").replacingOccurrences(of: "%%", with: "%")
            let path = try checkFile(
                name, kind: "virtual dataset source", folder: folder, allowing: allowing, place: place,
                mustExist: !pattern, shown: source.file)
            guard !pattern else { continue }
            let found: Bool
            do { found = try File(openingForReading: path).exists(source.dataset) } catch {
                throw .inputUnavailable(
                    "virtual dataset source \(source.file) cannot be opened: \(error.reason ?? error.description)",
                    file: place, cause: error)
            }
            guard found else {
                throw .inputUnavailable(
                    "virtual dataset source \(source.file):\(source.dataset) does not exist; libhdf5 would "
                        + "read its part as the fill value", file: place)
            }
        }
    }

    /// INPUT's folder as libhdf5 takes it for `${ORIGIN}`: the folder of the name it was opened under.
    static func folder(of file: String) -> String {
        let absolute = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
        return URL(fileURLWithPath: absolute).deletingLastPathComponent().path
    }

    /// Where a file named `name` by INPUT is: relative names beside INPUT.
    static func resolve(_ name: String, folder: String) -> String {
        name.hasPrefix("/") ? name : folder + "/" + name
    }

    /// Checks one named file; returns its path.
    @discardableResult
    private static func checkFile(
        _ name: String, kind: String, folder: String, allowing: Bool, place: String, mustExist: Bool = true,
        shown: String? = nil
    ) throws(PipelineError) -> String {
        let path = resolve(name, folder: folder)
        let shown = shown ?? name
        guard let real = realPath(path) else {
            guard mustExist else {
                // The folder of a pattern's files must still be inside INPUT's.
                let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
                if !allowing, let realParent = realPath(parent), !isInside(realParent + "/x", folder: folder) {
                    throw outside(kind, shown, folder: folder, place: place)
                }
                return path
            }
            throw .inputUnavailable("\(kind) \(shown) does not exist (looked for \(path))", file: place)
        }
        if !allowing && !isInside(real, folder: folder) { throw outside(kind, shown, folder: folder, place: place) }
        return path
    }

    private static func outside(_ kind: String, _ name: String, folder: String, place: String) -> PipelineError {
        .inputUnavailable(
            "\(kind) \(name) is outside INPUT's folder \(folder); gnorm reads only files beside INPUT "
                + "unless --allow-external is given", file: place)
    }

    /// Whether `real` (a resolved path) is inside `folder` (resolved here).
    static func isInside(_ real: String, folder: String) -> Bool {
        guard let base = realPath(folder) else { return false }
        return real.hasPrefix(base == "/" ? "/" : base + "/")
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
