/* bionic's <inttypes.h>, for libunwind (see bionic-stand-in.h): the PRI* macros it uses
 * (and their neighbours), spelled as clang's predefined format macros for the target,
 * which agree with bionic's ("l" for 64-bit and pointer-sized on LP64, "ll" and "" on LP32). */
#ifndef REFRESHKIT_INTTYPES_H
#define REFRESHKIT_INTTYPES_H
#include <stdint.h>
#define PRId32 __INT32_FMTd__
#define PRIi32 __INT32_FMTi__
#define PRIu32 __UINT32_FMTu__
#define PRIx32 __UINT32_FMTx__
#define PRIX32 __UINT32_FMTX__
#define PRId64 __INT64_FMTd__
#define PRIi64 __INT64_FMTi__
#define PRIu64 __UINT64_FMTu__
#define PRIx64 __UINT64_FMTx__
#define PRIX64 __UINT64_FMTX__
#define PRIdPTR __INTPTR_FMTd__
#define PRIiPTR __INTPTR_FMTi__
#define PRIuPTR __UINTPTR_FMTu__
#define PRIxPTR __UINTPTR_FMTx__
#define PRIXPTR __UINTPTR_FMTX__
#endif
