#!/usr/bin/python3
"""Trains the causal sleep stager on the real Sleep-EDF feature tables and writes the model files.

  nice /usr/bin/python3 tools/train_stager.py --cv            leave-one-subject-out figures, both models
  nice /usr/bin/python3 tools/train_stager.py --write         train on all nights, write src/staging/models/*.dwm
  /usr/bin/python3 tools/train_stager.py --reference MODEL TABLE OUT
                                                              per-row reference probabilities (for the C test)

Version 4. Each model is a fixed RECIPE: which nights it sees (whole, or also cropped to start shortly
before sleep) and its experts, groups of small MLPs that see all of the model's columns or only one
channel's. The classifier's averaged posterior is the output (no HMM: a forward HMM with transitions
from the 193 hypnograms lost every nested inner comparison in versions 2 and 3, by 0.02-0.05 kappa;
--cv still prints its figures for information). Figures are pooled over the sleep period plus 30 min
each side, in three regimes: (A) whole recordings, (B) recordings cropped to start 30 min before the
first sleep epoch, (C) 5 min before.
"""
import argparse
import glob
import os
import sys
import time
import warnings

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
HIDDEN = (32,)
# The recipes: each expert group is (which columns it sees, how many MLPs, crops): with crops = 1 a group
# trains on every night whole and on one copy cropped to start shortly before sleep, as every live night
# starts. fpz_pz mixes experts that see both channels with experts that see Fpz-Cz alone: a poor parietal
# contact (one of the 8 training subjects has one) then costs less, and the two kinds err differently.
# LOSO kappa, whole recordings / from 30 min / from 5 min before sleep: both-channel nets alone
# 0.747 / 0.712 / 0.673; 4 + 4 without crops 0.767 / 0.741 / 0.700; 4 + 4 with the Fpz-only group on crops
# 0.769 / 0.753 / 0.722 (shipped). Columns are standardised over the first group's training rows.
RECIPES = {
    'fpz_pz': dict(channels=['fpz', 'pz'], experts=[('all', 4, 0), ('fpz', 4, 1)]),
    'fpz': dict(channels=['fpz'], experts=[('all', 4, 1)]),
}
# Cropped copies start at offsets drawn uniformly (seeded per night) between CROP_RANGE epochs before the
# first sleep epoch: 60 min and 5 min.
CROP_RANGE = (10, 120)
REGIMES = {'A': None, 'B': 60, 'C': 10}
REGIME_NAMES = {'A': 'whole recordings', 'B': 'cropped to start 30 min before the first sleep epoch',
                'C': 'cropped to start 5 min before the first sleep epoch'}
HMM_TEMPERS = [0.5, 1.0]   # forward-HMM decoders printed for information by --cv


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


def augmented(nights, crops):
    """Each night whole and cropped `crops` times (offsets seeded by the night's name: reproducible)."""
    out = list(nights)
    for n in nights:
        rng = np.random.default_rng(int(n['name'][2:6]))
        out += [cropped(n, int(b)) for b in rng.integers(CROP_RANGE[0], CROP_RANGE[1] + 1, crops)]
    return out


def transitions():
    hs = [L.read_hypnogram(f) for f in sorted(glob.glob(os.path.join(HYPN, '*-Hypnogram.edf')))]
    c = L.transition_counts(hs) + 1.0          # one pseudo-count per cell: no transition is impossible
    return c / c.sum(1, keepdims=True)


