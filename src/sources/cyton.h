/* OpenBCI Cyton and Cyton+Daisy: the packet parser (pure, fed arbitrary byte chunks), the live source
 * over a serial transport, and the board emulator behind `dreamwatch emulate`. */
#ifndef DW_CYTON_H
#define DW_CYTON_H

#include <stddef.h>
#include <stdint.h>
#include "base/dw.h"
#include "sources/source.h"

#define DW_CYTON_PACKET     33
#define DW_CYTON_FS         250.0      /* packets per second; Daisy delivers 125 samples per second */
#define DW_CYTON_COUNT_MAX  8388607    /* 2^23 - 1 */
#define DW_CYTON_ACCEL_G    (0.002 / 16.0)

/* uV per count at an ADS1299 gain (1..24). */
static inline double dw_cyton_uv_per_count(int gain) { return 4.5 / gain / DW_CYTON_COUNT_MAX * 1e6; }
/* Gain for a channel-setting gain code '0'..'6' (1 2 4 6 8 12 24), 0 if invalid. */
int dw_cyton_gain_of_code(int code);
/* Command character for channel 1..16 ('1'..'8', then Daisy 'Q' 'W' 'E' 'R' 'T' 'Y' 'U' 'I'), 0 if none. */
int dw_cyton_channel_char(int ch);
/* Inverse: 1..16, or 0. */
int dw_cyton_channel_of_char(int c);

/* One 33-byte packet, decoded. */
typedef struct {
    uint8_t counter;
    uint8_t footer;            /* 0xC0..0xCF */
    int32_t count[8];          /* sign-extended 24-bit */
    uint8_t aux[6];
} dw_cyton_packet;

int  dw_cyton_packet_decode(const uint8_t raw[DW_CYTON_PACKET], dw_cyton_packet *p);
void dw_cyton_packet_encode(const dw_cyton_packet *p, uint8_t raw[DW_CYTON_PACKET]);

/* One complete sample: 8 channels (Cyton) or 16 (Daisy, from an odd/even packet pair). */
typedef struct {
    long    index;             /* sample number since the last restart, counting lost ones */
    long    lost;              /* samples lost just before this one (counter gaps, host clock) */
    int     nch;
    int32_t count[16];
    double  uv[16];            /* count scaled by the channel's gain at the time */
    int     accel_valid;       /* a non-zero accelerometer reading arrived with this sample */
    double  accel[3];          /* g */
    uint8_t counter;           /* of the (last) packet */
    double  host_t;            /* the feed time it was completed at */
} dw_cyton_sample;

/* Loss windows: 1-s buckets covering the last 5 s of host time. */
#define DW_CYTON_WIN 5

typedef struct {
    int      daisy;            /* pair packets into 16-channel samples */
    int      gain[16];
    int      pending_gain[16]; /* applied when the board confirms ("$$$"), 0 = none */
    /* framing */
    uint8_t  buf[DW_CYTON_PACKET + 1];   /* a packet and one byte of look-ahead */
    int      fill;
    int      locked;           /* the last packet followed its predecessor without a jump */
    /* counters */
    int      started;          /* a packet was seen since the last restart */
    int      continuous;       /* the last accepted packet's counter followed the one before */
    uint8_t  last_counter;
    long     seq;              /* unwrapped packet number of the last packet */
    long     seq0;             /* ... of the first packet since the restart */
    double   last_host_t;      /* feed time of the last packet */
    double   line_seen;        /* set by the caller: the host time the line was last seen
                                * empty (0 unknown). Bytes read without a wait were queued while
                                * the reader was away: a silence is measured only up to it, so a
                                * late reader (a stalled thread: its bytes come at once, all with
                                * one late time) invents no lost wraps of the counter */
    int      have_held;        /* packet with a counter jump, waiting for its successor */
    dw_cyton_packet held;
    double   held_t;
    /* Daisy pairing */
    int      have_odd;
    long     odd_pair;
    dw_cyton_packet odd;
    long     last_index;       /* index of the last sample delivered, -1 none */
    /* text between packets (replies to commands while streaming) */
    char     text[96];
    int      text_len;
    /* statistics */
    long     packets, lost_packets, samples, lost_samples, garbage_bytes, resyncs;
    long     win_recv[DW_CYTON_WIN], win_lost[DW_CYTON_WIN];
    long     win_sec;          /* host second of the newest bucket */
    double   accel[3];
    int      accel_seen;
} dw_cyton_parser;

void dw_cyton_parser_init(dw_cyton_parser *p, int daisy);
/* The board was told to (re)start streaming: forget the counter and the Daisy half pair; sample
 * indices start again at 0 (the caller knows from its clock how long the stream was off). */
void dw_cyton_parser_restart(dw_cyton_parser *p);
/* Feed bytes received at host time now_s. Complete samples go to out (at most cap); returns the
 * number of bytes consumed (less than n only when out filled up: feed the rest again). */
size_t dw_cyton_parse(dw_cyton_parser *p, const uint8_t *buf, size_t n, double now_s,
                      dw_cyton_sample *out, int cap, int *nout);
/* Record a command sent to the board: `d` resets gains to 24; `x CH PWR GAIN ... X` changes one
 * channel's gain once the board replies (or at once when not streaming: immediate = 1). */
void dw_cyton_track_command(dw_cyton_parser *p, const char *cmd, int immediate);
/* Loss over the last 5 s of host time (percent), as of now_s. */
double dw_cyton_loss_recent(const dw_cyton_parser *p, double now_s);

