"Regression checks of the retrieval metrics against the reference's worked example and a naive loop."
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
