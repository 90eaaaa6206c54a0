/* `dreamwatch emulate`: an OpenBCI Cyton (or Cyton+Daisy) on a pseudo-terminal, for trying and testing
 * the live path without a board. It answers the serial protocol (v s b d c C ~ x z), streams 24-bit
 * counts at the real rate from a recording or a generated alpha rhythm, and can misbehave on purpose:
 * dropped packets, damaged bytes, garbage, unplugging (a new pty behind the same --link), stalls, a
 * drifting clock, a board that is switched off; and a head for the pre-night check: eyes closed
 * (alpha) and eye movements at given times, an electrode's impedance. --sent-log writes every
 * sample it sent. */
#include "sources/cyton.h"
#include "app/commands.h"
#include "dsp/resample.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_EVENTS 16
/* The Cyton dongle's serial link: 115200 baud, 8N1 (10 bits a byte): 11520 bytes/s, 349 packets
 * of 33 bytes (OpenBCI's Cyton data format). 250 packets/s use 72 % of it; a pty has no baud
 * limit. */
#define LINK_BYTES_S 11520.0
#define BURST_MAX    2000      /* samples sent before commands are looked at again when behind */
#define LATE_SAY_S   1.0       /* behind the time line by this much: said on stderr (once) */

typedef struct { double t, d; } timed;
/* A fault on one electrode: flat (shorted or lifted: ~0 uV), rail (off: the amplifier saturates) or noise
 * (a loose electrode: 300 uV of broadband noise), channel ch (1-based) from t for d board seconds. */
enum { CF_FLAT, CF_RAIL, CF_NOISE };
typedef struct { double t, d; int ch, kind; } chfault;

typedef struct {
    /* options */
    int    has_daisy;
    const char *file, *link, *sent_log;
    double seconds;
    double drop, corrupt;                  /* probabilities per packet */
    timed  garbage[MAX_EVENTS], unplug[MAX_EVENTS], stall[MAX_EVENTS];
    int    ngarbage, nunplug, nstall;
    timed  closed[MAX_EVENTS], moves[MAX_EVENTS];  /* the head: eyes closed, eye movements */
    int    nclosed, nmoves;
    double kohm[16];                       /* electrode impedance (kOhm) if set, else 5, 6, 7 ... */
    double drift_ppm;
    int    board_off;
    chfault chf[MAX_EVENTS];
    int    nchf;
    double speed;                          /* samples go out this many times faster than real time */
    int    lossless;                       /* speed > 1: a full pty is waited for, not a loss */
    double t_end;                          /* --seconds: when it ends (monotonic), 0 never */
    uint64_t rng;
    /* pty */
    int    master, slave;                  /* we hold the slave open so the master never sees a hang-up */
    char   slave_path[128];
    /* board state */
    int    daisy;                          /* Daisy attached (C) or removed (c) */
    int    streaming;
    uint8_t counter;
    int    gain[16];
    int    leadoff[16];
    char   cmd[16];                        /* a multi-byte command being received */
    int    cmd_len;
    /* time line: sample k is due at t_start + k / rate */
    double t_start;                        /* first `b`; 0 before */
    double fs;                             /* samples per second by the board's own clock */
    double rate;                           /* ... by ours (differs by the drift) */
    long   next;                           /* next sample index to send */
    int    garbage_done[MAX_EVENTS], unplug_done[MAX_EVENTS];
    /* signal */
    dw_source *src;
    dw_resampler *rs[DW_MAX_CH];
    double *fifo;                          /* resampled frames waiting, frame-major, 16 wide */
    int    fifo_len, fifo_cap;
    long   fifo_index;                     /* sample index of fifo[0] */
    int    eof;
    FILE  *log;
    /* what the receiver cannot see by itself, said on stderr */
    long   sent, pty_drops, stalled;       /* samples sent, packets dropped (full pty), stalled */
    int    said_drop, said_late;
    double most_late;                      /* the longest the time line ran behind (s) */
} emu;

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static double rnd01(emu *e)
{
    e->rng ^= e->rng << 13; e->rng ^= e->rng >> 7; e->rng ^= e->rng << 17;
    return (double)(e->rng >> 11) / 9007199254740992.0;
}

