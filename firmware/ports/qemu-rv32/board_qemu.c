/*
 * board_qemu.c - core/sxs_board.h on QEMU's riscv32 `virt` machine, bare metal.
 *
 * What the board has, and where (QEMU 7's virt memory map):
 *   0x00100000  the test device: a write of 0x7777 resets the machine, 0x5555 powers off
 *   0x02000000  the core-local interruptor: mtime (10 MHz) and the timer compare
 *   0x0c000000  the platform interrupt controller (PLIC)
 *   0x10000000  a 16550 UART (IRQ 10): the link; QEMU connects it to a pseudo-terminal
 *   0x80000000  code, RAM (the linker script's regions, see Makefile), then the two
 *               regions below, which the program image does not touch:
 *   RTC_MEM     what a soft reset hands to the next boot (an ESP32 keeps it in RTC RAM)
 *   FLASH_MEM   the flash, memory mapped for reading like an ESP32's; it is a copy of a
 *               host file, read at boot and written through on every erase and write
 *               (by semihosting: the file is the medium that survives the machine)
 *
 * The UART's receive interrupt fills a ring (the ESP32 UART driver's size), so bytes that
 * arrive while the image runs wait there, not in the 16-byte FIFO; a full ring stops the
 * interrupt, and QEMU then stops taking bytes from the pty: nothing is lost.
 *
 * The lowest 256 bytes of the stack are a guard that the PMP makes inaccessible: a
 * native stack overflow faults there, and the fault, like any CPU exception, resets the
 * board with HELLO boot_reason 4 (crash); three crashes in a row boot in safe mode and
 * five without starting the image (core/sxs_board.h), as on the ESP32.  Traps run on
 * their own stack (trap.S).
 *
 * The flash keeps NOR rules here as in the posix port: erase sets whole 4 KiB sectors
 * to 0xFF and a write may only clear bits, so code that would corrupt a real flash
 * fails here too.
 */
#include "board_qemu.h"

#include <malloc.h>
#include <semihost.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "sxs_board.h"
#include "sxs_flash_layout.h"
#include "sxs_msg.h"

#define MMIO32(a) (*(volatile uint32_t *)(uintptr_t)(a))
#define MMIO8(a) (*(volatile uint8_t *)(uintptr_t)(a))

#define TEST_DEV 0x00100000u
#define TEST_RESET 0x7777u
#define TEST_POWEROFF 0x5555u
#define TEST_FAIL 0x3333u

#define CLINT_MTIMECMP 0x02004000u
#define CLINT_MTIME 0x0200bff8u
#define MTIME_PER_MS 10000u /* virt's timebase: 10 MHz */

#define PLIC 0x0c000000u
#define PLIC_PRIORITY(irq) (PLIC + 4u * (irq))
#define PLIC_ENABLE_M0 (PLIC + 0x2000u) /* context 0: hart 0, machine mode */
#define PLIC_THRESHOLD_M0 (PLIC + 0x200000u)
#define PLIC_CLAIM_M0 (PLIC + 0x200004u)

#define UART 0x10000000u
#define UART_IRQ 10u
#define UART_RBR (UART + 0) /* receive (read) / transmit (write) */
#define UART_IER (UART + 1)
#define UART_FCR (UART + 2)
#define UART_LSR (UART + 5)
#define LSR_DR 0x01u   /* a received byte waits */
#define LSR_THRE 0x20u /* the transmitter takes a byte */
#define UART_STALL_MS 1000u /* nobody drains the line: drop output after this, like posix */

#define MIE_MTIE (1u << 7)
#define MIE_MEIE (1u << 11)
#define MSTATUS_MIE (1u << 3)
#define MCAUSE_INTERRUPT 0x80000000u
#define IRQ_M_TIMER 7u
#define IRQ_M_EXTERNAL 11u

#define UART_RX_RING 5632u  /* the ESP32 port's UART receive buffer */
#define STACK_GUARD 256u    /* bytes at the bottom of the stack that fault */
#define TRAP_STACK 1024u

