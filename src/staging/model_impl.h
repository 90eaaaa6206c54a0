/* The parsed model, shared by model.c (parser) and stager.c (runtime). Private to src/staging. */
#ifndef DW_MODEL_IMPL_H
#define DW_MODEL_IMPL_H

#include "staging/stager.h"

#define DW_MODEL_VERSION   4       /* newest format read; 1 to 3 are read too */
#define DW_MODEL_MAXFEAT   256     /* derived features */
#define DW_MODEL_MAXTERMS  16      /* base features in one sum */
#define DW_MODEL_MAXCOL    2048    /* classifier inputs */
#define DW_MODEL_MAXWIDTH  1024    /* widest layer */
#define DW_MODEL_MAXWIN    256     /* longest context window, epochs */
#define DW_MODEL_MAXNETS   16
#define DW_MODEL_MAXLAYERS 8
#define DW_MODEL_NBASE     7       /* named base features per channel (dw_features fields) */
#define DW_MODEL_FLOOR     1e-12   /* added to each sum before the log */
#define DW_MODEL_TERM_WEIGHT (-1)  /* term 'center_weight': the running centre's evidence weight Wt */

enum { DW_NORM_NONE, DW_NORM_CENTER };
enum { DW_OP_MEAN, DW_OP_STD, DW_OP_MIN, DW_OP_MAX };
enum { DW_ACT_RELU, DW_ACT_TANH, DW_ACT_IDENTITY, DW_ACT_SOFTMAX };

struct dw_mfeature {
    char name[48];
    double scale, prior;
    int norm;
    int nnum, nden;                      /* nden == 0: denominator 1 */
    int num[DW_MODEL_MAXTERMS], den[DW_MODEL_MAXTERMS];  /* channel * DW_MODEL_NBASE + field */
};

struct dw_mcolumn { int feat, op, window; double mu, sd; };

/* nout rows of (bias, nin weights), row r at w + r * stride: w[r * stride] its bias, w[r * stride
 * + 1 + i] its weight i. stride is nin + 1 rounded up to 4 and w + 1 is 32-byte aligned, so every
 * row's weights start on a 32-byte boundary: no vector load split across two cache lines (rows of
 * nin + 1 doubles put every other one across). mem: the allocation (w = mem + 3). */
struct dw_mlayer { int nin, nout, act, stride; double *w, *mem; };

struct dw_mnet { int nlayers; struct dw_mlayer layer[DW_MODEL_MAXLAYERS]; };

struct dw_model {
    char name[64];
    int builtin;
    int nch;
    double halflife, weight0, clip;
    int nfeat, ncol, nnet, maxwin;
    struct dw_mfeature *feat;
    struct dw_mcolumn *col;
    struct dw_mnet net[DW_MODEL_MAXNETS];
    double priors[DW_NSTAGES], temper, init[DW_NSTAGES], trans[DW_NSTAGES][DW_NSTAGES];
    int has_ood;                         /* version 3: the night's distance from the training data */
    double ood_halflife, ood_weight, ood_prior, ood_cap, ood_threshold;
    double ood_start;                    /* version 4 'ood_start': threshold on the plain mean
                                            distance over the night's first ood_weight usable
                                            epochs (0: none) */
    int has_cal;                         /* 'calibrate' given (required with 'ood' before
                                            version 4): columns clipped, posterior tempered */
    double cal_t0, cal_slope, cal_mix;   /* temperature t0 + slope * excess, uniform share 1 - e^(-mix * excess),
                                            excess = max(distance - prior, 0) */
    double max_hz;                       /* highest frequency the features read (from their terms) */
    double min_rate;                     /* version 3 'rate': lowest source rate trained for (0: 2 max_hz) */
};

/* The value of base feature `field` (0..6: delta theta alpha beta gamma var dvar). */
double dw_model_base(const dw_features *f, int field);

#endif
