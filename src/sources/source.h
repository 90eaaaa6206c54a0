/* Sources: where samples come from (EDF/BDF replay, OpenBCI text files, a live Cyton).
 * Every source fills the same small vtable, so the worker does not care which it has. */
#ifndef DW_SOURCE_H
#define DW_SOURCE_H

#include "base/dw.h"

#define DW_LABEL_LEN 24

typedef struct dw_source dw_source;

typedef struct {
    int    nch;                          /* channels delivered, <= DW_MAX_CH */
    char   label[DW_MAX_CH][DW_LABEL_LEN]; /* trimmed labels, e.g. "EEG Fpz-Cz" */
    double fs;                           /* samples per second per channel, as delivered */
    int    live;                         /* 1 for a device (no seek, no pacing), 0 for a file */
    double duration_s;                   /* files: length in seconds; live: 0 */
    double start_epoch;                  /* wall-clock start of the recording (Unix time), 0 if unknown */
    char   subject[81];                  /* patient / subject code if the file has one */
    int    frontal;                      /* index of the frontal (Fpz-Cz-like) channel, -1 if none */
    int    parietal;                     /* index of the parietal (Pz-Oz-like) channel, -1 if none */
    double phys_max_uv;                  /* largest magnitude the source can represent (railed beyond) */
    char   note[2048];                   /* what the user should see although the open worked (file
                                            truncated, header repaired, unit assumed): one line per
                                            note, each starting with the file's name, separated by '\n';
                                            "" if none */
} dw_source_info;

/* Appends one line (printf-style) to a note buffer of cap bytes, after a '\n' if it is not empty; a line
 * that does not fit is cut. */
void dw_source_note(char *note, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A block of consecutive frames. The source owns the memory; it stays valid until the next read. */
typedef struct {
    int     n;                 /* frames */
    const double *uv;          /* n * nch values in microvolts, frame-major: uv[i * nch + c] */
    double  t0;                /* source time of frame 0 in seconds since the start */
    long    gap;               /* frames lost just before this block (0 = continuous) */
    int     accel_valid;       /* accel holds a fresh accelerometer reading (g) */
    double  accel[3];
} dw_block;

enum { DW_SRC_EOF = -1, DW_SRC_ERR = -2 };

struct dw_source_ops {
    const char *kind;          /* "edf", "bdf", "openbci-text", "cyton", ... */
    /* Up to max_frames frames. >0 frames, 0 nothing yet (live, after timeout_ms),
     * DW_SRC_EOF at the end of a file, DW_SRC_ERR with src->err filled. */
    int  (*read)(dw_source *src, dw_block *out, int max_frames, int timeout_ms);
    /* Files only (NULL for live): position at t_s seconds; 0 or -1. */
    int  (*seek)(dw_source *src, double t_s);
    void (*close)(dw_source *src);
};

struct dw_source {
    const struct dw_source_ops *ops;
    dw_source_info info;
    dw_err err;
    char   path[1024];
    void  *priv;
};

/* Which channels to take and which is frontal/parietal. Each spec is a label (case-insensitive,
 * "EEG " prefix and spaces ignored) or a 1-based index; empty means "choose". */
typedef struct {
    char channels[DW_MAX_CH][DW_LABEL_LEN]; /* channels to deliver; nchannels == 0: the EEG-like ones */
    int  nchannels;
    char frontal[DW_LABEL_LEN];             /* default: a label containing "Fpz" / "Fp1" / "Fp2" / "F" */
    char parietal[DW_LABEL_LEN];            /* default: a label containing "Pz" / "O"; "none" for one channel */
} dw_channel_spec;

/* EDF, EDF+C/D, BDF, BDF+C/D through EDFlib; delivers the chosen channels resampled to DW_FS in uV (EDF+D
 * is read through a gap-free copy: gaps come back as dw_block.gap, duration_s includes them). Default channels: labels starting "EEG" or
 * naming a 10-20 electrode, at 50 Hz or faster. Frontal by electrode Fpz, Fp1, Fp2, Fz, F3, F4, else the
 * first non-parietal channel; parietal Pz, Oz, O1, O2, P3, P4, else -1. A frontal/parietal spec outside
 * the channel list is added to it. Channels are aligned to within half a frame (filter delay removed).
 * NULL on failure with err naming the file and the problem; info.note carries warnings. */
dw_source *dw_edf_open(const char *path, const dw_channel_spec *spec, dw_err *err);

/* Open by looking at the file: EDF/BDF, OpenBCI GUI text, Cyton SD-card text. */
dw_source *dw_source_open_file(const char *path, const dw_channel_spec *spec, dw_err *err);

/* OpenBCI GUI text recordings (GUI v1-v6, BrainFlow style) and the Cyton's SD-card log, streamed line by
 * line with a seek index: 8 channels at 250 Hz (Daisy 16 at 125 Hz / header rate), uV, accelerometer in
 * dw_block.accel, sample-counter jumps as dw_block.gap. Bad lines are skipped and counted (see the .c files). */
dw_source *dw_openbci_text_open(const char *path, const dw_channel_spec *spec, dw_err *err);
dw_source *dw_sdcard_open(const char *path, const dw_channel_spec *spec, dw_err *err);

/* EDFlib's open after our own check of the header, so damage gets a precise message (EDFlib says only
 * "format error"). A file shorter or longer than its header promises is opened through a private
 * temporary copy holding the complete records (note says so). Returns the EDFlib handle (caller
 * edfclose_file()s it) or -1 with err. EDFlib is not thread-safe: call from the thread that owns EDF. */
struct edf_hdr_struct;
int dw_edf_open_checked(const char *path, struct edf_hdr_struct *hdr, char *note, size_t note_cap,
                        dw_err *err);

static inline void dw_source_close(dw_source *s) { if (s) s->ops->close(s); }

#endif
