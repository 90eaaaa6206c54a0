#!/usr/bin/python3
"""Trains the causal sleep stager on the real Sleep-EDF feature tables and writes the model files.

  nice /usr/bin/python3 tools/train_stager.py --cv            leave-one-subject-out figures, both models
  nice /usr/bin/python3 tools/train_stager.py --write         train on all nights, write src/staging/models/*.dwm
  /usr/bin/python3 tools/train_stager.py --reference MODEL TABLE OUT
                                                              per-row reference probabilities (for the C test)

Every hyperparameter of the features and the classifier is fixed a priori below, except two chosen by
leave-subjects-out CV inside the training subjects only (INNER_FOLDS folds; nested inside --cv): the
running centre's prior weight (PRIOR_WEIGHTS) and the decoder (the classifier's posterior as is, or a
forward HMM with a tempering exponent, DECODERS). The
criterion, everywhere, is the mean pooled kappa of two regimes fixed in advance: (A) whole recordings and
(B) recordings cropped to start 30 min before the first sleep epoch; --cv also prints (C), cropped to
start 5 min before. Training sees every night whole
and cropped at random offsets (CROPS, CROP_RANGE), so that where a recording starts matters little.
"""
import argparse
import glob
import os
import sys
import time

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')   # 2 shared cores: no BLAS thread pool
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stager_lib as L  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ.get('DW_SHARED_DATA', os.path.join(ROOT, '..', 'shared', 'data'))
FEAT = os.path.join(DATA, 'sleep-edf', 'features')
HYPN = os.path.join(DATA, 'sleep-edf', 'hypnograms')

CONTEXT = [('mean', 1), ('mean', 3), ('mean', 10), ('mean', 40), ('std', 10)]
CENTER = (480.0, 20.0, 3.0)       # half-life 4 h, prior weight 10 min, clip +-3 (log units)
# The centre's prior weight W0 is chosen by the inner CV from PRIOR_WEIGHTS (epochs). It only matters
# when a recording starts near sleep: a small W0 lets the centre adapt to a new amplifier gain within
# minutes but also follow the stage mix of the first hours of sleep (N3 then looks like N2); a large
# one keeps the centre near the population prior for longer.
PRIOR_WEIGHTS = [20.0, 240.0]
HIDDEN = (32,)
NSEEDS = 2
# Decoders the inner CV may choose from (None: the classifier's posterior, no HMM; else a forward HMM
# with transitions from the 193 hypnograms and this tempering exponent). Trainer version 2 offered only
# the posterior (the HMM had lost every inner comparison); version 3 changed the training (crops) and
# the features (centre weight), so the HMM is offered again.
DECODERS = [None, 0.5, 1.0]
INNER_FOLDS = 2       # not 4: with the crops each fit trains on 3x the rows; the box has 2 shared cores
# Recordings may start long before sleep (the 22-h cassettes: hours of day wake set the running centres)
# or at lights-off, minutes before it (every live night). The training sees each night whole and cropped
# to start CROPS times at offsets drawn uniformly (seeded per night) between CROP_RANGE epochs before the
# first sleep epoch: 60 min and 5 min, fixed a priori.
CROPS = 1           # whole and cropped weigh the same, as in the criterion
CROP_RANGE = (10, 120)
# Evaluation regimes, fixed before any result: the criterion is the mean kappa of A and B.
REGIMES = {'A': None, 'B': 60, 'C': 10}
REGIME_NAMES = {'A': 'whole recordings', 'B': 'cropped to start 30 min before the first sleep epoch',
                'C': 'cropped to start 5 min before the first sleep epoch (information)'}


def load_nights(channels):
    nights = []
    for f in sorted(glob.glob(os.path.join(FEAT, 'SC4*.tsv'))):
        n = os.path.basename(f)[:8]
        e, y, b = L.load_table(f, channels)
        nights.append(dict(name=n, subject=n[3:5], epochs=e, y=y, base=b, win=L.scored_window(e, y)))
    return nights


def cropped(n, before=60):
    """The night as if the recording had started `before` epochs before its first sleep epoch."""
    first = n['epochs'][n['y'] > 0].min()
    k = np.searchsorted(n['epochs'], first - before)
    return dict(n, name='%s-c%d' % (n['name'], before), epochs=n['epochs'][k:], y=n['y'][k:],
                base=n['base'][k:], win=n['win'][k:])


def augmented(nights):
    """Each night whole and cropped CROPS times (offsets seeded by the night's name: reproducible)."""
    out = list(nights)
    for n in nights:
        rng = np.random.default_rng(int(n['name'][2:6]))
        out += [cropped(n, int(b)) for b in rng.integers(CROP_RANGE[0], CROP_RANGE[1] + 1, CROPS)]
    return out


