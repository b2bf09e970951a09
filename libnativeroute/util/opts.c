#include "util/opts_internal.h"

#include <errno.h>
#include <stdint.h>

bool nr_opts_valid(const void *opts, size_t known_sz, size_t user_sz,
		   const char *type_name, struct nr_err *err)
{
	const uint8_t *bytes = opts;

	if (user_sz < sizeof(size_t)) {
		nr_err_set(err, -EINVAL,
			   "struct %s: sz %zu is smaller than the sz field itself; "
			   "declare options with NR_OPTS()", type_name, user_sz);
		return false;
	}
	for (size_t i = known_sz; i < user_sz; i++) {
		if (bytes[i]) {
			nr_err_set(err, -EINVAL,
				   "struct %s: byte %zu is set but this library only knows "
				   "the first %zu bytes (built against newer headers?)",
				   type_name, i, known_sz);
			return false;
		}
	}
	return true;
}
