"""HTML report of a simulation run (charts + CSVs), with a scenario comparison over seeds with 95% intervals."""

from __future__ import annotations

import base64
import html
import io
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from matchmaker.csv_safety import SafeWriter
from matchmaker.errors import NotFound
from matchmaker.models import SimulationRun

COMPARED = ("contracts", "turnover_yuan", "local_conversion_rate", "match_to_signed")
LOCAL_TARGET = 0.42  # 大连's city figure (seed 001), read at province level (docs/simulation.md)


RATES = {"local_conversion_rate", "match_to_signed"}   # shares: their intervals stay inside [0, 1]
MIN_SEEDS = 3   # below this a 95% interval says nothing (two seeds give t = 12.7): show the mean alone


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    n: int

    def text(self) -> str:
        """As the comparison table prints it: `mean [low, high]`, or the mean alone below MIN_SEEDS."""
        fmt = (lambda x: f"{x:.3f}") if abs(self.mean) < 10 else (lambda x: f"{x:,.0f}")
        if math.isnan(self.mean):
            return "—"
        return fmt(self.mean) if math.isnan(self.low) else f"{fmt(self.mean)} [{fmt(self.low)}, {fmt(self.high)}]"


def interval(values: list[float], *, rate: bool = False) -> Interval:
    """Mean with a two-sided 95% Student-t interval over seeds (runs are independent draws of the market).

    A count or an amount cannot be negative, so its interval stops at 0. A rate's interval is the t interval of
    its logits mapped back (each seed's rate held inside [0.001, 0.999]), so it stays inside [0, 1] however few
    seeds or however close to 0 or 1 the rate: "40.4% [-36.8%, 117.5%]" cannot happen. No interval below MIN_SEEDS.
    """
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = statistics.fmean(values)
    if len(values) < MIN_SEEDS:
        return Interval(mean, math.nan, math.nan, len(values))
    from scipy.stats import t

    factor = t.ppf(0.975, len(values) - 1) / math.sqrt(len(values))
    if rate:
        logits = [math.log(p / (1 - p)) for p in (min(max(v, 0.001), 0.999) for v in values)]
        centre, half = statistics.fmean(logits), factor * statistics.stdev(logits)
        expit = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
        # The back-transformed interval is about the logits' centre; widen it to hold the mean it is printed with
        # (all seeds at 0 give [0, 0], not an interval at the clip that misses its own mean).
        return Interval(mean, min(expit(centre - half), mean), max(expit(centre + half), mean), len(values))
    half = factor * statistics.stdev(values)
    return Interval(mean, max(0.0, mean - half), mean + half, len(values))


def comparison(session: Session, *, world_scale: str, world_seed: int, months: int,
               scenarios: set[str] | None = None) -> dict[str, dict[str, Interval]]:
    """Every stored run on the same world and horizon (of the named scenarios, if given), grouped by scenario,
    each figure as an interval over seeds."""
    runs = _latest(session, world_scale=world_scale, world_seed=world_seed, months=months, scenarios=scenarios)
    return {scenario: {name: interval([figure_value(run, name) for _, run in sorted(by_seed.items())],
                                      rate=name in RATES) for name in COMPARED}
            for scenario, by_seed in sorted(runs.items())}


@dataclass(frozen=True)
class Detectable:
    """What a comparison against the baseline can tell apart: the smallest difference of means it would find with
    80% power at the 5% level (two-sided), as a share of the baseline's mean; and how many seeds per scenario a
    target effect would need. `design` is "paired" when the scenarios ran on the baseline's seeds (common random
    numbers: each seed's difference carries only the levers' effect and what it moves), else "independent"."""

    figure: str
    seeds: int
    effect: float          # relative to the baseline's mean (0.15 = 15%)
    seeds_for_target: int | None   # None: more than MAX_SEEDS_SEARCHED
    design: str = "paired"


MAX_SEEDS_SEARCHED = 10_000


def figure_value(run: SimulationRun, name: str) -> float | None:
    """A run's figure as a number (money is stored as a decimal string); None if it has none."""
    value = run.summary.get(name)
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def _needed_difference(sd: float, n: int, *, paired: bool = False) -> float:
    from scipy.stats import t

    if paired:   # one sample of n differences
        return (t.ppf(0.975, n - 1) + t.ppf(0.80, n - 1)) * sd / math.sqrt(n)
    df = 2 * n - 2
    return (t.ppf(0.975, df) + t.ppf(0.80, df)) * sd * math.sqrt(2 / n)


