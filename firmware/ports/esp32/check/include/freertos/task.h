/*
 * API STUB for the host syntax check (check/check.sh) - NOT ESP-IDF.
 * Hand-written declarations of the few ESP-IDF 5.x names the sxs port uses,
 * with the signatures of ESP-IDF's public documentation, so that gcc can
 * check the port's C files on a machine without ESP-IDF.  Nothing here is compiled into
 * the firmware, and nothing here is copied from ESP-IDF.
 */
#pragma once
#include "freertos/FreeRTOS.h"
typedef struct tskTaskControlBlock *TaskHandle_t;
typedef void (*TaskFunction_t)(void *);
void vTaskDelay(const TickType_t xTicksToDelay);
BaseType_t xTaskCreatePinnedToCore(TaskFunction_t pxTaskCode, const char *const pcName, const uint32_t ulStackDepth,
                                   void *const pvParameters, UBaseType_t uxPriority, TaskHandle_t *const pxCreatedTask,
                                   const BaseType_t xCoreID);
UBaseType_t uxTaskGetStackHighWaterMark(TaskHandle_t xTask);
