#include "bionic-stand-in.h" /* bionic's <stdio.h>, for libunwind: see bionic-stand-in.h */
