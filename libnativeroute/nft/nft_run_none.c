/* Built without nftables (NR_WITH_NFTABLES=OFF): masquerading is off and
 * refused when asked for (nr_masq_config_check); nothing here runs. */
#include "nft/nft_run.h"

#include <errno.h>
#include <stdlib.h>

bool nr_nft_supported(void)
{
	return false;
}

void nr_nft_sync_run(struct nr_nft_sync *s)
{
	s->listing = NULL;
	/* no table of ours can exist: only a build with nftables makes one */
	s->was_planned = !s->script;
	if (s->script)
		nr_err_set(&s->err, -EOPNOTSUPP, "built without nftables (NR_WITH_NFTABLES=OFF)");
}

void nr_nft_sync_free(struct nr_nft_sync *s)
{
	free(s->listing);
	s->listing = NULL;
}
