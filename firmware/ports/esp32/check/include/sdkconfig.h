/*
 * API STUB for the host syntax check (check/check.sh) - NOT ESP-IDF.
 * Hand-written declarations of the few ESP-IDF 5.x names the sxs port uses,
 * with the signatures of ESP-IDF's public documentation, so that gcc can
 * check the port's C files on a machine without ESP-IDF.  Nothing here is compiled into
 * the firmware, and nothing here is copied from ESP-IDF.
 */
#pragma once
/* What sdkconfig.defaults + main/Kconfig.projbuild give (see there). */
#define CONFIG_IDF_TARGET_ESP32 1
#define CONFIG_FREERTOS_HZ 1000
#define CONFIG_ESP_CONSOLE_NONE 1
#define CONFIG_UART_ISR_IN_IRAM 1
#define CONFIG_SXS_UART_NUM 0
#define CONFIG_SXS_UART_BAUD 115200
#define CONFIG_SXS_UART_TX_PIN -1
#define CONFIG_SXS_UART_RX_PIN -1
#define CONFIG_SXS_UART_RX_BUFFER 5632
#define CONFIG_SXS_UART_TX_BUFFER 1024
#define CONFIG_SXS_TASK_STACK 32768
#define CONFIG_SXS_WASM3_STACK 8192
#define CONFIG_SXS_MAX_PAGES 1
#define CONFIG_SXS_TASK_STACK_PSRAM 98304
#define CONFIG_SXS_WASM3_STACK_PSRAM 32768
#define CONFIG_SXS_MAX_PAGES_PSRAM 24
#define CONFIG_SXS_TASK_PRIORITY 5