def _latest(session: Session, *, world_scale: str, world_seed: int, months: int,
            scenarios: set[str] | None) -> dict[str, dict[int, SimulationRun]]:
    """scenario → seed → its latest run on this world and horizon (of the named scenarios, if given); a rerun of
    a scenario and seed replaces the earlier one (same figures anyway)."""
    query = select(SimulationRun).where(SimulationRun.world_scale == world_scale,
                                        SimulationRun.world_seed == world_seed, SimulationRun.months == months)
    if scenarios is not None:
        query = query.where(SimulationRun.scenario.in_(scenarios))
    runs = session.scalars(query.order_by(SimulationRun.id)).all()
    found: dict[str, dict[int, SimulationRun]] = defaultdict(dict)
    for run in runs:
        found[run.scenario][run.seed] = run
    return found


def paired_differences(runs: dict[str, dict[int, SimulationRun]], name: str, baseline: str) -> dict[str, list[float]]:
    """scenario → its figure minus the baseline's, seed by seed, over the seeds both ran."""
    base = runs.get(baseline, {})
    found = {}
    for scenario, by_seed in runs.items():
        if scenario == baseline:
            continue
        pairs = [(figure_value(run, name), figure_value(base[seed], name)) for seed, run in sorted(by_seed.items())
                 if seed in base]
        found[scenario] = [a - b for a, b in pairs if a is not None and b is not None]
    return found


def differences(session: Session, *, world_scale: str, world_seed: int, months: int, scenarios: set[str],
                baseline: str = "baseline") -> dict[str, dict[str, Interval]]:
    """Each scenario's difference from the baseline, figure by figure: the mean of the seed-by-seed differences
    with its 95% t interval (none below MIN_SEEDS). With common random numbers the pairs share their dice, so this
    interval is much narrower than the two scenarios' intervals side by side suggest."""
    from scipy.stats import t

    runs = _latest(session, world_scale=world_scale, world_seed=world_seed, months=months,
                   scenarios=scenarios | {baseline})
    found: dict[str, dict[str, Interval]] = defaultdict(dict)
    for name in COMPARED:
        for scenario, diffs in paired_differences(runs, name, baseline).items():
            if not diffs:
                continue
            mean = statistics.fmean(diffs)
            if len(diffs) < MIN_SEEDS:
                found[scenario][name] = Interval(mean, math.nan, math.nan, len(diffs))
                continue
            half = t.ppf(0.975, len(diffs) - 1) * statistics.stdev(diffs) / math.sqrt(len(diffs))
            found[scenario][name] = Interval(mean, mean - half, mean + half, len(diffs))
    return dict(found)


def detectable_effects(session: Session, *, world_scale: str, world_seed: int, months: int, scenarios: set[str],
                       target: float = 0.10, baseline: str = "baseline") -> list[Detectable]:
    """For each compared figure: the minimal detectable effect with the seeds used, and the seeds a `target`
    relative effect would need. Paired when the scenarios share the baseline's seeds (the spread of the
    seed-by-seed differences, pooled over scenarios); otherwise two independent samples (the pooled spread of
    every scenario's runs)."""
    runs = _latest(session, world_scale=world_scale, world_seed=world_seed, months=months,
                   scenarios=scenarios | {baseline})
    found = []
    for name in COMPARED:
        base = [v for v in (figure_value(r, name) for r in runs.get(baseline, {}).values()) if v is not None]
        if len(base) < 2 or not statistics.fmean(base):
            continue
        mean, n = statistics.fmean(base), len(base)
        paired = [d for d in paired_differences(runs, name, baseline).values() if len(d) >= 2]
        if paired:
            sd = math.sqrt(sum(statistics.variance(d) * (len(d) - 1) for d in paired) / sum(len(d) - 1 for d in paired))
        else:
            groups = [g for g in ([v for v in (figure_value(r, name) for r in by_seed.values()) if v is not None]
                                  for by_seed in runs.values()) if len(g) >= 2]
            if not groups:
                continue
            # The pooled within-scenario variance: every scenario's runs tell how much seeds alone move the figure.
            sd = math.sqrt(sum(statistics.variance(g) * (len(g) - 1) for g in groups) / sum(len(g) - 1 for g in groups))
        is_paired = bool(paired)
        effect = float(_needed_difference(sd, n, paired=is_paired) / abs(mean))
        need = next((k for k in range(2, MAX_SEEDS_SEARCHED)
                     if _needed_difference(sd, k, paired=is_paired) <= target * abs(mean)), None)
        found.append(Detectable(name, n, effect, need, "paired" if is_paired else "independent"))
    return found


