#!/usr/bin/python3
"""Trains the causal sleep stager from per-epoch feature tables and writes model files.

  nice tools/train_stager.py --cv                    leave-one-subject-out figures of the shipped recipes
  nice tools/train_stager.py --write                 train the shipped recipes, write src/staging/models/*.dwm
  nice tools/train_stager.py --cv --out my.dwm TABLE...   train a model for your own tables (any montage)
  tools/train_stager.py --reference MODEL TABLE OUT  per-row reference probabilities (for the C test)

Version 5. A model is a fixed RECIPE: the channels it takes, the base fields it reads, the running
centre, the training data (each night whole, cropped to start shortly before sleep, 30-min excerpts,
and for a one-channel model each channel of a two-channel table as a separate view of "an EEG channel",
with copies shifted the way another montage or amplifier shifts them), and its experts (groups of small
MLPs that see every column or one channel's). The experts' mean posterior is the output, tempered by
how far the night sits from the training data (the temperature is fitted on held-out nights). Figures
are pooled over the sleep period plus 30 min each side, in four regimes: (A) whole recordings, (B)
cropped to start 30 min before the first sleep epoch, (C) 5 min before, (X) back-to-back 30-min
excerpts over the same window, each scored from a fresh start.
"""
import argparse
import glob
import os
import re
import sys
import time
import warnings
import zlib

os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')   # 2 shared cores: no BLAS thread pool
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stager_lib as L  # noqa: E402

VERSION = 5
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ.get('DW_SHARED_DATA', os.path.join(ROOT, '..', 'shared', 'data'))
FEAT = os.path.join(DATA, 'sleep-edf', 'features')
HYPN = os.path.join(DATA, 'sleep-edf', 'hypnograms')
SLEEP_EDF_SUBJECT = r'SC4(\d\d)\d'          # Sleep-EDF cassette: SC4ssN..., ss = subject

CONTEXT = [('mean', 1), ('mean', 3), ('mean', 10), ('mean', 40), ('std', 10)]
CENTER_V4 = (480.0, 20.0, 3.0)    # half-life 4 h, prior weight 10 min, clip +-3 (log units)
CENTER = (120.0, 10.0, 3.0)       # half-life 1 h, prior weight 5 min: a night or excerpt soon speaks for itself
AUGMENT = dict(crops=1, excerpts=8, shifts=2)
# Sources sampled at 50-100 Hz: no gamma (30-50 Hz), and beta (13-30 Hz) only up to the source's Nyquist
# frequency and anti-aliasing edge, so the low-rate model reads delta to beta (not gamma, nor the variances,
# which take in everything up to 50 Hz) and learns from nights whose beta is cut as such a source cuts it:
# x BETA_CUT (uniform; a flat spectrum over 13-30 Hz keeps 31 of its 43 bins below 25 Hz, x0.72, and the
# source's own filter takes more).
LOW_FIELDS = ['delta', 'theta', 'alpha', 'beta']
LOW_RATE = 50.0
BETA_CUT = (0.35, 1.0)

# The recipes. experts: (which columns it sees: 'all' or a channel, how many MLPs, training data) with
# data a dict: crops (copies cropped to start 5-60 min before sleep), excerpts (30-min excerpts per
# night), shifts (copies with a random montage/amplifier shift), views ('all': each channel slot of the
# tables as a separate night; else the slots the model's channels read).
RECIPES = {
    # two channels (Fpz-Cz + Pz-Oz), trainer version 4 unchanged: LOSO kappa whole / from 30 / from 5 min
    # before sleep 0.769 / 0.753 / 0.722 (seeds 0..), 0.760 / 0.750 / 0.717 (seeds 7..)
    'fpz_pz': dict(channels=['fpz', 'pz'], fields=L.BASE, center=CENTER_V4, evidence=False,
                   experts=[('all', 4, dict(crops=0)), ('fpz', 4, dict(crops=1))]),
    # one EEG channel of any derivation: both derivations of the training tables as views, montage
    # shifts, crops and excerpts; a faster centre whose evidence the classifier sees; experts that see
    # every column mixed with experts that see only what no per-night centre touches (relative powers,
    # ratios, mobility), which a short excerpt of another montage cannot mislead
    'eeg': dict(channels=['eeg'], views='all', fields=L.BASE, center=CENTER, evidence=True, iters=6,
                experts=[('all', 4, AUGMENT), ('uncentred', 4, AUGMENT)]),
    # the same for sources sampled at 50-100 Hz: delta to beta, beta cut as such a source cuts it
    'eeg_lo': dict(channels=['eeg'], views='all', fields=LOW_FIELDS, rate=LOW_RATE, center=CENTER, evidence=True,
                   iters=6, experts=[('all', 4, AUGMENT), ('uncentred', 4, AUGMENT)]),
    # trainer version 4's one-channel model (Fpz-Cz only, slow centre): kept to score it next to 'eeg'
    'fpz': dict(channels=['fpz'], views=0, fields=L.BASE, center=CENTER_V4, evidence=False,
                experts=[('all', 4, dict(crops=1))]),
}
SHIPPED = ['fpz_pz', 'eeg', 'eeg_lo']
# Cropped copies start at offsets drawn uniformly (seeded per night) between CROP_RANGE epochs before the
# first sleep epoch: 60 min and 5 min.
CROP_RANGE = (10, 120)
EXCERPT = 60                       # epochs: the 30-min excerpts of regime X
REGIMES = {'A': None, 'B': 60, 'C': 10, 'X': 'excerpts'}
REGIME_NAMES = {'A': 'whole recordings', 'B': 'cropped to start 30 min before the first sleep epoch',
                'C': 'cropped to start 5 min before the first sleep epoch',
                'X': '30-min excerpts over the sleep period +- 30 min, each from a fresh start'}