def mlp(X, y, seed, mask):
    """One expert: an MLP on the columns in `mask`, written as a layer over all columns (zeros elsewhere)."""
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(HIDDEN, alpha=1e-2, max_iter=30, early_stopping=False, random_state=seed,
                        batch_size=256, learning_rate_init=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')        # 30 epochs of Adam is the design, not a failure to converge
        clf.fit(X[:, mask].astype(np.float32), y)   # float32: twice as fast; weights kept as doubles
    net = []
    for k, (W, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        W = W.T.astype(float)
        if k == 0:
            full = np.zeros((W.shape[0], X.shape[1]))
            full[:, mask] = W
            W = full
        net.append((W, b.astype(float), 'softmax' if k == len(clf.coefs_) - 1 else 'relu'))
    return net


def fit(name, nights, seed=0):
    """The model `name` by its recipe, from `nights`: priors of the running centres, column scaling,
    the experts and the class priors; the output is the experts' mean posterior (no HMM)."""
    rc = RECIPES[name]
    ch = rc['channels']
    m = dict(name=name, channels=ch, features=L.feature_program(ch), center=CENTER, columns=[], nets=[],
             temper=1.0)
    allraw = np.vstack([L.raw_features(m, n['base']) for n in nights])
    for k, f in enumerate(m['features']):
        f[3] = float(np.median(allraw[:, k])) if f[2] == 'center' else 0.0
    m['columns'] = [(fi, op, w, 0.0, 1.0) for fi in range(len(m['features'])) for op, w in CONTEXT]
    rows = {}

    def training_rows(crops):
        """Unscaled context columns and labels of the scored windows, whole nights (+ crops)."""
        if crops not in rows:
            ns = augmented(nights, crops)
            Xs = [L.context_fast(m, L.normalise(m, L.raw_features(m, n['base']))) for n in ns]
            rows[crops] = (np.vstack([x[n['win']] for x, n in zip(Xs, ns)]),
                           np.concatenate([n['y'][n['win']] for n in ns]))
        return rows[crops]
    for _, _, crops in rc['experts']:
        training_rows(crops)                   # all before the columns get their scaling
    X, y = training_rows(rc['experts'][0][2])
    m['priors'] = np.bincount(y, minlength=5) / len(y)
    mu, sd = X.mean(0), X.std(0) + 1e-9
    m['columns'] = [(fi, op, w, float(a), float(b)) for (fi, op, w, _, _), a, b in zip(m['columns'], mu, sd)]
    fname = [m['features'][fi][0] for fi, *_ in m['columns']]
    for g, (sees, count, crops) in enumerate(rc['experts']):
        X, y = training_rows(crops)
        mask = np.array([sees == 'all' or (f.startswith(sees + '_') and not f.startswith('fpz_pz_'))
                         for f in fname])
        m['nets'] += [mlp((X - mu) / sd, y, seed + 100 * g + s, mask) for s in range(count)]
    return set_decoder(m, None, None)


def set_decoder(model, trans, tau):
    """tau None: transition rows = class priors and temper 1, so the filter returns the posterior itself;
    else a forward HMM over `trans` with tempering exponent tau."""
    if tau is None:
        model['trans'] = np.tile(model['priors'], (5, 1))
        model['init'] = model['priors'].copy()
        model['temper'] = 1.0
    else:
        model['trans'] = trans
        model['init'] = np.array([0.96, 0.01, 0.01, 0.01, 0.01])   # a recording starts awake
        model['temper'] = tau
    return model


def regime(n, r):
    """Test night n as scored in regime r: whole, or cropped to start REGIMES[r] epochs before sleep."""
    return n if REGIMES[r] is None else cropped(n, REGIMES[r])


def posteriors(model, night):
    return L.run_night(model, night['epochs'], night['base'], fast=True)[0]


def kappa(y, p):
    cm = np.zeros((5, 5))
    np.add.at(cm, (y, p), 1)
    n = cm.sum()
    po = np.trace(cm) / n
    pe = (cm.sum(0) * cm.sum(1)).sum() / n / n
    return (po - pe) / (1 - pe)


def cv(name, trans, seed=0):
    """Leave-one-subject-out: each subject's nights scored in regimes A, B and C by the recipe trained on
    the other subjects. Forward-HMM decoders of the same posteriors are printed for information."""
    nights = load_nights(RECIPES[name]['channels'])
    subs = sorted({n['subject'] for n in nights})
    decs = [None] + HMM_TEMPERS
    res = {(r, t): ([], []) for r in REGIMES for t in decs}
    for s in subs:
        t0 = time.time()
        m = fit(name, [n for n in nights if n['subject'] != s], seed)
        for n in nights:
            if n['subject'] != s:
                continue
            for r in REGIMES:
                c = regime(n, r)
                post = posteriors(m, c)
                for t in decs:
                    set_decoder(m, trans, t)
                    res[(r, t)][0].append(c['y'][c['win']])
                    res[(r, t)][1].append(L.hmm_filter(m, c['epochs'], post)[c['win']].argmax(1))
        print('subject %s: kappa %s  (%.0f s)' % (s, ' '.join(
            '%s %.3f' % (r, kappa(*map(np.concatenate, (res[(r, None)][0][-2:], res[(r, None)][1][-2:]))))
            for r in REGIMES), time.time() - t0), flush=True)
    ks = {}
    for r in REGIMES:
        print('== %s, leave-one-subject-out, regime %s: %s' % (name, r, REGIME_NAMES[r]))
        ks[r] = L.agreement(*map(np.concatenate, res[(r, None)]))['kappa']
        print('(information: kappa with a forward HMM over the 193 hypnograms: %s)' % ', '.join(
            'temper %g -> %.4f' % (t, kappa(*map(np.concatenate, res[(r, t)]))) for t in HMM_TEMPERS))
    print('== %s: kappa A %.4f  B %.4f  C %.4f' % (name, ks['A'], ks['B'], ks['C']), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--cv', action='store_true')
    ap.add_argument('--write', action='store_true')
    ap.add_argument('--model', default='both', choices=['both'] + list(RECIPES))
    ap.add_argument('--seed', type=int, default=0, help='first random seed of the experts (0 ships)')
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
    trans = transitions()
    for name in (RECIPES if a.model == 'both' else [a.model]):
        if a.cv:
            cv(name, trans, a.seed)
        if a.write:
            nights = load_nights(RECIPES[name]['channels'])
            m = fit(name, nights, a.seed)
            rc = RECIPES[name]
            m['comment'] = ('trained by tools/train_stager.py (version 4) on %d Sleep-EDF nights (%d subjects); '
                            'experts: %s; output: their mean posterior (no HMM)'
                            % (len(nights), len({n['subject'] for n in nights}),
                               ', '.join('%d see %s, %s' % (c, 'every channel' if e == 'all' else e + ' only',
                                                            'whole and cropped nights' if k else 'whole nights')
                                         for e, c, k in rc['experts'])))
            path = os.path.join(ROOT, 'src', 'staging', 'models', name + '.dwm')
            L.write_model(m, path)
            print('wrote %s' % path)


if __name__ == '__main__':
    main()
