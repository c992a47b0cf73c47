/*
 * API STUB for the host syntax check (check/check.sh) - NOT ESP-IDF.
 * Hand-written declarations of the few ESP-IDF 5.x names the sxs port uses,
 * with the signatures of ESP-IDF's public documentation, so that gcc can
 * check the port's C files on a machine without ESP-IDF.  Nothing here is compiled into
 * the firmware, and nothing here is copied from ESP-IDF.
 */
#pragma once
#include <stdint.h>
uint32_t esp_random(void);
