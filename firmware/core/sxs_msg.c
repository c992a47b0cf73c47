/* sxs_msg.c - see sxs_msg.h. */
#include "sxs_msg.h"

#include <string.h>

#include "sxs_frame.h"

size_t sxs_board_info_encode(const sxs_board_info *i, uint8_t *o)
{
    o[0] = i->proto;
    o[1] = i->boot_reason;
    o[2] = i->active_slot;
    o[3] = i->rollback_reason;
    sxs_wr16(o + 4, i->abi_version);
    sxs_wr16(o + 6, i->max_payload);
    sxs_wr16(o + 8, i->rx_window);
    o[10] = i->processors;
    o[11] = i->state_flags;
    const uint32_t v[14] = { i->image_crc, i->failed_crc, i->slot_size, i->max_input, i->free_heap,
                             i->uptime_ms, i->link_idle_ms, i->heap_used, i->wasm_memory, i->kv_entries,
                             i->queued, i->bad_frames, i->retransmits, i->session };
    for (int k = 0; k < 14; k++) sxs_wr32(o + 12 + 4 * k, v[k]);
    o[68] = i->fw_len;
    memcpy(o + 69, i->firmware, i->fw_len);
    return SXS_BOARD_INFO_FIXED + i->fw_len;
}

int sxs_board_info_decode(const uint8_t *p, size_t n, sxs_board_info *i)
{
    if (n < SXS_BOARD_INFO_FIXED || n < SXS_BOARD_INFO_FIXED + (size_t)p[68]) return -1;
    i->proto = p[0];
    i->boot_reason = p[1];
    i->active_slot = p[2];
    i->rollback_reason = p[3];
    i->abi_version = sxs_rd16(p + 4);
    i->max_payload = sxs_rd16(p + 6);
    i->rx_window = sxs_rd16(p + 8);
    i->processors = p[10];
    i->state_flags = p[11];
    uint32_t *v[14] = { &i->image_crc, &i->failed_crc, &i->slot_size, &i->max_input, &i->free_heap,
                        &i->uptime_ms, &i->link_idle_ms, &i->heap_used, &i->wasm_memory, &i->kv_entries,
                        &i->queued, &i->bad_frames, &i->retransmits, &i->session };
    for (int k = 0; k < 14; k++) *v[k] = sxs_rd32(p + 12 + 4 * k);
    i->fw_len = p[68];
    memcpy(i->firmware, p + 69, i->fw_len);
    i->firmware[i->fw_len] = 0;
    return 0;
}

const char *sxs_msg_name(uint8_t type)
{
    switch (type) {
    case SXS_MSG_ACK: return "ACK";
    case SXS_MSG_NAK: return "NAK";
    case SXS_MSG_INTERRUPT: return "INTERRUPT";
    case SXS_MSG_HELLO: return "HELLO";
    case SXS_MSG_INFO: return "INFO";
    case SXS_MSG_RESULT: return "RESULT";
    case SXS_MSG_LOG: return "LOG";
    case SXS_MSG_EVENT: return "EVENT";
    case SXS_MSG_PONG: return "PONG";
    case SXS_MSG_OK: return "OK";
    case SXS_MSG_ERROR: return "ERROR";
    case SXS_MSG_EXEC: return "EXEC";
    case SXS_MSG_WATCH: return "WATCH";
    case SXS_MSG_PING: return "PING";
    case SXS_MSG_RESET: return "RESET";
    case SXS_MSG_GET_INFO: return "GET_INFO";
    case SXS_MSG_LEAVE: return "LEAVE";
    case SXS_MSG_FLASH_BEGIN: return "FLASH_BEGIN";
    case SXS_MSG_FLASH_DATA: return "FLASH_DATA";
    case SXS_MSG_FLASH_COMMIT: return "FLASH_COMMIT";
    default: return NULL;
    }
}

void sxs_msg_ok(uint8_t out[4], uint32_t value) { sxs_wr32(out, value); }
void sxs_msg_error_head(uint8_t out[2], uint16_t code) { sxs_wr16(out, code); }

void sxs_msg_event_head(uint8_t out[4], uint8_t channel, uint16_t topic)
{
    out[0] = channel;
    out[1] = 0;
    sxs_wr16(out + 2, topic);
}

int sxs_msg_exec_head(const uint8_t *p, size_t n, uint32_t *text_len, uint8_t *proc)
{
    if (n < 5) return -1;
    *text_len = sxs_rd32(p);
    *proc = p[4];
    return 0;
}

int sxs_msg_watch(const uint8_t *p, size_t n, uint8_t *channel, uint8_t *on, int32_t *topic)
{
    if (n != 8) return -1;
    *channel = p[0];
    *on = p[1];
    *topic = (int32_t)sxs_rd32(p + 4);
    return 0;
}

int sxs_msg_flash_begin(const uint8_t *p, size_t n, uint32_t *size, uint32_t *crc, uint8_t *slot)
{
    if (n != 12) return -1;
    *size = sxs_rd32(p);
    *crc = sxs_rd32(p + 4);
    *slot = p[8];
    return 0;
}

int sxs_msg_flash_data(const uint8_t *p, size_t n, uint32_t *offset)
{
    if (n < 4) return -1;
    *offset = sxs_rd32(p);
    return 0;
}

int sxs_msg_flags(const uint8_t *p, size_t n, uint8_t *flags)
{
    if (n != 1) return -1;
    *flags = p[0];
    return 0;
}

void sxs_msg_exec_write(uint8_t out[5], uint32_t text_len, uint8_t proc)
{
    sxs_wr32(out, text_len);
    out[4] = proc;
}

void sxs_msg_watch_write(uint8_t out[8], uint8_t channel, uint8_t on, int32_t topic)
{
    out[0] = channel;
    out[1] = on;
    out[2] = out[3] = 0;
    sxs_wr32(out + 4, (uint32_t)topic);
}

void sxs_msg_flash_begin_write(uint8_t out[12], uint32_t size, uint32_t crc, uint8_t slot)
{
    sxs_wr32(out, size);
    sxs_wr32(out + 4, crc);
    out[8] = slot;
    out[9] = out[10] = out[11] = 0;
}
