import Foundation
import GroupNormKernel
import HDF5
import Platform

/// Statistics as HDF5, laid out as `apply`'s `/gnorm` (`/gnorm/PATH/mean`, `/gnorm/PATH/var`,
/// float64 of shape (N, G), (C,) in batch mode, and the group's attributes): in OUTPUT, in
/// `apply --stats-file FILE.h5`, and in `stats --save FILE.h5`, so that
/// `apply --mode batch --mean FILE.h5:/gnorm/PATH/mean --var FILE.h5:/gnorm/PATH/var`
/// normalizes train, validation and test shards with them.
enum StatisticsFile {
    struct Entry {
        let job: DatasetJob
        let moments: [Moments]
        let epsilon: Double
        /// INPUT's name (`stats --save`: every INPUT's, one a line).
        let source: String
        /// Values per statistic (`stats --save` records it); nil: not written.
        var count: Double? = nil

        var shape: [Int] {
            job.mode == .batch ? [moments.count] : [job.geometry.sampleCount, job.plan.groupCount]
        }
    }

    /// BASE/PATH/mean and /var with the group's attributes, replacing those of an earlier run.
    static func writeGroup(
        _ entry: Entry, under base: String, in file: borrowing File,
        text: (String) -> AttributeValue = { .string($0) }, integer: (Int) -> AttributeValue = { .integer($0) }
    ) throws(HDF5Error) {
        let group = base + entry.job.path
        try file.removeLink(group + "/mean")
        try file.removeLink(group + "/var")
        let mean = try file.createDataset(group + "/mean", shape: entry.shape, elementType: .float64)
        try mean.writeAll(entry.moments.map(\.mean))
        let variance = try file.createDataset(group + "/var", shape: entry.shape, elementType: .float64)
        try variance.writeAll(entry.moments.map(\.variance))
        var attributes: [(String, AttributeValue)] = [
            ("mode", text(entry.job.mode.rawValue)),
            ("groups", integer(entry.job.plan.groupCount)),
            ("eps", .double(entry.epsilon)),
            ("layout", text(entry.job.plan.layout.rawValue)),
            ("source", text(entry.source)),
            ("version", text(GnormVersion.current)),
        ]
        if let count = entry.count { attributes.append(("count", .double(count))) }
        for (name, value) in attributes { try file.setAttribute(name, value, on: group) }
    }

    /// AnnData's encoding attributes on `group`/mean and /var (arrays) and on every group from
    /// the root down to `group` that has none (dicts), so that `read_h5ad` puts them in `uns`.
    static func markAnnData(_ group: String, in file: borrowing File) throws(HDF5Error) {
        try mark(
            group, in: file, unless: "encoding-type",
            groups: [("encoding-type", .string("dict")), ("encoding-version", .string("0.1.0"))],
            statistics: [("encoding-type", .string("array")), ("encoding-version", .string("0.2.0"))])
    }

    /// MATLAB v7.3's classes on `group`/mean and /var (double) and on every group from the root
    /// down to `group` that has none (struct), so that MATLAB loads a struct of structs.
    static func markMatlab(_ group: String, in file: borrowing File) throws(HDF5Error) {
        try mark(
            group, in: file, unless: "MATLAB_class", groups: [("MATLAB_class", .fixedString("struct"))],
            statistics: [("MATLAB_class", .fixedString("double"))])
    }

    /// `groups`' attributes on every group from the root down to `group` that has no `key`
    /// attribute yet, and `statistics`' on `group`/mean and /var.
    private static func mark(
        _ group: String, in file: borrowing File, unless key: String, groups: [(String, AttributeValue)],
        statistics: [(String, AttributeValue)]
    ) throws(HDF5Error) {
        var prefix = ""
        for component in group.split(separator: "/") {
            prefix += "/" + component
            guard !file.hasAttribute(key, on: prefix) else { continue }
            for (name, value) in groups { try file.setAttribute(name, value, on: prefix) }
        }
        for dataset in ["mean", "var"] {
            for (name, value) in statistics { try file.setAttribute(name, value, on: group + "/" + dataset) }
        }
    }

    /// A statistics file being written: made under a temporary name beside `path`, made durable
    /// by `write`, and put in place by `commit` (after OUTPUT), as OUTPUT is. Under MPI,
    /// process 0 writes it.
    final class Pending {
        let path: String
        let temporary: String
        var entries: [Entry] = []
        private var registration: SignalCleanup.Registration?
        private let writes: Bool
        /// What the rename may replace: an earlier statistics file only with `force`.
        private let policy: OutputCommit.Policy

        /// Checks `path` as OUTPUT is checked: not INPUT or OUTPUT, replaced only with `force`.
        init(path: String, force: Bool, input: String, output: String, group: any ProcessGroup)
            throws(PipelineError)
        {
            self.path = path
            writes = group.rank == 0
            policy = force ? .replace : .noReplace
            var status = stat()
            if path == output || path == "-" {
                throw .usage("--stats-file \(path) must be another file than OUTPUT")
            }
            if stat(path, &status) == 0 {
                var inputStatus = stat()
                if input != "-", stat(input, &inputStatus) == 0, inputStatus.st_dev == status.st_dev,
                    inputStatus.st_ino == status.st_ino
                {
                    throw .outputUnavailable("--stats-file is INPUT", file: path)
                }
                if status.st_mode & S_IFMT != S_IFREG {
                    throw .outputUnavailable("--stats-file exists and is not a regular file", file: path)
                }
                guard force else {
                    throw .outputUnavailable("--stats-file exists; use --force to replace it", file: path)
                }
            }
            let url = URL(fileURLWithPath: path)
            let folder = url.deletingLastPathComponent().path
            guard access(folder, W_OK) == 0 else {
                let error = SystemCallError("access", path: folder)
                throw .outputUnavailable("folder \(folder) is not writable", file: path, cause: error)
            }
            temporary = Temporaries.name(for: path, sweeping: writes)
        }

        /// Writes every entry to the temporary file and makes it durable.
        func write() throws(PipelineError) {
            guard writes else { return }
            registration = SignalCleanup.register(temporary)
            do {
                let file = try File(creating: temporary)
                for entry in entries { try writeGroup(entry, under: StatisticsPlacement.defaultBase, in: file) }
                try file.close()
            } catch {
                abandon()
                throw .io("cannot write statistics: \(error.reason ?? error.description)", file: path, cause: error)
            }
            do throws(SystemCallError) {
                try syncFile(temporary)
            } catch {
                abandon()
                throw .io("cannot write statistics: \(error.reason)", file: path, cause: error)
            }
        }

        /// Renames the written file into place, never over a file that appeared meanwhile
        /// unless `force` allowed it, and never over anything but a regular file (`OutputCommit`).
        func commit() throws(PipelineError) {
            guard writes else { return }
            if let refusal = OutputCommit.put(temporary, at: path, policy: policy) {
                abandon()
                throw OutputCommit.failure(refusal, name: path)
            }
            if let registration { SignalCleanup.unregister(registration) }
            registration = nil
            syncFolder(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        }

        func abandon() {
            guard let registration else { return }
            unlink(temporary)
            SignalCleanup.unregister(registration)
            self.registration = nil
        }
    }

    /// `stats --save`: the entries, replacing `path` atomically.
    static func write(_ entries: [Entry], to path: String, group: any ProcessGroup) throws(PipelineError) {
        let pending = try Pending(path: path, force: true, input: "-", output: "", group: group)
        pending.entries = entries
        try pending.write()
        try pending.commit()
    }
}
