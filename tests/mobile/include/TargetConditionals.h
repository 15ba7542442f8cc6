/* A stand-in for the Apple SDK's TargetConditionals.h, so that ring's C code can be
 * compiled for iOS and macOS without Xcode (scripts/mobile.sh). Only the TARGET_OS_*
 * macros ring reads; clang defines __ENVIRONMENT_MAC_OS_X_VERSION_MIN_REQUIRED__ for
 * macOS targets and __ENVIRONMENT_SIMULATOR__ for the -sim targets. */
#ifndef REFRESHKIT_TARGET_CONDITIONALS_H
#define REFRESHKIT_TARGET_CONDITIONALS_H
#define TARGET_OS_MAC 1
#define TARGET_OS_TV 0
#define TARGET_OS_WATCH 0
#define TARGET_OS_VISION 0
#if defined(__ENVIRONMENT_MAC_OS_X_VERSION_MIN_REQUIRED__)
#define TARGET_OS_OSX 1
#define TARGET_OS_IPHONE 0
#define TARGET_OS_IOS 0
#else
#define TARGET_OS_OSX 0
#define TARGET_OS_IPHONE 1
#define TARGET_OS_IOS 1
#endif
#if defined(__ENVIRONMENT_SIMULATOR__)
#define TARGET_OS_SIMULATOR 1
#else
#define TARGET_OS_SIMULATOR 0
#endif
#define TARGET_OS_EMBEDDED (TARGET_OS_IPHONE && !TARGET_OS_SIMULATOR)
#endif
