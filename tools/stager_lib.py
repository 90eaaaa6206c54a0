"""The causal sleep stager in Python: the exact pipeline that src/staging/stager.c runs.

A model is a dict (written/read as the text format in src/staging/MODEL_FORMAT.md):
  channels  ['fpz'] or ['fpz', 'pz']
  features  [(name, scale, norm, prior, num_terms, den_terms)]  value = scale * log(sum(num) / sum(den))
  center    (halflife_epochs, weight_epochs, clip)              causal running centre for norm == 'center'
  columns   [(feature_index, op, window, mu, sd)]               classifier inputs, standardised
  nets      [[(W, b, act), ...], ...]                            MLPs whose softmax outputs are averaged
  priors, temper, trans (5x5), init                             forward HMM
  ood       (halflife, weight, prior, cap, threshold)           night's distance from the training data
  calibrate (t0, slope, mix)                                    temperature and uniform share by that distance
                                                                (optional from version 4: without it the
                                                                columns are not clipped, the posterior not tempered)
  ood_start threshold                                           (version 4) on the plain mean distance over the
                                                                night's first `weight` usable epochs
Everything is float64 and done in the same order as the C code, so the two agree to ~1e-12.
"""
import math

import numpy as np

STAGES = ['W', 'N1', 'N2', 'N3', 'R']
BASE = ['delta', 'theta', 'alpha', 'beta', 'gamma', 'var', 'dvar']
BANDS = BASE[:5]
FLOOR = 1e-12          # added to every sum before the log: powers of a flat (dead) channel stay finite
FORMAT_VERSION = 4
# The column prefixes of the feature tables' channel slots (frontal, parietal), whatever the montage.
SLOTS = ['fpz', 'pz']


# ---------------------------------------------------------------- data
def load_table(path, channels):
    """epochs (int), stage index (-1 unknown), base (n, len(channels)*7) in channel-major BASE order.
    The model's k-th channel reads the table's k-th slot (SLOTS: fpz_* then pz_* columns), whatever
    the channels are called in the model."""
    import pandas as pd
    d = pd.read_csv(path, sep='\t')
    stage = np.array([STAGES.index(s) if s in STAGES else -1 for s in d['stage'].astype(str)]) \
        if 'stage' in d else np.full(len(d), -1)
    cols = ['%s_%s' % (c, b) for c in SLOTS[:len(channels)] for b in BASE]
    return d['epoch'].to_numpy(int), stage, d[cols].to_numpy(float)


def scored_window(epochs, stage, margin=60):
    """Boolean mask: sleep period (first..last non-W epoch) plus `margin` epochs each side."""
    sl = epochs[(stage > 0)]
    if len(sl) == 0:
        return np.zeros(len(epochs), bool)
    return (epochs >= sl.min() - margin) & (epochs <= sl.max() + margin) & (stage >= 0)


def read_hypnogram(path):
    """Stage index per 30-s epoch (-1 for movement/unscored) from an EDF+ hypnogram."""
    b = open(path, 'rb').read()
    hdr = int(b[184:192])
    nsig = int(b[252:256])
    tal = b[hdr:]
    out = []
    t0 = None
    for ann in tal.split(b'\x00'):
        if not ann or b'\x15' not in ann:
            continue
        parts = ann.split(b'\x14')
        on, dur = parts[0].split(b'\x15')
        on, dur = float(on), float(dur)
        txt = parts[1].decode('latin-1') if len(parts) > 1 else ''
        m = {'Sleep stage W': 0, 'Sleep stage 1': 1, 'Sleep stage 2': 2, 'Sleep stage 3': 3,
             'Sleep stage 4': 3, 'Sleep stage R': 4}
        s = m.get(txt, -1)
        if t0 is None:
            t0 = on
        if txt == 'Sleep stage ?' and on > t0 and not out:
            continue
        out += [s] * int(round(dur / 30))
    del nsig
    return np.array(out, int)


def transition_counts(hypnograms):
    c = np.zeros((5, 5))
    for h in hypnograms:
        a, b = h[:-1], h[1:]
        ok = (a >= 0) & (b >= 0)       # movement / '?' break the chain
        np.add.at(c, (a[ok], b[ok]), 1)
    return c


