"`syncdr cut train` and `syncdr translate` through the console script, on tiny data and tiny random models."
import io, json, subprocess
from pathlib import Path
import pytest
from PIL import Image
from syncdr.data import read_list, syn_path
from syncdr.test_utils import tiny_sd_pipeline
from conftest import tiny_lists


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('tr')
    tiny_lists(tmp, ('mnist', 'optdigits'), n_per_class=6)
    return tmp

def outputs(root, s, t): return sorted(p for p in (Path(root)/f'{s}2{t}').rglob('*.png'))

def test_cut_train_then_translate(data, syncdr):
    run = data/'cut'
    r = syncdr('cut', 'train', '--lists', data/'lists', '--source', 'mnist', '--target', 'optdigits', '--preset', 'small',
               '--iters', '4', '--out', run, '--cpu')  # no --quiet: output to a pipe still gets no progress bar
    assert '[4/4' not in r.stdout + r.stderr and 'CUT run written' in r.stdout
    assert (run/'last.pth').exists() and json.loads((run/'config.json').read_text())['iters'] == 4
    assert 'already finished' in syncdr('cut', 'train', '--resume', run, '--quiet').stdout   # one --resume convention; a finished run says so
    assert json.loads((run/'config.json').read_text())['iters'] == 4
    args = ('translate', '--method', 'cut', '--model', run, '--lists', data/'lists', '--source', 'mnist', '--target', 'optdigits',
            '--out', data/'syn', '--cpu', '--quiet')
    first = syncdr(*args).stdout
    items = read_list(data/'lists'/'mnist_train_cls_disjoint1.txt')
    assert f'{len(items)} written' in first
    assert sorted(syn_path(p, data/'syn', 'mnist', 'optdigits') for p, _ in items) == outputs(data/'syn', 'mnist', 'optdigits')
    assert '0 written' in syncdr(*args).stdout                          # resumable: nothing left to do

def test_img2img_shards_cover_the_list_once(data, tmp_path, syncdr):
    model = tiny_sd_pipeline(tmp_path/'sd', 'img2img')
    base = ('translate', '--method', 'img2img', '--model', model, '--prompt', 'a painting', '--steps', '4', '--size', '32',
            '--lists', data/'lists', '--source', 'optdigits', '--target', 'mnist', '--split', 'train_cls_disjoint2', '--out', tmp_path/'syn',
            '--cpu', '--quiet', '--batch-size', '3')
    for shard in ('0/2', '1/2'): syncdr(*base, '--shard', shard)
    items = read_list(data/'lists'/'optdigits_train_cls_disjoint2.txt')
    outs = outputs(tmp_path/'syn', 'optdigits', 'mnist')
    assert outs == sorted(syn_path(p, tmp_path/'syn', 'optdigits', 'mnist') for p, _ in items)
    assert Image.open(outs[0]).size == (32, 32)
    manifest = json.loads((tmp_path/'syn'/'optdigits2mnist'/'manifest.json').read_text())
    assert manifest['translator'] == 'img2img' and manifest['settings']['strength'] == 0.3
    assert manifest['settings']['dtype'] == 'torch.float32'           # fp32 as the reference (and always on the CPU)
    assert manifest['jpeg_quality'] is None                           # PNG sources, PNG outputs

def test_jpeg_outputs_are_encoded_as_the_reference(data, tmp_path, syncdr):
    "`--format jpg` writes JPEGs with PIL's default encoding (quality 75, 4:2:0), as the reference's `.jpg` outputs."
    model = tiny_sd_pipeline(tmp_path/'sd', 'img2img')
    syncdr('translate', '--method', 'img2img', '--model', model, '--prompt', 'a painting', '--steps', '2', '--size', '32',
           '--lists', data/'lists', '--source', 'mnist', '--target', 'optdigits', '--split', 'val', '--out', tmp_path/'syn',
           '--format', 'jpg', '--cpu', '--quiet')
    outs = sorted((tmp_path/'syn'/'mnist2optdigits').rglob('*.jpg'))
    assert len(outs) == len(read_list(data/'lists'/'mnist_val.txt'))
    buf = io.BytesIO(); Image.new('RGB', (32, 32)).save(buf, 'JPEG')
    written, default = Image.open(outs[0]), Image.open(buf)
    assert written.quantization == default.quantization              # PIL's quality-75 tables
    assert written.layer == default.layer                            # and its chroma subsampling
    assert json.loads((tmp_path/'syn'/'mnist2optdigits'/'manifest.json').read_text())['jpeg_quality'] == 75

def test_translate_needs_a_prompt_for_unknown_domains(data, tmp_path, syncdr):
    r = syncdr('translate', '--method', 'ip2p', '--model', tmp_path, '--lists', data/'lists', '--source', 'mnist', '--target', 'optdigits',
               '--out', tmp_path/'s', '--cpu', ok=False)
    assert r.returncode != 0 and 'pass --prompt' in r.stderr

