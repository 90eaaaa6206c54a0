/* Sources: where samples come from (EDF/BDF replay, OpenBCI text files, a live Cyton).
 * Every source fills the same small vtable, so the worker does not care which it has. */
#ifndef DW_SOURCE_H
#define DW_SOURCE_H

#include "base/dw.h"
#include "sources/montage.h"

typedef struct dw_source dw_source;

typedef struct {
    int    nch;                          /* channels delivered, <= DW_MAX_CH */
    char   label[DW_MAX_CH][DW_LABEL_LEN]; /* trimmed labels, e.g. "EEG Fpz-Cz" */
    double fs;                           /* samples per second per channel, as delivered */
    int    live;                         /* 1 for a device (no seek, no pacing), 0 for a file */
    char   device[24];                   /* live: the board as the README names it, "Cyton"
                                            or "Cyton+Daisy"; "" for a file (its kind names it) */
    double duration_s;                   /* files: length in seconds; live: 0 */
    double start_epoch;                  /* wall-clock start of the recording (Unix time), 0 if unknown */
    char   subject[81];                  /* patient / subject code if the file has one */
    int    frontal;                      /* index of the frontal (Fpz-Cz-like) channel, -1 if none */
    int    parietal;                     /* index of the parietal (Pz-Oz-like) channel, -1 if none */
    char   roles_how[128];               /* which montage rule chose them (sources/montage.h) */
    int    ours;                         /* written by dreamwatch: its stage annotations are our own live
                                            labels, never a reference to compare with */
    double phys_max_uv;                  /* largest magnitude the source can represent (railed beyond) */
    double phys_lo[DW_MAX_CH], phys_hi[DW_MAX_CH]; /* each channel's full scale in uV (railed at either
                                            end); both 0 when unknown */
    char   note[2048];                   /* what the user should see although the open worked (file
                                            truncated, header repaired, unit assumed): one line per
                                            note, each starting with the file's name, separated by '\n';
                                            "" if none */
} dw_source_info;

/* Appends one line (printf-style) to a note buffer of cap bytes, after a '\n' if it is not empty; a line
 * that does not fit is cut. */
void dw_source_note(char *note, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The roles the montage chose (frontal, parietal, roles_how) into info, and its note (rule 5: no channel
 * is frontal) as a note line starting with the file name of path. */
void dw_source_take_roles(dw_source_info *info, const dw_montage *m, const char *path);

/* A block of consecutive frames. The source owns the memory; it stays valid until the next read. */
typedef struct {
    int     n;                 /* frames */
    const double *uv;          /* n * nch values in microvolts, frame-major: uv[i * nch + c] */
    double  t0;                /* source time of frame 0 in seconds since the start */
    long    gap;               /* frames lost just before this block (0 = continuous) */
    long    pause;             /* of gap, frames the board was stopped on purpose (a live impedance
                                * check): a deliberate pause, not loss; 0 <= pause <= gap */
    const char *pause_why;     /* why, when pause > 0 ("impedance check (the board stopped, no EEG)");
                                * NULL: not said */
    int     accel_valid;       /* accel holds a fresh accelerometer reading (g) */
    double  accel[3];
    int     more;              /* live: more frames are queued behind this block already (a gap
                                * ended it): read again before waiting for the line */
} dw_block;

enum { DW_SRC_EOF = -1, DW_SRC_ERR = -2 };

/* Data-path figures of a live source (its stats op). */
typedef struct {
    int    connected;                 /* streaming now */
    long   samples, lost_samples;     /* frames received and frames lost (counter jumps) so far */
    double loss_pct_5s, loss_pct_night;
    int    reconnects;
    double drift_ppm;                 /* device sample clock minus host clock (+ = device fast) */
} dw_source_stats;

struct dw_source_ops {
    const char *kind;          /* "edf", "bdf", "openbci-text", "cyton", ... */
    /* Up to max_frames frames. >0 frames, 0 nothing yet (live, after timeout_ms),
     * DW_SRC_EOF at the end of a file, DW_SRC_ERR with src->err filled. */
    int  (*read)(dw_source *src, dw_block *out, int max_frames, int timeout_ms);
    /* Files only (NULL for live): position at t_s seconds; 0 or -1. */
    int  (*seek)(dw_source *src, double t_s);
    void (*close)(dw_source *src);
    /* Live sources (NULL for files): data-path figures; safe from another thread. 0 or -1. */
    int  (*stats)(dw_source *src, dw_source_stats *st);
};

struct dw_source {
    const struct dw_source_ops *ops;
    dw_source_info info;
    dw_err err;
    char   path[1024];
    void  *priv;
};


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
/* The source's data-path figures: 0, or -1 for a source without any (files). */
static inline int dw_source_stats_get(dw_source *s, dw_source_stats *st)
{
    return s && s->ops->stats ? s->ops->stats(s, st) : -1;
}

#endif
