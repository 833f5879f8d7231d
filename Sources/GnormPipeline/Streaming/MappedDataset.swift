import HDF5
import Platform

/// A contiguous dataset's stored bytes, mapped read-only from INPUT's file.
///
/// The kernel then reads float32 and float64 values straight from the page cache, and
/// integers and float16 are widened from there: no copy of the slab into a buffer first
/// (that copy was a third of `gnorm stats`' time). Each slab's pages are populated before
/// use with `MADV_POPULATE_READ`, which reports an unreadable or truncated file as an
/// error where touching the page would raise SIGBUS, and dropped from the mapping after
/// (`MADV_DONTNEED`), so resident memory stays within two slabs as with buffers.
final class MappedDataset {
    // Set once in init; the mapped pages are only read, by any thread.
    private let mapping: UnsafeMutableRawPointer
    private let mappingLength: Int
    /// Where the dataset's first byte is in the mapping.
    private let valuesStart: Int
    private let sampleBytes: Int
    let elementType: ElementType

    private static let pageSize = System.pageSize

    /// Below this many bytes HDF5's read is cheaper than setting up and tearing down a mapping.
    static let smallestMapped = 8 << 20

    /// nil where the values are not one plain byte range of a POSIX file that the kernel can
    /// populate (chunked, compact, external or unallocated storage, file images, MPI-IO), or
    /// are fewer than `smallestMapped` bytes.
    init?(_ dataset: borrowing Dataset, sampleCount: Int, sampleElements: Int) {
        let elementType = dataset.elementType
        let elementBytes = elementType.byteCount
        guard elementBytes > 0, let descriptor = dataset.fileDescriptor(),
            case .contiguous(let range?) = try? dataset.storage(),
            range.count == sampleCount * sampleElements * elementBytes, range.count >= Self.smallestMapped,
            range.lowerBound % elementBytes == 0
        else { return nil }
        let start = range.lowerBound / Self.pageSize * Self.pageSize
        let length = range.upperBound - start
        let address = mmap(nil, length, PROT_READ, MAP_SHARED, descriptor, off_t(start))
        guard let address, address != MAP_FAILED else { return nil }
        // Linux ≥ 5.14 only; older kernels and other systems answer EINVAL and gnorm reads through HDF5.
        do { try System.populate(address, count: min(length, Self.pageSize)) } catch {
            munmap(address, length)
            return nil
        }
        mapping = address
        mappingLength = length
        valuesStart = range.lowerBound - start
        sampleBytes = sampleElements * elementBytes
        self.elementType = elementType
    }

    deinit { munmap(mapping, mappingLength) }

    /// Brings the pages of samples `rows` into the mapping, failing as a read would, then starts
    /// reading as many samples after them (`MADV_WILLNEED`): slabs are read in order, so the
    /// disk reads the next slab while this one is computed and the previous one written, and its
    /// populate finds the pages in the page cache (not in this process: the plan's two slabs of
    /// mapped pages stay the bound on resident memory).
    func prepare(rows: Range<Int>) throws(TransferError) {
        let range = pages(rows, inner: false)
        guard !range.isEmpty else { return }
        do { try System.populate(mapping + range.lowerBound, count: range.count) } catch { throw .mapping(error) }
        readAhead(rows: rows.upperBound..<rows.upperBound + rows.count)
    }

    /// Starts reading the pages of samples `rows` into the page cache without waiting (those past
    /// the dataset's end are left out). Only a hint.
    func readAhead(rows: Range<Int>) {
        let range = pages(rows, inner: false)
        guard !range.isEmpty else { return }
        System.willNeed(mapping + range.lowerBound, count: range.count)
    }

    /// The stored bytes of samples `rows`, prepared.
    func bytes(rows: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(
            start: mapping + valuesStart + rows.lowerBound * sampleBytes, count: rows.count * sampleBytes)
    }

    /// The values of samples `rows`, stored as `T`.
    func values<T>(rows: Range<Int>, as type: T.Type) -> UnsafeBufferPointer<T> {
        bytes(rows: rows).assumingMemoryBound(to: T.self)
    }

    /// Drops the pages only samples `rows` use from the mapping (not from the page cache).
    func release(rows: Range<Int>) {
        let range = pages(rows, inner: true)
        guard !range.isEmpty else { return }
        System.dropPages(mapping + range.lowerBound, count: range.count)
    }

    /// The page-aligned byte range in the mapping around samples `rows` (`inner`: within them).
    private func pages(_ rows: Range<Int>, inner: Bool) -> Range<Int> {
        let first = valuesStart + rows.lowerBound * sampleBytes
        let end = valuesStart + rows.upperBound * sampleBytes
        let page = Self.pageSize
        let lower = (inner ? first + page - 1 : first) / page * page
        let upper = min(mappingLength, (inner ? end : end + page - 1) / page * page)
        return lower < upper ? lower..<upper : 0..<0
    }
}
