import Foundation
import GroupNormKernel
import HDF5

/// `stats --save`: batch statistics as an HDF5 file laid out as `apply`'s `/gnorm`
/// (`/gnorm/PATH/mean`, `/gnorm/PATH/var`, float64 of shape (C,)), so that
/// `apply --mode batch --mean FILE.h5:/gnorm/PATH/mean --var FILE.h5:/gnorm/PATH/var`
/// normalizes train, validation and test shards with them.
enum StatisticsFile {
    static func write(
        _ datasets: [(job: DatasetJob, moments: [Moments])], to path: String, epsilon: Double, sources: [String]
    ) throws(PipelineError) {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let temporary = Temporaries.name(for: path)
        let registration = SignalCleanup.register(temporary)
        defer { SignalCleanup.unregister(registration) }
        do {
            let file = try File(creating: temporary)
            for (job, moments) in datasets {
                let group = "/gnorm" + job.path
                let mean = try file.createDataset(group + "/mean", shape: [moments.count], elementType: .float64)
                try mean.writeAll(moments.map(\.mean))
                let variance = try file.createDataset(group + "/var", shape: [moments.count], elementType: .float64)
                try variance.writeAll(moments.map(\.variance))
                let attributes: [(String, AttributeValue)] = [
                    ("mode", .string(job.mode.rawValue)), ("groups", .integer(job.plan.groupCount)),
                    ("eps", .double(epsilon)), ("layout", .string(job.plan.layout.rawValue)),
                    ("source", .string(sources.joined(separator: "\n"))), ("version", .string(GnormVersion.current)),
                    ("count", .double(moments.first?.count ?? 0)),
                ]
                for (name, value) in attributes { try file.setAttribute(name, value, on: group) }
            }
            try file.close()
        } catch {
            unlink(temporary)
            throw .io("cannot write statistics: \(error.reason ?? error.description)", file: path, cause: error)
        }
        let failure = syncFile(temporary)
        guard failure == 0 else {
            unlink(temporary)
            throw .io("cannot write statistics: \(String(cString: strerror(failure)))", file: path)
        }
        // An earlier statistics file is replaced, never anything but a regular file.
        if let refusal = OutputCommit.put(temporary, at: path, policy: .replace) {
            unlink(temporary)
            throw OutputCommit.failure(refusal, name: path)
        }
        syncFolder(folder)
    }
}