# ---------------------------------------------------------------- feature program
def feature_program(channels, fields=BASE, evidence=False):
    """The derived features (a priori choice): log powers (centred per night), relative band powers,
    Hjorth mobility, low-frequency fraction, band ratios, (two channels) cross-channel differences, and
    with `evidence` (format 2) the log of the centre's evidence weight, which tells the classifier how
    much of each centre is this night and how much the population prior (without training on nights
    that start at other times it lets the classifier learn the time since the recording began: LOSO
    kappa -0.017 in trainer version 3). `fields` limits the base features used (a model for sources
    below 100 Hz uses only the bands such a source carries); relative powers are then shares of the
    bands used."""
    F = []

    def add(name, norm, num, den=(), scale=1.0):
        F.append([name, scale, norm, 0.0, list(num), list(den)])

    def have(*fs):
        return all(f in fields for f in fs)
    for c in channels:
        bands = ['%s_%s' % (c, b) for b in BANDS if b in fields]
        for b in BASE:
            if have(b):
                add('%s_log_%s' % (c, b), 'center', ['%s_%s' % (c, b)])
        for b in BANDS:
            if have(b):
                add('%s_rel_%s' % (c, b), 'none', ['%s_%s' % (c, b)], bands)
                add('%s_relc_%s' % (c, b), 'center', ['%s_%s' % (c, b)], bands)
        if have('var', 'dvar'):
            add('%s_mobility' % c, 'none', ['%s_dvar' % c], ['%s_var' % c], 0.5)
            add('%s_mobilityc' % c, 'center', ['%s_dvar' % c], ['%s_var' % c], 0.5)
        if have('var'):
            add('%s_bandfrac' % c, 'none', bands, ['%s_var' % c])
        for x, y in (('delta', 'beta'), ('alpha', 'theta'), ('theta', 'delta'), ('gamma', 'beta')):
            if have(x, y):
                add('%s_%s_%s' % (c, x, y), 'none', ['%s_%s' % (c, x)], ['%s_%s' % (c, y)])
    if evidence:
        add('evidence', 'none', ['center_weight'])
    if len(channels) == 2:
        a, b = channels
        for x in BASE:
            if have(x):
                add('%s_%s_%s' % (a, b, x), 'none', ['%s_%s' % (a, x)], ['%s_%s' % (b, x)])
    return F


def fields_of(model):
    """The base fields (delta .. dvar) a model's features read."""
    used = {t.split('_')[-1] for f in model['features'] for t in f[4] + f[5] if t != 'center_weight'}
    return [b for b in BASE if b in used]


def uses_centre_weight(model):
    """Whether any feature names the format-2 term 'center_weight'."""
    return any('center_weight' in f[4] + f[5] for f in model['features'])


def raw_features(model, base):
    """(n, nfeat) scale*log(sum num / sum den) for each row of base (channel-major BASE columns)."""
    idx = {'%s_%s' % (c, b): i * 7 + j for i, c in enumerate(model['channels']) for j, b in enumerate(BASE)}
    cols = {t: base[:, i] for t, i in idx.items()}
    if uses_centre_weight(model):
        cols['center_weight'] = centre_weight(model, base.shape[0])
    out = np.empty((base.shape[0], len(model['features'])))
    for k, (_, scale, _, _, num, den) in enumerate(model['features']):
        n = np.zeros(base.shape[0])
        for t in num:
            n = n + cols[t]
        n = n + FLOOR
        d = np.zeros(base.shape[0])
        for t in den:
            d = d + cols[t]
        d = d + FLOOR if den else np.ones(base.shape[0])
        out[:, k] = scale * np.log(n / d)
    return out


def centre_weight(model, n):
    """The running centre's evidence weight Wt after each of n usable epochs (format 2 term
    'center_weight'): how much of the centre is this night rather than the population prior."""
    hl, w0, _ = model['center']
    lam = 0.5 ** (1.0 / hl)
    out = np.empty(n)
    W = w0
    for t in range(n):
        W = lam * W + 1.0
        out[t] = W
    return out


