#include "bionic-stand-in.h" /* bionic's <stdlib.h>, for libunwind: see bionic-stand-in.h */
