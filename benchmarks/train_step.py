"""Training step, side by side in one run on CPU: syncdr's fastai learner step vs a plain-PyTorch re-expression of
the reference step (SynCDR/train_fns/selfsup.py + LinearAverage.py), same model, batches and losses; then the
memory-bank update with 10k vs 1M rows (ours touches only the batch's rows; the reference renormalised the whole bank).

    python benchmarks/train_step.py [--arch resnet18] [--size 64] [--bs 32] [--steps 10] [--repeats 3]
"""
import argparse, time, statistics
import torch, torch.nn.functional as F
from fastai.learner import Learner
from fastai.callback.progress import ProgressCallback
from fastai.data.core import DataLoaders
from fastai.optimizer import SGD
from functools import partial
from syncdr.models import create_embedder
from syncdr.losses import MemoryBank
from syncdr.learner import TwoDomainModel, SynCDRLoss, BankCallback, PPPCallback, NoValidation

class FixedBatches:
    "The same pre-made batches every epoch: times the step, not the data loading."
    n_inp = 4
    def __init__(self, batches): self.batches, self.device = batches, None
    def to(self, d): self.device = d; return self
    def __len__(self): return len(self.batches)
    def __iter__(self): return iter(self.batches)

def make_batches(steps, bs, size, n_bank, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [tuple(torch.randn(bs, 3, size, size, generator=g) for _ in range(4)) +
            (torch.randint(0, n_bank, (bs,), generator=g), torch.randint(0, n_bank, (bs,), generator=g)) for _ in range(steps)]

def ours(model, batches, n_bank, dim, k):
    loss = SynCDRLoss(n_bank, n_bank, dim, k=k)
    loss.bank_s.fill(torch.randn(n_bank, dim)); loss.bank_t.fill(torch.randn(n_bank, dim)); loss.filled.fill_(True)
    learn = Learner(DataLoaders(FixedBatches(batches), NoValidation(), device=torch.device('cpu')), TwoDomainModel(model),
                    loss_func=loss, opt_func=partial(SGD, mom=0.9, wd=5e-4, decouple_wd=False), lr=0.003,
                    cbs=[BankCallback(None, None), PPPCallback(0.5)], train_bn=True)
    learn.remove_cb(ProgressCallback); learn.logger = lambda *a, **k: None
    learn.recorder.valid_metrics = False
    t = time.perf_counter(); learn.fit(1); return time.perf_counter() - t

def entropy_topk(f, V, k, tau=0.1):
    p = F.softmax((f @ V.T / tau).topk(min(k, len(V)), dim=1).values, dim=1)
    return -(p * torch.log(p + 1e-5)).sum(1).mean()

def reference(model, batches, n_bank, dim, k, tau=0.1, m=0.5):
    "Plain PyTorch, as the reference: 4 forward passes, ID + CDM + PPP, SGD, LinearAverage update + whole-bank renorm."
    Vs, Vt = F.normalize(torch.randn(n_bank, dim), dim=1), F.normalize(torch.randn(n_bank, dim), dim=1)
    opt = torch.optim.SGD(model.parameters(), lr=0.003, momentum=0.9, weight_decay=5e-4)
    model.train()
    t = time.perf_counter()
    for xs, xt, cs, ct, i, j in batches:
        fs, ft, fcs, fct = model(xs), model(xt), model(cs), model(ct)
        ar = torch.arange(len(fs))
        loss = 0.5 * (F.cross_entropy(fs @ Vs.T / tau, i) + F.cross_entropy(ft @ Vt.T / tau, j))
        loss = loss + entropy_topk(ft, Vs, k) + entropy_topk(fs, Vt, k)
        loss = loss + 0.5 * (F.cross_entropy(fcs @ fs.T, ar) + F.cross_entropy(fct @ ft.T, ar))
        opt.zero_grad(); loss.backward(); opt.step()
        with torch.no_grad():
            Vs[i] = Vs[i] * m + fs.detach() * (1 - m); Vs.div_(Vs.norm(dim=1, keepdim=True))
            Vt[j] = Vt[j] * m + ft.detach() * (1 - m); Vt.div_(Vt.norm(dim=1, keepdim=True))
    return time.perf_counter() - t

def bank_update_time(n, dim=512, bs=32, reps=200, whole=False):
    bank = MemoryBank(n, dim); bank.fill(torch.randn(n, dim))
    f, idx = F.normalize(torch.randn(bs, dim), dim=1), torch.randint(0, n, (bs,))
    t = time.perf_counter()
    for _ in range(reps):
        if whole:  # the reference: update, then renormalise every row
            V = bank.memory; V[idx] = V[idx] * 0.5 + f * 0.5; V.div_(V.norm(dim=1, keepdim=True))
        else: bank.update(f, idx)
    return (time.perf_counter() - t) / reps

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--arch', default='resnet18'); p.add_argument('--size', type=int, default=64)
    p.add_argument('--bs', type=int, default=32); p.add_argument('--steps', type=int, default=10)
    p.add_argument('--repeats', type=int, default=3); p.add_argument('--bank', type=int, default=5000)
    a = p.parse_args()
    torch.manual_seed(0)
    dim, k = 512, 700
    batches = make_batches(a.steps, a.bs, a.size, a.bank)
    init = create_embedder(a.arch, 'none', dim=dim).state_dict()
    def fresh(): m = create_embedder(a.arch, 'none', dim=dim); m.load_state_dict(init); return m
    reference(fresh(), batches[:2], a.bank, dim, k); ours(fresh(), batches[:2], a.bank, dim, k)  # warm up
    t_ours, t_ref = [], []
    for _ in range(a.repeats):  # interleaved, so drifts in machine load hit both alike
        t_ref.append(reference(fresh(), batches, a.bank, dim, k)); t_ours.append(ours(fresh(), batches, a.bank, dim, k))
    mo, mr = statistics.median(t_ours) / a.steps, statistics.median(t_ref) / a.steps
    print(f'{a.arch} at {a.size}px, batch {a.bs}+{a.bs} (+{a.bs}+{a.bs} counterparts), bank {a.bank}, {torch.get_num_threads()} threads, median of {a.repeats}')
    print(f'reference step (plain PyTorch)   {mr*1000:8.1f} ms')
    print(f'syncdr learner step (fastai)     {mo*1000:8.1f} ms   {mo/mr:5.3f}x the reference (target <= 1.05)')
    small, big = bank_update_time(10_000), bank_update_time(1_000_000)
    rs, rb = bank_update_time(10_000, whole=True, reps=20), bank_update_time(1_000_000, whole=True, reps=5)
    print(f'bank update, 10k rows            {small*1e6:8.1f} us')
    print(f'bank update, 1M rows             {big*1e6:8.1f} us   {big/small:5.2f}x the 10k time (target within 1.10x)')
    print(f'reference update + whole-bank renorm: 10k {rs*1e3:.2f} ms, 1M {rb*1e3:.1f} ms ({rb/rs:.0f}x)')

if __name__ == '__main__': main()
