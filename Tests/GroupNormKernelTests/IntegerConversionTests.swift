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

    func checkExact<Source: FixedWidthInteger>(_ values: [Source]) throws {
        let result = widened(values, threads: 2)
        try #require(result.count == values.count && !values.isEmpty)
        #expect(values.indices.allSatisfy { Source(exactly: result[$0]) == values[$0] }, "\(Source.self)")
    }

    func checkRounded<Source: FixedWidthInteger>(_ values: [Source], threads: Int) throws {
        let result = widened(values, threads: threads)
        try #require(result.count == values.count && !values.isEmpty)
        #expect(
            values.indices.allSatisfy { Double(String(values[$0]))!.bitPattern == result[$0].bitPattern },
            "\(Source.self)")
    }

    /// Integers of up to 16 bits are computed in float32 (exact): every value, across blocks and threads.
    @Test func everyEightAndSixteenBitValueIsExactAsFloat() throws {
        func check<Source: FixedWidthInteger>(_ values: [Source]) throws {
            let repeated = Array(repeating: values, count: 3).flatMap { $0 }
            var floats = [Float](repeating: .nan, count: repeated.count)
            repeated.withUnsafeBufferPointer { source in
                floats.withUnsafeMutableBufferPointer { IntegerConversion.widen(source, into: $0, threadCount: 3) }
            }
            try #require(floats.count == repeated.count && !repeated.isEmpty)
            #expect(repeated.indices.allSatisfy { Source(exactly: floats[$0]) == repeated[$0] }, "\(Source.self)")
        }
        try check((UInt8.min...UInt8.max).map { $0 })
        try check((Int8.min...Int8.max).map { $0 })
        try check((UInt16.min...UInt16.max).map { $0 })
        try check((Int16.min...Int16.max).map { $0 })
    }

    @Test func everyEightAndSixteenBitValueIsExact() throws {
        try checkExact((UInt8.min...UInt8.max).map { $0 })
        try checkExact((Int8.min...Int8.max).map { $0 })
        try checkExact((UInt16.min...UInt16.max).map { $0 })
        try checkExact((Int16.min...Int16.max).map { $0 })
    }

    @Test func wideIntegersRoundToNearestAcrossBlocksAndThreads() throws {
        var generator = SplitMix(state: 11)
        let random64 = (0..<(2 * IntegerConversion.blockLength + 17)).map { _ in
            generator.next() >> (generator.next() % 64)
        }
        try checkRounded(random64, threads: 1)
        try checkRounded(random64.map { Int64(bitPattern: $0) }, threads: 3)
        try checkExact(random64.map { UInt32(truncatingIfNeeded: $0) })
        try checkExact(random64.map { Int32(truncatingIfNeeded: $0) } + [.min, .max, 0, -1])
        try checkRounded([Int64.max, .min, 1 << 53 + 1, -(1 << 53) - 1, 0], threads: 2)
    }
}
