/* The caller's pointer on a controller (libuv's handle->data): stored for the
 * caller, never read by the library. */
#include "ctl/ctl_internal.h"

NR_API void nr_ctl_set_data(struct nr_ctl *ctl, void *data)
{
	if (ctl)
		ctl->user_data = data;
}

NR_API void *nr_ctl_get_data(const struct nr_ctl *ctl)
{
	return ctl ? ctl->user_data : NULL;
}
