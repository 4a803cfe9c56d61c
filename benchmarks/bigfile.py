"""Archives as users have them: one big JSON Lines file, its gzip, a big generated dump, a crawl.

Each input is indexed into a fresh index by ``newssearch index FILE --json`` in a child
process whose memory (the whole process tree: the indexer and its workers) is sampled
every 0.2 s. Inputs, written once into ``--work``:

- ``fang-all.jsonl``: all 28,041 real FANG-COVID articles in one file (about 175 MB);
- ``fang-all.jsonl.gz``: the same gzip-compressed (about 51 MB);
- ``big.jsonl``: a generated dump of about ``--gb`` GB (default 1): the real FANG
  articles written over and over, each copy with ids of its own, so the file holds
  ~170,000 distinct articles per GB, read in thousands of parts;
- ``pages.warc.gz``: every saved page of web-pages-de as an HTTP response record with
  its request record, as a crawler writes them (warcio).

Prints, for each: file size, articles indexed, seconds, articles/s (pages/s for the
crawl), peak memory of the process tree (the sum of RSS, and of PSS: see memory.py)
and whether the RSS sum stayed within ``--bound-gb`` (default 1.5), and the peak RSS
while each quarter of the file was read (flat when memory does not grow with the file).
The last line is one JSON object with every figure.

    python benchmarks/bigfile.py [--gb 1.0] [--work DIR] [--only fang,gz,big,warc] [--keep]
        [--limit-minutes M]   # stop each run after M minutes: memory and the part read so far
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import shutil
import sys
import time
from pathlib import Path

from memory import run_with_peak

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPORA = REPO.parent / "shared" / "corpora"
DEFAULT_WORK = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "newssearch-bigfile"


def fang_lines() -> list[str]:
    parts = sorted((CORPORA / "fang-covid-real").glob("part-*.jsonl.gz"))
    if not parts:
        raise SystemExit(f"no FANG corpus at {CORPORA / 'fang-covid-real'}")
    lines = []
    for part in parts:
        with gzip.open(part, "rt", encoding="utf-8") as handle:
            lines.extend(line.rstrip("\n") for line in handle if line.strip())
    return lines


def write_fang(work: Path) -> tuple[Path, Path]:
    plain, packed = work / "fang-all.jsonl", work / "fang-all.jsonl.gz"
    if not plain.exists() or not packed.exists():
        lines = fang_lines()
        plain.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        with gzip.open(packed, "wt", encoding="utf-8", compresslevel=6) as handle:
            handle.writelines(line + "\n" for line in lines)
    return plain, packed


def write_big(work: Path, gb: float) -> Path:
    path = work / f"big-{gb:g}gb.jsonl"
    if path.exists():
        return path
    records = [json.loads(line) for line in fang_lines()]
    target = int(gb * 1024 ** 3)
    written = copy = 0
    with open(path.with_suffix(".partial"), "w", encoding="utf-8") as handle:
        while written < target:
            for record in records:
                line = json.dumps({**record, "id": f"{record['id']}-{copy}"}, ensure_ascii=False)
                handle.write(line + "\n")
                written += len(line.encode("utf-8")) + 1
                if written >= target:
                    break
            copy += 1
    path.with_suffix(".partial").rename(path)
    return path


def write_warc(work: Path) -> Path:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = work / "pages.warc.gz"
    if path.exists():
        return path
    folder = CORPORA / "web-pages-de"
    judged = json.loads((folder / "evaldata.json").read_text(encoding="utf-8"))
    with open(path.with_suffix(".partial"), "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for url, item in judged.items():
            if not url.startswith(("http://", "https://")):  # a few pages are keyed by a name
                url = f"https://example.org/{item['file']}"
            body = (folder / "eval" / item["file"]).read_bytes()
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                          http_headers=http))
            writer.write_record(writer.create_warc_record(url, "request", payload=io.BytesIO(
                f"GET {url} HTTP/1.1\r\n\r\n".encode())))
    path.with_suffix(".partial").rename(path)
    return path


def index_one(name: str, path: Path, work: Path, bound: float,
              limit_seconds: float | None = None) -> dict:
    index = work / f"index-{name}"
    shutil.rmtree(index, ignore_errors=True)
    started = time.perf_counter()
    run = run_with_peak([sys.executable, "-m", "web", "index", str(path), "--index", str(index),
                         "--json", "--quiet"], cwd=REPO, limit_seconds=limit_seconds,
                        watch=str(path.resolve()))
    seconds = time.perf_counter() - started
    size = path.stat().st_size
    figures = {
        "file": path.name, "file_mb": round(size / 2 ** 20, 1), "seconds": round(seconds, 1),
        "peak_rss_mb": round(run.peak_rss / 2 ** 20), "peak_pss_mb": round(run.peak_pss / 2 ** 20),
        "within_bound": run.peak_rss <= bound * 1024 ** 3,
        "rss_mb_by_quarter_read": quarters(run.samples, size),
    }
    verdict = f"({'within' if figures['within_bound'] else 'OVER'} {bound:g} GB)"
    if run.code is None:  # stopped at the time limit: how far it read, and the memory so far
        read = max((s[3] for s in run.samples if s[3] is not None), default=0)
        figures.update(stopped=True, read_mb=round(read / 2 ** 20, 1))
        print(f"{name:5s} {figures['file']:22s} {figures['file_mb']:8.1f} MB  stopped after "
              f"{seconds:7.1f} s having read {figures['read_mb']} MB  peak RSS "
              f"{figures['peak_rss_mb']:5d} MB (PSS {figures['peak_pss_mb']:5d} MB) {verdict}  "
              f"peak RSS by quarter of the file: {figures['rss_mb_by_quarter_read']}", flush=True)
        return figures
    if run.code != 0:
        raise SystemExit(f"indexing {path} failed with exit code {run.code}: {run.output[-2000:]}")
    report = json.loads(run.output.strip().splitlines()[-1])
    figures.update({
        "articles": report["added"], "skipped": report["skipped"],
        "articles_per_s": round(report["added"] / seconds, 1),
        "pages": report.get("pages", 0),
        "pages_per_s": round(report.get("pages", 0) / seconds, 2),
        "passed": report.get("passed", {}),
    })
    print(f"{name:5s} {figures['file']:22s} {figures['file_mb']:8.1f} MB  "
          f"{figures['articles']:7d} articles  {seconds:7.1f} s  "
          f"{figures['articles_per_s']:7.1f}/s  peak RSS {figures['peak_rss_mb']:5d} MB "
          f"(PSS {figures['peak_pss_mb']:5d} MB) {verdict}"
          + (f"  {figures['pages']} pages, {figures['pages_per_s']:.2f} pages/s"
             if figures["pages"] else "")
          + f"  peak RSS by quarter of the file: {figures['rss_mb_by_quarter_read']}", flush=True)
    return figures


def quarters(samples, size: int) -> list[int | None]:
    """The peak RSS (MB) while each quarter of the file was being read: flat when memory
    does not grow with the part of the file read so far."""
    peaks: list[int | None] = [None] * 4
    last = None
    for _, _, rss, read in samples:
        read = last = read if read is not None else last  # between reads: as far as it got
        if read is None:
            continue
        quarter = min(3, read * 4 // max(size, 1))
        peaks[quarter] = max(peaks[quarter] or 0, round(rss / 2 ** 20))
    return peaks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--bound-gb", type=float, default=1.5)
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK)
    parser.add_argument("--only", default="fang,gz,big,warc")
    parser.add_argument("--keep", action="store_true", help="keep the indexes")
    parser.add_argument("--limit-minutes", type=float, default=None,
                        help="stop each run after this long and report the memory and the part "
                             "of the file read so far (a loaded machine)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    chosen = [n.strip() for n in args.only.split(",") if n.strip()]
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    print(f"{started}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
          f"{os.cpu_count()} cores", flush=True)
    inputs = {}
    if "fang" in chosen or "gz" in chosen:
        plain, packed = write_fang(args.work)
        inputs.update({"fang": plain, "gz": packed})
    if "big" in chosen:
        inputs["big"] = write_big(args.work, args.gb)
    if "warc" in chosen:
        inputs["warc"] = write_warc(args.work)
    results = {}
    for name in chosen:
        results[name] = index_one(name, inputs[name], args.work, args.bound_gb,
                                  args.limit_minutes * 60 if args.limit_minutes else None)
        if not args.keep:
            shutil.rmtree(args.work / f"index-{name}", ignore_errors=True)
    print(json.dumps({"command": " ".join(["python", "benchmarks/bigfile.py"] + (argv or sys.argv[1:])),
                      "started": started, "load": os.getloadavg()[0], **results}))
    return 0 if all(r["within_bound"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
