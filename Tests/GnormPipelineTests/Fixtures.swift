import Foundation
import HDF5

/// Paths of the committed fixtures (Fixtures/generate.py) and scratch folders.
enum Fixtures {
    static let folder: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("Fixtures").path
    }()

    static func path(_ name: String) -> String { folder + "/" + name }

    /// A fresh empty folder for one test.
    static func scratchFolder() throws -> String {
        let path = NSTemporaryDirectory() + "gnorm-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func read(_ file: String, _ dataset: String) throws -> [Double] {
        try File(openingForReading: file).openDataset(dataset).readAll(as: Double.self)
    }

    /// Largest |a − b|, with NaN required at the same places.
    static func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
        var worst = 0.0
        for (x, y) in zip(a, b) {
            if x.isNaN || y.isNaN {
                if x.isNaN != y.isNaN { return .infinity }
                continue
            }
            worst = max(worst, abs(x - y))
        }
        return worst
    }
}