def running_centre(x, halflife, weight, clip, prior):
    """Centre after each row, that row included: an exponentially weighted mean started from `prior`
    (worth `weight` rows); a new value is clipped to centre +- clip before it enters. x: (n, k)."""
    lam = 0.5 ** (1.0 / halflife)
    S = np.asarray(prior, float) * weight
    W = weight
    out = np.empty_like(x)
    for t in range(x.shape[0]):
        c = S / W
        S = lam * S + np.minimum(np.maximum(x[t], c - clip), c + clip)
        W = lam * W + 1.0
        out[t] = S / W
    return out


def normalise(model, raw):
    """Per-night normalisation, causal: each 'center' feature minus its own running centre (started
    from the population prior); 'none' features as they are."""
    out = raw.copy()
    cen = np.array([f[2] == 'center' for f in model['features']])
    if cen.any():
        hl, w0, clip = model['center']
        prior = np.array([f[3] for f in model['features']])
        out[:, cen] = raw[:, cen] - running_centre(raw, hl, w0, clip, prior)[:, cen]
    return out


def context_columns(model, z, mu_sd=True):
    """Classifier inputs from the normalised features of the epochs so far (this one last)."""
    n = z.shape[0]
    cols = np.empty((n, len(model['columns'])))
    for j, (fi, op, w, mu, sd) in enumerate(model['columns']):
        x = z[:, fi]
        for t in range(n):
            v = x[max(0, t - w + 1):t + 1]
            cols[t, j] = window_op(op, v)
        if mu_sd:
            cols[:, j] = (cols[:, j] - mu) / sd
    return cols


def window_op(op, v):
    if op == 'mean':
        return sum(v) / len(v)
    if op == 'std':
        m = sum(v) / len(v)
        return math.sqrt(sum((a - m) * (a - m) for a in v) / len(v))
    if op == 'min':
        return min(v)
    if op == 'max':
        return max(v)
    raise ValueError(op)


def context_fast(model, z):
    """Vectorised context_columns (same maths, summation order may differ by ulps): for training."""
    import pandas as pd
    df = pd.DataFrame(z)
    cols = np.empty((z.shape[0], len(model['columns'])))
    cache = {}
    for j, (fi, op, w, mu, sd) in enumerate(model['columns']):
        key = (op, w)
        if key not in cache:
            r = df.rolling(w, min_periods=1)
            cache[key] = {'mean': r.mean, 'min': r.min, 'max': r.max,
                          'std': lambda: r.std(ddof=0)}[op]().to_numpy()
        cols[:, j] = (cache[key][:, fi] - mu) / sd
    return cols


