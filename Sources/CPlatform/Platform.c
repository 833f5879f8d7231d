// gnorm's platform layer, C half (include/CPlatform.h says what each function does where).
#ifdef __linux__
#define _GNU_SOURCE
#endif

#include "CPlatform.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__linux__)
#include <sys/syscall.h>
#include <sys/xattr.h>
#elif defined(__APPLE__)
#include <stdio.h>
#include <sys/xattr.h>
#endif

#ifdef __linux__
// Headers older than Linux 5.14's lack the constant; the kernel's value is fixed by its ABI, and a
// kernel that does not know it answers EINVAL.
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#endif

ssize_t gnorm_copy_file_range(int input, int64_t *input_offset, int output, int64_t *output_offset,
                              size_t length) {
#ifdef __linux__
    loff_t in = *input_offset, out = *output_offset;
    ssize_t copied = copy_file_range(input, &in, output, &out, length, 0);
    *input_offset = in;
    *output_offset = out;
    return copied;
#else
    (void)input, (void)input_offset, (void)output, (void)output_offset, (void)length;
    errno = ENOSYS;
    return -1;
#endif
}

int gnorm_syncfs(int descriptor) {
#ifdef __linux__
    return syncfs(descriptor);
#else
    (void)descriptor;
    errno = ENOSYS;
    return -1;
#endif
}

int gnorm_full_fsync(int descriptor) {
#ifdef __APPLE__
    if (fcntl(descriptor, F_FULLFSYNC) == 0) return 0;
#endif
    return fsync(descriptor);
}

void gnorm_start_writeback(int descriptor) {
#ifdef __linux__
    (void)sync_file_range(descriptor, 0, 0, SYNC_FILE_RANGE_WRITE);
#else
    (void)descriptor;
#endif
}

void gnorm_tune_allocator(int mmap_threshold, int trim_threshold, int arena_max) {
#if defined(__linux__) && defined(__GLIBC__)
    (void)mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    (void)mallopt(M_TRIM_THRESHOLD, trim_threshold);
    (void)mallopt(M_ARENA_MAX, arena_max);
#else
    (void)mmap_threshold, (void)trim_threshold, (void)arena_max;
#endif
}

int gnorm_populate_read(void *address, size_t length) {
#ifdef __linux__
    return madvise(address, length, MADV_POPULATE_READ);
#else
    (void)address, (void)length;
    errno = EINVAL;
    return -1;
#endif
}

int gnorm_drop_pages(void *address, size_t length) { return madvise(address, length, MADV_DONTNEED); }

bool gnorm_cpu_has_avx2(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
#else
    return false;
#endif
}

int gnorm_rename2(const char *from, const char *to, unsigned int flags) {
#if defined(__linux__) && defined(SYS_renameat2)
    return (int)syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, flags);
#elif defined(__APPLE__)
    unsigned int darwin = ((flags & GNORM_RENAME_NOREPLACE) ? RENAME_EXCL : 0) |
                          ((flags & GNORM_RENAME_EXCHANGE) ? RENAME_SWAP : 0);
    return renamex_np(from, to, darwin);
#else
    (void)from, (void)to, (void)flags;
    errno = ENOSYS;
    return -1;
#endif
}

long gnorm_list_xattr(const char *path, char *names, size_t size) {
#if defined(__linux__)
    return (long)listxattr(path, names, size);
#elif defined(__APPLE__)
    return (long)listxattr(path, names, size, 0);
#else
    (void)path, (void)names, (void)size;
    errno = ENOTSUP;
    return -1;
#endif
}

long gnorm_get_xattr(const char *path, const char *name, void *value, size_t size) {
#if defined(__linux__)
    return (long)getxattr(path, name, value, size);
#elif defined(__APPLE__)
    return (long)getxattr(path, name, value, size, 0, 0);
#else
    (void)path, (void)name, (void)value, (void)size;
    errno = ENOTSUP;
    return -1;
#endif
}

int gnorm_set_xattr(int descriptor, const char *name, const void *value, size_t size) {
#if defined(__linux__)
    return fsetxattr(descriptor, name, value, size, 0);
#elif defined(__APPLE__)
    return fsetxattr(descriptor, name, value, size, 0, 0);
#else
    (void)descriptor, (void)name, (void)value, (void)size;
    errno = ENOTSUP;
    return -1;
#endif
}

// Linux's madvise and fadvise read at most max(read_ahead_kb, the device's largest request) per
// call (force_page_cache_ra): 1 MiB pieces get the whole range read on common settings.
#define GNORM_READ_AHEAD_PIECE ((size_t)1 << 20)

void gnorm_will_need(void *address, size_t length) {
#ifdef MADV_WILLNEED
    for (size_t done = 0; done < length; done += GNORM_READ_AHEAD_PIECE) {
        size_t piece = length - done < GNORM_READ_AHEAD_PIECE ? length - done : GNORM_READ_AHEAD_PIECE;
        (void)madvise((char *)address + done, piece, MADV_WILLNEED);
    }
#else
    (void)address, (void)length;
#endif
}

void gnorm_read_ahead(int descriptor, int64_t offset, int64_t length) {
#if defined(__linux__)
    for (int64_t done = 0; done < length; done += (int64_t)GNORM_READ_AHEAD_PIECE) {
        int64_t piece = length - done < (int64_t)GNORM_READ_AHEAD_PIECE ? length - done
                                                                         : (int64_t)GNORM_READ_AHEAD_PIECE;
        (void)posix_fadvise(descriptor, (off_t)(offset + done), (off_t)piece, POSIX_FADV_WILLNEED);
    }
#elif defined(__APPLE__)
    if (length > INT32_MAX) length = INT32_MAX;
    struct radvisory advice = {.ra_offset = (off_t)offset, .ra_count = (int)length};
    (void)fcntl(descriptor, F_RDADVISE, &advice);
#else
    (void)descriptor, (void)offset, (void)length;
#endif
}
