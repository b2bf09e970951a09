/* Refuse interfaces that cannot be a pod's host side (ctl_ep_device.c). */
#ifndef NR_CTL_CTL_EP_DEVICE_H
#define NR_CTL_CTL_EP_DEVICE_H

#include <stdint.h>

#include "util/err.h"

struct nr_ctl;

/* 0, or -EINVAL naming the endpoint and the interface: loopback, a VXLAN
 * device, or the device carrying a node IP (the underlay). */
int nr_ctl_endpoint_device_check(struct nr_ctl *ctl, const char *id, uint32_t ifindex,
				 struct nr_err *err);

#endif
