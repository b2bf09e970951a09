/* Public enum <-> text. The core owns the spellings; these wrappers give the
 * public contract ("unknown" instead of NULL, no error object). */
#include <errno.h>

#include "ctl/ctl_internal.h"

NR_API const char *nr_routing_mode_str(enum nr_routing_mode mode)
{
	const char *s = nr_config_routing_mode_str(mode);

	return s ? s : "unknown";
}

NR_API int nr_routing_mode_parse(const char *text, enum nr_routing_mode *out)
{
	return text && out ? nr_config_routing_mode_parse(text, out, NULL) : -EINVAL;
}

NR_API const char *nr_ipam_mode_str(enum nr_ipam_mode mode)
{
	const char *s = nr_config_ipam_mode_str(mode);

	return s ? s : "unknown";
}

NR_API int nr_ipam_mode_parse(const char *text, enum nr_ipam_mode *out)
{
	return text && out ? nr_config_ipam_mode_parse(text, out, NULL) : -EINVAL;
}

NR_API const char *nr_event_type_str(enum nr_event_type type)
{
	switch (type) {
	case NR_EVENT_NODE_ADDED: return "node.added";
	case NR_EVENT_NODE_UPDATED: return "node.updated";
	case NR_EVENT_NODE_REMOVED: return "node.removed";
	case NR_EVENT_NODE_UNREACHABLE: return "node.unreachable";
	case NR_EVENT_ROUTE_PROGRAMMED: return "route.programmed";
	case NR_EVENT_ROUTE_REMOVED: return "route.removed";
	case NR_EVENT_DRIFT_REPAIRED: return "drift.repaired";
	case NR_EVENT_ENDPOINT_ADDED: return "endpoint.added";
	case NR_EVENT_ENDPOINT_REMOVED: return "endpoint.removed";
	case NR_EVENT_MODE_CHANGED: return "mode.changed";
	case NR_EVENT_RESYNC: return "resync";
	case NR_EVENT_ERROR: return "error";
	case NR_EVENT_STATE_MIGRATED: return "state.migrated";
	case NR_EVENT_BPF: return "bpf";
	case NR_EVENT_ENDPOINT_GONE: return "endpoint.gone";
	}
	return "unknown";
}