def comparison_json(compared: dict[str, dict[str, Interval]]) -> dict:
    """The comparison as plain JSON: a missing bound (fewer than MIN_SEEDS seeds) is null."""
    def number(x: float):
        return None if math.isnan(x) else round(x, 6)

    return {scenario: {name: {"mean": number(iv.mean), "low": number(iv.low), "high": number(iv.high), "n": iv.n}
                       for name, iv in figures.items()} for scenario, figures in compared.items()}


def write_report(session: Session, run_id: int, out: Path) -> Path:
    run = session.get(SimulationRun, run_id)
    if run is None:
        raise NotFound(f"没有找到编号为 {run_id} 的模拟运行；请核对编号，或先运行一次模拟再生成报告")
    out.mkdir(parents=True, exist_ok=True)
    compared = comparison(session, world_scale=run.world_scale, world_seed=run.world_seed, months=run.months)
    _write_csvs(run, compared, out)
    charts = {
        "turnover": _turnover_chart(run),
        "local": _local_chart(run),
        "funnel": _funnel_chart(run),
        "brokers": _brokers_chart(run),
        "comparison": _comparison_chart(compared),
    }
    page = out / "index.html"
    page.write_text(_html(run, compared, charts), encoding="utf-8")
    return page


# ------------------------------------------------------------------------------------------------ CSVs
def _write_csvs(run: SimulationRun, compared: dict, out: Path) -> None:
    _csv(out / "monthly.csv", list(run.monthly[0].keys()) if run.monthly else ["month"],
         [list(m.values()) for m in run.monthly])
    funnel = run.summary.get("funnel", {})
    _csv(out / "funnel.csv", ["stage", "count", "conversion_from_previous", "median_days_from_previous"],
         [[stage, f["count"], f["conversion"], f["median_days"]] for stage, f in funnel.items()])
    _csv(out / "brokers.csv", ["broker_id", "name", "signed", "credit_score"],
         [[b["broker_id"], b["name"], b["signed"], b["credit_score"]] for b in run.summary.get("top_brokers", [])])
    rows = []
    for scenario, figures in compared.items():
        for name, iv in figures.items():
            rows.append([scenario, name, iv.n, iv.mean, iv.low, iv.high])
    _csv(out / "comparison.csv", ["scenario", "figure", "seeds", "mean", "ci95_low", "ci95_high"], rows)


