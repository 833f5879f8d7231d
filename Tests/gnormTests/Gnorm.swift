import Foundation
import HDF5

/// Runs the built gnorm binary and captures what it printed.
struct Run {
    let status: Int32
    let stdout: String
    let stderr: String
    let stdoutBytes: Data
}

enum Gnorm {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let binary: String = {
        // `make test-mpi` runs this suite against the MPI build, built in its own scratch path.
        if let path = ProcessInfo.processInfo.environment["GNORM_TEST_BINARY"], !path.isEmpty { return path }
        for configuration in ["debug", "release"] {
            let path = root + "/.build/\(configuration)/gnorm"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return root + "/.build/debug/gnorm"
    }()

    static func fixture(_ name: String) -> String { root + "/Fixtures/" + name }

    /// Runs gnorm (or, with `shell`, `/bin/sh` with these arguments) and waits.
    @discardableResult
    static func run(
        _ arguments: [String], stdin: Data? = nil, in folder: String? = nil, shell: Bool = false,
        environment: [String: String] = [:]
    ) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: shell ? "/bin/sh" : binary)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        // Drain both pipes concurrently so a large output cannot block the child; the group's wait
        // returns when the reader has seen the end of stderr (the child and its children exited).
        nonisolated(unsafe) var errorData = Data()
        let errorReader = DispatchGroup()
        DispatchQueue.global().async(group: errorReader) {
            errorData = err.fileHandleForReading.readDataToEndOfFile()
        }
        if let stdin { try input.fileHandleForWriting.write(contentsOf: stdin) }
        try input.fileHandleForWriting.close()
        let outputData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        errorReader.wait()
        return Run(
            status: process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self),
            stderr: String(decoding: errorData, as: UTF8.self), stdoutBytes: outputData)
    }

    static func scratchFolder() throws -> String {
        let path = NSTemporaryDirectory() + "gnorm-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func read(_ file: String, _ dataset: String) throws -> [Double] {
        try File(openingForReading: file).openDataset(dataset).readAll(as: Double.self)
    }

    /// The files in `folder`, hidden temporaries included.
    static func listing(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }
}

/// Whether `values` and `reference` have the same, non-zero count and every pair satisfies
/// `close`: an empty or short OUTPUT fails rather than passing vacuously.
func elementwise(_ values: [Double], _ reference: [Double], _ close: (Double, Double) -> Bool) -> Bool {
    guard values.count == reference.count, !values.isEmpty else { return false }
    for index in values.indices where !close(values[index], reference[index]) { return false }
    return true
}
