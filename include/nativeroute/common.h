/* Export macro and C++ guards shared by every public header. */
#ifndef NATIVEROUTE_COMMON_H
#define NATIVEROUTE_COMMON_H

#if defined(__GNUC__) && __GNUC__ >= 4
#define NR_API __attribute__((visibility("default")))
#else
#define NR_API
#endif

#ifdef __cplusplus
#define NR_BEGIN_DECLS extern "C" {
#define NR_END_DECLS }
#else
#define NR_BEGIN_DECLS
#define NR_END_DECLS
#endif

#endif
