/* A stand-in for the few headers of the NDK sysroot (bionic's libc/include) that LLVM's
 * libunwind includes, so that scripts/android-unwinder.sh can compile it for Android
 * without the NDK. What libunwind uses (getenv and __assert2 only without NDEBUG; its
 * 11.0.0 does not use fwrite, dlsym and RTLD_DEFAULT, declared all the same), declared as
 * bionic declares it (compared with AOSP platform/bionic's libc/include at 731631f3, the
 * commit of tests/mobile/android-undefined-symbols.txt): the layouts (pthread_rwlock_t, the
 * ELF program headers, dl_phdr_info, Dl_info) must be bionic's, as the unwinder shares
 * them with libc and the dynamic linker. Nullability and availability annotations are
 * left out. The one-line stdio.h, stdlib.h, string.h, pthread.h, link.h and dlfcn.h next
 * to it include this file; clang's own headers give stdint.h, stddef.h, stdbool.h and
 * limits.h. */
#ifndef REFRESHKIT_BIONIC_STAND_IN_H
#define REFRESHKIT_BIONIC_STAND_IN_H

#include <stddef.h>
#include <stdint.h>

/* bionic's <sys/cdefs.h> defines it; libunwind reads it (ARM EHABI: dl_unwind_find_exidx). */
#define __BIONIC__ 1

#ifdef __cplusplus
extern "C" {
#endif

/* <stdio.h>. stderr is a variable from API 23 (our minimum is 26), not &__sF[2]. */
struct __sFILE;
typedef struct __sFILE FILE;
extern FILE *stderr;
#define stderr stderr
int fflush(FILE *__fp);
int fprintf(FILE *__fp, const char *__fmt, ...) __attribute__((__format__(printf, 2, 3)));
size_t fwrite(const void *__buf, size_t __size, size_t __count, FILE *__fp);
int snprintf(char *__buf, size_t __size, const char *__fmt, ...) __attribute__((__format__(printf, 3, 4)));

/* <stdlib.h>, <malloc.h>, <string.h> */
void abort(void) __attribute__((__noreturn__));
char *getenv(const char *__name);
void *malloc(size_t __byte_count);
void free(void *__ptr);
int memcmp(const void *__lhs, const void *__rhs, size_t __n);
void *memcpy(void *, const void *, size_t);
void *memmove(void *__dst, const void *__src, size_t __n);
void *memset(void *__dst, int __ch, size_t __n);

/* <pthread.h>, <bits/pthread_types.h> */
typedef struct {
#if defined(__LP64__)
  int32_t __private[14];
#else
  int32_t __private[10];
#endif
} pthread_rwlock_t;
#define PTHREAD_RWLOCK_INITIALIZER { { 0 } }
int pthread_rwlock_rdlock(pthread_rwlock_t *__rwlock);
int pthread_rwlock_unlock(pthread_rwlock_t *__rwlock);
int pthread_rwlock_wrlock(pthread_rwlock_t *__rwlock);

/* <elf.h> (the kernel's uapi <linux/elf.h>) and <link.h> */
typedef uint32_t Elf32_Addr;
typedef uint16_t Elf32_Half;
typedef uint32_t Elf32_Off;
typedef uint32_t Elf32_Word;
typedef uint64_t Elf64_Addr;
typedef uint16_t Elf64_Half;
typedef uint64_t Elf64_Off;
typedef uint32_t Elf64_Word;
typedef uint64_t Elf64_Xword;
typedef struct elf32_phdr {
  Elf32_Word p_type;
  Elf32_Off p_offset;
  Elf32_Addr p_vaddr;
  Elf32_Addr p_paddr;
  Elf32_Word p_filesz;
  Elf32_Word p_memsz;
  Elf32_Word p_flags;
  Elf32_Word p_align;
} Elf32_Phdr;
typedef struct elf64_phdr {
  Elf64_Word p_type;
  Elf64_Word p_flags;
  Elf64_Off p_offset;
  Elf64_Addr p_vaddr;
  Elf64_Addr p_paddr;
  Elf64_Xword p_filesz;
  Elf64_Xword p_memsz;
  Elf64_Xword p_align;
} Elf64_Phdr;
#define PT_LOAD 1
#define PT_PHDR 6
#define PT_GNU_EH_FRAME 0x6474e550
#define PT_ARM_EXIDX 0x70000001
#if defined(__LP64__)
#define ElfW(type) Elf64_ ## type
#else
#define ElfW(type) Elf32_ ## type
#endif
struct dl_phdr_info {
  ElfW(Addr) dlpi_addr;
  const char *dlpi_name;
  const ElfW(Phdr) *dlpi_phdr;
  ElfW(Half) dlpi_phnum;
  /* From API 30 on; the callback's size argument says whether they are there. */
  unsigned long long dlpi_adds;
  unsigned long long dlpi_subs;
  size_t dlpi_tls_modid;
  void *dlpi_tls_data;
};
int dl_iterate_phdr(int (*__callback)(struct dl_phdr_info *__info, size_t __size, void *__data), void *__data);
#if defined(__arm__)
typedef uintptr_t _Unwind_Ptr;
_Unwind_Ptr dl_unwind_find_exidx(_Unwind_Ptr, int *);
#endif

/* <dlfcn.h> */
typedef struct {
  const char *dli_fname;
  void *dli_fbase;
  const char *dli_sname;
  void *dli_saddr;
} Dl_info;
int dladdr(const void *__addr, Dl_info *__info);
void *dlsym(void *__handle, const char *__symbol);
#if defined(__LP64__)
#define RTLD_DEFAULT ((void *)0)
#else
#define RTLD_DEFAULT ((void *)0xffffffff)
#endif

/* <assert.h> */
void __assert2(const char *__file, int __line, const char *__function, const char *__msg) __attribute__((__noreturn__));

#ifdef __cplusplus
}
#endif
#endif