def transitions():
    hs = [L.read_hypnogram(f) for f in sorted(glob.glob(os.path.join(HYPN, '*-Hypnogram.edf')))]
    c = L.transition_counts(hs) + 1.0          # one pseudo-count per cell: no transition is impossible
    return c / c.sum(1, keepdims=True), len(hs)


def skeleton(channels, trans, w0=CENTER[1]):
    m = dict(name='fpz_pz' if len(channels) == 2 else 'fpz', channels=channels,
             features=L.feature_program(channels), center=(CENTER[0], w0, CENTER[2]), columns=[], nets=[],
             trans=trans, temper=1.0)
    # stationary-ish start: a recording starts awake
    m['init'] = np.array([0.96, 0.01, 0.01, 0.01, 0.01])
    return m


def fit(model, nights, seeds=NSEEDS):
    """Priors for the centres, column scaling, the MLP ensemble and class priors from `nights`."""
    from sklearn.neural_network import MLPClassifier
    allraw = np.vstack([L.raw_features(model, n['base']) for n in nights])
    nights = augmented(nights)
    raw = [L.raw_features(model, n['base']) for n in nights]
    for k, f in enumerate(model['features']):
        f[3] = float(np.median(allraw[:, k])) if f[2] == 'center' else 0.0
    model['columns'] = [(fi, op, w, 0.0, 1.0) for fi, f in enumerate(model['features'])
                        for op, w in (CONTEXT if f[4] != ['center_weight'] else [('mean', 1)])]
    Xs = [L.context_fast(model, L.normalise(model, r)) for r in raw]
    X = np.vstack([x[n['win']] for x, n in zip(Xs, nights)])
    y = np.concatenate([n['y'][n['win']] for n in nights])
    mu, sd = X.mean(0), X.std(0) + 1e-9
    model['columns'] = [(fi, op, w, float(a), float(b)) for (fi, op, w, _, _), a, b
                        in zip(model['columns'], mu, sd)]
    X = (X - mu) / sd
    model['nets'] = []
    for s in range(seeds):
        clf = MLPClassifier(HIDDEN, alpha=1e-2, max_iter=30, early_stopping=False, random_state=s,
                            batch_size=256, learning_rate_init=1e-3)
        clf.fit(X.astype(np.float32), y)        # float32 training: twice as fast; weights kept as doubles
        net = [(W.T.astype(float), b.astype(float), 'relu') for W, b in zip(clf.coefs_[:-1], clf.intercepts_[:-1])]
        net.append((clf.coefs_[-1].T.astype(float), clf.intercepts_[-1].astype(float), 'softmax'))
        model['nets'].append(net)
    model['priors'] = np.bincount(y, minlength=5) / len(y)
    return model


def set_decoder(model, trans, tau):
    """tau None: transition rows = class priors and temper 1, so the filter returns the posterior itself."""
    if tau is None:
        model['trans'] = np.tile(model['priors'], (5, 1))
        model['init'] = model['priors'].copy()
        model['temper'] = 1.0
    else:
        model['trans'] = trans
        model['init'] = np.array([0.96, 0.01, 0.01, 0.01, 0.01])   # a recording starts awake
        model['temper'] = tau
    model['decoder'] = tau
    return model


def regime(n, r):
    """Test night n as scored in regime r: whole, or cropped to start REGIMES[r] epochs before sleep."""
    return n if REGIMES[r] is None else cropped(n, REGIMES[r])


def choose(channels, nights, trans):
    """Inner CV over `nights` (subjects in INNER_FOLDS groups, one net per fit): the (prior weight,
    decoder) with the best criterion, the mean pooled kappa of regimes A and B."""
    designs = [(w0, t) for w0 in PRIOR_WEIGHTS for t in DECODERS]
    if len(designs) == 1:
        return designs[0]
    subs = sorted({n['subject'] for n in nights})
    groups = [subs[i::INNER_FOLDS] for i in range(INNER_FOLDS)]
    runs = {w0: [] for w0 in PRIOR_WEIGHTS}
    for w0 in PRIOR_WEIGHTS:
        for g in groups:
            m = fit(skeleton(channels, trans, w0), [n for n in nights if n['subject'] not in g], seeds=1)
            runs[w0] += [(m, r, c, posteriors(m, c)) for n in nights if n['subject'] in g
                         for r in 'AB' for c in [regime(n, r)]]
    scores = []
    for w0, tau in designs:
        ks = []
        for r in 'AB':
            yt, yp = [], []
            for m, rr, n, p in runs[w0]:
                if rr == r:
                    set_decoder(m, trans, tau)
                    yt.append(n['y'][n['win']])
                    yp.append(L.hmm_filter(m, n['epochs'], p)[n['win']].argmax(1))
            ks.append(kappa(np.concatenate(yt), np.concatenate(yp)))
        scores.append(np.mean(ks))
    print('  inner CV, mean kappa of A and B: ' + ', '.join(
        'W0 %g %s %.4f' % (w0, 'posterior' if t is None else 'hmm %.1f' % t, k) for (w0, t), k in zip(designs, scores)),
        flush=True)
    return designs[int(np.argmax(scores))]