# ---------------------------------------------------------------- classifier + HMM
def act(a, name):
    if name == 'relu':
        return np.maximum(a, 0)
    if name == 'tanh':
        return np.tanh(a)
    if name == 'identity':
        return a
    if name == 'softmax':
        e = np.exp(a - a.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError(name)


def classify(model, X):
    p = 0
    for net in model['nets']:
        h = X
        for W, b, a in net:
            h = act(h @ W.T + b, a)
        p = p + h
    return p / len(model['nets'])


def hmm_filter(model, epochs, post, valid=None):
    """Forward filter over the rows (gaps in epochs are prediction-only steps)."""
    A, pri, tau = model['trans'], model['priors'], model['temper']
    alpha = model['init'].copy()
    out = np.empty_like(post)
    prev = epochs[0] - 1
    for t in range(len(epochs)):
        for _ in range(max(1, epochs[t] - prev)):
            alpha = alpha @ A
        prev = epochs[t]
        if valid is None or valid[t]:
            a = alpha * (post[t] / pri) ** tau
            s = a.sum()
            if s > 0 and np.isfinite(s):
                alpha = a / s
        out[t] = alpha
    return out


def ood_distance(model, X):
    """Distance of each row's classifier inputs from the training data, and the night's running value.
    X: standardised columns (n, ncol) of the usable epochs in order. d_t = mean over columns of
    min(x^2, cap) (1 on average over the training rows, by the columns' standardisation); the night's
    distance after row t is an exponentially weighted mean of d over the usable epochs so far (half-life
    `halflife` epochs), started at `prior` worth `weight` epochs, like the running centre."""
    hl, w0, prior, cap, _ = model['ood']
    d = np.minimum(X * X, cap).sum(1) / X.shape[1]
    lam = 0.5 ** (1.0 / hl)
    S, W = prior * w0, w0
    D = np.empty(len(d))
    for t in range(len(d)):
        S = lam * S + d[t]
        W = lam * W + 1.0
        D[t] = S / W
    return d, D


def clip_columns(model, X):
    """Format 3: each standardised column clipped to +-sqrt(cap) before the classifier (a network
    extrapolates without bound beyond its training range; a dead channel sits 20 spreads away)."""
    c = math.sqrt(model['ood'][3])
    return np.minimum(np.maximum(X, -c), c)


def temperature(model, D):
    """The posterior's temperature for a night at distance D: t0 within the training data, growing with
    the distance beyond the prior (calibrated on held-out nights, some shifted; see the trainer)."""
    t0, slope, _ = model['calibrate']
    return t0 + slope * np.maximum(D - model['ood'][2], 0.0)


def calibrated(model, post, D):
    """post ** (1/T) renormalised per row, then mixed with the uniform distribution in the share
    1 - exp(-mix * max(D - prior, 0)): the same ranking, confidence matched to agreement."""
    q = post ** (1.0 / temperature(model, D))[:, None]
    q = q / q.sum(1, keepdims=True)
    e = 1.0 - np.exp(-model['calibrate'][2] * np.maximum(D - model['ood'][2], 0.0))
    return (1.0 - e)[:, None] * q + (e / 5.0)[:, None]


def run_night(model, epochs, base, fast=False, details=False):
    """Calibrated classifier posteriors and filtered probabilities for one night, causally from its
    first row. With details, also the columns X, the per-epoch distances d and the night's D."""
    z = normalise(model, raw_features(model, base))
    X = context_fast(model, z) if fast else context_columns(model, z)
    if model.get('calibrate'):
        X = clip_columns(model, X)
    post = classify(model, X)
    d = D = None
    if model.get('ood'):
        d, D = ood_distance(model, X)
        if model.get('calibrate'):
            post = calibrated(model, post, D)
    filt = hmm_filter(model, epochs, post)
    if details:
        return post, filt, dict(X=X, d=d, D=D)
    return post, filt


# ---------------------------------------------------------------- metrics
def agreement(y, p, out=None):
    import sys
    out = out or sys.stdout
    cm = np.zeros((5, 5), int)
    np.add.at(cm, (y, p), 1)
    n = cm.sum()
    acc = np.trace(cm) / n
    pe = (cm.sum(0) * cm.sum(1)).sum() / n / n
    kappa = (acc - pe) / (1 - pe)
    f1 = np.array([2 * cm[i, i] / max(1, cm[i].sum() + cm[:, i].sum()) for i in range(5)])
    print('epochs %d  accuracy %.4f  kappa %.4f  macro-F1 %.4f' % (n, acc, kappa, f1.mean()), file=out)
    print('F1 ' + '  '.join('%s %.3f' % (s, f) for s, f in zip(STAGES, f1)), file=out)
    print('confusion (rows expert, cols model): ' + ' '.join(STAGES), file=out)
    for i in range(5):
        print('  %-2s ' % STAGES[i] + ' '.join('%6d' % v for v in cm[i]), file=out)
    return dict(acc=acc, kappa=kappa, mf1=f1.mean(), f1=f1, cm=cm)


# ---------------------------------------------------------------- model file
def g(x):
    return repr(float(x))   # shortest string that round-trips exactly


def gw(x):
    """A network weight: 9 digits round-trip a float32 (the trainer's precision) exactly."""
    x = float(x)
    return '%.9g' % x if float(np.float32(x)) == x else repr(x)


def write_model(model, path, replace=False, mode=0o600):
    v2 = uses_centre_weight(model)
    v4 = bool(model.get('ood_start')) or (bool(model.get('ood')) and not model.get('calibrate'))
    v3 = bool(model.get('ood')) or bool(model.get('rate'))
    L = ['dreamwatch-model %d' % (4 if v4 else 3 if v3 else 2 if v2 else 1),   # the oldest that can say it
         '# %s' % model.get('comment', ''),
         'name %s' % model['name'],
         'channels %s' % ' '.join(model['channels'])]
    if model.get('rate'):
        L.append('rate %s' % g(model['rate']))
    if v2 or any(f[2] == 'center' for f in model['features']):
        L.append('center %s %s %s' % tuple(g(v) for v in model['center']))
    for name, scale, norm, prior, num, den in model['features']:
        L.append('feature %s %s %s %s %s%s' % (name, g(scale), norm, g(prior), '+'.join(num),
                                               (' / ' + '+'.join(den)) if den else ''))
    fname = [f[0] for f in model['features']]
    for fi, op, w, mu, sd in model['columns']:
        L.append('column %s %s %d %s %s' % (fname[fi], op, w, g(mu), g(sd)))
    for net in model['nets']:
        L.append('net %d' % len(net))
        for W, b, a in net:
            L.append('layer %d %d %s' % (W.shape[1], W.shape[0], a))
            for r in range(W.shape[0]):
                L.append(' '.join(gw(v) for v in [b[r]] + list(W[r])))
    if model.get('ood'):
        L.append('ood %s %s %s %s %s' % tuple(g(v) for v in model['ood']))
    if model.get('ood') and model.get('calibrate'):
        L.append('calibrate %s %s %s' % tuple(g(v) for v in model['calibrate']))
    if model.get('ood_start'):
        L.append('ood_start %s' % g(model['ood_start']))
    L.append('priors ' + ' '.join(g(v) for v in model['priors']))
    L.append('temper ' + g(model['temper']))
    L.append('init ' + ' '.join(g(v) for v in model['init']))
    L.append('transition')
    for r in model['trans']:
        L.append(' '.join(g(v) for v in r))
    L.append('end')
    write_new(path, '\n'.join(L) + '\n', replace, mode)


def write_new(path, text, replace=False, mode=0o600):
    """Writes text (str or bytes) to path through a temporary file in the same folder, renamed into place when complete;
    an existing path is only replaced with replace=True (else FileExistsError, and nothing is touched)."""
    import os
    import tempfile
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=os.path.dirname(path) or '.')
    try:
        with os.fdopen(fd, 'wb' if isinstance(text, bytes) else 'w') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)      # fails if path exists: never replaces what is there
            os.unlink(tmp)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_model(path):
    lines = [l.split('#')[0].split() for l in open(path)]
    lines = [l for l in lines if l]
    assert lines[0][0] == 'dreamwatch-model' and 1 <= int(lines[0][1]) <= FORMAT_VERSION
    m = {'features': [], 'columns': [], 'nets': []}
    fidx = {}
    i = 1
    while i < len(lines):
        k, a = lines[i][0], lines[i][1:]
        i += 1
        if k == 'name':
            m['name'] = a[0]
        elif k == 'channels':
            m['channels'] = a
        elif k == 'center':
            m['center'] = tuple(float(v) for v in a)
        elif k == 'feature':
            fidx[a[0]] = len(m['features'])
            if len(a) not in (5, 7) or (len(a) == 7 and a[5] != '/'):
                raise ValueError('bad feature line %d' % i)
            den = a[6].split('+') if len(a) == 7 else []
            m['features'].append([a[0], float(a[1]), a[2], float(a[3]), a[4].split('+'), den])
        elif k == 'column':
            m['columns'].append((fidx[a[0]], a[1], int(a[2]), float(a[3]), float(a[4])))
        elif k == 'net':
            net = []
            for _ in range(int(a[0])):
                nin, nout, ac = int(lines[i][1]), int(lines[i][2]), lines[i][3]
                rows = np.array([[float(v) for v in lines[i + 1 + r]] for r in range(nout)])
                net.append((rows[:, 1:], rows[:, 0], ac))
                assert rows.shape[1] == nin + 1
                i += 1 + nout
            m['nets'].append(net)
        elif k == 'rate':
            m['rate'] = float(a[0])
        elif k == 'ood':
            m['ood'] = tuple(float(v) for v in a)
        elif k == 'calibrate':
            m['calibrate'] = tuple(float(v) for v in a)
        elif k == 'ood_start':
            m['ood_start'] = float(a[0])
        elif k == 'priors':
            m['priors'] = np.array([float(v) for v in a])
        elif k == 'temper':
            m['temper'] = float(a[0])
        elif k == 'init':
            m['init'] = np.array([float(v) for v in a])
        elif k == 'transition':
            m['trans'] = np.array([[float(v) for v in lines[i + r]] for r in range(5)])
            i += 5
        elif k == 'end':
            break
    return m

