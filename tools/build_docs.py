#!/usr/bin/env python3
"""Build the documentation site from the notebooks into `_docs/`, offline, and check its links.

    python tools/build_docs.py                       # nbs/ -> _docs/, then check every internal link
    python tools/build_docs.py --out /tmp/site       # somewhere else
    python tools/build_docs.py --check-only _docs    # only check the links of a built site

Steps: nbdev's own preprocessing runs on each notebook into a scratch folder (`_proc/` by default):
front matter, `show_doc` cells, backtick links, hidden and export cells; only export, import and
`show_doc` cells run, so the outputs saved in the notebooks are what the pages show. A notebook that
fails there (most often a cell that mixes an import with other code: nbdev runs import cells out of
context) fails the build. A `sidebar.yml` groups the pages into API (module notebooks, including
folders such as `translate/`), Tutorials (`nbs/tutorials/`) and IHDA (`nbs/ihda/`). Then Quarto
renders the site when `quarto` is on PATH (what `nbdev-docs` does); otherwise smalldocs (pure Python)
does, writing nbdev's page names (`core.html`, not `00_core.html`) so doc links resolve, and saving
figures as files beside their pages (`core_files/figure-html/`) as Quarto does. Links to the site's own
URL (nbdev writes them for backtick names) become relative, so the site works offline and the link
checker sees them. Nothing is downloaded.
"""
import argparse, base64, binascii, hashlib, html.parser, json, os, posixpath, re, shutil, sys, tempfile, time, warnings
import concurrent.futures as cf, multiprocessing as mp
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = {'tutorials': 'Tutorials', 'ihda': 'IHDA'}  # folders under nbs/ with a sidebar section of their own; the rest is API
PAGE_EXTS = ('.ipynb', '.qmd')

class DocsError(Exception): "The docs build or the link check failed; the message lists what to fix."

# ---------------------------------------------------------------- nbdev's preprocessing

def _skipped(rel:PurePosixPath) -> bool:
    "nbdev leaves out files under `_` or `.` folders, and `_`/`.` files but its own `_quarto.yml`/`_metadata.yml`."
    if any(p.startswith(('_', '.')) for p in rel.parts[:-1]): return True
    return rel.name.startswith(('_', '.')) and rel.name not in ('_quarto.yml', '_metadata.yml', '_brand.yml')

def mixed_cells(nb:Path) -> list[tuple[int, str]]:
    "Cells nbdev's docs processing runs out of context: not exported, with an import somewhere, and other statements beside it."
    import ast
    out = []
    for i, c in enumerate(json.loads(Path(nb).read_text(encoding='utf-8'))['cells']):
        src = ''.join(c['source']) if c.get('cell_type') == 'code' else ''
        if not src.strip() or 'nbdev_export()' in src: continue
        dirs = set(re.findall(r'^#\|\s*([\w-]+)', src, re.M))
        if dirs & {'export', 'exports', 'exporti', 'exec_doc'} or re.search(r'^#\|\s*eval:\s*false', src, re.M | re.I): continue
        try: tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!'))))
        except SyntaxError: continue
        if any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(tree)) and any(not isinstance(t, (ast.Import, ast.ImportFrom)) for t in tree.body):
            out.append((i, next(l for l in src.splitlines() if l.strip() and not l.startswith('#|'))[:70]))
    return out

def proc_one(job) -> tuple:
    "Run nbdev's docs processors on one notebook (in a worker process); return (source, seconds, error or None, warnings)."
    src, dst = job
    from nbdev.processors import FilterDefaults
    import nbdev.serve_drv
    t = time.time()
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        try: nbdev.serve_drv.main((Path(src), Path(dst), FilterDefaults)); err = None
        except Exception as e: err = f'{type(e).__name__}: {e}'
    mixed = [str(w.message).split('---')[1].strip().splitlines()[0] for w in ws if 'containing imports and other code' in str(w.message)]
    return str(src), time.time() - t, err, mixed

