/* The file system side of the RPC socket: its directory and a socket file
 * left behind by a daemon that died. */
#ifndef NR_IPC_RPC_SOCKFILE_H
#define NR_IPC_RPC_SOCKFILE_H

#include "util/err.h"

/* Create the parent directories (0755) and remove a stale socket file at
 * path. A socket somebody still accepts on is -EADDRINUSE; a file that is
 * not a socket is -EEXIST (never removed). */
int nr_rpc_sockfile_prepare(const char *path, struct nr_err *err);

#endif