/* Text replies ("...$$$") during the handshake. */
typedef struct {
    char text[1024];
    int  len;
    int  done;                 /* "$$$" seen */
} dw_cyton_reply;
void dw_cyton_reply_reset(dw_cyton_reply *r);
/* Appends bytes up to and including "$$$"; returns bytes consumed. */
size_t dw_cyton_reply_feed(dw_cyton_reply *r, const uint8_t *buf, size_t n);
/* The reply says the dongle cannot reach the board ("Failure: ..."). */
int dw_cyton_reply_failed(const dw_cyton_reply *r);
/* The reply to `v` names a Daisy board. */
int dw_cyton_reply_daisy(const dw_cyton_reply *r);

/* The handshake with the board as a pure state machine (explicit time, no I/O; the live source drives
 * it, the fuzzer too): `s` and a 0.2-s drain, then `v` (4 s for the banner ending "$$$"), `d`, `c` or
 * `C` (1.5 s each; old firmware sends no "$$$", so a time-out moves on), `~6` on firmware 3, then
 * streaming (`b`). Each call says what to do next. A reply to `v` starting "Failure" means the board is
 * off; more than DW_HS_JUNK_MAX bytes in a step with no "$$$" is a device that speaks no OpenBCI. */
enum dw_hs_step { DW_HS_STOP, DW_HS_VERSION, DW_HS_DEFAULTS, DW_HS_CHANNELS, DW_HS_RATE, DW_HS_STREAMING,
                  DW_HS_FAILED };
#define DW_HS_JUNK_MAX 16384
typedef struct {
    int    want;               /* 0 auto, 8 or 16 channels */
    int    daisy;              /* -1 undecided; else the decision (kept across reconnects) */
    int    v3;                 /* firmware 3 knows `~6` */
    int    step;               /* enum dw_hs_step */
    double deadline;           /* the step ends by this time */
    long   junk;               /* bytes in this step that ended no reply */
    dw_cyton_reply reply;
} dw_cyton_hs;
enum { DW_HS_WAIT, DW_HS_SEND, DW_HS_STREAM, DW_HS_FAIL };
typedef struct {
    int         kind;          /* DW_HS_WAIT nothing to do; SEND cmd (after discarding pending input if
                                  flush); STREAM: send cmd ("b") and parse packets from now on; FAIL: why */
    int         flush;
    const char *cmd;
    const char *why;
} dw_cyton_hs_act;
/* Starts (asks to send `s`). daisy: the earlier decision, or -1. */
void   dw_cyton_hs_start(dw_cyton_hs *h, int want, int daisy, double now, dw_cyton_hs_act *a);
/* Bytes received at now: how many it took (the rest, after a STREAM, are packets). */
size_t dw_cyton_hs_feed(dw_cyton_hs *h, const uint8_t *buf, size_t n, double now, dw_cyton_hs_act *a);
/* Time passed (call when a wait ends with no bytes, and after bytes): a step whose time ran out ends. */
void   dw_cyton_hs_time(dw_cyton_hs *h, double now, dw_cyton_hs_act *a);

/* ---- live source ---- */

/* board: "auto", "cyton" (8 channels, a Daisy is detached) or "daisy" (16 channels, required).
 * Opens, handshakes (v, d, c/C, b) and starts streaming. NULL with err on failure; a board that is
 * off or out of range gives "board is off or out of range". read() follows the dw_source contract:
 * it never blocks longer than timeout_ms, returns 0 while disconnected, reconnects by itself
 * (0.5 s back-off doubling to 5 s) and reports samples lost meanwhile as the next block's gap. */
/* cancel_fd: when it becomes readable (a signalfd of the shutdown signals) the first handshake stops and
 * NULL comes back with "interrupted"; -1 for none. */
dw_source *dw_cyton_open(const char *path, const char *board, const dw_channel_spec *spec, int cancel_fd,
                         dw_err *err);

struct dw_cyton_stats {
    int      connected;        /* streaming now */
    long     packets, lost_packets;
    long     samples, lost_samples;
    double   loss_pct_5s, loss_pct_night;
    long     garbage_bytes, resyncs;
    int      reconnects;
    int      accel_valid;
    double   accel[3];         /* last reading, g */
    double   drift_ppm;        /* board clock minus host clock, parts per million (+ = board fast) */
    char     last_error[512];  /* why the link dropped or a reconnect failed, "" if never */
};
/* Safe to call from another thread than the reader. 0, or -1 if src is not a Cyton. */
int dw_cyton_stats(dw_source *src, struct dw_cyton_stats *st);
/* Lead-off impedance of channel 1..nch in kOhm (6 nA at 31.25 Hz through the electrode, 2.2 kOhm
 * series resistor removed): stops the stream, measures about 1.5 s, restarts. Call from the thread
 * that reads; the time the stream was stopped comes back as the next block's gap, all of it
 * marked as a deliberate pause (dw_block.pause: not counted in lost_samples; a link lost meanwhile
 * makes it an outage again). 0 or -1 with src->err. */
int dw_cyton_impedance(dw_source *src, int channel, double *kohm);
/* The board channel (1..16) behind delivered channel k (0-based), or -1 if src is not a Cyton or k
 * is out of range: what dw_cyton_impedance takes. */
int dw_cyton_board_channel(dw_source *src, int k);
/* Send a channel-setting command (e.g. "x3020110X"); gains are tracked. 0 or -1 with src->err. */
int dw_cyton_command(dw_source *src, const char *cmd);
/* Makes a read() blocked in another thread return at once (0 frames). Thread-safe. */
void dw_cyton_wake(dw_source *src);

/* ---- emulator ---- */
/* `dreamwatch emulate [--daisy] [--file F] [--faults LIST] [--link PATH] [--sent-log FILE]
 *  [--seconds N] [--seed N] [--speed N]`; argv[0] = "emulate". Returns the exit status. */

#endif
