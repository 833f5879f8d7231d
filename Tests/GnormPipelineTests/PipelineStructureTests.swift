import Foundation
import Platform
import Testing

@testable import GnormPipeline

/// The pipeline's seams (issue 22): errors keep the system call underneath, the process group is
/// the one given, and the transfer plan decides INPUT's mapping once.
@Suite struct PipelineStructureTests {
    @Test func outputFolderThatDoesNotExistKeepsTheFailedStat() throws {
        let missing = NSTemporaryDirectory() + "gnorm-no-such-folder-\(getpid())/out.h5"
        var caught: PipelineError?
        do {
            _ = try OutputDestination.prepare(
                output: missing, input: "-", force: false, inPlace: false, group: SoloProcess())
        } catch { caught = error }
        let error = try #require(caught)
        guard case .outputUnavailable(_, _, let cause) = error else {
            Issue.record("expected outputUnavailable, got \(error)")
            return
        }
        let call = try #require(cause as? SystemCallError)
        #expect(call.call == "stat" && call.code == ENOENT)
    }

    @Test func optionsCarryTheGroupTheCommandGives() {
        var options = NormalizationOptions()
        #expect(options.processGroup.size == 1 && !options.processGroup.sharesFiles)
        let group = SoloProcess()
        options.processGroup = group
        #expect(options.processGroup === group)
    }

    @Test func aMappingIsTakenOnlyWhereWholeSamplesStillFit() {
        let hdf5 = MemoryPlan.HDF5Share()
        func plan(memoryLimit: Int) -> MemoryPlan {
            MemoryPlan(
                sampleCount: 8, sampleElements: 1000, memoryLimit: memoryLimit, hdf5: hdf5, computeSize: 4,
                stagingBytes: 0, mapping: MemoryPlan.Mapping(stagingBytes: 0, mappedBytes: 8), codecs: [],
                threadCount: 2)
        }
        // 8 + 8 bytes per value with the mapping, 8 without: a sample is 16,000 or 8,000 bytes.
        let roomy = plan(memoryLimit: 16_000)
        #expect(roomy.mapsInput)
        guard case .slabs(let slabs) = roomy.shape else { return #expect(Bool(false)) }
        #expect(slabs.samplesPerSlab == 1)
        let tight = plan(memoryLimit: 12_000)
        #expect(!tight.mapsInput)
        #expect(tight.shape == .slabs(SlabPlan(sampleCount: 8, bytesPerSample: 8000, memoryLimit: 12_000)))
    }
}
