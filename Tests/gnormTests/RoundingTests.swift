import Foundation
import Testing

/// float32 and float16 results within half an ulp of the float64 formula (SPEC §1), checked
/// by `Fixtures/rounding_cases.py` against a longdouble reference (itself checked against
/// exact rationals): every layout, mode and input type, midpoints bit for bit, near-zero
/// results with bias, inputs near float32's limits, --eps 0 on constant groups.
@Suite struct RoundingTests {
    @Test func everyResultIsTheFloat64FormulaRoundedOnce() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try Python.run("rounding_cases.py", ["make", folder])
        try #require(made.status == 0, "\(made.output)")
        let cases = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: folder + "/cases.json")))
        let arguments = try #require(cases as? [[String: Any]]).compactMap { $0["arguments"] as? [String] }
        #expect(arguments.count == 26)
        for (index, caseArguments) in arguments.enumerated() {
            let run = try Gnorm.run(
                ["apply", "-q"] + caseArguments + [folder + "/in.h5", folder + "/out-\(index).h5"])
            #expect(run.status == 0, "case \(index): \(run.stderr)")
            #expect(run.stderr.isEmpty, "case \(index): \(run.stderr)")
        }
        let checked = try Python.run("rounding_cases.py", ["check", folder])
        #expect(checked.status == 0, "\(checked.output)")
        #expect(checked.output.contains("2191660 results, 0 failing cases"), "\(checked.output)")
    }

    /// float64 values near 1e307 (Σx and (x − mean)² overflow float64): finite results, no warning
    /// that the INPUT held NaN or Inf, against NumPy on the data divided by a power of two.
    @Test func float64NearTheMaximumIsNormalizedWithoutWarning() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try Python.run("rounding_cases.py", ["make-huge", folder])
        try #require(made.status == 0, "\(made.output)")
        for layout in ["nchw", "nhwc"] {
            let run = try Gnorm.run(
                [
                    "apply", "-g", "2", "--layout", layout, "--no-progress", folder + "/huge.h5",
                    folder + "/out-\(layout).h5",
                ])
            #expect(run.status == 0, "\(run.stderr)")
            #expect(!run.stderr.contains("warning"), "\(run.stderr)")
            let checked = try Python.run("rounding_cases.py", ["check-huge", folder, layout])
            #expect(checked.status == 0, "\(checked.output)")
            #expect(checked.output.contains("4 datasets, 0 wrong"), "\(checked.output)")
        }
    }
}
