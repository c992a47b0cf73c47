/*
 * API STUB for the host syntax check (check/check.sh) - NOT ESP-IDF.
 * Hand-written declarations of the few ESP-IDF 5.x names the sxs port uses,
 * with the signatures of ESP-IDF's public documentation, so that gcc can
 * check the port's C files on a machine without ESP-IDF.  Nothing here is compiled into
 * the firmware, and nothing here is copied from ESP-IDF.
 */
#pragma once
#include "esp_err.h"
typedef enum {
    ESP_RST_UNKNOWN,
    ESP_RST_POWERON,
    ESP_RST_EXT,
    ESP_RST_SW,
    ESP_RST_PANIC,
    ESP_RST_INT_WDT,
    ESP_RST_TASK_WDT,
    ESP_RST_WDT,
    ESP_RST_DEEPSLEEP,
    ESP_RST_BROWNOUT,
    ESP_RST_SDIO,
} esp_reset_reason_t;
void esp_restart(void) __attribute__((noreturn));
esp_reset_reason_t esp_reset_reason(void);
