/* Version of the headers (compile time) and of the library (run time). */
#ifndef NATIVEROUTE_VERSION_H
#define NATIVEROUTE_VERSION_H

#include "common.h"

#define NR_VERSION_MAJOR 1
#define NR_VERSION_MINOR 0
#define NR_VERSION_PATCH 0

/* 0x00MMmmpp, comparable with <, like UV_VERSION_HEX. */
#define NR_VERSION_HEX \
	((NR_VERSION_MAJOR << 16) | (NR_VERSION_MINOR << 8) | NR_VERSION_PATCH)

NR_BEGIN_DECLS

/* The running library's version as NR_VERSION_HEX; compare it with the
 * header's to detect a program built against newer headers than it runs on. */
NR_API unsigned int nr_version(void);

/* The running library's version as "MAJOR.MINOR.PATCH". Static storage. */
NR_API const char *nr_version_string(void);

NR_END_DECLS

#endif
