import Foundation
import GroupNormKernel

/// Kernel throughput on reused buffers: input bytes normalized per second,
/// median of repeated runs, beside memcpy of the same bytes in the same run.
///
///     gnorm-bench [--threads T] [--repeats R] [--layout nchw|nhwc] [--cpu baseline|avx2]
///                 [--shape NxCxHxW[:G]] [--dtype f32|f64]
///
/// `--shape` (repeatable: the rows below, or any other shape, G 32 unless given) and `--dtype`
/// run only those rows, for profiling one of them.
struct Shape {
    let n: Int, c: Int, h: Int, w: Int, groups: Int
    var elements: Int { n * c * h * w }
    var name: String { "\(n)x\(c)x\(h)x\(w) G\(groups)" }
}

let tableShapes = [
    Shape(n: 8, c: 256, h: 64, w: 64, groups: 32),
    Shape(n: 2, c: 512, h: 128, w: 128, groups: 32),
    Shape(n: 1, c: 32, h: 512, w: 512, groups: 1),
    Shape(n: 32, c: 64, h: 56, w: 56, groups: 32),
    Shape(n: 64, c: 256, h: 8, w: 8, groups: 32),
]

nonisolated(unsafe) var threads = ProcessInfo.processInfo.activeProcessorCount
nonisolated(unsafe) var repeats = 9
var arguments = CommandLine.arguments.dropFirst().makeIterator()
var onlyLayout: ChannelLayout? = nil
var onlyShapes: [Shape] = []
var onlyType: String? = nil
nonisolated(unsafe) var instructionSet = InstructionSet.baseline
while let argument = arguments.next() {
    switch argument {
    case "--threads": threads = Int(arguments.next() ?? "") ?? threads
    case "--repeats": repeats = Int(arguments.next() ?? "") ?? repeats
    case "--layout": onlyLayout = ChannelLayout(rawValue: arguments.next() ?? "")
    case "--cpu": instructionSet = InstructionSet(rawValue: arguments.next() ?? "") ?? instructionSet
    case "--shape":
        let text = arguments.next() ?? ""
        let parts = text.split(separator: ":")
        let sizes = parts.first.map { $0.split(separator: "x").compactMap { Int($0) } } ?? []
        guard sizes.count == 4 else {
            FileHandle.standardError.write(Data("gnorm-bench: --shape \(text): expected NxCxHxW or NxCxHxW:G\n".utf8))
            exit(2)
        }
        let listed = tableShapes.first { [$0.n, $0.c, $0.h, $0.w] == sizes }
        let groups = parts.count > 1 ? Int(parts[1]) : nil
        onlyShapes.append(
            Shape(n: sizes[0], c: sizes[1], h: sizes[2], w: sizes[3], groups: groups ?? listed?.groups ?? 32))
    case "--dtype": onlyType = arguments.next()
    default: break
    }
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// memcpy on `threads` threads, as the bandwidth a normalization could at best approach.
func copyBandwidth(bytes: Int) -> Double {
    let source = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    let target = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    defer {
        source.deallocate()
        target.deallocate()
    }
    memset(source, 1, bytes)
    memset(target, 0, bytes)
    nonisolated(unsafe) let from = source
    nonisolated(unsafe) let to = target
    let parts = threads
    let times = (0..<repeats).map { _ in
        seconds {
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                let start = bytes * part / parts
                let end = bytes * (part + 1) / parts
                memcpy(to + start, from + start, end - start)
            }
        }
    }
    return Double(bytes) / median(times)
}

func kernel<E: KernelElement>(_ type: E.Type, _ shape: Shape, layout: ChannelLayout) throws -> Double {
    let plan = try GroupNormPlan(
        channelCount: shape.c, spatialCount: shape.h * shape.w, layout: layout,
        scope: .groups(shape.groups), threadCount: threads
    ).with(instructionSet: instructionSet)
    let input = UnsafeMutableBufferPointer<E>.allocate(capacity: shape.elements)
    let output = UnsafeMutableBufferPointer<E>.allocate(capacity: shape.elements)
    defer {
        input.deallocate()
        output.deallocate()
    }
    var state: UInt64 = 42
    for index in 0..<shape.elements {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        input[index] = E(Double(state >> 11) / Double(1 << 53) * 4 - 2)
    }
    output.initialize(repeating: 0)
    let scale = [Double](repeating: 1.5, count: shape.c)
    let shift = [Double](repeating: 0.25, count: shape.c)
    let times = try (0..<repeats).map { _ in
        try secondsThrowing {
            // What `gnorm apply` runs: statistics and normalization, fused where a group fits in cache.
            _ = try plan.normalizeWithOwnStatistics(
                UnsafeBufferPointer(input), into: output, sampleCount: shape.n,
                scale: scale, shift: shift, epsilon: 1e-5)
        }
    }
    if ProcessInfo.processInfo.environment["GNORM_BENCH_SPLIT"] != nil {
        let m = (0..<repeats).map { _ in
            seconds { _ = plan.moments(of: UnsafeBufferPointer(input), sampleCount: shape.n) }
        }
        let moments = plan.moments(of: UnsafeBufferPointer(input), sampleCount: shape.n)
        let p = NormalizationParameters(
            mean: moments.map(\.mean), variance: moments.map(\.variance), scale: scale, shift: shift, epsilon: 1e-5)
        let z = try (0..<repeats).map { _ in
            try secondsThrowing {
                try plan.normalize(UnsafeBufferPointer(input), into: output, sampleCount: shape.n, parameters: p)
            }
        }
        let bytes = Double(shape.elements * MemoryLayout<E>.size)
        print("  moments \(bytes / median(m) / 1e9) GB/s, normalize \(bytes / median(z) / 1e9) GB/s")
    }
    return Double(shape.elements * MemoryLayout<E>.size) / median(times)
}

extension Sequence {
    func map<T>(_ transform: (Element) throws -> T) throws -> [T] {
        var result: [T] = []
        for element in self { result.append(try transform(element)) }
        return result
    }
}

func secondsThrowing(_ body: () throws -> Void) throws -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

print("shape,dtype,layout,threads,gnorm_GBps,copy_GBps,fraction_of_copy")
for shape in onlyShapes.isEmpty ? tableShapes : onlyShapes {
    for (name, size) in [("f32", 4), ("f64", 8)] where onlyType == nil || onlyType == name {
        for layout in ChannelLayout.allCases where onlyLayout == nil || onlyLayout == layout {
            let copy = copyBandwidth(bytes: shape.elements * size)
            let rate =
                name == "f32"
                ? try kernel(Float.self, shape, layout: layout) : try kernel(Double.self, shape, layout: layout)
            print(
                String(
                    format: "%@,%@,%@,%d,%.2f,%.2f,%.2f", shape.name, name, layout.rawValue, threads,
                    rate / 1e9, copy / 1e9, rate / copy))
        }
    }
}
