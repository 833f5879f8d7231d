import Foundation
import GroupNormKernel
import Testing

@testable import GnormPipeline

@Suite struct ReportTests {
    @Test func numbersReadBackAsTheSameDouble() {
        for value in [0.1, 1.0 / 3, 1e-5, 123456789.123, Double.leastNonzeroMagnitude, -2.5e300, 0.0] {
            #expect(Double(ReportWriter.number(value)) == value)
        }
        #expect(ReportWriter.number(.nan) == "nan")
        #expect(ReportWriter.json(.infinity) == "null")
    }

    @Test func formatFollowsTheReportExtension() {
        #expect(ReportFormat(path: "-") == .csv)
        #expect(ReportFormat(path: "a/stats.CSV") == .csv)
        #expect(ReportFormat(path: "s.json") == .json)
        #expect(ReportFormat(path: "s.ndjson") == .ndjson)
        #expect(ReportFormat(path: "s.h5") == nil)
    }

    @Test func jsonStringsAreEscaped() {
        #expect(jsonString("a\"b\\c\n") == "\"a\\\"b\\\\c\\n\"")
    }
}