def test_cut_run_for_the_other_direction_is_refused(data, tmp_path, syncdr):
    run = tmp_path/'cut'
    syncdr('cut', 'train', '--lists', data/'lists', '--source', 'mnist', '--target', 'optdigits', '--preset', 'small',
           '--iters', '2', '--out', run, '--cpu', '--quiet')
    r = syncdr('translate', '--method', 'cut', '--model', run, '--lists', data/'lists', '--source', 'optdigits', '--target', 'mnist',
               '--out', tmp_path/'syn', '--cpu', '--quiet', ok=False)
    assert r.returncode == 1 and 'trained for mnist→optdigits, not optdigits→mnist' in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path/'syn').exists()

def test_translate_defaults_to_the_cut_runs_half_and_refuses_the_other(data, tmp_path, syncdr):
    run = tmp_path/'cut'
    syncdr('cut', 'train', '--lists', data/'lists', '--source', 'mnist', '--target', 'optdigits', '--preset', 'small',
           '--iters', '2', '--out', run, '--cpu', '--quiet')
    base = ('translate', '--method', 'cut', '--model', run, '--lists', data/'lists', '--source', 'mnist', '--target', 'optdigits', '--cpu', '--quiet')
    r = syncdr(*base, '--split', 'train_cls_disjoint2', '--out', tmp_path/'wrong', ok=False)  # the reverse direction's half
    assert r.returncode == 1 and 'holds other classes' in r.stderr and not (tmp_path/'wrong').exists(), r.stderr
    out = syncdr(*base, '--out', tmp_path/'syn').stdout  # no --split: the run's own source half
    assert f"{len(read_list(data/'lists'/'mnist_train_cls_disjoint1.txt'))} written" in out

def test_reverse_generator_learns_from_the_scenarios_halves(data, tmp_path, syncdr):
    "The optdigits→mnist generator of the scenario mnist2optdigits trains on optdigits' second half and mnist's first, and translates that second half by default."
    run = tmp_path/'rev'
    out = syncdr('cut', 'train', '--lists', data/'lists', '--scenario', 'mnist2optdigits', '--source', 'optdigits', '--target', 'mnist',
                 '--preset', 'small', '--iters', '2', '--out', run, '--cpu', '--quiet').stdout
    assert 'optdigits→mnist learns from optdigits_train_cls_disjoint2 and mnist_train_cls_disjoint1' in out
    cfg = json.loads((run/'config.json').read_text())
    assert (cfg['source_split'], cfg['target_split']) == ('train_cls_disjoint2', 'train_cls_disjoint1')
    out = syncdr('translate', '--method', 'cut', '--model', run, '--lists', data/'lists', '--source', 'optdigits', '--target', 'mnist',
                 '--scenario', 'mnist2optdigits', '--out', tmp_path/'syn', '--cpu', '--quiet').stdout
    assert f"{len(read_list(data/'lists'/'optdigits_train_cls_disjoint2.txt'))} written" in out
    assert outputs(tmp_path/'syn', 'optdigits', 'mnist') == sorted(syn_path(p, tmp_path/'syn', 'optdigits', 'mnist')
                                                                  for p, _ in read_list(data/'lists'/'optdigits_train_cls_disjoint2.txt'))

@pytest.mark.parametrize('args, msg', [
    (('--scenario', 'sketch2real'), "scenario 'sketch2real' does not contain the direction optdigits→mnist"),
    (('--source-split', 'train'), 'share 2 class(es)'),  # a full train list: the generator would see mnist's classes in both domains
])
def test_cut_train_refuses_data_outside_the_scenario(data, tmp_path, syncdr, args, msg):
    r = syncdr('cut', 'train', '--lists', data/'lists', '--source', 'optdigits', '--target', 'mnist', '--preset', 'small', '--iters', '2',
               '--out', tmp_path/'x', '--cpu', '--quiet', *args, ok=False)
    assert r.returncode == 1 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1 and not (tmp_path/'x').exists(), r.stderr

def test_translate_refuses_a_cut_run_of_another_scenario(data, tmp_path, syncdr):
    "A reverse generator trained with the forward halves is not the generator the scenario needs."
    run = tmp_path/'cut'
    syncdr('cut', 'train', '--lists', data/'lists', '--source', 'optdigits', '--target', 'mnist', '--preset', 'small',
           '--iters', '2', '--out', run, '--cpu', '--quiet')   # no --scenario: optdigits2mnist's halves
    r = syncdr('translate', '--method', 'cut', '--model', run, '--lists', data/'lists', '--source', 'optdigits', '--target', 'mnist',
               '--scenario', 'mnist2optdigits', '--out', tmp_path/'syn', '--cpu', '--quiet', ok=False)
    assert r.returncode == 1 and 'not the optdigits→mnist generator of mnist2optdigits' in r.stderr and '--scenario mnist2optdigits' in r.stderr, r.stderr
    assert not (tmp_path/'syn').exists()

