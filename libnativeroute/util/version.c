#include "nativeroute/version.h"

#define NR_STR2(x) #x
#define NR_STR(x) NR_STR2(x)

NR_API unsigned int nr_version(void)
{
	return NR_VERSION_HEX;
}

NR_API const char *nr_version_string(void)
{
	return NR_STR(NR_VERSION_MAJOR) "." NR_STR(NR_VERSION_MINOR) "." NR_STR(NR_VERSION_PATCH);
}
