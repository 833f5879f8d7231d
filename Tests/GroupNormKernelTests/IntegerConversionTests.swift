import GroupNormKernel
import Testing

/// Integer widening: every value of the narrow types round-trips exactly; wide values
/// equal the correctly rounded parse of their decimal text (an independent rounding).
@Suite struct IntegerConversionTests {
    func widened<Source: FixedWidthInteger>(_ values: [Source], threads: Int) -> [Double] {
        var widened = [Double](repeating: .nan, count: values.count)
        values.withUnsafeBufferPointer { source in
            widened.withUnsafeMutableBufferPointer { IntegerConversion.widen(source, into: $0, threadCount: threads) }
        }
        return widened
    }

    func checkExact<Source: FixedWidthInteger>(_ values: [Source]) {
        let result = widened(values, threads: 2)
        #expect(result.count == values.count && !values.isEmpty)
        #expect(zip(values, result).allSatisfy { Source(exactly: $1) == $0 }, "\(Source.self)")
    }

    func checkRounded<Source: FixedWidthInteger>(_ values: [Source], threads: Int) {
        let result = widened(values, threads: threads)
        #expect(result.count == values.count && !values.isEmpty)
        #expect(zip(values, result).allSatisfy { Double(String($0))!.bitPattern == $1.bitPattern }, "\(Source.self)")
    }

    /// Integers of up to 16 bits are computed in float32 (exact): every value, across blocks and threads.
    @Test func everyEightAndSixteenBitValueIsExactAsFloat() {
        func check<Source: FixedWidthInteger>(_ values: [Source]) {
            let repeated = Array(repeating: values, count: 3).flatMap { $0 }
            var floats = [Float](repeating: .nan, count: repeated.count)
            repeated.withUnsafeBufferPointer { source in
                floats.withUnsafeMutableBufferPointer { IntegerConversion.widen(source, into: $0, threadCount: 3) }
            }
            #expect(floats.count == repeated.count)
            #expect(zip(repeated, floats).allSatisfy { Source(exactly: $1) == $0 }, "\(Source.self)")
        }
        check((UInt8.min...UInt8.max).map { $0 })
        check((Int8.min...Int8.max).map { $0 })
        check((UInt16.min...UInt16.max).map { $0 })
        check((Int16.min...Int16.max).map { $0 })
    }

    @Test func everyEightAndSixteenBitValueIsExact() {
        checkExact((UInt8.min...UInt8.max).map { $0 })
        checkExact((Int8.min...Int8.max).map { $0 })
        checkExact((UInt16.min...UInt16.max).map { $0 })
        checkExact((Int16.min...Int16.max).map { $0 })
    }

    @Test func wideIntegersRoundToNearestAcrossBlocksAndThreads() {
        var generator = SplitMix(state: 11)
        let random64 = (0..<(2 * IntegerConversion.blockLength + 17)).map { _ in
            generator.next() >> (generator.next() % 64)
        }
        checkRounded(random64, threads: 1)
        checkRounded(random64.map { Int64(bitPattern: $0) }, threads: 3)
        checkExact(random64.map { UInt32(truncatingIfNeeded: $0) })
        checkExact(random64.map { Int32(truncatingIfNeeded: $0) } + [.min, .max, 0, -1])
        checkRounded([Int64.max, .min, 1 << 53 + 1, -(1 << 53) - 1, 0], threads: 2)
    }
}