static int usage(const char *why)
{
    if (why)
        fprintf(stderr, "dreamwatch emulate: %s\n", why);
    fprintf(stderr,
        "usage: dreamwatch emulate [--daisy] [--file F.edf|OpenBCI.txt] [--faults LIST] [--link PATH]\n"
        "                          [--speed F] [--sent-log FILE] [--seconds N] [--seed N]\n"
        "  --faults  comma-separated: drop=N%%, corrupt=N%% (packets with one damaged byte), garbage=T,\n"
        "            unplug=T:D, stall=T:D, drift=PPM, board-off, and per electrode flat=T:D:CH,\n"
        "            rail=T:D:CH, noise=T:D:CH   (T, D in board seconds after the first `b`;\n"
        "            CH 1-based); the head for the pre-night check: eyes-closed=T:D (alpha; eyes\n"
        "            open otherwise, once one is given), eye-move=T:D (saccades on channels 1-2),\n"
        "            impedance=CH:KOHM\n"
        "  --speed F  stream F times faster than real time (tests; the board's clock runs F\n"
        "            times fast); every sample goes out, late ones in a burst. Above 1.39 the\n"
        "            bytes exceed a real dongle's 115200 baud (a pty has none; said on stderr);\n"
        "            above 1 a full pty is waited for (a slow reader makes it late, said on\n"
        "            stderr), at 1 or less it drops the packet as an overflowing dongle would\n"
        "            (the counter jumps). At exit: what was sent, how fast, how late\n"
        "  prints the pty's path; --link keeps a symlink to it (replaced when unplugged and back,\n"
        "  removed when it stops: SIGINT, SIGTERM, SIGHUP)\n");
    return 2;
}

