#include "bionic-stand-in.h" /* bionic's <dlfcn.h>, for libunwind: see bionic-stand-in.h */
