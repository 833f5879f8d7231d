import GroupNormLoops
import GroupNormLoopsAVX2
import Testing

/// The AVX2 build converts float16 with F16C's instructions, the baseline build with integer lane
/// arithmetic: both must give the bits of Swift's scalar conversions (compiler-rt's
/// `__extendhfsf2`, `__truncsfhf2`), and each other's bits for NaNs, for every float16 pattern
/// widened and for the Floats where rounding to float16 is decided: each float16 value, the
/// midpoints between neighbours and the Floats either side of both, subnormals, the overflow
/// threshold 65520, infinities and NaNs with assorted payloads.
@Suite struct F16CConversionTests {
    static var builds: [(name: String, widen: Widen, narrow: Narrow)] {
        [("baseline", GroupNormLoops.widenHalves, GroupNormLoops.narrowToHalves)]
            + (cpuHasAVX2 ? [("avx2", GroupNormLoopsAVX2.widenHalves, GroupNormLoopsAVX2.narrowToHalves)] : [])
    }

    typealias Widen = (UnsafePointer<UInt16>, UnsafeMutablePointer<Float>, Int) -> Void
    typealias Narrow = (UnsafePointer<Float>, UnsafeMutablePointer<UInt16>, Int) -> Void

    @Test func everyPatternWidens() {
        let patterns = Array(0...UInt16.max)
        for build in Self.builds {
            var floats = [Float](repeating: 0, count: patterns.count)
            build.widen(patterns, &floats, patterns.count)
            #expect(floats.count == 65536)
            let wrong = patterns.indices.filter { !Self.widenedCorrectly(patterns[$0], floats[$0]) }
            #expect(wrong.isEmpty, "\(build.name): \(wrong.count) wrong, first \(wrong.prefix(4).map { patterns[$0] })")
        }
    }

    @Test func roundingBoundariesNarrow() {
        let values = Self.boundaryFloats()
        var results: [[UInt16]] = []
        for build in Self.builds {
            var halves = [UInt16](repeating: 0, count: values.count)
            build.narrow(values, &halves, values.count)
            #expect(halves.count == values.count && values.count > 350_000)
            let wrong = values.indices.filter { !values[$0].isNaN && halves[$0] != Float16(values[$0]).bitPattern }
            #expect(wrong.isEmpty, "\(build.name): \(wrong.count) wrong, first \(wrong.prefix(4).map { values[$0] })")
            let nans = values.indices.filter { values[$0].isNaN }
            #expect(nans.count > 1000 && nans.allSatisfy { Float16(bitPattern: halves[$0]).isNaN })
            results.append(halves)
        }
        // NaNs included: the builds agree bit for bit.
        if results.count == 2 {
            let differing = values.indices.filter { results[0][$0] != results[1][$0] }
            #expect(differing.isEmpty, "\(differing.count) differ, first \(differing.prefix(4).map { values[$0] })")
        }
    }

    /// `float` is `half` widened: the same value, or for a NaN a quiet NaN with its sign and payload
    /// at the top of the significand.
    static func widenedCorrectly(_ half: UInt16, _ float: Float) -> Bool {
        let value = Float16(bitPattern: half)
        guard value.isNaN else { return float.bitPattern == Float(value).bitPattern }
        let expected = UInt32(half & 0x8000) << 16 | 0x7FC0_0000 | UInt32(half & 0x03FF) << 13
        return float.bitPattern == expected
    }

    static func boundaryFloats() -> [Float] {
        var values: [Float] = []
        for bits in UInt16(0)...0x7BFF {
            let low = Float(Float16(bitPattern: bits))
            let high = Float(Float16(bitPattern: bits + 1))
            let midpoint = (low + high) / 2  // exact: Float has 13 more bits
            for value in [low, low.nextUp, midpoint.nextDown, midpoint, midpoint.nextUp, high.nextDown] {
                values += [value, -value]
            }
        }
        let edges: [Float] = [
            65504, Float(65520).nextDown, 65520, Float(65520).nextUp, 100_000, .greatestFiniteMagnitude, .infinity,
            0x1p-25, Float(0x1p-25).nextUp, 0x1p-26, .leastNonzeroMagnitude, .leastNormalMagnitude,
        ]
        for value in edges { values += [value, -value] }
        for payload in stride(from: UInt32(1), to: 1 << 23, by: 4099) {
            values += [Float(bitPattern: 0x7F80_0000 | payload), Float(bitPattern: 0xFF80_0000 | payload)]
        }
        return values
    }
}