/* picolibc's multilib is plain rv32imac: the CSR instructions need Zicsr named */
#define CSR_ASM(insn) ".option push\n.option arch, +zicsr\n" insn "\n.option pop"

#define RTC_MEM 0x80200000u
#define RTC_MAGIC 0x52545358u /* "XSTR" */
#define FLASH_MEM 0x80400000u

/* ---- clock ---------------------------------------------------------------------------- */

static uint64_t mtime(void)
{
    uint32_t hi, lo;
    do {
        hi = MMIO32(CLINT_MTIME + 4);
        lo = MMIO32(CLINT_MTIME);
    } while (hi != MMIO32(CLINT_MTIME + 4));
    return ((uint64_t)hi << 32) | lo;
}

static void set_timer(uint64_t at)
{
    /* the high word first, to all ones, so that no intermediate value fires early */
    MMIO32(CLINT_MTIMECMP + 4) = 0xffffffffu;
    MMIO32(CLINT_MTIMECMP) = (uint32_t)at;
    MMIO32(CLINT_MTIMECMP + 4) = (uint32_t)(at >> 32);
}

double sxs_board_now_ms(void) { return (double)mtime() / (double)MTIME_PER_MS; }

/* ---- the receive ring, filled by the UART interrupt ------------------------------------ */

/* head and tail count modulo twice the ring (the ring is not a power of two), so that a
 * full ring and an empty one differ; the interrupt moves head, readers move tail */
static uint8_t rx_ring[UART_RX_RING];
static volatile uint32_t rx_head, rx_tail;

static uint32_t ring_next(uint32_t i) { return i + 1 == 2 * UART_RX_RING ? 0 : i + 1; }
static uint32_t ring_used(void) { return (rx_head + 2 * UART_RX_RING - rx_tail) % (2 * UART_RX_RING); }

static void uart_irq(void)
{
    while (MMIO8(UART_LSR) & LSR_DR) {
        if (ring_used() == UART_RX_RING) {
            MMIO8(UART_IER) = 0; /* full: the rest waits in QEMU, which stops reading the pty */
            return;
        }
        rx_ring[rx_head % UART_RX_RING] = MMIO8(UART_RBR);
        rx_head = ring_next(rx_head);
    }
}

static void irq_off(void) { __asm__ volatile(CSR_ASM("csrc mstatus, %0") ::"r"(MSTATUS_MIE)); }
static void irq_on(void) { __asm__ volatile(CSR_ASM("csrs mstatus, %0") ::"r"(MSTATUS_MIE)); }

/* Sleep until a byte is in the ring or mtime reaches `deadline` (~0: no deadline).  The
 * interrupts are off between the test and wfi (which wakes on a pending interrupt all
 * the same), so a byte that arrives in between is not slept through. */
static void wait_until(uint64_t deadline, int for_uart)
{
    set_timer(deadline);
    irq_off();
    if (!(for_uart && rx_head != rx_tail) && mtime() < deadline) __asm__ volatile("wfi");
    irq_on();
    set_timer(~(uint64_t)0);
}

void sxs_board_sleep_ms(double ms)
{
    if (ms <= 0) return;
    uint64_t end = mtime() + (uint64_t)(ms * MTIME_PER_MS);
    while (mtime() < end) wait_until(end, 0);
}

/* ---- serial line ---------------------------------------------------------------------- */

int sxs_board_serial_read(uint8_t *buf, size_t cap, int32_t timeout_ms)
{
    uint64_t deadline = timeout_ms < 0 ? ~(uint64_t)0 : mtime() + (uint64_t)timeout_ms * MTIME_PER_MS;
    for (;;) {
        size_t n = 0;
        uint32_t head = rx_head;
        while (n < cap && rx_tail != head) {
            buf[n++] = rx_ring[rx_tail % UART_RX_RING];
            rx_tail = ring_next(rx_tail);
        }
        if (n > 0) {
            MMIO8(UART_IER) = 0x01; /* room again (the interrupt may have stopped on a full ring) */
            return (int)n;
        }
        if (timeout_ms == 0 || mtime() >= deadline) return 0;
        wait_until(deadline, 1);
    }
}

