/* CRC-32C of a byte range; chain calls by passing the previous result
 * (start with 0). nr_crc32c(0, "123456789", 9) == 0xe3069283. */
#ifndef NR_STORE_CRC32C_H
#define NR_STORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t nr_crc32c(uint32_t crc, const void *data, size_t len);

#endif
