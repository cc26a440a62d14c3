"A tiny `syncdr train` → `syncdr train --resume` → `syncdr eval` round trip through the console script."
import csv, json, subprocess
from pathlib import Path
import pytest
from syncdr.data import read_list, syn_path
from syncdr.test_utils import tiny_image
from conftest import tiny_lists

TINY = ['--arch', 'tiny', '--dim', '16', '--batch-size', '8', '--k', '20', '--resize', '36', '--crop', '32', '--cpu', '--quiet']


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('tiny')
    tiny_lists(tmp)
    for s, t, d in (('clipart', 'painting', 1), ('painting', 'clipart', 0)):
        for p, _ in read_list(tmp/'lists'/f'{s}_train.txt'):
            q = syn_path(p, tmp/'syn', s, t); q.parent.mkdir(parents=True, exist_ok=True)
            tiny_image(int(p.parent.name[-1]), d, 32).save(q)
    return tmp

def test_train_resume_eval(data, syncdr):
    run = data/'run'
    syncdr('train', '--lists', data/'lists', '--source', 'clipart', '--target', 'painting', '--syn-root', data/'syn',
           '--method', 'syncdr', '--epochs', '1', '--out', run, *TINY)
    assert {'config.json', 'metrics.jsonl', 'last.pth', 'best.pth', 'curves.png'} <= {p.name for p in run.iterdir()}
    syncdr('train', '--resume', run, '--epochs', '2', '--quiet')
    assert [json.loads(l)['epoch'] for l in (run/'metrics.jsonl').read_text().splitlines()] == [0, 1]
    out = syncdr('eval', '--run', run, '--split', 'test').stdout
    assert 'clipart2painting' in out and 'Prec@15' in out
    res = json.loads((run/'eval_test.json').read_text())
    assert set(res) == {'clipart2painting', 'painting2clipart', 'mean'}
    assert_mean_of_directions(res, data/'lists')

def assert_mean_of_directions(res, lists):
    "Each direction queried every test image of its domain, every metric lies in [0, 1], and `mean` averages the two directions."
    a, b = res['clipart2painting'], res['painting2clipart']
    assert (a['queries'], b['queries']) == tuple(len(read_list(lists/f'{d}_test.txt')) for d in ('clipart', 'painting'))
    assert set(a) == set(b) == set(res['mean']) | {'queries', 'skipped'} and {'Prec@1', 'Prec@15', 'mAP@all'} <= set(res['mean'])
    for k, v in res['mean'].items():
        assert 0 <= a[k] <= 1 and 0 <= b[k] <= 1 and v == pytest.approx((a[k] + b[k]) / 2), k

def test_baseline_eval(data, tmp_path, syncdr):
    syncdr('eval', '--arch', 'tiny', '--zero-shot', '--lists', data/'lists', '--source', 'clipart', '--target', 'painting',
           '--resize', '36', '--crop', '32', '--out', tmp_path, '--cpu')
    res = json.loads((tmp_path/'eval_test.json').read_text())
    assert set(res) == {'clipart2painting', 'painting2clipart', 'mean'}
    assert_mean_of_directions(res, data/'lists')

def test_incomplete_synthetic_set_fails_before_training(data, tmp_path, syncdr):
    import shutil
    syn = tmp_path/'syn'; shutil.copytree(data/'syn', syn)
    first = read_list(data/'lists'/'clipart_train_cls_disjoint1.txt')[0][0]
    syn_path(first, syn, 'clipart', 'painting').unlink()
    r = syncdr('train', '--lists', data/'lists', '--source', 'clipart', '--target', 'painting', '--syn-root', syn,
               '--out', tmp_path/'run', *TINY, ok=False)
    assert r.returncode != 0 and 'clipart→painting translations' in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path/'run').exists()

def test_remap_and_test_split_logging(data, tmp_path, syncdr):
    "Lists written for another machine train through --remap; --test-split logs test metrics every epoch."
    moved = tmp_path/'lists'; moved.mkdir()
    for lst in (data/'lists').glob('*.txt'):
        (moved/lst.name).write_text(''.join(f"{str(p).replace(str(data), '/elsewhere/data')} {l}\n" for p, l in read_list(lst)))
    args = ['train', '--lists', moved, '--source', 'clipart', '--target', 'painting', '--method', 'cds', '--epochs', '1', *TINY]
    r = syncdr(*args, '--out', tmp_path/'bad', ok=False)
    assert r.returncode != 0 and '/elsewhere/data' in r.stderr
    syncdr(*args, '--remap', f'/elsewhere/data={data}', '--test-split', 'test', '--out', tmp_path/'run')
    row = json.loads((tmp_path/'run'/'metrics.jsonl').read_text().splitlines()[0])
    assert 'test mean Prec@1' in row and 'mean Prec@1' in row
    assert json.loads((tmp_path/'run'/'config.json').read_text())['remap'] == [f'/elsewhere/data={data}']

def test_compare_and_show(data, tmp_path, syncdr):
    base = ['eval', '--arch', 'tiny', '--lists', data/'lists', '--source', 'clipart', '--target', 'painting', '--resize', '36', '--crop', '32', '--cpu']
    syncdr(*base, '--zero-shot', '--out', tmp_path/'zero_shot')
    syncdr(*base, '--dim', '16', '--out', tmp_path/'random_head')
    out = syncdr('compare', tmp_path/'zero_shot', tmp_path/'random_head', '--out', tmp_path/'cmp.md').stdout
    assert '| run |' in out and 'Prec@1' in out
    rows = {r['run']: r for r in csv.DictReader(open(tmp_path/'cmp.csv'))}
    for name in ('zero_shot', 'random_head'):
        mean = json.loads((tmp_path/name/'eval_test.json').read_text())['mean']
        assert float(rows[str(tmp_path/name)]['Prec@1']) == pytest.approx(mean['Prec@1'], abs=1e-6)
    r = syncdr('compare', tmp_path/'zero_shot', tmp_path, ok=False)
    assert r.returncode == 1 and 'has no eval_test.json' in r.stderr
    syncdr('show', data/'syn', '--lists', data/'lists', '--source', 'clipart', '--target', 'painting', '--split', 'train', '--n', '4',
           '--out', tmp_path/'sheet.png')
    from PIL import Image
    assert Image.open(tmp_path/'sheet.png').size[0] > 100

def test_version_and_unwritable_out(data, tmp_path, syncdr):
    from syncdr import __version__
    assert syncdr('--version').stdout.strip() == f'syncdr {__version__}'
    (tmp_path/'f').write_text('x')
    for args in (('split', 'tree', data/'data', '--domains', 'clipart', '--out', tmp_path/'f'/'lists'),
                 ('train', '--lists', data/'lists', '--source', 'clipart', '--target', 'painting', '--out', '/sys/syncdr_run', *TINY)):
        r = syncdr(*args, ok=False)
        assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert ('is a file, not a folder' in r.stderr) or ('/sys/syncdr_run is not writable' in r.stderr)