static int stalled; /* nobody drains the line: bytes are dropped until it moves */

int sxs_board_serial_write(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (!(MMIO8(UART_LSR) & LSR_THRE)) {
            if (stalled) return -1;
            uint64_t give_up = mtime() + (uint64_t)UART_STALL_MS * MTIME_PER_MS;
            while (!(MMIO8(UART_LSR) & LSR_THRE))
                if (mtime() >= give_up) {
                    stalled = 1; /* in framed mode the link retransmits */
                    return -1;
                }
        }
        stalled = 0;
        MMIO8(UART_RBR) = buf[i];
    }
    return 0;
}

/* ---- flash ------------------------------------------------------------------------------ */

static int flash_fd = -1;
#define FLASH ((uint8_t *)(uintptr_t)FLASH_MEM)

/* Write flash bytes [off, off+len) through to the host file. */
static int write_through(uint32_t off, uint32_t len)
{
    if (sys_semihost_seek(flash_fd, off) != 0) return SXS_FLASH_EIO;
    return sys_semihost_write(flash_fd, FLASH + off, len) == 0 ? SXS_FLASH_OK : SXS_FLASH_EIO;
}

int sxs_board_qemu_flash_open(const char *host_path)
{
    int fd = sys_semihost_open(host_path, SH_OPEN_R_PLUS_B); /* an existing file */
    uint32_t have = 0;
    if (fd >= 0) {
        uintptr_t n = sys_semihost_flen(fd);
        have = n > SXS_LAYOUT_FLASH_BYTES ? SXS_LAYOUT_FLASH_BYTES : (uint32_t)n;
    } else {
        fd = sys_semihost_open(host_path, SH_OPEN_W_PLUS_B); /* a new, blank one */
        if (fd < 0) return -1;
    }
    if (have && sys_semihost_read(fd, FLASH, have) != 0) {
        sys_semihost_close(fd);
        return -1;
    }
    flash_fd = fd;
    if (have < SXS_LAYOUT_FLASH_BYTES) { /* a new file, or the part beyond a short one's end: erased */
        memset(FLASH + have, 0xff, SXS_LAYOUT_FLASH_BYTES - have);
        if (write_through(have, SXS_LAYOUT_FLASH_BYTES - have) != SXS_FLASH_OK) {
            sys_semihost_close(fd);
            flash_fd = -1;
            return -1;
        }
    }
    return 0;
}

static int range_ok(sxs_partition part, uint32_t off, uint32_t len)
{
    return part >= 0 && part < SXS_PART_COUNT && off <= sxs_layout_size(part) && len <= sxs_layout_size(part) - off;
}

uint32_t sxs_board_flash_size(sxs_partition part)
{
    return flash_fd >= 0 && part >= 0 && part < SXS_PART_COUNT ? sxs_layout_size(part) : 0;
}

int sxs_board_flash_read(sxs_partition part, uint32_t off, void *buf, uint32_t len)
{
    if (flash_fd < 0) return SXS_FLASH_ENODEV;
    if (!range_ok(part, off, len)) return SXS_FLASH_EBOUNDS;
    memcpy(buf, FLASH + sxs_layout_offset(part) + off, len);
    return SXS_FLASH_OK;
}

int sxs_board_flash_write(sxs_partition part, uint32_t off, const void *buf, uint32_t len)
{
    if (flash_fd < 0) return SXS_FLASH_ENODEV;
    if (!range_ok(part, off, len)) return SXS_FLASH_EBOUNDS;
    uint8_t *to = FLASH + sxs_layout_offset(part) + off;
    const uint8_t *from = buf;
    for (uint32_t i = 0; i < len; i++) /* a refused write changes nothing */
        if (from[i] & ~to[i]) return SXS_FLASH_ESETBIT;
    for (uint32_t i = 0; i < len; i++) to[i] &= from[i];
    return write_through(sxs_layout_offset(part) + off, len);
}

