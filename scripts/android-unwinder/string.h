#include "bionic-stand-in.h" /* bionic's <string.h>, for libunwind: see bionic-stand-in.h */
