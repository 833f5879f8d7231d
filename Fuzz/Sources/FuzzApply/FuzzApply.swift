import Foundation
import FuzzDriver
import GnormPipeline

/// A mutated HDF5 file as INPUT of `gnorm apply`: OUTPUT is made (byte copy, rewrite in
/// place, replacement of datasets whose type changes, reference remapping, attributes,
/// history) or a PipelineError answers, never a crash in gnorm's code. The file lives in
/// /dev/shm, so a run costs no disk I/O.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzApply(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let input = folder + "/gnorm-fuzz-apply-\(getpid()).h5"
    let output = folder + "/gnorm-fuzz-apply-\(getpid())-out.h5"
    FileManager.default.createFile(atPath: input, contents: Data(bytes: data, count: size))
    defer {
        unlink(input)
        unlink(output)
    }
    var options = NormalizationOptions()
    options.groups = .count(1)
    options.threadCount = 1
    options.memoryLimit = 1 << 20
    var apply = ApplyOptions()
    apply.force = true
    apply.outputType = .f64  // also the replacement path: every dataset changes type
    apply.commandLine = "gnorm apply (fuzz)"
    _ = try? ApplyRun.run(input: input, output: output, options: options, apply: apply)
    return 0
}

// SwiftPM names this executable's entry point `FuzzApply_main`.
@_cdecl("FuzzApply_main")
func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in fuzzApply(data, size) }
}
