"""The ``gigaudit`` command line (SPEC §7).

Exit codes: 0 the command ran (whatever the audit found); 1 it could not run
(bad input, unknown region, uncovered holiday year), with one clear line on
stderr; 2 usage errors (argparse).  No traceback reaches the user unless
``--debug`` is given.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import sys
import time
from pathlib import Path

from audit import __version__
from audit.exceptions import AuditError

DEMO_SAMPLE = "shijiazhuang"

_PREFIX = {"zh": "gigaudit: 错误: ", "en": "gigaudit: error: "}
_DONE = {
    "zh": "审计完成：{orders:,} 条订单，拒收 {rejected:,} 行，{seconds:.1f} 秒 → {out}",
    "en": "audit done: {orders:,} orders, {rejected:,} rows rejected, {seconds:.1f} s → {out}",
}
_VALID = {
    "zh": "{table}: {file}: 读取 {read:,} 行，拒收 {rejected:,} 行",
    "en": "{table}: {file}: {read:,} rows read, {rejected:,} rejected",
}
NO_DEMO = "sample data not found: expected {path} (run from a clone of the repository)"
NEED_INPUT = "give a folder (gigaudit run DIR --out OUT) or --orders FILE"


def _add_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument("dir", nargs="?", help="folder with orders.* and optional sessions.*, workers.*, "
                                          "payouts.*, weather.* (.csv, .parquet, .xlsx)")
    for table in ("orders", "sessions", "workers", "payouts", "weather"):
        p.add_argument(f"--{table}", metavar="FILE", help=f"the {table} file")
    p.add_argument("--profile", metavar="MAPPING", help="mapping profile (TOML path or built-in name)")
    p.add_argument("--region", help="default region for orders without one (code, 中文名 or pinyin)")
    p.add_argument("--holidays", metavar="FILE", help="holiday override file (CSV or TOML: date, "
                                                      "is_holiday, name)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gigaudit", description=(
        "Audit platform work against Hebei's 2021 measures for platform workers "
        "(冀人社规〔2021〕5号). 审计平台劳动者权益保障。"))
    parser.add_argument("--version", action="version", version=f"gigaudit {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="audit logs and write findings, summary and report")
    _add_inputs(run)
    _add_run_options(run)

    demo = sub.add_parser("demo", help="audit the bundled sample platform (data_samples/)")
    _add_run_options(demo)

    batch = sub.add_parser("batch", help="audit every submission of a manifest, then a cross-platform "
                                         "summary")
    batch.add_argument("manifest", help="batch manifest (TOML): [[submission]] platform, folder or files, "
                                        "profile, region, checks (see audit/batch.py)")
    batch.add_argument("--out", required=True, help="output folder: OUT/<platform>/, summary.csv, "
                                                     "summary.html")
    batch.add_argument("--jobs", type=int, default=1, help="audits run at once (default 1; 0 = one per CPU)")
    batch.add_argument("--lang", choices=("zh", "en"), default="zh", help="report language (default zh)")
    batch.add_argument("--force", action="store_true",
                       help="audit again even where inputs and options are unchanged")

    val = sub.add_parser("validate", help="read and check inputs only; print what would be rejected")
    _add_inputs(val)
    val.add_argument("--out", help="also write rejected_rows.csv there")
    val.add_argument("--lang", choices=("zh", "en"), default="zh")

    rules = sub.add_parser("rules", help="the rule values in force, each with its source")
    rules.add_argument("--region", help="a region key (code, 中文名 or pinyin); all when omitted")
    rules.add_argument("--date", help="date (YYYY-MM-DD), default today")
    rules.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of messages")

    sub.add_parser("profiles", help="list the built-in mapping profiles")

    brief = sub.add_parser("brief", help="six charts and a one-page summary from a finished run, "
                                         "ready to attach to a brief")
    brief.add_argument("run", help="run folder (gigaudit run … --out RUN)")
    brief.add_argument("out", help="brief folder to write")
    brief.add_argument("--lang", choices=("zh", "en"), default="zh")
    return parser


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--lang", choices=("zh", "en"), default="zh", help="report language (default zh)")
    p.add_argument("--checks", help="comma-separated check ids or prefixes, e.g. art12,art14.daily_hours")
    p.add_argument("--pseudonymize", metavar="KEY", help="replace every worker id in every output by a "
                                                         "keyed hash (HMAC-SHA256)")
    p.add_argument("--no-charts", action="store_true", help="skip drawing charts (faster)")
    p.add_argument("--engine", choices=("memory", "chunked", "dask", "auto"), default="memory",
                   help="memory (default); chunked: partitioned Parquet, bounded memory; dask: a Dask "
                        "cluster; auto: chunked above 1 GiB of CSV orders (256 MiB of Parquet)")
    p.add_argument("--partitions", type=int, default=None, help="number of worker partitions")
    p.add_argument("--workdir", default=None, help="keep and reuse the partitioned Parquet here")
    p.add_argument("--scheduler", default=None, help="Dask scheduler address (default: a local cluster)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    lang = getattr(args, "lang", "zh")
    try:
        return _dispatch(args)
    except AuditError as exc:
        from audit._i18n import translate

        print(_PREFIX[lang] + translate(str(exc), lang), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(_PREFIX[lang] + "interrupted", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - no traceback reaches a CLI user
        if args.debug:
            raise
        first = (str(exc).splitlines() or [""])[0]
        print(f"{_PREFIX[lang]}internal error ({type(exc).__name__}: {first}); rerun with --debug "
              "and report it", file=sys.stderr)
        return 1


def _dispatch(args) -> int:
    if args.command == "run":
        return _cmd_run(args, args.dir)
    if args.command == "demo":
        folder = demo_folder()
        return _cmd_run(args, folder)
    if args.command == "batch":
        from audit.batch import batch_main

        return batch_main(args.manifest, args.out, jobs=args.jobs, lang=args.lang, progress=None,
                          force=args.force)
    if args.command == "brief":
        from audit.brief import write_brief

        write_brief(args.run, args.out, lang=args.lang)
        return 0
    if args.command == "validate":
        return _cmd_validate(args)
    if args.command == "rules":
        return _cmd_rules(args)
    if args.command == "profiles":
        from audit.profiles import builtin_profiles, load_profile

        for name, path in sorted(builtin_profiles().items()):
            print(f"{name:24s} {load_profile(path).description}")
        return 0
    raise AssertionError(args.command)  # pragma: no cover - argparse restricts commands


def demo_folder() -> Path:
    """The bundled sample: ``data_samples/shijiazhuang`` beside the package, or under the cwd."""
    import audit

    for root in (Path(audit.__file__).resolve().parent.parent, Path.cwd()):
        folder = root / "data_samples" / DEMO_SAMPLE
        if (folder / "orders.csv").is_file():
            return folder
    raise AuditError(NO_DEMO.format(path=Path("data_samples") / DEMO_SAMPLE / "orders.csv"))


def _inputs(args) -> dict:
    return {t: getattr(args, t, None) for t in ("orders", "sessions", "workers", "payouts", "weather")}


def _cmd_run(args, folder) -> int:
    from audit.run import run_audit

    if folder is None and getattr(args, "orders", None) is None:
        raise AuditError(NEED_INPUT)
    t0 = time.perf_counter()
    result = run_audit(folder, **_inputs(args), profile=getattr(args, "profile", None),
                       region=getattr(args, "region", None), holidays=getattr(args, "holidays", None),
                       checks=args.checks, lang=args.lang, out=args.out,
                       pseudonymize=args.pseudonymize, charts=not args.no_charts,
                       engine=args.engine, n_parts=args.partitions, workdir=args.workdir,
                       scheduler=args.scheduler)
    print(_DONE[args.lang].format(orders=result.summary["rows"]["orders_read"],
                                  rejected=result.summary["rows"]["rejected"],
                                  seconds=time.perf_counter() - t0, out=args.out))
    return 0


def _cmd_validate(args) -> int:
    from audit.logs import load_logs

    if args.dir is None and args.orders is None:
        raise AuditError(NEED_INPUT)
    logs = load_logs(args.dir, **_inputs(args), profile=args.profile, region=args.region,
                     holidays=args.holidays)
    for s in logs.sources:
        print(_VALID[args.lang].format(table=s.table, file=s.path.name, read=s.rows_read,
                                       rejected=s.rows_rejected))
    rej = logs.rejected
    if len(rej):
        for _, r in rej.head(50).iterrows():
            print(f"  {r['file']}:{r['line']}: {r['reason']}")
        if len(rej) > 50:
            print(f"  … {len(rej) - 50} more")
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        rej.to_csv(Path(args.out) / "rejected_rows.csv", index=False, lineterminator="\n")
    return 0


def _cmd_rules(args) -> int:
    from audit.rules import rules_in_force, rules_version

    on = None
    if args.date:
        try:
            on = _dt.date.fromisoformat(args.date)
        except ValueError:
            raise AuditError(f"cannot read --date {args.date!r}; expected YYYY-MM-DD") from None
    table = rules_in_force(args.region, on)
    import pandas as pd

    with pd.option_context("display.max_rows", None, "display.max_columns", None,
                           "display.width", 200, "display.max_colwidth", 80):
        print(f"rules version {rules_version()}")
        print(table.to_string(index=False))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