int sxs_board_flash_erase(sxs_partition part, uint32_t off, uint32_t len)
{
    if (flash_fd < 0) return SXS_FLASH_ENODEV;
    if (!range_ok(part, off, len)) return SXS_FLASH_EBOUNDS;
    if (off % SXS_FLASH_SECTOR || len % SXS_FLASH_SECTOR) return SXS_FLASH_EALIGN;
    memset(FLASH + sxs_layout_offset(part) + off, 0xff, len);
    return write_through(sxs_layout_offset(part) + off, len);
}

/* Mapped like an ESP32's flash: the bytes are read in place, no RAM for them. */
const void *sxs_board_flash_map(sxs_partition part, uint32_t off, uint32_t len)
{
    if (flash_fd < 0 || !range_ok(part, off, len) || len == 0) return NULL;
    return FLASH + sxs_layout_offset(part) + off;
}

void sxs_board_flash_unmap(const void *view) { (void)view; }

/* ---- reset ---------------------------------------------------------------------------------- */

typedef struct rtc_mem {
    uint32_t magic;
    sxs_reset_info info; /* valid: a reset the firmware asked for */
    uint32_t crashes;    /* crashes in a row */
} rtc_mem;
#define RTC ((volatile rtc_mem *)(uintptr_t)RTC_MEM)

static void machine_reset(void)
{
    if (flash_fd >= 0) sys_semihost_close(flash_fd); /* the next boot opens it again */
    flash_fd = -1;
    MMIO32(TEST_DEV) = TEST_RESET; /* QEMU reloads the program and starts it again */
    for (;;) __asm__ volatile("wfi");
}

void sxs_board_reset(const sxs_reset_info *info)
{
    uint32_t crashes = RTC->magic == RTC_MAGIC ? RTC->crashes : 0;
    RTC->info = *info;
    RTC->crashes = crashes;
    RTC->magic = RTC_MAGIC;
    machine_reset();
}

static sxs_reset_info taken;

/* Once per boot, before anything reads it: what the last boot left.  A power-on finds no
 * magic (QEMU starts with its RAM zeroed); a crash left crashes > 0 and no valid info. */
static void take_handover(void)
{
    memset(&taken, 0, sizeof taken);
    if (RTC->magic != RTC_MAGIC) {
        RTC->crashes = 0;
    } else if (RTC->info.valid) {
        taken = RTC->info;
    } else if (RTC->crashes) {
        sxs_reset_info_after_crashes(&taken, RTC->crashes, (uint32_t)mtime() * 2654435761u);
    }
    memset((void *)&RTC->info, 0, sizeof RTC->info); /* consumed: a later crash does not replay it */
    RTC->magic = RTC_MAGIC;
}

void sxs_board_reset_info(sxs_reset_info *info) { *info = taken; }

void sxs_board_qemu_stable(void) { RTC->crashes = 0; }

void sxs_board_qemu_poweroff(int code)
{
    MMIO32(TEST_DEV) = code == 0 ? TEST_POWEROFF : (((uint32_t)code & 0xffffu) << 16) | TEST_FAIL;
    for (;;) __asm__ volatile("wfi");
}

/* ---- memory --------------------------------------------------------------------------------- */

extern char __heap_start[], __heap_end[], __stack[], __data_start[];

static char *heap_top(void)
{
    char *brk = sbrk(0);
    return brk == (char *)-1 ? __heap_start : brk;
}

uint32_t sxs_board_qemu_heap_span(void) { return (uint32_t)(heap_top() - __heap_start); }
uint32_t sxs_board_qemu_static_bytes(void) { return (uint32_t)(__heap_start - __data_start); }
uint32_t sxs_board_qemu_ram_bytes(void) { return (uint32_t)(__stack - __data_start); }

uint32_t sxs_board_qemu_free_heap(void)
{
    return (uint32_t)mallinfo().fordblks + (uint32_t)(__heap_end - heap_top());
}

#define STACK_PAINT 0x5a5a5a5au