# several processes: torchrun starts 2 gloo processes on the CPU
import os, sys
import torch
from syncdr.cli import main
from syncdr.core import set_seed
from syncdr.translate.cut import cut_config, train_cut, CUTModel, CUTTranslator

def torchrun(*args, cwd=None):
    "Run the `syncdr` console script in 2 processes under torchrun; assert both succeeded."
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '--no-python', 'syncdr', *map(str, args)],
                       capture_output=True, text=True, cwd=cwd, env={**os.environ, 'HF_HUB_OFFLINE': '1', 'OMP_NUM_THREADS': '1'})
    assert r.returncode == 0, r.stderr[-3000:]
    return r

def generator_outputs(run, x):
    "The outputs of a CUT run's generator for the batch `x`."
    with torch.no_grad(): return CUTTranslator(run, device='cpu').G(x)

def test_cut_train_in_two_processes_follows_one_process(data, tmp_path):
    """Under torchrun, `cut train` splits the global batch over 2 processes: a fresh run, and a run checkpointed by one process
    and resumed by two, end where one uninterrupted process does (to float rounding: see the CUT notebook)."""
    cfg = cut_config('small', lists=str(data/'lists'), source='mnist', target='optdigits', iters=4, save_every=2, cpu=True)  # as the command below, checkpointing at 2
    train_cut(cfg, tmp_path/'one', show_progress=False)
    fresh = torchrun('cut', 'train', '--lists', data/'lists', '--source', 'mnist', '--target', 'optdigits', '--preset', 'small', '--iters', '4',
                     '--out', tmp_path/'fresh', '--cpu', '--quiet')
    assert fresh.stdout.count('CUT run written') == 1                          # one process reports
    train_cut(cfg, tmp_path/'resumed', show_progress=False, stop_at=3)        # checkpoint at 2, killed at 3
    config = (tmp_path/'resumed'/'config.json').read_text()
    torchrun('cut', 'train', '--resume', tmp_path/'resumed', '--quiet')        # iterations 2 and 3 in two processes, 4 images each
    assert (tmp_path/'resumed'/'config.json').read_text() == config
    one = torch.load(tmp_path/'one'/'last.pth', weights_only=True)
    x = torch.rand(8, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    set_seed(cfg.seed); untrained = CUTModel(cfg).G.eval()(x).detach()
    y1 = generator_outputs(tmp_path/'one', x)
    assert (y1 - untrained).abs().max() > 0.1                                  # training moved the outputs ...
    for run in ('fresh', 'resumed'):
        assert sorted(p.name for p in (tmp_path/run).iterdir()) == ['config.json', 'last.pth', 'metrics.jsonl'], run  # no stray temporary files
        two = torch.load(tmp_path/run/'last.pth', weights_only=True)
        assert two['iter'] == 4 and [r['iter'] for r in two['log']] == [r['iter'] for r in one['log']], run
        assert [json.loads(l)['iter'] for l in (tmp_path/run/'metrics.jsonl').read_text().splitlines()] == [r['iter'] for r in two['log']]
        for a, b in zip(one['log'], two['log']): assert all(abs(a[k] - b[k]) < 1e-3 * abs(a[k]) for k in a if k != 'iter'), (run, a, b)  # the global batch's losses
        diff = (y1 - generator_outputs(tmp_path/run, x)).abs().max()
        assert diff < 2/255, (run, diff)                                      # ... and two processes agree with one to within an 8-bit grey level

def test_translate_in_two_processes_writes_each_image_once(data, tmp_path):
    "Under torchrun each process translates its shard (RANK/WORLD_SIZE): together every image once, the same bytes as one process."
    args = ('translate', '--method', 'identity', '--lists', data/'lists', '--source', 'mnist', '--target', 'optdigits', '--cpu', '--quiet')
    two = torchrun(*args, '--out', tmp_path/'two').stdout
    assert main([str(a) for a in (*args, '--out', tmp_path/'one')]) == 0    # one process, in-process (no second start-up)
    items = read_list(data/'lists'/'mnist_train_cls_disjoint1.txt')
    assert sorted(l.split(' (shard ')[1][:3] for l in two.splitlines() if 'written' in l) == ['0/2', '1/2']
    assert sum(int(l.split(': ')[1].split(' written')[0]) for l in two.splitlines() if 'written' in l) == len(items)
    one_files, two_files = outputs(tmp_path/'one', 'mnist', 'optdigits'), outputs(tmp_path/'two', 'mnist', 'optdigits')
    assert [p.relative_to(tmp_path/'two') for p in two_files] == [p.relative_to(tmp_path/'one') for p in one_files] == \
           sorted(syn_path(p, tmp_path/'one', 'mnist', 'optdigits').relative_to(tmp_path/'one') for p, _ in items)
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(one_files, two_files))