def posteriors(model, night):
    return L.run_night(model, night['epochs'], night['base'], fast=True)[0]


def kappa(y, p):
    cm = np.zeros((5, 5))
    np.add.at(cm, (y, p), 1)
    n = cm.sum()
    po = np.trace(cm) / n
    pe = (cm.sum(0) * cm.sum(1)).sum() / n / n
    return (po - pe) / (1 - pe)


def cv(channels, trans):
    """Leave-one-subject-out: each subject's nights scored in regimes A, B and C by a model trained on
    the other subjects, its centre prior weight and decoder chosen by inner CV on them. THE FIGURE is the
    mean kappa of A and B."""
    nights = load_nights(channels)
    subs = sorted({n['subject'] for n in nights})
    res = {(r, t): ([], []) for r in REGIMES for t in ['chosen'] + DECODERS}
    for s in subs:
        t0 = time.time()
        train = [n for n in nights if n['subject'] != s]
        w0, chosen = choose(channels, train, trans)
        m = fit(skeleton(channels, trans, w0), train)
        for n in nights:
            if n['subject'] != s:
                continue
            for r in REGIMES:
                c = regime(n, r)
                post = posteriors(m, c)
                for key, t in [('chosen', chosen)] + [(t, t) for t in DECODERS]:
                    set_decoder(m, trans, t)
                    yt, yp = res[(r, key)]
                    yt.append(c['y'][c['win']])
                    yp.append(L.hmm_filter(m, c['epochs'], post)[c['win']].argmax(1))
        print('subject %s: W0 %g decoder %s  kappa %s  (%.0f s)' % (s, w0, chosen, ' '.join(
            '%s %.3f' % (r, kappa(*map(np.concatenate, (res[(r, 'chosen')][0][-2:], res[(r, 'chosen')][1][-2:]))))
            for r in REGIMES), time.time() - t0), flush=True)
    ks = {}
    for r in REGIMES:
        print('== %s, leave-one-subject-out, regime %s: %s' % ('+'.join(channels), r, REGIME_NAMES[r]))
        ks[r] = L.agreement(*map(np.concatenate, res[(r, 'chosen')]))['kappa']
        print('(information only, not used to choose: kappa of each fixed decoder: %s)' % ', '.join(
            '%s -> %.4f' % (t, kappa(*map(np.concatenate, res[(r, t)]))) for t in DECODERS))
    print('== %s THE FIGURE: mean kappa of regimes A and B = %.4f  (A %.4f, B %.4f; C %.4f for information)'
          % ('+'.join(channels), (ks['A'] + ks['B']) / 2, ks['A'], ks['B'], ks['C']), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cv', action='store_true')
    ap.add_argument('--write', action='store_true')
    ap.add_argument('--channels', default='both', choices=['both', 'fpz_pz', 'fpz'])
    ap.add_argument('--reference', nargs=3, metavar=('MODEL', 'TABLE', 'OUT'))
    a = ap.parse_args()
    if a.reference:
        m = L.read_model(a.reference[0])
        e, _, b = L.load_table(a.reference[1], m['channels'])
        post, filt = L.run_night(m, e, b)
        with open(a.reference[2], 'w') as f:
            for i in range(len(e)):
                f.write('%d\t%s\t%s\n' % (e[i], '\t'.join(repr(v) for v in post[i]),
                                          '\t'.join(repr(v) for v in filt[i])))
        return
    trans, nh = transitions()
    sets = [['fpz', 'pz'], ['fpz']] if a.channels == 'both' else [a.channels.split('_')]
    for ch in sets:
        if a.cv:
            cv(ch, trans)
        if a.write:
            nights = load_nights(ch)
            w0, tau = choose(ch, nights, trans)
            m = set_decoder(fit(skeleton(ch, trans, w0), nights), trans, tau)
            dec = ('no HMM: the inner CV preferred the posterior, so the transition rows are the class priors'
                   if m['decoder'] is None else 'forward HMM, transitions from %d hypnograms' % nh)
            m['comment'] = ('trained by tools/train_stager.py (version 3) on %d Sleep-EDF nights (%d subjects), '
                            'whole and cropped; chosen by inner CV: centre prior weight %g, decoder: %s'
                            % (len(nights), len({n['subject'] for n in nights}), w0, dec))
            path = os.path.join(ROOT, 'src', 'staging', 'models', m['name'] + '.dwm')
            L.write_model(m, path)
            print('wrote %s (decoder %s)' % (path, m['decoder']))


if __name__ == '__main__':
    main()
