import FuzzDriver
import GnormPipeline

/// Any text: SPEC parsing classifies it or refuses it, never traps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSpec(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = ParameterSource(spec: text)
    _ = CompressionChoice(argument: text)
    _ = ReportFormat(path: text)
    return 0
}

// SwiftPM names this executable's entry point `FuzzSpec_main`.
@_cdecl("FuzzSpec_main")
func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in fuzzSpec(data, size) }
}
