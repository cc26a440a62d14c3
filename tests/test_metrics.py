"Regression checks of the retrieval metrics against the reference's worked example and a naive loop."
import warnings
import numpy as np, torch
from syncdr.metrics import retrieval_metrics, cmc

def test_reference_worked_example():
    # the reference's worked example: query A (label 0) ranks [0,1,0,2,1,1]; query B (label 1) ranks [2,1,1,0,1,0] → 0.5 / 0.6 / 0.6
    def ranked(order):
        s = torch.linspace(0.9, 0.1, len(order))
        g = torch.stack([s, (1 - s**2).sqrt()], 1)
        return torch.tensor([[1., 0.]]), g, torch.tensor(order)
    (qa, ga, la), (qb, gb, lb) = ranked([0, 1, 0, 2, 1, 1]), ranked([2, 1, 1, 0, 1, 0])
    # put both galleries side by side in orthogonal halves so each query only ranks its own gallery first
    q = torch.zeros(2, 4); q[0, :2], q[1, 2:] = qa, qb
    g = torch.zeros(12, 4); g[:6, :2], g[6:, 2:] = ga, gb
    labels = torch.cat([la, lb + 10])                      # disjoint label spaces keep the galleries apart
    r = retrieval_metrics(q, [0, 11], g, labels)
    assert np.isclose(r['Prec@1'], 0.5) and np.isclose(r['Prec@5'], 0.6) and np.isclose(r['Prec@15'], 0.6)

def test_against_naive_loop():
    g_ = torch.Generator().manual_seed(0)
    # float64, and a data gap far above float64 rounding: the oracle's own matmul cannot reorder items (see 05_metrics)
    q, g = torch.randn(40, 8, generator=g_, dtype=torch.float64), torch.randn(90, 8, generator=g_, dtype=torch.float64)
    ql, gl = torch.randint(0, 5, (40,), generator=g_), torch.randint(0, 5, (90,), generator=g_)
    sims = (torch.nn.functional.normalize(q, dim=1) @ torch.nn.functional.normalize(g, dim=1).T).numpy()
    assert min(np.diff(np.sort(row)).min() for row in sims) > 1e-12
    first, hits1 = [], 0
    for i in range(40):
        rel = gl.numpy()[np.argsort(-sims[i], kind='stable')] == int(ql[i])
        first.append(np.argmax(rel) + 1); hits1 += rel[0]
    assert np.isclose(retrieval_metrics(q, ql, g, gl)['Prec@1'], hits1 / 40)
    assert np.isclose(cmc(q, ql, g, gl)['Rank-5'], np.mean(np.array(first) <= 5))

def naive_metrics(q, ql, g, gl, ks=(1, 5, 15)):
    "Every metric from a stably argsorted similarity row per query (ties by gallery index), skipping queries with no relevant item."
    q, g = torch.nn.functional.normalize(q, dim=1), torch.nn.functional.normalize(g, dim=1)
    sims, ql, gl = (q @ g.T).numpy(), np.asarray(ql), np.asarray(gl)
    hits, ts, p, rp, mr, ma, first, n = {k: 0 for k in ks}, {k: 0 for k in ks}, {k: 0. for k in ks}, 0., 0., 0., [], 0
    for i in range(len(q)):
        rel = gl[np.argsort(-sims[i], kind='stable')] == ql[i]
        R = rel.sum()
        if R == 0: continue
        n += 1
        prec = np.cumsum(rel) / np.arange(1, len(rel) + 1)
        for k in ks:
            t = min(k, R); hits[k] += rel[:t].sum(); ts[k] += t; p[k] += rel[:k].sum() / k
        rp += rel[:R].sum() / R; mr += (prec[:R] * rel[:R]).sum() / R; ma += (prec * rel).sum() / R
        first.append(np.argmax(rel) + 1)
    res = {**{f'Prec@{k}': hits[k] / ts[k] for k in ks}, **{f'P@{k}': p[k] / n for k in ks},
           'R-Prec': rp / n, 'mAP@R': mr / n, 'mAP@all': ma / n, 'queries': n, 'skipped': len(q) - n}
    return res, np.array(first)

def test_ties_absent_class_and_chunks():
    # quantised rows (four entries of +-1): every similarity is a multiple of 1/4, exact in any summation order, so
    # many exact ties between relevant and irrelevant items; label 7 has queries but no gallery item
    g_ = torch.Generator().manual_seed(1)
    def quantised(n):
        x = torch.randn(n, 16, generator=g_)
        top = x.abs().topk(4, dim=1).indices
        return torch.zeros(n, 16).scatter_(1, top, x.gather(1, top).sign())
    q, g = quantised(60), quantised(150)
    ql, gl = torch.randint(0, 8, (60,), generator=g_), torch.randint(0, 7, (150,), generator=g_)
    assert (ql == 7).any()
    naive, first = naive_metrics(q, ql, g, gl)
    for ce in (150, 1000, 2**24):
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            ours, c = retrieval_metrics(q, ql, g, gl, chunk_elems=ce), cmc(q, ql, g, gl, chunk_elems=ce)
        for k in naive: assert np.isclose(ours[k], naive[k], rtol=0, atol=1e-12), (ce, k, ours[k], naive[k])
        for k in (1, 5, 10, 20): assert np.isclose(c[f'Rank-{k}'], np.mean(first <= k))
        assert np.isclose(c['mAP'], naive['mAP@all']) and c['skipped'] == naive['skipped'] > 0