def proc_nbs(nbs:Path, proc:Path, workers:int=2, quiet:bool=False) -> list[PurePosixPath]:
    "Copy `nbs` into `proc` with each notebook run through nbdev's docs processors; return the pages (relative paths)."
    if proc.exists(): shutil.rmtree(proc)
    proc.mkdir(parents=True)
    jobs, pages = [], []
    for s in sorted(nbs.rglob('*')):
        rel = PurePosixPath(s.relative_to(nbs).as_posix())
        if not s.is_file() or _skipped(rel) or rel.as_posix() == 'sidebar.yml': continue
        d = proc/rel
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.suffix == '.ipynb': jobs.append((str(s), str(d)))
        else: shutil.copy2(s, d)
        if s.suffix in PAGE_EXTS: pages.append(rel)
    mixed = [f'{Path(src).relative_to(nbs)}: cell {i}: {first!r}' for src, _ in jobs for i, first in mixed_cells(src)]
    if mixed: raise DocsError('cells that mix imports with other code (nbdev runs every cell holding an import out of context '
                              'in the docs build; give imports a cell of their own):\n  ' + '\n  '.join(mixed))
    ctx = mp.get_context('spawn')  # a fresh interpreter per worker; the notebooks' code never runs in this process
    sys.path.insert(0, str(Path(__file__).parent))  # so the workers can import this file as `build_docs`
    import build_docs
    with cf.ProcessPoolExecutor(max(1, min(workers, len(jobs))), mp_context=ctx) as ex:
        results = list(ex.map(build_docs.proc_one, jobs))
    problems = []
    for src, secs, err, mixed in results:
        name = Path(src).relative_to(nbs)
        if mixed: problems.append(f'{name}: cells mix imports with other code (nbdev runs import cells out of context): ' + '; '.join(map(repr, mixed)))
        if err:
            lines = [l for l in err.splitlines() if l.strip()]
            problems.append(f'{name}: nbdev processing failed: {lines[0][:200]} ... {lines[-1][:200]}' if len(lines) > 1 else f'{name}: nbdev processing failed: {err[:300]}')
        if secs > 30 and not quiet: print(f'build_docs: {name} took {secs:.0f} s in nbdev processing (only import/export/show_doc cells should run)', file=sys.stderr)
    if problems: raise DocsError('notebooks the docs build cannot process:\n  ' + '\n  '.join(problems))
    return pages

def nbdev_yml() -> str:
    "The `nbdev.yml` that nbdev's `refresh_quarto_yml` writes from `pyproject.toml` (site title, URL, output folder)."
    from nbdev.config import get_config
    from nbdev.quarto import _nbdev_yml
    cfg = get_config(ROOT/'pyproject.toml')
    vals = {k: cfg[k] for k in ['title', 'description', 'branch', 'git_url', 'doc_host', 'doc_baseurl']}
    return _nbdev_yml.format(doc_path=cfg.doc_path.name, **vals)

def site_url() -> str:
    "The site's published URL, from `pyproject.toml`, ending in `/`."
    from nbdev.config import get_config
    cfg = get_config(ROOT/'pyproject.toml')
    return cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/') + '/'

# ---------------------------------------------------------------- the sidebar

def sidebar(pages:list[PurePosixPath]) -> dict:
    "Group pages as `index`, then API (module notebooks; a folder such as `translate/` as a sub-section), Tutorials and IHDA."
    api, groups = [], {k: [] for k in SECTIONS}
    subs = {}
    for p in sorted(pages):
        if p.as_posix() in ('index.ipynb', 'index.qmd'): continue
        top = p.parts[0] if len(p.parts) > 1 else None
        if top in SECTIONS: groups[top].append(p.as_posix())
        elif top is None: api.append(p.as_posix())
        else: subs.setdefault(top, []).append(p.as_posix())
    api += [{'section': k, 'contents': v} for k, v in subs.items()]
    contents = [p.as_posix() for p in pages if p.as_posix() in ('index.ipynb', 'index.qmd')][:1]
    contents.append({'section': 'API', 'contents': api})
    contents += [{'section': SECTIONS[k], 'contents': v} for k, v in groups.items() if v]
    return {'website': {'sidebar': {'contents': contents}}}

# ---------------------------------------------------------------- rendering