# ---------------------------------------------------------------- data
def subject_map(path):
    """FILE-NAME -> subject from a two-column text file (name or path, subject)."""
    out = {}
    for ln, line in enumerate(open(path), 1):
        f = line.split('#')[0].split()
        if not f:
            continue
        if len(f) != 2:
            sys.exit('%s:%d: want "TABLE SUBJECT"' % (path, ln))
        out[os.path.basename(f[0])] = f[1]
    return out


def table_paths(args):
    """The feature tables named on the command line (files or folders of *.tsv), or the shared ones."""
    out = []
    for a in args or [FEAT]:
        if not os.path.exists(a):
            sys.exit('train_stager: %s: no such file or folder' % a)
        out += sorted(glob.glob(os.path.join(a, '*.tsv'))) if os.path.isdir(a) else [a]
    if not out:
        sys.exit('train_stager: no feature tables (*.tsv) in %s' % ' '.join(args or [FEAT]))
    return out


def table_slots(path):
    """How many channel slots (fpz_*, then pz_*) a table has: 1 or 2."""
    head = open(path).readline().rstrip('\r\n').split('\t')
    n = 0
    for s in L.SLOTS:
        have = ['%s_%s' % (s, b) in head for b in L.BASE]
        if all(have):
            n += 1
        elif any(have) or n < L.SLOTS.index(s):
            break
    if n == 0:
        sys.exit('%s:1: no channel columns (want fpz_delta .. fpz_dvar, optionally pz_delta .. pz_dvar)' % path)
    if 'stage' not in head:
        sys.exit('%s:1: no stage column: a training table needs the expert stages' % path)
    return n


def load_nights(paths, pattern=SLEEP_EDF_SUBJECT, subjects=None):
    """One dict per table: name, subject, epochs, y, slots (list of (n, 7) base arrays), win."""
    nights = []
    for p in paths:
        name = os.path.basename(p)
        if subjects is not None:
            if name not in subjects:
                sys.exit('train_stager: %s has no subject in the subjects file' % p)
            subj = subjects[name]
        else:
            m = re.search(pattern, name)
            if not m:
                sys.exit('train_stager: %s: the subject pattern %r does not match (use --subject-pattern '
                         'or --subjects)' % (p, pattern))
            subj = m.group(1) if m.groups() else m.group(0)
        k = table_slots(p)
        e, y, b = L.load_table(p, L.SLOTS[:k])
        if not (y >= 0).any():
            sys.exit('%s: no epoch is staged W, N1, N2, N3 or R' % p)
        nights.append(dict(name=os.path.splitext(name)[0], subject=subj, epochs=e, y=y,
                           slots=[b[:, 7 * i:7 * i + 7] for i in range(k)], win=L.scored_window(e, y)))
    return nights


def views(nights, nch, which):
    """Nights as the model sees them: base = the slots its nch channels read. which 'all' (one channel):
    every slot of every night is a night of its own (a second derivation is another view of an EEG
    channel); a slot index: only that slot."""
    out = []
    for n in nights:
        if nch == 2:
            if len(n['slots']) >= 2:
                out.append(dict(n, base=np.hstack(n['slots'][:2]), view='fpz_pz'))
            continue
        for i, b in enumerate(n['slots']):
            if which == 'all' or which == i:
                out.append(dict(n, base=b, view=L.SLOTS[i]))
    return out


def cropped(n, before=60):
    """The night as if the recording had started `before` epochs before its first sleep epoch."""
    first = n['epochs'][n['y'] > 0].min()
    k = np.searchsorted(n['epochs'], first - before)
    return dict(n, name='%s-c%d' % (n['name'], before), epochs=n['epochs'][k:], y=n['y'][k:],
                base=n['base'][k:], win=n['win'][k:])


def excerpt(n, start, length=EXCERPT):
    """Rows of epochs start .. start+length-1 as a recording of their own (every labelled row scored)."""
    k0, k1 = np.searchsorted(n['epochs'], [start, start + length])
    return dict(n, name='%s-x%d' % (n['name'], start), epochs=n['epochs'][k0:k1], y=n['y'][k0:k1],
                base=n['base'][k0:k1], win=n['y'][k0:k1] >= 0)


def excerpts(n):
    """Back-to-back 30-min excerpts tiling the scored window (sleep period +- 30 min)."""
    e = n['epochs'][n['win']]
    out = [excerpt(n, s) for s in range(int(e.min()), int(e.max()) + 1, EXCERPT)]
    return [x for x in out if x['win'].any()]