def test_float64_all_metrics():
    g_ = torch.Generator().manual_seed(2)
    q, g = torch.randn(50, 6, generator=g_, dtype=torch.float64), torch.randn(400, 6, generator=g_, dtype=torch.float64)
    ql, gl = torch.randint(0, 4, (50,), generator=g_), torch.randint(0, 4, (400,), generator=g_)
    sims = (torch.nn.functional.normalize(q, dim=1) @ torch.nn.functional.normalize(g, dim=1).T).numpy()
    assert min(np.diff(np.sort(row)).min() for row in sims) > 1e-12   # rounding cannot reorder items (see 05_metrics)
    naive, _ = naive_metrics(q, ql, g, gl)
    ours = retrieval_metrics(q, ql, g, gl, chunk_elems=2000)
    for k in naive: assert np.isclose(ours[k], naive[k], rtol=0, atol=1e-12), (k, ours[k], naive[k])

def test_no_query_has_a_relevant_item():
    q, g = torch.randn(3, 4), torch.randn(5, 4)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        r, c = retrieval_metrics(q, [9, 9, 9], g, [0] * 5), cmc(q, [9, 9, 9], g, [0] * 5)
    assert (r['queries'], r['skipped'], r['Prec@1'], r['mAP@all']) == (0, 3, 0, 0)
    assert (c['queries'], c['skipped'], c['Rank-1'], c['mAP']) == (0, 3, 0, 0)

def test_top_k_only_metrics_match_the_full_path():
    # Prec@k and P@k alone take the top-k path; exact ties around the k-th place must be ordered as the full path orders them
    g_ = torch.Generator().manual_seed(3)
    q = torch.randint(-1, 2, (40, 6), generator=g_).float() + 0.01 * (torch.arange(6) == 0)   # few distinct similarities: many ties
    g = torch.randint(-1, 2, (200, 6), generator=g_).float() + 0.01 * (torch.arange(6) == 0)
    ql, gl = torch.randint(0, 3, (40,), generator=g_), torch.randint(0, 3, (200,), generator=g_)
    full = retrieval_metrics(q, ql, g, gl, ks=(1, 5, 15, 60), chunk_elems=1000)
    fast = retrieval_metrics(q, ql, g, gl, ks=(1, 5, 15, 60), chunk_elems=1000, metrics=('Prec@k', 'P@k'))
    assert set(fast) == {k for k in full if k.startswith(('Prec@', 'P@'))} | {'queries', 'skipped'}
    for k in fast: assert fast[k] == full[k], (k, fast[k], full[k])

_BUILD = """
import json, os, sys, torch
from syncdr.metrics import native_counter, retrieval_metrics
g = torch.Generator().manual_seed(0)
q, gal = torch.randint(-2, 3, (60, 6), generator=g).double(), torch.randint(-2, 3, (200, 6), generator=g).double()  # many exact ties
ql, gl = torch.randint(0, 6, (60,), generator=g), torch.randint(0, 6, (200,), generator=g)
print(json.dumps(dict(native=native_counter() is not None, metrics=dict(retrieval_metrics(q, ql, gal, gl, chunk_elems=999)))))
"""

def _build_run(env, cwd):
    import json, os, subprocess, sys
    r = subprocess.run([sys.executable, '-c', _BUILD], env={**os.environ, 'HF_HUB_OFFLINE': '1', **env}, cwd=cwd, capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])

def test_compiled_counting_builds_once_and_falls_back(tmp_path):
    "Processes building the kernel into one empty cache at once all load it; without a compiler, or when disabled, the torch ops give the same metrics."
    import shutil, subprocess, sys, os, json
    no_cc = _build_run({'SYNCDR_CACHE': str(tmp_path/'empty'), 'CC': str(tmp_path/'no-such-compiler')}, tmp_path)
    off = _build_run({'SYNCDR_NO_NATIVE': '1'}, tmp_path)
    assert not no_cc['native'] and not off['native'] and no_cc['metrics'] == off['metrics']
    if not shutil.which(os.environ.get('CC', 'cc')): return  # no compiler here: the torch ops above are what this machine runs
    cache = tmp_path/'cache'
    procs = [subprocess.Popen([sys.executable, '-c', _BUILD], env={**os.environ, 'SYNCDR_CACHE': str(cache)}, stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    assert all(p.returncode == 0 for p in procs) and all(o['native'] for o in outs)
    assert len(list(cache.glob('ranks-*.so'))) == 1 and not [p for p in cache.iterdir() if p.is_dir()]  # one library, no leftovers
    assert all(o['metrics'] == off['metrics'] for o in outs)  # the compiled counting and the torch ops agree exactly