def render_smalldocs(proc:Path, quiet:bool=True) -> Path:
    "Render `proc` with smalldocs, each page under nbdev's `output-file` name; return the output folder."
    from smalldocs import site as sd
    from smalldocs.config import load

    class NbdevSite(sd.Site):
        "A smalldocs site that honours `output-file`, as Quarto does, and finds pages by output name too."
        def read(self, src):
            page = super().read(src)
            of = page.front.get('output-file')
            if of: page.out = page.out.with_name(str(of))
            return page
        def find_page(self, target):
            found = super().find_page(target)
            if found is not None: return found
            return next((p for p in self.pages.values() if p.out == target), None)

    site = NbdevSite(load(proc), quiet=True)
    site.build()
    # our own checker judges links, after the rewrites below; `output-file` is honoured by `NbdevSite`
    quarto_only = ('broken link', 'output-file is not read', 'format-links', 'commonmark', 'keep-md')  # nbdev's config for Quarto
    real = [w for w in site.warnings if not any(k in w for k in quarto_only)]
    if real and not quiet: print('smalldocs:', *real, sep='\n  ', file=sys.stderr)
    return site.out

def render_quarto(proc:Path, workers:int=2) -> Path:
    "Render `proc` with Quarto the way `nbdev-docs` does; return the output folder."
    from nbdev.quarto_render import render_quarto as _render
    out = proc/'_docs'
    _render(proc, out, n_workers=workers)
    return out

# ---------------------------------------------------------------- after rendering

DATA_IMG = re.compile(r'(<img\b[^>]*?\bsrc=")data:image/(png|jpeg|gif|svg\+xml);base64,([A-Za-z0-9+/=\s]+)(")')
EXT = {'png': 'png', 'jpeg': 'jpg', 'gif': 'gif', 'svg+xml': 'svg'}

def extract_images(site:Path) -> int:
    "Save images embedded as `data:` URIs into files beside their page (`core_files/figure-html/`), as Quarto does; return how many."
    n = 0
    for page in site.rglob('*.html'):
        text = page.read_text(encoding='utf-8')
        folder = page.with_name(page.stem + '_files')/'figure-html'
        def save(m):
            nonlocal n
            try: data = base64.b64decode(re.sub(r'\s', '', m[3]))
            except binascii.Error: return m[0]
            name = f'fig-{hashlib.sha1(data).hexdigest()[:12]}.{EXT[m[2]]}'
            folder.mkdir(parents=True, exist_ok=True)
            (folder/name).write_bytes(data)
            n += 1
            return f'{m[1]}{page.stem}_files/figure-html/{name}{m[4]}'
        new = DATA_IMG.sub(save, text)
        if new != text: page.write_text(new, encoding='utf-8')
    return n

def relativize(site:Path, url:str) -> int:
    "Turn links to the published site (`url`, as nbdev writes backtick links) into relative links; return how many."
    n = 0
    pat = re.compile(r'((?:href|src)=")' + re.escape(url) + r'([^"]*)"')
    for page in site.rglob('*.html'):
        text, depth = page.read_text(encoding='utf-8'), len(page.relative_to(site).parts) - 1
        def sub(m):
            nonlocal n
            n += 1
            path = m[2] or 'index.html'
            return f'{m[1]}{"../" * depth}{path}"'
        new = pat.sub(sub, text)
        if new != text: page.write_text(new, encoding='utf-8')
    return n

# ---------------------------------------------------------------- the link checker

class _Links(html.parser.HTMLParser):
    "Collect a page's ids and the internal href/src it refers to."
    ATTRS = {'href', 'src', 'poster', 'data'}
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids, self.refs = set(), []
    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ('id', 'name') and v and (k == 'id' or tag == 'a'): self.ids.add(v)
            elif k in self.ATTRS and v is not None and not (tag == 'a' and k == 'data'): self.refs.append(v)
    handle_startendtag = handle_starttag

EXTERNAL = re.compile(r'^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//)')
CSS_URL = re.compile(r'url\(\s*[\'"]?([^\'")]+)[\'"]?\s*\)')

def _parse(page:Path) -> _Links:
    p = _Links()
    p.feed(page.read_text(encoding='utf-8', errors='replace'))
    return p