void sxs_board_qemu_paint_stack(void)
{
    /* not the guard: QEMU keeps a locked PMP region across its reset (a real core
       clears it), so after a soft reset the guard is already there */
    uint32_t *p = (uint32_t *)(void *)(__heap_end + STACK_GUARD);
    uint32_t *sp = (uint32_t *)__builtin_frame_address(0) - 64; /* leave this call's frame alone */
    while (p < sp) *p++ = STACK_PAINT;
}

uint32_t sxs_board_qemu_stack_used(void)
{
    const uint32_t *p = (const uint32_t *)(void *)(__heap_end + STACK_GUARD); /* the guard faults */
    const uint32_t *top = (const uint32_t *)(void *)__stack;
    while (p < top && *p == STACK_PAINT) p++;
    return (uint32_t)((const char *)top - (const char *)p);
}

/* ---- traps and set-up ------------------------------------------------------------------------ */

static uint32_t trap_stack[TRAP_STACK / 4] __attribute__((aligned(16)));
extern void sxs_trap_entry(void);

/* Called by trap.S on the trap stack.  Interrupts are handled and return; a CPU
 * exception (a fault, the stack guard, an illegal instruction) is reported on the host's
 * stderr and resets the board as a crash. */
void sxs_board_qemu_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval)
{
    if (mcause & MCAUSE_INTERRUPT) {
        uint32_t irq = mcause & ~MCAUSE_INTERRUPT;
        if (irq == IRQ_M_TIMER) {
            set_timer(~(uint64_t)0); /* a wait's deadline: the waiter looks at the clock */
        } else if (irq == IRQ_M_EXTERNAL) {
            uint32_t id = MMIO32(PLIC_CLAIM_M0);
            if (id == UART_IRQ) uart_irq();
            if (id) MMIO32(PLIC_CLAIM_M0) = id;
        }
        return;
    }
    char msg[120];
    int guard = mtval >= (uint32_t)(uintptr_t)__heap_end && mtval < (uint32_t)(uintptr_t)__heap_end + STACK_GUARD;
    snprintf(msg, sizeof msg, "sxs-fw qemu-rv32: %s (mcause %lu, mepc 0x%08lx, mtval 0x%08lx): resetting\n",
             guard ? "native stack overflow" : "CPU exception", (unsigned long)mcause, (unsigned long)mepc,
             (unsigned long)mtval);
    sys_semihost_write0(msg);
    RTC->crashes = (RTC->magic == RTC_MAGIC ? RTC->crashes : 0) + 1;
    memset((void *)&RTC->info, 0, sizeof RTC->info);
    RTC->magic = RTC_MAGIC;
    machine_reset();
}

void sxs_board_qemu_init(void)
{
    take_handover();
    /* the trap vector and its stack */
    __asm__ volatile(CSR_ASM("csrw mscratch, %0") ::"r"(trap_stack + TRAP_STACK / 4));
    __asm__ volatile(CSR_ASM("csrw mtvec, %0") ::"r"((uintptr_t)sxs_trap_entry));
    /* the stack guard: a locked PMP region (it binds machine mode too) with no access */
    uint32_t napot = ((uint32_t)(uintptr_t)__heap_end >> 2) | (STACK_GUARD / 8 - 1);
    __asm__ volatile(CSR_ASM("csrw pmpaddr0, %0") ::"r"(napot));
    __asm__ volatile(CSR_ASM("csrw pmpcfg0, %0") ::"r"(0x98u)); /* L | NAPOT, no R/W/X */
    /* the UART: FIFOs on, receive interrupt through the PLIC */
    MMIO8(UART_FCR) = 0x07;
    MMIO8(UART_IER) = 0x01;
    MMIO32(PLIC_PRIORITY(UART_IRQ)) = 1;
    MMIO32(PLIC_ENABLE_M0) = 1u << UART_IRQ;
    MMIO32(PLIC_THRESHOLD_M0) = 0;
    set_timer(~(uint64_t)0);
    __asm__ volatile(CSR_ASM("csrs mie, %0") ::"r"(MIE_MTIE | MIE_MEIE));
    irq_on();
}