# ---------------------------------------------------------------- montage and amplifier shifts
# Band edges, the width of each band's bins, and each band's mean response of the first difference
# (|1 - e^{-j2pi f/fs}|^2 = 4 sin^2(pi f / fs)), on the Welch bin grid k * 100/256 Hz.
_F = np.arange(129) * 100.0 / 256
_EDGES = [(0.5, 4), (4, 8), (8, 13), (13, 30), (30, 50)]
BAND_WIDTH = np.array([((_F >= a) & (_F <= b)).sum() * 100.0 / 256 for a, b in _EDGES])
BAND_DIFF = np.array([np.mean(4 * np.sin(np.pi * _F[(_F >= a) & (_F <= b)] / 100) ** 2) for a, b in _EDGES])
BAND_CENTRE = np.array([np.sqrt(a * b) for a, b in _EDGES])


def montage_shift(base, rng):
    """One night's seven numbers as another derivation or amplifier might give them, the same shift for
    the whole night: overall gain (power x1/6..6), spectral tilt (power x (f/10 Hz)^+-0.4), per-band
    gain (log-normal, sd 0.15), a lower anti-aliasing edge (gamma x0.3-1, beta x0.85-1; p 0.3), a white
    noise floor (0.002-0.1 uV^2/Hz; p 0.5), line noise leaking into gamma (0.01-0.5 uV^2/Hz; p 0.25),
    and slow drift below 0.5 Hz (x0.5-2, in the variance only). The variance keeps its part below the
    bands (scaled like delta and the drift) plus the bands' power; the variance of the difference
    follows the bands' power weighted by the difference's response."""
    P = base[:, :5]
    mult = np.exp(rng.uniform(-1, 1) * np.log(6.0)) * (BAND_CENTRE / 10.0) ** rng.uniform(-0.4, 0.4) \
        * np.exp(rng.normal(0, 0.15, 5))
    if rng.random() < 0.3:
        mult[4] *= rng.uniform(0.3, 1.0)
        mult[3] *= rng.uniform(0.85, 1.0)
    floor = np.exp(rng.uniform(np.log(0.002), np.log(0.1))) if rng.random() < 0.5 else 0.0
    line = np.exp(rng.uniform(np.log(0.01), np.log(0.5))) if rng.random() < 0.25 else 0.0
    P2 = P * mult + floor
    P2[:, 4] += line
    below = np.maximum(base[:, 5] - P @ BAND_WIDTH, 0.0)
    var = below * mult[0] * np.exp(rng.uniform(-0.7, 0.7)) + P2 @ BAND_WIDTH
    dvar = base[:, 6] * (P2 @ (BAND_WIDTH * BAND_DIFF)) / (P @ (BAND_WIDTH * BAND_DIFF) + 1e-12)
    return np.column_stack([P2, var, dvar])


def night_seed(name):
    """A reproducible seed from a night's name (Sleep-EDF's SCxxxx digits, as trainer version 4)."""
    return int(name[2:6]) if re.fullmatch(r'S[CT]\d{4}[A-Z]\d', name) else zlib.crc32(name.encode())


def band_fraction_below(hz):
    """Share of each band's Welch bins at or below hz."""
    return np.array([((_F >= a) & (_F <= min(b, hz))).sum() / ((_F >= a) & (_F <= b)).sum() for a, b in _EDGES])


def stressed(base, kind):
    """A one-channel night's seven numbers under a condition the model was not trained for:
    rate50 / rate64: the source carried nothing above 25 / 32 Hz (upsampled to 100 Hz);
    flat: a detached electrode (quantisation noise only); gain10 / gain01: amplitude x10 / x0.1;
    noisy: a white noise floor of 1 uV^2/Hz (a high-impedance dry electrode)."""
    P, var, dvar = base[:, :5], base[:, 5], base[:, 6]
    if kind in ('rate50', 'rate64'):
        P2 = P * band_fraction_below(25.0 if kind == 'rate50' else 32.0) + 1e-6
    elif kind == 'flat':
        return np.column_stack([np.full((len(base), 5), 1e-4), np.full(len(base), 5e-3), np.full(len(base), 1e-2)])
    elif kind in ('gain10', 'gain01'):
        return base * (100.0 if kind == 'gain10' else 0.01)
    elif kind == 'noisy':
        P2 = P + 1.0
    else:
        raise ValueError(kind)
    var2 = np.maximum(var - P @ BAND_WIDTH, 0.0) + P2 @ BAND_WIDTH
    dvar2 = dvar * (P2 @ (BAND_WIDTH * BAND_DIFF)) / (P @ (BAND_WIDTH * BAND_DIFF) + 1e-12)
    return np.column_stack([P2, var2, dvar2])


STRESSES = ['rate50', 'rate64', 'flat', 'gain10', 'gain01', 'noisy']


def shifted(n, k):
    """Copy k (seeded by night, view and k) of a one-channel night under a random montage shift."""
    rng = np.random.default_rng([night_seed(n['name']), zlib.crc32(n['view'].encode()), k])
    return dict(n, name='%s-s%d' % (n['name'], k), base=montage_shift(n['base'], rng))


def low_rate(n, k):
    """Copy k of a night as a source sampled at LOW_RATE gives it: every channel's beta x BETA_CUT."""
    rng = np.random.default_rng([night_seed(n['name']), zlib.crc32(n['view'].encode()), 1000 + k])
    b = n['base'].copy()
    b[:, 3::7] *= rng.uniform(*BETA_CUT)
    return dict(n, base=b)


