/*
 * API STUB for the host syntax check (check/check.sh) - NOT ESP-IDF.
 * Hand-written declarations of the few ESP-IDF 5.x names the sxs port uses,
 * with the signatures of ESP-IDF's public documentation, so that gcc can
 * check the port's C files on a machine without ESP-IDF.  Nothing here is compiled into
 * the firmware, and nothing here is copied from ESP-IDF.
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#define MALLOC_CAP_EXEC (1 << 0)
#define MALLOC_CAP_32BIT (1 << 1)
#define MALLOC_CAP_8BIT (1 << 2)
#define MALLOC_CAP_DMA (1 << 3)
#define MALLOC_CAP_SPIRAM (1 << 10)
#define MALLOC_CAP_INTERNAL (1 << 11)
#define MALLOC_CAP_DEFAULT (1 << 12)
size_t heap_caps_get_free_size(uint32_t caps);
size_t heap_caps_get_total_size(uint32_t caps);
size_t heap_caps_get_largest_free_block(uint32_t caps);
void *heap_caps_malloc(size_t size, uint32_t caps);
