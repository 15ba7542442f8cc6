#include "bionic-stand-in.h" /* bionic's <link.h>, for libunwind: see bionic-stand-in.h */