def augmented(nights, data, rate=None):
    """The training nights of one expert group: each whole, + crops copies cropped to start 5-60 min
    before sleep, + excerpts 30-min excerpts at random places in the scored window, each also as
    `shifts` montage-shifted copies (offsets and shifts seeded by the night: reproducible); with a rate
    below 100 Hz every copy's beta is cut as such a source cuts it."""
    base = list(nights)
    for n in nights:
        base += [shifted(n, k) for k in range(data.get('shifts', 0))]
    if rate:
        base = [low_rate(n, k) for k, n in enumerate(base)]
    out = list(base)
    for n in base:
        rng = np.random.default_rng(night_seed(n['name']))
        if n['y'][n['y'] > 0].size == 0:
            continue
        out += [cropped(n, int(b)) for b in rng.integers(CROP_RANGE[0], CROP_RANGE[1] + 1, data.get('crops', 0))]
        e = n['epochs'][n['win']]
        for s in rng.integers(e.min(), max(e.min() + 1, e.max() - EXCERPT // 2), data.get('excerpts', 0)):
            x = excerpt(n, int(s))
            if x['win'].any():
                out.append(x)
    return out


def transitions():
    hs = [L.read_hypnogram(f) for f in sorted(glob.glob(os.path.join(HYPN, '*-Hypnogram.edf')))]
    c = L.transition_counts(hs) + 1.0          # one pseudo-count per cell: no transition is impossible
    return c / c.sum(1, keepdims=True)


# ---------------------------------------------------------------- training
def mlp(X, y, seed, mask, hidden, iters):
    """One expert: an MLP on the columns in `mask`, written as a layer over all columns (zeros elsewhere)."""
    from sklearn.neural_network import MLPClassifier
    clf = MLPClassifier(hidden, alpha=1e-2, max_iter=iters, early_stopping=False, random_state=seed,
                        batch_size=256, learning_rate_init=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')        # a fixed number of Adam epochs is the design
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


def sees_mask(m, sees):
    """Columns an expert sees: every one ('all'), those of features not centred per night ('uncentred':
    relative powers, ratios, mobility; no amplitude), or one channel's own (not cross-channel) and
    channel-free ones."""
    fname = [m['features'][fi][0] for fi, *_ in m['columns']]
    channels = m['channels']
    if sees == 'all':
        return np.ones(len(fname), bool)
    if sees == 'uncentred':
        return np.array([m['features'][fi][2] == 'none' for fi, *_ in m['columns']])
    own = [f.startswith(sees + '_') and not any(f.startswith('%s_%s_' % (sees, c)) for c in channels)
           for f in fname]
    free = [not any(f.startswith(c + '_') for c in channels) for f in fname]
    return np.array(own) | np.array(free)


def fit(rc, nights, seed=0, name='model'):
    """A model by recipe rc from the (viewed) training nights: priors of the running centres, column
    scaling, the experts and the class priors; the output is the experts' mean posterior (no HMM)."""
    ch = rc['channels']
    m = dict(name=name, channels=ch, features=L.feature_program(ch, rc['fields'], rc['evidence']),
             center=rc['center'], columns=[], nets=[], temper=1.0, rate=rc.get('rate'))
    allraw = np.vstack([L.raw_features(m, n['base']) for n in nights])
    for k, f in enumerate(m['features']):
        f[3] = float(np.median(allraw[:, k])) if f[2] == 'center' else 0.0
    m['columns'] = [(fi, op, w, 0.0, 1.0) for fi in range(len(m['features'])) for op, w in CONTEXT]
    rows = {}

    def training_rows(data):
        """Unscaled context columns and labels of the scored windows of the group's training nights."""
        key = tuple(sorted(data.items()))
        if key not in rows:
            ns = augmented(nights, data, rc.get('rate'))
            Xs = [L.context_fast(m, L.normalise(m, L.raw_features(m, n['base']))) for n in ns]
            rows[key] = (np.vstack([x[n['win']] for x, n in zip(Xs, ns)]),
                         np.concatenate([n['y'][n['win']] for n in ns]))
        return rows[key]
    for _, _, data in rc['experts']:
        training_rows(data)                    # all before the columns get their scaling
    X, y = training_rows(rc['experts'][0][2])
    m['priors'] = np.bincount(y, minlength=5) / len(y)
    mu, sd = X.mean(0), X.std(0) + 1e-9
    m['columns'] = [(fi, op, w, float(a), float(b)) for (fi, op, w, _, _), a, b in zip(m['columns'], mu, sd)]
    for g, (sees, count, data) in enumerate(rc['experts']):
        X, y = training_rows(data)
        mask = sees_mask(m, sees)
        m['nets'] += [mlp((X - mu) / sd, y, seed + 100 * g + s, mask, rc.get('hidden', (32,)),
                          rc.get('iters', 30)) for s in range(count)]
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


# ---------------------------------------------------------------- evaluation
def regime(n, r):
    """Test night n as scored in regime r: a list of recordings (one, or the excerpts)."""
    if REGIMES[r] is None:
        return [n]
    if REGIMES[r] == 'excerpts':
        return excerpts(n)
    return [cropped(n, REGIMES[r])]


def kappa(y, p):
    cm = np.zeros((5, 5))
    np.add.at(cm, (y, p), 1)
    n = cm.sum()
    po = np.trace(cm) / n
    pe = (cm.sum(0) * cm.sum(1)).sum() / n / n
    return (po - pe) / (1 - pe)


def score_night(m, n, r):
    """(labels, posteriors, night distances) of the scored rows of night n in regime r, by model m as the
    runtime runs it (columns clipped) but with the neutral calibration (temperature 1)."""
    mm = set_ood(dict(m))
    ys, ps, Ds = [], [], []
    for c in regime(n, r):
        post, _, det = L.run_night(mm, c['epochs'], c['base'], fast=True, details=True)
        ys.append(c['y'][c['win']])
        ps.append(post[c['win']])
        Ds.append(det['D'][c['win']])
    return np.concatenate(ys), np.vstack(ps), np.concatenate(Ds)


def train_view_of(rc):
    return rc.get('views', 'all' if len(rc['channels']) == 1 else 0)


def train_folds(rc, nights, seed=0, log=print):
    """Leave-one-subject-out: {subject: the recipe trained on the other subjects' nights}."""
    nch = len(rc['channels'])
    models = {}
    for s in sorted({n['subject'] for n in nights}):
        t0 = time.time()
        models[s] = fit(rc, views([n for n in nights if n['subject'] != s], nch, train_view_of(rc)), seed)
        log('fold %s trained (%.0f s)' % (s, time.time() - t0))
    return models


def score_folds(rc, nights, models, log=print):
    """Each subject's nights scored in every regime and in each channel slot the model can read, by the
    fold model that did not see the subject: {(view, regime): [(y, post, D, subject), ...]}."""
    nch = len(rc['channels'])
    res = {}
    for s, m in models.items():
        for n in views([n for n in nights if n['subject'] == s], nch, 'all'):
            for r in REGIMES:
                y, p, D = score_night(m, n, r)
                res.setdefault((n['view'], r), []).append((y, p, D, s))
        log('subject %s: kappa %s' % (s, '  '.join('%s/%s %.3f' % (v, r, kappa(*pooled(res[(v, r)], s)[:2]))
                                                   for (v, r) in res if any(i[3] == s for i in res[(v, r)]))))
    return res


def loso(rc, nights, seed=0, cache=None, log=print):
    """Leave-one-subject-out figures and the fold models (trained once per cache key when a cache
    folder is given: the key hashes the trainer version, the recipe, the seed and every night)."""
    models = None
    path = loso_cache_path(rc, nights, seed, cache) if cache else None
    if path and os.path.exists(path):
        import pickle
        log('fold models from %s' % path)
        with open(path, 'rb') as f:
            models = pickle.load(f)
    if models is None:
        models = train_folds(rc, nights, seed, log)
        if path:
            import pickle
            os.makedirs(cache, exist_ok=True)
            L.write_new(path, pickle.dumps(models), replace=True)
    return score_folds(rc, nights, models, log), models


def loso_cache_path(rc, nights, seed, cache):
    """cache/loso-KEY.pkl, KEY a hash of the trainer version, the recipe, the seed and every night."""
    import hashlib
    h = hashlib.sha256(repr((VERSION, sorted(rc.items()), seed)).encode())
    for n in nights:
        h.update(n['name'].encode() + b'\0' + str(n['subject']).encode() + b'\0')
        for a in [n['epochs'], n['y']] + n['slots']:
            h.update(np.ascontiguousarray(a).tobytes())
    return os.path.join(cache, 'loso-%s.pkl' % h.hexdigest()[:20])


def pooled(items, subject=None):
    """y, predicted stage, posteriors, D pooled over items (of one subject if given)."""
    its = [i for i in items if subject is None or i[3] == subject]
    y = np.concatenate([i[0] for i in its])
    p = np.vstack([i[1] for i in its])
    return y, p.argmax(1), p, np.concatenate([i[2] for i in its])


def report(name, res, out=sys.stdout):
    """Per (view, regime): the agreement and its confusion matrix; then a summary table."""
    summary = []
    for (v, r) in sorted(res, key=lambda k: (k[0], list(REGIMES).index(k[1]))):
        y, pred, _, _ = pooled(res[(v, r)])
        print('== %s, leave-one-subject-out, tested on %s, regime %s: %s' % (name, v, r, REGIME_NAMES[r]), file=out)
        a = L.agreement(y, pred, out)
        summary.append((v, r, a))
    print('== %s summary (kappa / accuracy / macro-F1 / F1 W N1 N2 N3 R)' % name, file=out)
    for v, r, a in summary:
        print('   %-6s %s  %.3f  %.3f  %.3f  %s' % (v, r, a['kappa'], a['acc'], a['mf1'],
                                                  ' '.join('%.3f' % f for f in a['f1'])), file=out)
    return summary


# ---------------------------------------------------------------- out-of-distribution and calibration
# The night's distance (MODEL_FORMAT.md): per-epoch mean of min(x^2, CAP) over the standardised columns,
# exponentially weighted with a half-life of 60 epochs (30 min: a burst of artefact moves it little, a
# night unlike training keeps it up), starting at 1 (the training mean) worth 20 epochs. The threshold
# is the THRESHOLD_QUANTILE of the distance over every held-out epoch of the leave-one-subject-out runs
# (all regimes and views: nights like the training data, of subjects the model never saw).
OOD_HALFLIFE, OOD_WEIGHT, OOD_PRIOR, OOD_CAP = 60.0, 20.0, 1.0, 100.0
THRESHOLD_QUANTILE = 0.999


def set_ood(m, calib=None, threshold=None):
    """The night-distance statement and the calibration (t0, slope); None: neutral (T = 1)."""
    m['ood'] = (OOD_HALFLIFE, OOD_WEIGHT, OOD_PRIOR, OOD_CAP, threshold or 1e9)
    m['calibrate'] = calib or (1.0, 0.0, 0.0)
    return m


def stressed_night(n, kind):
    """Night n (every slot it has) under stress `kind` (see stressed)."""
    b = n['base']
    return dict(n, base=np.hstack([stressed(b[:, 7 * i:7 * i + 7], kind) for i in range(b.shape[1] // 7)]))


def stress_scores(rc, nights, models):
    """{kind: [(y, post, D, subject), ...]} of every held-out night (each test view) under each stress,
    whole (A) and as excerpts (X), by the fold model that did not see its subject."""
    nch = len(rc['channels'])
    out = {}
    for s, m in models.items():
        set_ood(m)
        for n in views([n for n in nights if n['subject'] == s], nch, 'all'):
            for kind in STRESSES:
                for r in ('A', 'X'):
                    y, p, D = score_night(m, stressed_night(n, kind), r)
                    out.setdefault(kind, []).append((y, p, D, s))
    return out


def calibrate_probs(cal, p, D):
    return L.calibrated(dict(ood=(0, 0, OOD_PRIOR, 0, 0), calibrate=cal), p, D)


def calibration(res, stress):
    """(t0, slope, mix), threshold, and a printable summary. t0 is plain temperature scaling: it minimises
    the negative log-likelihood of the expert's stage over the held-out epochs like the training data;
    slope and mix (how confidence falls with the distance) minimise it over the held-out epochs under
    the stresses, t0 fixed (a stress the distance cannot see leaves them alone: its excess is 0). The
    threshold is the THRESHOLD_QUANTILE of the distance over the held-out epochs like the training data."""
    from scipy.optimize import minimize_scalar, minimize
    ind = [i for v in res.values() for i in v]
    st = [i for v in stress.values() for i in v]

    def nll(cal, y, p, D):
        q = calibrate_probs(cal, p, D)
        return -np.mean(np.log(np.maximum(q[np.arange(len(y)), y], 1e-300)))
    y, _, p, D = pooled(ind)
    t0 = float(np.exp(minimize_scalar(lambda v: nll((np.exp(v), 0.0, 0.0), y, p, D), bounds=(-3, 3),
                                      method='bounded', options=dict(xatol=1e-5)).x))
    y, _, p, D = pooled(st)
    f = minimize(lambda v: nll((t0, np.exp(v[0]), np.exp(v[1])), y, p, D), [-2.0, -3.0], method='Nelder-Mead',
                 options=dict(xatol=1e-4, fatol=1e-7, maxiter=2000))
    cal = (t0, float(np.exp(f.x[0])), float(np.exp(f.x[1])))
    Dind = pooled(ind)[3]
    thr = float(np.quantile(Dind, THRESHOLD_QUANTILE))
    thr = float('%.2g' % thr) if thr < 10 else float(round(thr))
    lines = ['calibration: temperature %.3f + %.4f * max(D - 1, 0), uniform share 1 - exp(-%.4f * max(D - 1, 0)); '
             'threshold %.3g (%.1f %% quantile of the distance over %d held-out epochs like the training data)'
             % (cal + (thr, 100 * THRESHOLD_QUANTILE, len(Dind)))]
    groups = [('%s/%s' % k, v) for k, v in sorted(res.items())] + sorted(stress.items())
    for name, items in groups:
        yy, pred, pp, DD = pooled(items)
        q = calibrate_probs(cal, pp, DD)
        lines.append('  %-8s epochs %6d  kappa %.3f  accuracy %.3f  mean top p raw %.3f calibrated %.3f  '
                     'flagged %5.1f %% of epochs, %2d of %2d nights  distance median %.2f' % (
                         name, len(yy), kappa(yy, pred), (pred == yy).mean(), pp.max(1).mean(), q.max(1).mean(),
                         100 * (DD > thr).mean(), sum((i[2] > thr).any() for i in items), len(items),
                         np.median(DD)))
    return cal, thr, '\n'.join(lines)


# The start threshold (model format 4, `ood_start`): D starts at the prior worth OOD_WEIGHT epochs, so
# over a night's first epochs it cannot reach the threshold; the runtime also flags a night while it has
# had fewer than OOD_WEIGHT usable epochs when the plain mean of their per-epoch distances is above
# ood_start. That is the THRESHOLD_QUANTILE of the plain mean over the first k = 1..OOD_WEIGHT epochs of
# fresh starts at every START_STEP-th epoch of each night's sleep period +- 30 min, by the model trained
# on every night (in-sample; its largest over k, at one epoch in practice), times the ratio of the
# held-out threshold to the same quantile of D in-sample over the whole nights (the held-out nights sit
# that much further),
# rounded as the threshold is. How the shipped models' values were obtained (their comment line).
START_STEP = 5


def ood_round(v):
    """Two significant figures below 10, whole numbers above: how thresholds are written."""
    return float('%.2g' % v) if v < 10 else float(round(v))


def start_means(m, nights):
    """Per k = 1..OOD_WEIGHT the plain mean distance over the first k usable epochs of every fresh
    start (every START_STEP-th epoch of each night's scored window from its first, the next OOD_WEIGHT
    epochs as a recording of their own), by model m: a list of arrays."""
    w = int(OOD_WEIGHT)
    mm = set_ood(dict(m))
    means = [[] for _ in range(w)]
    for n in nights:
        e = n['epochs'][n['win']]
        if not len(e):
            continue
        for s in range(int(e.min()), int(e.max()) + 1, START_STEP):
            x = excerpt(n, s, w)
            if not len(x['epochs']):
                continue
            d = L.run_night(mm, x['epochs'], x['base'], fast=True, details=True)[2]['d']
            for k, v in enumerate(np.cumsum(d) / np.arange(1, len(d) + 1)):
                means[k].append(v)
    return [np.array(v) for v in means]


def ood_start(rc, m, nights, threshold):
    """(the start threshold, a printable line) for model m of recipe rc trained on `nights` (as loaded)
    whose held-out threshold is `threshold`. The fresh starts are the nights as the model reads them
    (each slot a view for a one-channel model), with beta cut as the recipe's source rate cuts it; D's
    in-sample quantile is over every view's whole recording (regime A, sleep period +- 30 min)."""
    nch = len(rc['channels'])
    vs = views(nights, nch, 'all')
    starts = [low_rate(n, 0) for n in vs] if rc.get('rate') else vs
    q = [float(np.quantile(v, THRESHOLD_QUANTILE)) for v in start_means(m, starts) if len(v)]
    k = int(np.argmax(q))
    D = np.concatenate([score_night(m, n, 'A')[2] for n in vs])
    qd = float(np.quantile(D, THRESHOLD_QUANTILE))
    value = ood_round(q[k] * threshold / qd)
    return value, ('ood_start %.3g: the %.1f %% quantile of the plain mean distance over the first 1-%d '
                   'epochs of fresh starts at every %dth epoch of the %d nights\' sleep period +- 30 min '
                   '(%.2f at %d epoch%s, in-sample%s), times the ratio of the held-out to the in-sample '
                   '%.1f %% quantile of the night\'s distance (%.3g / %.2f)'
                   % (value, 100 * THRESHOLD_QUANTILE, int(OOD_WEIGHT), START_STEP, len(nights), q[k], k + 1,
                      '' if k == 0 else 's', ', beta cut x%g-%g as a %g-Hz source cuts it' % (BETA_CUT + (rc['rate'],))
                      if rc.get('rate') else '', 100 * THRESHOLD_QUANTILE, threshold, qd))


# ---------------------------------------------------------------- command line
def user_recipe(a, nslots):
    """The recipe for --out: the shipped one-channel recipe (or fpz_pz's for --channels 2) with the
    size options applied."""
    if a.channels == 2:
        if nslots < 2:
            sys.exit('train_stager: --channels 2 needs tables with fpz_* and pz_* columns')
        rc = dict(RECIPES['fpz_pz'])
    else:
        rc = dict(RECIPES['eeg_lo' if a.low else 'eeg'])
        rc['views'] = 0 if a.frontal_only else 'all'
    if a.low and a.channels == 2:
        rc['fields'] = LOW_FIELDS
        rc['rate'] = LOW_RATE
    data = dict(AUGMENT) if a.channels == 1 else None
    if a.no_shifts and data:
        data['shifts'] = 0
    rc['experts'] = [(sees, a.nets or k, data or d) for sees, k, d in rc['experts']]
    if a.hidden:
        rc['hidden'] = (a.hidden,)
    if a.iters:
        rc['iters'] = a.iters
    return rc


def train_model(rc, nights, seed, name, cache=None, log=print):
    """LOSO figures, calibration from the held-out nights, then the model trained on every night."""
    res, models = loso(rc, nights, seed, cache, log=log)
    report(name, res)
    calib, thr, text = calibration(res, stress_scores(rc, nights, models))
    print(text, flush=True)
    m = final_fit(rc, nights, seed, name, cache, log)
    m['ood_start'], start = ood_start(rc, m, nights, thr)
    print(start, flush=True)
    set_ood(m, calib, thr)
    m['comment'] = ('trained by tools/train_stager.py (version 5) on %d nights (%d subjects); %s; %s; %s'
                    % (len(nights), len({n['subject'] for n in nights}), describe(rc), text.split('\n')[0],
                       start))
    return m


def final_fit(rc, nights, seed, name, cache=None, log=print):
    """The recipe trained on every night (kept in the cache folder like the folds)."""
    import pickle
    path = loso_cache_path(rc, nights, seed, cache).replace('loso-', 'final-') if cache else None
    if path and os.path.exists(path):
        log('final model from %s' % path)
        with open(path, 'rb') as f:
            return dict(pickle.load(f), name=name)
    t0 = time.time()
    m = fit(rc, views(nights, len(rc['channels']), train_view_of(rc)), seed, name)
    log('final model trained on every night (%.0f s)' % (time.time() - t0))
    if path:
        os.makedirs(cache, exist_ok=True)
        L.write_new(path, pickle.dumps(m), replace=True)
    return m


def describe(rc):
    data = lambda d: ', '.join('%s %s' % (v, k) for k, v in d.items() if v) or 'whole nights'  # noqa: E731
    return 'experts: %s; output: their mean posterior (no HMM), tempered by the night\'s distance' % '; '.join(
        '%d see %s (%s)' % (c, 'every column' if e == 'all' else 'uncentred columns' if e == 'uncentred'
                            else e + ' only', data(d)) for e, c, d in rc['experts'])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('tables', nargs='*', help='feature tables or folders of them (default: the shared ones)')
    ap.add_argument('--cv', action='store_true', help='print leave-one-subject-out figures')
    ap.add_argument('--write', action='store_true', help='train the shipped recipes, write src/staging/models/')
    ap.add_argument('--recipe', default=None, choices=list(RECIPES), help='--cv / --write: one recipe only')
    ap.add_argument('--out', metavar='MODEL', help='train a model on the tables and write it here')
    ap.add_argument('--force', action='store_true', help='--out may replace an existing file')
    ap.add_argument('--name', help='model name (default: the --out file name without .dwm)')
    ap.add_argument('--channels', type=int, choices=(1, 2), default=1,
                    help='--out: stage one channel (fpz_* columns, any derivation) or two (fpz_* and pz_*)')
    ap.add_argument('--frontal-only', action='store_true',
                    help='--out, one channel: train on the fpz_* columns only (default: pz_* too, as a view)')
    ap.add_argument('--low', action='store_true', help='--out: delta to beta only, for sources sampled at 50-100 Hz')
    ap.add_argument('--subject-pattern', default=SLEEP_EDF_SUBJECT,
                    help='regular expression on the file name; its first group (or match) is the subject')
    ap.add_argument('--subjects', metavar='FILE', help='"TABLE SUBJECT" per line instead of the pattern')
    ap.add_argument('--nets', type=int, help='--out: MLPs per expert group (default 4)')
    ap.add_argument('--hidden', type=int, help='--out: hidden units per MLP (default 32)')
    ap.add_argument('--iters', type=int, help='--out: training passes (default 6)')
    ap.add_argument('--no-shifts', action='store_true', help='--out: no montage-shifted copies (faster)')
    ap.add_argument('--seed', type=int, default=0, help='first random seed of the experts (0 ships)')
    ap.add_argument('--train-view', choices=L.SLOTS, help='--cv, one channel: train on this slot only and '
                    'test on every slot (cross-derivation figures)')
    ap.add_argument('--cache', metavar='DIR', help='keep the leave-one-subject-out folds here (--cv then '
                    '--write train them once)')
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
    if not (a.cv or a.write or a.out):
        ap.error('nothing to do: give --cv, --out MODEL or --write')
    if a.out and os.path.exists(a.out) and not a.force:
        sys.exit('train_stager: %s exists (--force replaces it)' % a.out)
    paths = table_paths(a.tables)
    if a.out and any(os.path.realpath(a.out) == os.path.realpath(p) for p in paths):
        sys.exit('train_stager: %s is one of the input tables' % a.out)
    nights = load_nights(paths, a.subject_pattern, subject_map(a.subjects) if a.subjects else None)
    nsub = len({n['subject'] for n in nights})
    print('%d tables, %d subjects' % (len(nights), nsub), flush=True)
    if nsub < 2:
        sys.exit('train_stager: leave-one-subject-out needs at least 2 subjects (check --subject-pattern)')
    if a.out:
        name = a.name or os.path.splitext(os.path.basename(a.out))[0]
        if not re.fullmatch(r'[A-Za-z0-9_.-]{1,63}', name):
            sys.exit('train_stager: model name %r: use up to 63 letters, digits, _ . -' % name)
        rc = user_recipe(a, min(len(n['slots']) for n in nights))
        m = train_model(rc, nights, a.seed, name, a.cache)
        L.write_model(m, a.out, replace=a.force)
        print('wrote %s' % a.out)
        return
    for name in ([a.recipe] if a.recipe else SHIPPED):
        rc = RECIPES[name]
        if a.train_view:
            if len(rc['channels']) != 1:
                sys.exit('train_stager: --train-view is for one-channel recipes')
            rc = dict(rc, views=L.SLOTS.index(a.train_view))
            name = '%s trained on %s' % (name, a.train_view)
        if a.write and not a.train_view:
            m = train_model(rc, nights, a.seed, name, a.cache)
            path = os.path.join(ROOT, 'src', 'staging', 'models', name + '.dwm')
            L.write_model(m, path, replace=True, mode=0o644)
            print('wrote %s' % path, flush=True)
        else:
            report(name, loso(rc, nights, a.seed, a.cache)[0])


if __name__ == '__main__':
    main()
