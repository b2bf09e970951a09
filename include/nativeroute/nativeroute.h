/* libnativeroute: routing control plane for native-routed container and VM
 * networks. Include this umbrella header; the others are parts of it. */
#ifndef NATIVEROUTE_NATIVEROUTE_H
#define NATIVEROUTE_NATIVEROUTE_H

#include "common.h"
#include <nativeroute/version.h> /* generated: in the build tree, not beside this file */
#include "error.h"
#include "opts.h"
#include "types.h"
#include "controller.h"
#include "client.h"

#endif
