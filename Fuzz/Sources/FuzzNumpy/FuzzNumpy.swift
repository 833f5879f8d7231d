import FuzzDriver
import GnormPipeline

/// Any bytes: the .npy reader either parses them or throws, never traps.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNumpy(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let array = try? NumpyArray(bytes: bytes) {
        precondition(array.values.count == array.shape.reduce(1, *))
    }
    return 0
}

// SwiftPM names this executable's entry point `FuzzNumpy_main`.
@_cdecl("FuzzNumpy_main")
func fuzzerMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in fuzzNumpy(data, size) }
}
