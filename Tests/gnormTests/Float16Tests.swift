import Foundation
import Testing

/// float16 results against NumPy's float64 reference rounded once to float16,
/// bit for bit (`Fixtures/float16_cases.py`, which holds the cases).
@Suite struct Float16Tests {
    @Test func everyFloat16ResultIsTheCorrectlyRoundedReference() throws {
        let folder = try Gnorm.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let made = try Python.run("float16_cases.py", ["make", folder])
        try #require(made.status == 0, "\(made.output)")
        let cases = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: folder + "/cases.json")))
        let arguments = try #require(cases as? [[String: Any]]).compactMap { $0["arguments"] as? [String] }
        #expect(arguments.count == 10)
        for (index, caseArguments) in arguments.enumerated() {
            let run = try Gnorm.run(
                ["apply", "-q"] + caseArguments + [folder + "/in.h5", folder + "/out-\(index).h5"])
            #expect(run.status == 0, "case \(index): \(run.stderr)")
        }
        let checked = try Python.run("float16_cases.py", ["check", folder])
        #expect(checked.status == 0, "\(checked.output)")
        #expect(checked.output.contains("2048000 float16 results, 0 wrong"), "\(checked.output)")
    }
}
