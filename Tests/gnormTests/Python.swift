import Foundation

/// The Python that holds the tests' references (h5py, NumPy, netCDF4, xarray):
/// `make test` sets up `.venv` and names it in GNORM_TEST_PYTHON.
enum Python {
    static let executable: String =
        ProcessInfo.processInfo.environment["GNORM_TEST_PYTHON"]
        ?? (FileManager.default.isExecutableFile(atPath: Gnorm.root + "/.venv/bin/python")
            ? Gnorm.root + "/.venv/bin/python" : "/usr/bin/env")

    /// Runs `Fixtures/SCRIPT` with `arguments`; returns its status and what it printed.
    static func run(
        _ script: String, _ arguments: [String], environment: [String: String] = [:]
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.executableURL = URL(fileURLWithPath: executable)
        let prefix = executable == "/usr/bin/env" ? ["python3"] : []
        process.arguments = prefix + [Gnorm.fixture(script)] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
