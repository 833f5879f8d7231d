#ifndef GNORM_CPLATFORM_H
#define GNORM_CPLATFORM_H

// gnorm's platform layer, C half: the system calls that Swift's Glibc, Musl and Darwin modules
// do not import (glibc declares them only under _GNU_SOURCE, or in <malloc.h>), the Linux-only
// hints, and CPU feature detection. Each has a fallback elsewhere, documented at the function;
// Sources/Platform/Platform.swift is the Swift face.

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// `copy_file_range` on Linux (extents cloned or copied in the kernel). Elsewhere -1 with
/// errno ENOSYS: the caller copies through memory.
ssize_t gnorm_copy_file_range(int input, int64_t *input_offset, int output, int64_t *output_offset,
                              size_t length);

/// `syncfs` on Linux: every file of the filesystem holding `descriptor` made durable.
/// Elsewhere -1 with errno ENOSYS: the caller syncs each file.
int gnorm_syncfs(int descriptor);

/// Makes a file's data durable: `fsync`, and on Darwin `fcntl(F_FULLFSYNC)` (fsync there does not
/// flush the drive's cache), with fsync where the filesystem refuses F_FULLFSYNC.
int gnorm_full_fsync(int descriptor);

/// Starts the writeback of a file's dirty pages without waiting (`sync_file_range` with
/// SYNC_FILE_RANGE_WRITE) on Linux; nothing elsewhere (only a head start for the final fsync).
void gnorm_start_writeback(int descriptor);

/// glibc's allocator policy (`mallopt`): blocks of `mmap_threshold` bytes or more mapped, up to
/// `trim_threshold` bytes kept at the top of the heap, at most `arena_max` arenas. Nothing with
/// other C libraries.
void gnorm_tune_allocator(int mmap_threshold, int trim_threshold, int arena_max);

/// `madvise(MADV_POPULATE_READ)` (Linux 5.14): the pages read in, an unreadable or truncated file
/// reported as an error (EFAULT) instead of a SIGBUS on first touch. Kernels before 5.14 answer
/// EINVAL, as do other systems (-1, EINVAL): the caller then reads without a mapping.
int gnorm_populate_read(void *address, size_t length);

/// `madvise(MADV_DONTNEED)`: the pages dropped from the mapping (not from the page cache).
int gnorm_drop_pages(void *address, size_t length);

/// Whether the CPU runs AVX2 and F16C (float16 conversions, which the kernel's AVX2 build uses;
/// every AVX2 CPU has it) and the system saves their registers (`__builtin_cpu_supports`, which
/// checks XCR0 as well as CPUID). false on every CPU other than x86-64.
bool gnorm_cpu_has_avx2(void);

/// Flags of `gnorm_rename2`.
#define GNORM_RENAME_NOREPLACE 1u
#define GNORM_RENAME_EXCHANGE 2u

/// Linux's `renameat2(AT_FDCWD, from, AT_FDCWD, to, flags)` (Linux 3.15; by system call number,
/// which glibc before 2.28 and musl do not wrap), Darwin's `renamex_np` (RENAME_EXCL,
/// RENAME_SWAP): NOREPLACE fails with EEXIST rather than replace what is at `to`; EXCHANGE swaps
/// the two names atomically. 0, or -1 with errno: ENOSYS where the system has no such call,
/// EINVAL where the file system does not take the flag.
int gnorm_rename2(const char *from, const char *to, unsigned int flags);

/// `listxattr(path, names, size)`: INPUT's extended attribute names (Darwin: no options);
/// -1 with ENOTSUP where the system has none.
long gnorm_list_xattr(const char *path, char *names, size_t size);

/// `getxattr(path, name, value, size)`; -1 with ENOTSUP where the system has none.
long gnorm_get_xattr(const char *path, const char *name, void *value, size_t size);

/// `fsetxattr(descriptor, name, value, size, 0)`; -1 with ENOTSUP where the system has none.
int gnorm_set_xattr(int descriptor, const char *name, const void *value, size_t size);

/// Asks the system to start reading a mapping's pages in without waiting (`madvise(MADV_WILLNEED)`),
/// in pieces of 1 MiB: Linux reads at most its read-ahead window (`read_ahead_kb`) per call. Only a
/// hint: nothing where the system has no such advice.
void gnorm_will_need(void *address, size_t length);

/// The same for a file's byte range (`posix_fadvise(POSIX_FADV_WILLNEED)` in pieces of 1 MiB on
/// Linux, `fcntl(F_RDADVISE)` on Darwin; nothing elsewhere).
void gnorm_read_ahead(int descriptor, int64_t offset, int64_t length);

#endif