def check_links(site:str|Path, anchors:bool=True) -> list[tuple[str, str]]:
    "Every internal link (href/src in each HTML page, `url()` in each CSS file) that resolves to no file in `site`, as (page, link); `#anchors` too."
    site = Path(site)
    pages = {pg: _parse(pg) for pg in sorted(site.rglob('*.html'))}
    refs = {pg: p.refs for pg, p in pages.items()}
    for css in sorted(site.rglob('*.css')): refs[css] = CSS_URL.findall(css.read_text(encoding='utf-8', errors='replace'))
    bad = []
    for pg, hrefs in refs.items():
        for href in hrefs:
            href = href.strip()
            if not href or EXTERNAL.match(href): continue
            parts = urlsplit(href)
            if parts.path:
                target = (pg.parent/unquote(parts.path)).resolve() if not parts.path.startswith('/') else (site/unquote(parts.path).lstrip('/')).resolve()
                if target.is_dir(): target = target/'index.html'
                if site.resolve() not in target.parents or not target.is_file():
                    bad.append((str(pg.relative_to(site)), href)); continue
            else: target = pg.resolve()
            if anchors and parts.fragment and target.suffix == '.html':
                ids = pages[site/target.relative_to(site.resolve())].ids if (site/target.relative_to(site.resolve())) in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids: bad.append((str(pg.relative_to(site)), href))
    return bad

def assert_links(site:str|Path, anchors:bool=True):
    "Raise `DocsError` listing each dangling internal link with its page."
    bad = check_links(site, anchors)
    if bad: raise DocsError(f'{len(bad)} dangling internal link(s) in {site}:\n  ' + '\n  '.join(f'{p}: {h}' for p, h in bad))

# ---------------------------------------------------------------- the whole build

def build(out:str|Path=ROOT/'_docs', nbs:str|Path=ROOT/'nbs', proc:str|Path|None=None, workers:int=2,
          engine:str='auto', check:bool=True, quiet:bool=False) -> Path:
    "Build the site from `nbs` into `out` (Quarto when installed, else smalldocs), then check its links; return `out`."
    nbs, out = Path(nbs).resolve(), Path(out).resolve()
    proc = Path(proc).resolve() if proc else ROOT/'_proc'
    if engine == 'auto': engine = 'quarto' if shutil.which('quarto') else 'smalldocs'
    t = time.time()
    pages = proc_nbs(nbs, proc, workers, quiet=quiet)
    import yaml
    (proc/'nbdev.yml').write_text(nbdev_yml())
    (proc/'sidebar.yml').write_text(yaml.dump(sidebar(pages), sort_keys=False))
    built = render_quarto(proc, workers) if engine == 'quarto' else render_smalldocs(proc, quiet=quiet)
    if out.exists(): shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(built), str(out))
    nimg = extract_images(out)
    nrel = relativize(out, site_url())
    if not quiet: print(f'build_docs: {len(pages)} pages ({engine}), {nimg} figures, {nrel} site links made relative, into {out} in {time.time() - t:.0f} s', file=sys.stderr)
    if check: assert_links(out)
    return out

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split('\n\n', 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default=str(ROOT/'_docs'), help='where the site goes (default _docs/)')
    ap.add_argument('--nbs', default=str(ROOT/'nbs'), help='the notebooks folder (default nbs/)')
    ap.add_argument('--proc', default=None, help="nbdev's scratch folder (default _proc/)")
    ap.add_argument('--workers', type=int, default=2, help='processes for nbdev processing (and Quarto)')
    ap.add_argument('--engine', choices=['auto', 'quarto', 'smalldocs'], default='auto', help='auto: Quarto when on PATH, else smalldocs')
    ap.add_argument('--no-check', action='store_true', help='skip the link check')
    ap.add_argument('--check-only', metavar='SITE', help='only check the links of an already built site')
    a = ap.parse_args(argv)
    try:
        if a.check_only: assert_links(a.check_only); print(f'build_docs: no dangling internal links in {a.check_only}')
        else: build(a.out, a.nbs, a.proc, a.workers, a.engine, check=not a.no_check)
    except DocsError as e: print(f'build_docs: {e}', file=sys.stderr); return 1
    return 0

if __name__ == '__main__': sys.exit(main())
