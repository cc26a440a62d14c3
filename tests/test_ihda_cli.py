"The IHDA commands end to end on stand-in data, as a user would run them: standin, pretrain, finetune, resume, eval."
import csv, json
import pytest
from syncdr.cli import main

SMALL = ('--arch', 'tiny', '--height', '96', '--width', '32', '--epochs', '2', '--warmup', '1')


@pytest.fixture(scope='module')
def standin(tmp_path_factory, syncdr_module):
    out = tmp_path_factory.mktemp('ihda')/'standin'
    syncdr_module('ihda', 'standin', '--out', out, '--n-target', '24', '--n-source', '16', '--quiet')
    return out


def _paths(root):
    return dict(pku=root/'PKUSketchRE-ID_V1', market=root/'Market-1501'/'bounding_box_train',
                attributes=root/'Market-1501_Attribute'/'market_attribute.mat')


def test_standin_then_both_steps_then_eval(standin, tmp_path, syncdr):
    p = _paths(standin)
    assert p['pku'].is_dir() and p['attributes'].is_file()
    syncdr('ihda', 'pretrain', '--out', tmp_path/'s1', '--data', p['market'].parent, '--attributes', p['attributes'],
           *SMALL, '--p', '4', '--k', '2', '--milestones', '1', '--quiet')
    assert json.loads((tmp_path/'s1'/'config.json').read_text())['milestones'] == [1]
    r = syncdr('ihda', 'finetune', '--out', tmp_path/'s2', '--pretrained', tmp_path/'s1', '--data', p['pku'],
               '--source-data', p['market'].parent, '--source-attributes', p['attributes'], *SMALL, '--pairs', '6', '--source-batch', '6',
               '--triplet-from', '1', '--quiet')
    assert 'Rank-1' in r.stdout
    rep = json.loads((tmp_path/'s2'/'report.json').read_text())
    assert rep['test']['queries'] == 6  # 24 identities: 18 train, 6 test sketches
    r = syncdr('ihda', 'finetune', '--resume', tmp_path/'s2', '--quiet')
    assert 'already finished' in r.stdout
    r = syncdr('ihda', 'eval', tmp_path/'s2', '--out', tmp_path/'table.md')
    rows = list(csv.DictReader(open(tmp_path/'table.csv')))
    assert len(rows) == 1 and abs(float(rows[0]['Rank-1']) - rep['test']['Rank-1']) < 1e-6
    r = syncdr('ihda', 'eval', tmp_path/'s1', '--target', 'pku', '--data', p['pku'])  # step 1 alone: no target training
    assert '| run |' in r.stdout


@pytest.mark.parametrize('args,msg', [
    (('ihda', 'finetune', '--out', 'x', '--target', 'sketchy', '--data', '.'), "unknown target 'sketchy'"),
    (('ihda', 'finetune', '--out', 'x', '--data', 'nowhere'), 'target folder not found: nowhere'),
    (('ihda', 'pretrain', '--out', 'x', '--data', '.'), 'market needs its attributes'),
    (('ihda', 'pretrain', '--resume', 'x', '--lr', '1'), 'only --epochs may be given'),
    (('ihda', 'eval', 'nowhere'), 'not an IHDA run directory'),
    (('ihda', 'standin'), '--out is required'),
])
def test_ihda_bad_arguments(tmp_path, args, msg, capsys, monkeypatch):
    "In-process through the console script's entry point (each subprocess would spend seconds importing)."
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e: main(list(args))
    err = capsys.readouterr().err
    assert e.value.code != 0
    assert msg in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path/'x').exists()  # nothing written