def _csv(path: Path, header: list[str], rows: list[list]) -> None:
    """UTF-8 with a BOM, so Chinese Excel reads it; a figure that cannot be computed (an interval from one seed is
    NaN) is an empty cell, never "nan"."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = SafeWriter(handle)
        writer.writerow(header)
        writer.writerows([[_figure_cell(value) for value in row] for row in rows])


def _figure_cell(value):
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    return value


# ------------------------------------------------------------------------------------------------ charts
def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(figsize=(7, 3.2), dpi=110)


def _png(plt, fig) -> str:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _turnover_chart(run: SimulationRun) -> str:
    plt, fig, ax = _figure()
    months = [m["month"] for m in run.monthly]
    ax.bar(months, [float(m["turnover_yuan"]) / 1e6 for m in run.monthly], color="#2f6db5")
    ax.set_ylabel("turnover (million yuan)")
    ax.set_title("Contract turnover by month")
    ax.tick_params(axis="x", labelrotation=45)
    return _png(plt, fig)


def _local_chart(run: SimulationRun) -> str:
    plt, fig, ax = _figure()
    months, rates, running_local, running_all = [], [], 0, 0
    for m in run.monthly:
        running_local += m["home_local_signed"]
        running_all += m["home_seller_signed"]
        months.append(m["month"])
        rates.append(running_local / running_all if running_all else math.nan)
    ax.plot(months, rates, marker="o", color="#c0392b", label="cumulative local conversion")
    ax.axhline(LOCAL_TARGET, linestyle="--", color="#555", label="42% (Dalian, read at province level)")
    ax.set_ylim(0, 1)
    ax.set_title("Local conversion rate (home-province sellers)")
    ax.legend(loc="lower right")
    ax.tick_params(axis="x", labelrotation=45)
    return _png(plt, fig)


def _funnel_chart(run: SimulationRun) -> str:
    plt, fig, ax = _figure()
    funnel = run.summary.get("funnel", {})
    ax.barh(list(funnel)[::-1], [f["count"] for f in funnel.values()][::-1], color="#27ae60")
    ax.set_title("Funnel: match → claimed → contacted → negotiating → signed")
    ax.set_xscale("log")
    return _png(plt, fig)


def _brokers_chart(run: SimulationRun) -> str:
    plt, fig, ax = _figure()
    brokers = run.summary.get("top_brokers", [])
    ax.bar([f"#{b['broker_id']}" for b in brokers], [b["credit_score"] or 0 for b in brokers], color="#8e44ad")
    ax.set_ylabel("credit score")
    ax.set_title("Broker league: top 10 by credit score")
    return _png(plt, fig)


def _comparison_chart(compared: dict) -> str:
    plt, fig, axes = _figure()
    fig.clf()
    names = list(compared)
    for position, figure in enumerate(("contracts", "local_conversion_rate"), start=1):
        ax = fig.add_subplot(1, 2, position)
        means = [compared[n][figure].mean for n in names]
        errors = [[m - compared[n][figure].low if not math.isnan(compared[n][figure].low) else 0 for n, m in zip(names, means)],
                  [compared[n][figure].high - m if not math.isnan(compared[n][figure].high) else 0 for n, m in zip(names, means)]]
        ax.barh(names, means, xerr=errors, color="#2f6db5", capsize=3)
        ax.set_title(f"{figure} (mean, 95% CI)", fontsize=9)
        ax.tick_params(labelsize=7)
    return _png(plt, fig)


# ------------------------------------------------------------------------------------------------ page
def _html(run: SimulationRun, compared: dict, charts: dict[str, str]) -> str:
    s = run.summary
    esc = html.escape
    rows = "".join(
        f"<tr><th scope='row'>{esc(scenario)}</th>" + "".join(
            f"<td>{_fmt(iv.mean)}" + ("" if math.isnan(iv.low) else f" <small>[{_fmt(iv.low)}, {_fmt(iv.high)}]</small>")
            + "</td>" for iv in figures.values())
        + f"<td>{next(iter(figures.values())).n}</td></tr>"
        for scenario, figures in compared.items())
    images = "".join(f"<figure><img alt='{esc(name)}' src='data:image/png;base64,{data}'></figure>"
                     for name, data in charts.items())
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>模拟报告 #{run.id} {esc(run.scenario)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;color:#222}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}
th[scope=row]{{text-align:left}}img{{max-width:100%}}</style></head><body>
<h1>技术市场模拟报告 · run #{run.id}</h1>
<p>情景 scenario <b>{esc(run.scenario)}</b> · seed {run.seed} · world {esc(run.world_scale)}/{run.world_seed} ·
{run.months} 个月 · matchmaker {esc(run.version)} · {run.seconds:.1f}s</p>
<h2>主要指标</h2>
<table><tr><th scope="row">技术合同数 contracts</th><td>{s['contracts']}</td></tr>
<tr><th scope="row">成交额 turnover (yuan)</th><td>{Decimal(s['turnover_yuan']):,.0f}</td></tr>
<tr><th scope="row">核定技术交易额 certified (yuan)</th><td>{Decimal(s.get('certified_yuan', 0)):,.0f}</td></tr>
<tr><th scope="row">本地转化率 local conversion (count / amount)</th><td>{_fmt(s['local_conversion_rate'])} / {_fmt(s.get('local_conversion_rate_by_amount'))}</td></tr>
<tr><th scope="row">匹配→签约 match to signed</th><td>{_fmt(s.get('match_to_signed'))}</td></tr>
<tr><th scope="row">1‰ agency rewards (yuan)</th><td>{Decimal(s.get('agency_rewards_yuan', 0)):,.0f}</td></tr></table>
<p>Local conversion rate: of the contracts selling the home province's achievements, the share whose buyer is in
the same province (docs/analytics.md). Calibration target 42%: seed 001's figure for Dalian, a city, read at province level.</p>
<h2>情景比较 Scenario comparison (mean [95% CI] over seeds, same world and horizon)</h2>
<table><tr><th>scenario</th>{''.join(f'<th>{esc(n)}</th>' for n in COMPARED)}<th>seeds</th></tr>{rows}</table>
<h2>图表 Charts</h2>{images}
<p>CSV: monthly.csv, funnel.csv, brokers.csv, comparison.csv</p>
</body></html>"""


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float) and abs(value) < 10:
        return f"{value:.3f}"
    return f"{value:,.0f}"
