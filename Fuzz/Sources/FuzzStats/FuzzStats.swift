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

// SwiftPM links an executable's entry point as `FuzzStats_main`; it hands control
// to libFuzzer's driver with the function above.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32
) -> Int32

@_cdecl("FuzzStats_main")
func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return runFuzzerDriver(&count, &vector) { data, size in fuzzStats(data, size) }
}
