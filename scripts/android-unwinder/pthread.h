#include "bionic-stand-in.h" /* bionic's <pthread.h>, for libunwind: see bionic-stand-in.h */
