/* bionic's <assert.h>, for libunwind (see bionic-stand-in.h): nothing under NDEBUG, as
 * scripts/android-unwinder.sh builds it; otherwise bionic's __assert2. Not guarded: like
 * the C library's, each inclusion follows the current NDEBUG. */
#include "bionic-stand-in.h"
#undef assert
#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#define assert(e) ((e) ? (void)0 : __assert2(__FILE__, __LINE__, __PRETTY_FUNCTION__, #e))
#endif