static int parse_faults(emu *e, char *list)
{
    for (char *save = NULL, *f = strtok_r(list, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
        char *v = strchr(f, '=');
        if (v)
            *v++ = 0;
        char *end = NULL;
        timed tv = { 0, 0 };
        long ch = 0;
        if (v) {
            tv.t = strtod(v, &end);
            if (end == v)
                goto bad;
            if (*end == ':')
                tv.d = strtod(end + 1, &end);
            if (*end == ':')
                ch = strtol(end + 1, &end, 10);
        }
        int cf = !strcmp(f, "flat") ? CF_FLAT : !strcmp(f, "rail") ? CF_RAIL : !strcmp(f, "noise") ? CF_NOISE : -1;
        if (cf >= 0) {
            if (!v || *end || tv.d <= 0 || ch < 1 || ch > 16 || e->nchf == MAX_EVENTS)
                goto bad;
            e->chf[e->nchf++] = (chfault){ tv.t, tv.d, (int)ch - 1, cf };
            continue;
        }
        if (!strcmp(f, "drop") && v && (*end == '%' || !*end))
            e->drop = tv.t / 100.0;
        else if (!strcmp(f, "corrupt") && v && (*end == '%' || !*end))
            e->corrupt = tv.t / 100.0;
        else if (!strcmp(f, "drift") && v && !*end)
            e->drift_ppm = tv.t;
        else if (!strcmp(f, "garbage") && v && !*end && e->ngarbage < MAX_EVENTS)
            e->garbage[e->ngarbage++] = tv;
        else if (!strcmp(f, "unplug") && v && !*end && tv.d > 0 && e->nunplug < MAX_EVENTS)
            e->unplug[e->nunplug++] = tv;
        else if (!strcmp(f, "stall") && v && !*end && tv.d > 0 && e->nstall < MAX_EVENTS)
            e->stall[e->nstall++] = tv;
        else if (!strcmp(f, "board-off") && !v)
            e->board_off = 1;
        else if (!strcmp(f, "eyes-closed") && v && !*end && tv.d > 0 && e->nclosed < MAX_EVENTS)
            e->closed[e->nclosed++] = tv;
        else if (!strcmp(f, "eye-move") && v && !*end && tv.d > 0 && e->nmoves < MAX_EVENTS)
            e->moves[e->nmoves++] = tv;
        else if (!strcmp(f, "impedance") && v && !*end && tv.t >= 1 && tv.t <= 16 && tv.d > 0)
            e->kohm[(int)tv.t - 1] = tv.d;
        else
            goto bad;
        continue;
bad:
        fprintf(stderr, "dreamwatch emulate: fault \"%s%s%s\" not understood\n", f, v ? "=" : "", v ? v : "");
        return -1;
    }
    return 0;
}

/* ---- pty ---- */

static int open_pty(emu *e)
{
    e->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (e->master < 0 || grantpt(e->master) != 0 || unlockpt(e->master) != 0 ||
        ptsname_r(e->master, e->slave_path, sizeof e->slave_path) != 0) {
        fprintf(stderr, "dreamwatch emulate: cannot create a pseudo-terminal: %s\n", strerror(errno));
        return -1;
    }
    e->slave = open(e->slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct termios tio;
    /* Raw before anyone sees it: echo or CR translation would damage binary packets. */
    if (e->slave < 0 || tcgetattr(e->slave, &tio) != 0) {
        fprintf(stderr, "dreamwatch emulate: %s: %s\n", e->slave_path, strerror(errno));
        return -1;
    }
    cfmakeraw(&tio);
    cfsetispeed(&tio, B115200);
    cfsetospeed(&tio, B115200);
    tcsetattr(e->slave, TCSANOW, &tio);
    fcntl(e->master, F_SETFL, fcntl(e->master, F_GETFL) | O_NONBLOCK);
    if (e->link) {
        char tmp[1100];
        struct stat st;
        if (lstat(e->link, &st) == 0 && !S_ISLNK(st.st_mode)) {   /* only a symlink is replaced */
            fprintf(stderr, "dreamwatch emulate: %s exists and is not a symlink: not replaced\n", e->link);
            return -1;
        }
        snprintf(tmp, sizeof tmp, "%s.tmp%d", e->link, (int)getpid());
        unlink(tmp);
        if (symlink(e->slave_path, tmp) != 0 || rename(tmp, e->link) != 0) {
            fprintf(stderr, "dreamwatch emulate: cannot link %s: %s\n", e->link, strerror(errno));
            return -1;
        }
    }
    printf("%s\n", e->slave_path);
    fflush(stdout);
    return 0;
}

static void close_pty(emu *e)
{
    if (e->master >= 0)
        close(e->master);
    if (e->slave >= 0)
        close(e->slave);
    e->master = e->slave = -1;
}

/* Whole buffer or nothing. At --speed 1 or less a full pty drops the packet, as an overflowing
 * dongle would (its counter is spent: the reader sees the jump, its wall-clock meter the loss); a
 * partial write is finished (200 ms at most) so the stream stays framed. Faster (e->lossless) the
 * emulator waits for its reader instead: a buffer that holds 8 s of a real board holds 0.4 s at
 * 20x, and an 8-bit counter wraps 20 times as fast, so loss there would be neither faithful nor
 * countable; the time line slips and stderr says so. 0 if written. */
static int send_bytes(emu *e, const void *buf, size_t n)
{
    const char *p = buf;
    size_t done = 0;
    double give_up = dw_now_mono() + 0.2;
    while (done < n) {
        ssize_t w = write(e->master, p + done, n - done);
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if ((w < 0 && errno != EAGAIN) || (done == 0 && !e->lossless) || stop_flag)
            return -1;
        double now = dw_now_mono();
        if ((!e->lossless && now >= give_up) || (e->t_end > 0 && now >= e->t_end))
            return -1;
        struct pollfd pf = { e->master, POLLOUT, 0 };
        poll(&pf, 1, 50);
    }
    return 0;
}

static void reply(emu *e, const char *text)
{
    send_bytes(e, text, strlen(text));
}

/* ---- signal ---- */

static int in_window(const timed *w, int n, double t);

/* Ohms the emulated electrode c (0-based) shows in an impedance check: 5, 6, 7 ... kOhm if unset */
static double electrode_ohm(const emu *e, int c)
{
    return (e->kohm[c] > 0 ? e->kohm[c] : 5.0 + c) * 1000.0;
}

/* Frames from the file, resampled to the board's rate, until sample index k is available. */
static int file_frame(emu *e, long k, double *uv)
{
    int nin = e->src->info.nch;
    while (k >= e->fifo_index + e->fifo_len && !e->eof) {
        dw_block b;
        int n = e->src->ops->read(e->src, &b, 256, 0);
        if (n <= 0) {
            e->eof = 1;
            break;
        }
        size_t cap = (size_t)(n * e->fs / e->src->info.fs) + 8;
        if (e->fifo_len + (int)cap > e->fifo_cap) {
            int nc = e->fifo_len + (int)cap + 1024;
            double *f = realloc(e->fifo, (size_t)nc * 16 * sizeof *f);
            if (!f)
                return -1;
            e->fifo = f;
            e->fifo_cap = nc;
        }
        double col[256], out[1024];
        size_t got = 0;
        for (int c = 0; c < nin; c++) {
            for (int i = 0; i < n; i++)
                col[i] = b.uv[i * nin + c];
            got = e->rs[c] ? dw_resampler_run(e->rs[c], col, (size_t)n, out, 1024) : (size_t)n;
            for (size_t i = 0; i < got; i++)
                e->fifo[(e->fifo_len + (int)i) * 16 + c] = e->rs[c] ? out[i] : col[i];
        }
        e->fifo_len += (int)got;
    }
    if (k < e->fifo_index) {                       /* gone by (board was stopped): skip ahead */
        k = e->fifo_index;
    }
    long drop = k - e->fifo_index;
    if (drop >= e->fifo_len)
        return -1;
    if (drop > 0) {
        memmove(e->fifo, e->fifo + drop * 16, (size_t)(e->fifo_len - drop) * 16 * sizeof *e->fifo);
        e->fifo_len -= (int)drop;
        e->fifo_index = k;
    }
    for (int c = 0; c < 16; c++)
        uv[c] = e->fifo[(c % nin)];               /* a 2-channel night fills 16 by repeating */
    return 0;
}

static int sample_uv(emu *e, long k, double *uv)
{
    double t = k / e->fs;                       /* board time: the lead-off current runs on its clock */
    if (e->src) {
        if (file_frame(e, k, uv) != 0)
            return -1;
    } else {
        /* alpha with a drifting amplitude, a little noise; with eyes-closed windows given, the eyes
         * are open (alpha small) outside them */
        double gain = e->nclosed && !in_window(e->closed, e->nclosed, t) ? 0.2 : 1.0;
        for (int c = 0; c < 16; c++)
            uv[c] = gain * (20 + 8 * sin(2 * M_PI * 0.4 * t + c)) *
                        sin(2 * M_PI * 10 * t + 0.7 * c) +
                    3 * (rnd01(e) + rnd01(e) + rnd01(e) - 1.5) + 30 * c;
        if (in_window(e->moves, e->nmoves, t)) {   /* saccades left, right each second: Fp1, Fp2 */
            double eog = sin(2 * M_PI * 0.5 * t) >= 0 ? 120 : -120;
            uv[0] += eog;
            uv[1] += 0.3 * eog;
        }
    }
    for (int i = 0; i < e->nchf; i++) {
        const chfault *f = &e->chf[i];
        if (t < f->t || t >= f->t + f->d)
            continue;
        double n3 = rnd01(e) + rnd01(e) + rnd01(e) - 1.5;   /* about N(0, 0.5) */
        uv[f->ch] = f->kind == CF_FLAT ? 0.1 * n3 : f->kind == CF_RAIL ? 187500.0 : uv[f->ch] + 600 * n3;
    }
    for (int c = 0; c < 16; c++)
        if (e->leadoff[c])                       /* 6 nA at 31.25 Hz through electrode + 2.2 kOhm */
            uv[c] += 6e-9 * (electrode_ohm(e, c) + 2200.0) * 1e6 * sin(2 * M_PI * 31.25 * t);
    return 0;
}

static int32_t to_count(double uv, int gain)
{
    double v = round(uv / dw_cyton_uv_per_count(gain));
    return v > DW_CYTON_COUNT_MAX ? DW_CYTON_COUNT_MAX : v < -DW_CYTON_COUNT_MAX - 1 ? -DW_CYTON_COUNT_MAX - 1 : (int32_t)v;
}

/* ---- streaming ---- */

/* One packet with the faults applied; 0 if it went out whole. */
static int send_packet(emu *e, const dw_cyton_packet *pk)
{
    uint8_t raw[DW_CYTON_PACKET];
    dw_cyton_packet_encode(pk, raw);
    if (e->drop > 0 && rnd01(e) < e->drop)
        return -1;
    if (e->corrupt > 0 && rnd01(e) < e->corrupt)
        raw[(int)(rnd01(e) * DW_CYTON_PACKET)] ^= (uint8_t)(1 + rnd01(e) * 254);
    if (send_bytes(e, raw, sizeof raw) == 0)
        return 0;
    e->pty_drops++;
    if (!e->said_drop) {
        e->said_drop = 1;
        fprintf(stderr, "dreamwatch emulate: the pty is full (its reader is not keeping up): "
                "packets are dropped and their counters skipped; the count is given at exit\n");
    }
    return -1;
}

static void fill_packet(emu *e, dw_cyton_packet *pk, const int32_t *count)
{
    memset(pk, 0, sizeof *pk);
    pk->counter = e->counter++;
    memcpy(pk->count, count, sizeof pk->count);
    pk->footer = 0xC0;
    if (pk->counter % 10 == 0) {                /* the accelerometer updates at 25 Hz: lying still */
        int16_t a[3] = { (int16_t)(rnd01(e) * 80 - 40), (int16_t)(rnd01(e) * 80 - 40), 8000 };
        for (int i = 0; i < 3; i++)
            pk->aux[2 * i] = (uint8_t)((uint16_t)a[i] >> 8), pk->aux[2 * i + 1] = (uint8_t)a[i];
    }
}

static int send_sample(emu *e, long k)
{
    double uv[16];
    int32_t count[16];
    if (sample_uv(e, k, uv) != 0)
        return -1;
    int nch = e->daisy ? 16 : 8;
    for (int c = 0; c < nch; c++)
        count[c] = to_count(uv[c], e->gain[c]);
    dw_cyton_packet pk;
    fill_packet(e, &pk, count);
    uint8_t first = pk.counter;
    int ok = send_packet(e, &pk) == 0;
    if (e->daisy) {                             /* odd counter: main board, even: the Daisy */
        fill_packet(e, &pk, count + 8);
        ok &= send_packet(e, &pk) == 0;
    }
    e->sent += ok;
    if (ok && e->log) {
        fprintf(e->log, "%ld %u %.6f", k, first, dw_now_mono());
        for (int c = 0; c < nch; c++)
            fprintf(e->log, " %d", count[c]);
        fputc('\n', e->log);
    }
    return 0;
}

static void start_stream(emu *e, double now)
{
    e->fs = e->daisy ? DW_CYTON_FS / 2 : DW_CYTON_FS;
    e->rate = e->fs * (1 + e->drift_ppm * 1e-6) * e->speed;
    if (e->t_start == 0)
        e->t_start = now;
    e->next = (long)ceil((now - e->t_start) * e->rate);
    e->streaming = 1;
    e->counter = 0;
    if (e->daisy) {                             /* the first half pair is invalid */
        dw_cyton_packet pk;
        int32_t zero[8] = { 0 };
        fill_packet(e, &pk, zero);
        send_packet(e, &pk);
    }
}

/* ---- commands ---- */

static void defaults(emu *e)
{
    for (int c = 0; c < 16; c++)
        e->gain[c] = 24, e->leadoff[c] = 0;
}

static void command_byte(emu *e, char ch, double now)
{
    char msg[160];
    if (e->cmd_len > 0 || ch == 'x' || ch == 'z' || ch == '~') {
        e->cmd[e->cmd_len++] = ch;
        e->cmd[e->cmd_len] = 0;
        int need = e->cmd[0] == 'x' ? 9 : e->cmd[0] == 'z' ? 5 : 2;
        if (e->cmd_len < need)
            return;
        e->cmd_len = 0;
        if (e->cmd[0] == '~') {
            reply(e, e->cmd[1] == '6' ? "Success: Sample rate is 250Hz$$$"
                                      : "Failure: this emulator runs at 250Hz only$$$");
            return;
        }
        int c = dw_cyton_channel_of_char(e->cmd[1]);
        int last = e->cmd[0] == 'x' ? 8 : 4;
        if (!c || e->cmd[last] != (e->cmd[0] == 'x' ? 'X' : 'Z') || (c > 8 && !e->daisy)) {
            reply(e, "Failure: too few chars$$$");
            return;
        }
        if (e->cmd[0] == 'x') {
            int g = dw_cyton_gain_of_code(e->cmd[3]);
            if (g)
                e->gain[c - 1] = g;
            snprintf(msg, sizeof msg, "Success: Channel set for %d$$$", c);
        } else {
            e->leadoff[c - 1] = e->cmd[2] == '1' || e->cmd[3] == '1';
            snprintf(msg, sizeof msg, "Success: Lead off set for %d$$$", c);
        }
        reply(e, msg);
        return;
    }
    switch (ch) {
    case 'v':
        e->streaming = 0;
        if (e->board_off) {
            reply(e, "Failure: Communications timeout - Device failed to poll Host$$$");
            return;
        }
        defaults(e);
        e->daisy = e->has_daisy;
        snprintf(msg, sizeof msg, "OpenBCI V3 8-16 channel\nADS1299 Device ID: 0x3E\n%sLIS3DH Device ID: 0x33\n"
                 "Firmware: v3.1.2\n$$$", e->has_daisy ? "On Daisy ADS1299 Device ID: 0x3E\n" : "");
        reply(e, msg);
        return;
    case 's':
        e->streaming = 0;
        return;
    case 'b':
        if (!e->board_off)
            start_stream(e, now);
        return;
    case 'd':
        defaults(e);
        reply(e, "updating channel settings to default$$$");
        return;
    case 'c':
        reply(e, e->daisy ? "daisy removed$$$" : "no daisy to remove$$$");
        e->daisy = 0;
        return;
    case 'C':
        e->daisy = e->has_daisy;
        reply(e, e->daisy ? "daisy attached16$$$" : "no daisy to attach!8$$$");
        return;
    default:
        return;                                 /* channel on/off, test signals...: accepted silently */
    }
}

/* ---- main loop ---- */

static int in_window(const timed *w, int n, double t)
{
    for (int i = 0; i < n; i++)
        if (t >= w[i].t && t < w[i].t + w[i].d)
            return 1;
    return 0;
}

/* Every sample due by now, in order: late ones (the emulator was descheduled, or the machine is
 * slower than --speed asks) go out in a burst, at most BURST_MAX before commands are looked at
 * again. None is skipped: skipping with the counter running on made the loss invisible to the
 * reader (at --speed 20 a third of the samples went missing, the counter continuous). 0, or -1 at
 * the end of --file. */
static int stream_due(emu *e, double now)
{
    long due = (long)floor((now - e->t_start) * e->rate);
    double late = (due - e->next) / e->rate;
    if (late > e->most_late)
        e->most_late = late;
    if (late >= LATE_SAY_S && !e->said_late) {
        e->said_late = 1;
        fprintf(stderr, "dreamwatch emulate: %.1f s behind the time line at --speed %g: every "
                "sample is still sent, late (this machine or its reader is slower than the speed "
                "asked)\n", late, e->speed);
    }
    for (long n = 0; e->next <= due && n < BURST_MAX; e->next++, n++)
        if (send_sample(e, e->next) != 0)
            return -1;
    return 0;
}

/* A stall: the board samples on, nothing reaches the pty; its counter runs on (2 packets a sample
 * with the Daisy), so a short stall shows as a counter jump. */
static void stall_skip(emu *e, double now)
{
    long to = (long)floor((now - e->t_start) * e->rate) + 1;
    if (to <= e->next)
        return;
    e->stalled += to - e->next;
    e->counter = (uint8_t)(e->counter + (to - e->next) * (e->daisy ? 2 : 1));
    e->next = to;
}

static int run(emu *e)
{
    e->t_end = e->seconds > 0 ? dw_now_mono() + e->seconds : 0;
    while (!stop_flag) {
        double now = dw_now_mono();
        if (e->t_end > 0 && now >= e->t_end)
            break;
        double ts = e->t_start ? (now - e->t_start) * e->speed : -1;   /* board seconds */
        /* unplug: the pty goes away; a new one appears behind the link D seconds later */
        for (int i = 0; i < e->nunplug; i++)
            if (ts >= e->unplug[i].t && !e->unplug_done[i]) {
                e->unplug_done[i] = 1;
                close_pty(e);
                if (e->link)                    /* as udev removes a USB port's links */
                    unlink(e->link);
                e->streaming = 0;
                double dw = e->unplug[i].d / e->speed;
                struct timespec d = { (time_t)dw, (long)(fmod(dw, 1.0) * 1e9) };
                while (nanosleep(&d, &d) != 0 && errno == EINTR && !stop_flag)
                    ;
                if (stop_flag || open_pty(e) != 0)
                    return stop_flag ? 0 : 1;
            }
        if (ts >= 0 && in_window(e->stall, e->nstall, ts)) {
            if (e->streaming)                   /* a silent stall: nothing in, nothing out */
                stall_skip(e, now);
            usleep(5000);
            continue;
        }
        for (int i = 0; i < e->ngarbage; i++)
            if (ts >= e->garbage[i].t && !e->garbage_done[i]) {
                uint8_t junk[300];
                int n = 64 + (int)(rnd01(e) * 236);
                for (int k = 0; k < n; k++)
                    junk[k] = (uint8_t)(rnd01(e) * 256);
                e->garbage_done[i] = 1;
                send_bytes(e, junk, (size_t)n);
            }
        if (e->streaming && stream_due(e, now) != 0) {
            fprintf(stderr, "dreamwatch emulate: end of %s\n", e->file);
            return 0;
        }
        double wait = e->streaming ? e->t_start + (e->next) / e->rate - dw_now_mono() : 0.05;
        struct pollfd pf = { e->master, POLLIN, 0 };
        int ms = wait > 0 ? (int)ceil(wait * 1e3) : 0;
        if (poll(&pf, 1, ms > 50 ? 50 : ms) > 0 && (pf.revents & POLLIN)) {
            char buf[256];
            ssize_t n = read(e->master, buf, sizeof buf);
            for (ssize_t i = 0; i < n; i++)
                command_byte(e, buf[i], dw_now_mono());
        }
    }
    return 0;
}

/* At start: a speed whose bytes a real 115200-baud link could not carry is said (a pty can). */
static void say_link(const emu *e)
{
    double bytes = DW_CYTON_FS * DW_CYTON_PACKET * e->speed;    /* 250 packets/s, Daisy or not */
    if (bytes > LINK_BYTES_S)
        fprintf(stderr, "dreamwatch emulate: --speed %g sends %.0f bytes/s, %.1f times what a "
                "Cyton's 115200-baud link carries (%.0f): a test speed, not a real board's; a pty "
                "has no baud limit, and when it is full the emulator waits for its reader: every "
                "sample goes out, in order\n", e->speed, bytes, bytes / LINK_BYTES_S, LINK_BYTES_S);
}

/* At exit, whatever ended it (--seconds, the end of --file, SIGINT, SIGTERM, SIGHUP: run() returns on the
 * flag its handler sets): what went out, how fast, how late, as --help promises. */
static void say_sent(const emu *e)
{
    double wall = e->t_start > 0 ? dw_now_mono() - e->t_start : 0;
    fprintf(stderr, "dreamwatch emulate: sent %ld samples of %ld (%.1f s of board time in %.1f s: "
            "%.1fx); %ld packets dropped at a full pty, %ld samples stalled; at most %.2f s late\n",
            e->sent, e->next, e->next / e->fs, wall, wall > 0 ? e->next / e->fs / wall : 0,
            e->pty_drops, e->stalled, e->most_late);
}

int dw_cmd_emulate(int argc, char **argv)
{
    emu e;
    memset(&e, 0, sizeof e);
    e.master = e.slave = -1;
    e.rng = 0x2545F4914F6CDD1Dull;
    e.speed = 1;
    char faults[512] = "";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--daisy"))
            e.has_daisy = 1;
        else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return usage(NULL), 0;
        else if (!v)
            return usage("an option is missing its value");
        else if (!strcmp(a, "--file"))
            e.file = v, i++;
        else if (!strcmp(a, "--link"))
            e.link = v, i++;
        else if (!strcmp(a, "--sent-log"))
            e.sent_log = v, i++;
        else if (!strcmp(a, "--faults"))
            snprintf(faults, sizeof faults, "%s", v), i++;
        else if (!strcmp(a, "--seconds"))
            e.seconds = atof(v), i++;
        else if (!strcmp(a, "--speed")) {
            e.speed = atof(v), i++;
            if (!(e.speed >= 0.01 && e.speed <= 100))
                return usage("--speed: a factor from 0.01 to 100");
        }
        else if (!strcmp(a, "--seed"))
            e.rng = strtoull(v, NULL, 0) * 2654435761ull + 1, i++;
        else
            return usage("unknown option");
    }
    if (parse_faults(&e, faults) != 0)
        return 2;
    e.daisy = e.has_daisy;
    e.lossless = e.speed > 1;
    defaults(&e);
    e.fs = e.rate = e.daisy ? DW_CYTON_FS / 2 : DW_CYTON_FS;
    int status = 1;
    if (e.file) {
        dw_err err = { 0 };
        dw_channel_spec spec;
        memset(&spec, 0, sizeof spec);
        e.src = dw_source_open_file(e.file, &spec, &err);
        if (!e.src) {
            fprintf(stderr, "dreamwatch emulate: %s\n", err.msg);
            return 1;
        }
        for (int c = 0; c < e.src->info.nch; c++)
            if (fabs(e.src->info.fs - e.fs) > 1e-9 && !(e.rs[c] = dw_resampler_new(e.src->info.fs, e.fs)))
                goto out;
    }
    if (e.sent_log) {
        /* created exclusively: an existing file or a planted symlink is refused, never written through */
        int fd = open(e.sent_log, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 || !(e.log = fdopen(fd, "w"))) {
            fprintf(stderr, "dreamwatch emulate: %s: %s\n", e.sent_log,
                    errno == EEXIST ? "exists already: not replaced" : strerror(errno));
            goto out;
        }
        fprintf(e.log, "# index counter t_write_mono counts (ch1..ch%d)\n", e.has_daisy ? 16 : 8);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);        /* its terminal gone: stop the same way, link removed */
    signal(SIGPIPE, SIG_IGN);
    if (open_pty(&e) != 0)
        goto out;
    say_link(&e);
    status = run(&e);
    say_sent(&e);
out:
    close_pty(&e);
    if (e.link)
        unlink(e.link);
    if (e.log)
        fclose(e.log);
    for (int c = 0; c < DW_MAX_CH; c++)
        dw_resampler_free(e.rs[c]);
    free(e.fifo);
    dw_source_close(e.src);
    return status;
}
