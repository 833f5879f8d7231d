import FuzzDriver
import GnormPipeline

/// A mutated HDF5 file image: `gnorm stats -` answers with statistics or a
/// PipelineError, never a crash in gnorm's code.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStats(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var options = NormalizationOptions()
    options.groups = .count(1)
    options.threadCount = 1
    options.memoryLimit = 1 << 20
    _ = try? StatisticsRun.statistics(ofImage: bytes, options: options)
    return 0
}

// SwiftPM names this executable's entry point `FuzzStats_main`.
@_cdecl("FuzzStats_main")
func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in fuzzStats(data, size) }
}
