/* The one list of nativerouted's options: the command line (getopt), the
 * YAML file (the same names as keys) and --help are all generated from it,
 * so an option cannot exist in one and be missing from another. Parsing a
 * value is nrd_config_set()'s job (config.c), by the same name. */
#ifndef NRD_OPTIONS_H
#define NRD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum {
	NRD_OPT_LIST = 1,     /* repeatable flag; a list in the file */
	NRD_OPT_CLI_ONLY = 2, /* an action of the command line, not a file key */
};

struct nrd_option {
	const char *name;  /* --name and the file key */
	const char *arg;   /* metavar for --help; NULL: a switch (--x, --x=false; file: true/false) */
	unsigned int flags;
	const char *help;  /* lines separated by '\n' */
};

extern const struct nrd_option nrd_options[];

/* NULL for an unknown name. */
const struct nrd_option *nrd_option_find(const char *name);

/* The --help text. */
void nrd_options_usage(FILE *out);

#endif
