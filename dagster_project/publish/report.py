"""The CX scorecard as one static HTML page: ``serving/report.html``.

A monthly trend of every KPI of ``marts.mart_cx_scorecard_monthly``, drawn with plotly,
with the reference lines the CX literature uses: NPS 0 (as many detractors as promoters)
and +50 (excellent); the first-response targets chat 5 minutes and email 24 hours;
Baymard Institute's ~70 % average documented online cart abandonment. plotly.js is inlined
once in the page, so it opens from a file, a mail attachment or an intranet share with no
network. The page is written to a temporary name and renamed into place, so a reader never
opens half of it.

It reads the published marts snapshot (``serving/journey_marts.duckdb``) when there is
one, else the warehouse, always read-only: DuckDB computes the few monthly rows, Python
only draws them.
"""

from __future__ import annotations

import html
import math
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

SCORECARD = "marts.mart_cx_scorecard_monthly"
TICKETS = "marts.mart_support_tickets_daily"
DRIVERS = "marts.mart_sentiment_drivers_monthly"
BACKLOG = "marts.mart_ticket_backlog_daily"
COHORTS = "marts.mart_customer_cohorts_monthly"
# the cohort grid: the latest cohorts and months since the first order shown
COHORT_GRID_COHORTS = 12
COHORT_GRID_MONTHS = 12
# first-response targets drawn on the first-response chart (minutes): the project's SLA
# targets for the two channels most shops answer on, chat and email
FIRST_RESPONSE_TARGETS = {"CHAT": 5.0, "EMAIL": 1440.0}
# Baymard Institute's average of documented online cart abandonment studies (~70 %)
BAYMARD_CART_ABANDONMENT = 0.70
NPS_EXCELLENT = 50.0

_ACCENT = "#1f5fa8"
_CHANNEL_COLOURS = {"CHAT": "#2a9d8f", "EMAIL": "#b5651d"}
_REFERENCE = "#6b7280"


@dataclass(frozen=True)
class Kpi:
    """One chart: a scorecard column, its title, its unit and what it means."""

    column: str
    title: str
    unit: str  # "score", "pct" (0-100), "rate" (0-1), "minutes", "hours", "money"
    definition: str
    higher_is_better: bool = True


KPIS: tuple[Kpi, ...] = (
    Kpi("nps", "NPS", "score", "100 x (promoters - detractors) / responses; the band is the 95 % margin of error."),
    Kpi("csat_pct", "CSAT %", "pct", "Share of CSAT answers of 4-5 (of 5)."),
    Kpi("ces_pct", "CES %", "pct", "Share of customer-effort answers of 5-7 (of 7): low effort."),
    Kpi(
        "cart_abandonment_rate",
        "Cart abandonment rate",
        "rate",
        "Abandoned / (converted + abandoned) carts, by the month the cart started.",
        higher_is_better=False,
    ),
    Kpi(
        "call_abandonment_rate",
        "Call abandonment rate",
        "rate",
        "Calls abandoned in the IVR or the queue / (offered - short-abandoned).",
        higher_is_better=False,
    ),
    Kpi(
        "avg_first_response_minutes",
        "Average first response (minutes)",
        "minutes",
        "First agent reply - ticket creation, over replied tickets, by created month (log scale).",
        higher_is_better=False,
    ),
    Kpi(
        "avg_resolution_hours",
        "Average resolution (hours)",
        "hours",
        "Close - creation, over resolved tickets, by created month.",
        higher_is_better=False,
    ),
    Kpi("ticket_resolution_rate", "Ticket resolution rate", "rate", "Tickets resolved / tickets created."),
    Kpi("positive_review_rate", "Positive review rate", "rate", "Reviews of 4-5 stars / reviews."),
    Kpi(
        "negative_review_rate",
        "Negative review rate",
        "rate",
        "Reviews of 1-2 stars / reviews.",
        higher_is_better=False,
    ),
    Kpi(
        "churn_rate",
        "Churn rate",
        "rate",
        "Customers active at the month's start (an order in the last 90 days) and no longer at its end / "
        "active at the start.",
        higher_is_better=False,
    ),
    Kpi(
        "retention_rate",
        "Retention rate",
        "rate",
        "Customers active at the month's start and at its end / active at the start.",
    ),
    Kpi("repeat_order_rate", "Repeat order rate", "rate", "Orders from customers with an earlier order / orders."),
    Kpi(
        "avg_historical_ltv",
        "Average historical LTV",
        "money",
        "Net revenue to the month's end / customers with an order by then (reporting currency).",
    ),
)


@dataclass(frozen=True)
class ReportSummary:
    """What ``build_report`` wrote."""

    path: Path
    source: Path
    months: int
    latest_month: date | None


def report_source(snapshot: Path, warehouse: Path) -> Path:
    """The file the report reads: the published snapshot when it exists, else the warehouse."""
    return snapshot if snapshot.is_file() else warehouse


def build_report(marts_db_path: Path, out_path: Path, *, currency: str | None = None) -> ReportSummary:
    """Write the scorecard page for the marts in ``marts_db_path`` (opened read-only) to ``out_path``.

    Called by the publish step after each publication and by ``journey report``. Raises
    ``FileNotFoundError`` when the database is missing and ``LookupError`` when it has no
    scorecard mart; a DuckDB lock held by a writer surfaces as ``duckdb.IOException``.
    """
    marts_db_path = Path(marts_db_path)
    if not marts_db_path.is_file():
        raise FileNotFoundError(f"no DuckDB file at {marts_db_path}")
    con = duckdb.connect(str(marts_db_path), read_only=True)
    try:
        tables = {
            name
            for (name,) in con.execute(
                "select table_schema || '.' || table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        }
        if SCORECARD not in tables:
            raise LookupError(f"{marts_db_path} has no {SCORECARD}: build the marts first (journey run)")
        columns = ", ".join(["month_start", "nps_margin_of_error", *(k.column for k in KPIS)])
        cursor = con.execute(f"select {columns} from {SCORECARD} order by month_start")
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()  # one row per month
        series = {name: [row[i] for row in rows] for i, name in enumerate(names)}
        channels = _first_response_by_channel(con) if TICKETS in tables else {}
        drivers = _sentiment_drivers(con) if DRIVERS in tables else []
        service = _service_section(con, tables, currency)
    finally:
        con.close()
    months: list[date] = series.get("month_start", [])
    page = _page(series, channels, source=marts_db_path, currency=currency, drivers=drivers, service=service)
    _write_atomically(Path(out_path), page)
    return ReportSummary(
        path=Path(out_path), source=marts_db_path, months=len(months), latest_month=months[-1] if months else None
    )


def _first_response_by_channel(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[list[date], list[float | None]]]:
    """Monthly mean first response per target channel, from the mart's additive sums."""
    wanted = ", ".join(f"'{channel}'" for channel in FIRST_RESPONSE_TARGETS)
    rows = con.execute(f"""
        select cast(date_trunc('month', created_date) as date) as month_start, channel,
               sum(first_response_minutes_sum) / nullif(sum(tickets_replied), 0) as avg_first_response_minutes
        from {TICKETS}
        where channel in ({wanted})
        group by 1, 2
        order by 2, 1
    """).fetchall()
    out: dict[str, tuple[list[date], list[float | None]]] = {}
    for month, channel, value in rows:
        months, values = out.setdefault(channel, ([], []))
        months.append(month)
        values.append(None if value is None else float(value))
    return out


def _sentiment_drivers(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int, int, int, int]]:
    """Per interaction kind, over every month: pairs with it, and down-shifts / pairs that could go down, with and
    without it (docs/sentiment.md)."""
    return con.execute(f"""
        select interaction_kind, sum(pairs_with), sum(down_shifts_with), sum(down_eligible_with),
            sum(down_shifts_without), sum(down_eligible_without)
        from {DRIVERS} group by interaction_kind order by interaction_kind""").fetchall()


def _drivers_table(drivers: list[tuple[str, int, int, int, int, int]]) -> str:
    """What came between two opinions when the second was worse: down-shift rates with and without each interaction,
    the lift and the Wald 95 % interval of the difference, most lifted first."""
    rows = []
    for kind, pairs, x1, n1, x2, n2 in drivers:
        if not n1 or not n2:
            continue
        p1, p2 = x1 / n1, x2 / n2
        half = 1.96 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
        lift = p1 / p2 if p2 else None
        cells = (
            f"<td>{html.escape(kind)}</td><td class='num'>{pairs}</td>"
            f"<td class='num'>{100 * p1:.1f} % ({x1}/{n1})</td>"
            f"<td class='num'>{100 * p2:.1f} % ({x2}/{n2})</td>"
            f"<td class='num'>{'–' if lift is None else f'{lift:.2f}'}</td>"
            f"<td class='num'>{100 * (p1 - p2 - half):+.1f} to {100 * (p1 - p2 + half):+.1f} pts</td>"
        )
        rows.append((float("inf") if lift is None else lift, f"<tr>{cells}</tr>"))
    if not rows:
        return ""
    body = "".join(row for _, row in sorted(rows, key=lambda r: -r[0]))
    return (
        "<h2>What turned them</h2><p class='definition'>Pairs of consecutive opinions of a customer: how often the "
        "second was worse when the interaction happened between them, against when it did not (every month of "
        f"<code>{DRIVERS}</code>; an association, not a proof of cause).</p>"
        "<table class='latest'><thead><tr><th>interaction between the opinions</th><th>pairs with it</th>"
        "<th>down-shift rate with</th><th>without</th><th>lift</th><th>difference, 95 % interval</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _service_section(con: duckdb.DuckDBPyConnection, tables: set[str], currency: str | None) -> str:
    """Tickets and customers beyond the scorecard (docs/service-marts.md), each part only when its mart exists and
    has rows: the SLA breach rate in calendar and in business hours, the backlog at month end, the cohort grid."""
    cards = []
    if TICKETS in tables and {"sla_breaches", "business_hours_sla_breaches"} <= _columns(con, TICKETS):
        breaches = _sla_breach_rates(con)
        if breaches[0]:
            cards.append(
                _card(
                    "sla_breach_rates",
                    "SLA breach rate: calendar and business hours",
                    "Tickets whose first reply came (or is still due) after their first-response target / "
                    "tickets created, by created month: on the calendar, and counting only the opening "
                    "hours of the ticket's support schedule.",
                    _breach_figure(*breaches),
                    "sla_breach_rate, business_hours_sla_breach_rate",
                )
            )
    if BACKLOG in tables:
        backlog = _backlog_at_month_end(con)
        if backlog[0]:
            cards.append(
                _card(
                    "ticket_backlog",
                    "Ticket backlog at month end",
                    "Tickets open at the end of each month's last day (the latest day for the current "
                    "month), waiting on the team or on the contact; hover for the oldest one's age.",
                    _backlog_figure(*backlog),
                    "open_tickets",
                )
            )
    grid = _cohort_grid(con, currency) if COHORTS in tables else ""
    if not cards and not grid:
        return ""
    return f"<h2>Tickets and customers</h2><div class='grid'>{''.join(cards)}</div>{grid}"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    schema, name = table.split(".")
    return {
        c
        for (c,) in con.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchall()
    }


def _sla_breach_rates(con: duckdb.DuckDBPyConnection) -> tuple[list[date], list[float | None], list[float | None]]:
    """Monthly SLA breach rates, calendar and business hours, from the ticket mart's additive counts."""
    rows = con.execute(f"""
        select cast(date_trunc('month', created_date) as date) as month_start,
               sum(sla_breaches) / nullif(sum(tickets_created), 0),
               sum(business_hours_sla_breaches) / nullif(sum(tickets_created), 0)
        from {TICKETS} group by 1 order by 1""").fetchall()
    return [r[0] for r in rows], [_number(r[1]) for r in rows], [_number(r[2]) for r in rows]


def _backlog_at_month_end(
    con: duckdb.DuckDBPyConnection,
) -> tuple[list[date], list[int], list[int], list[float | None]]:
    """Per month from the first to the latest backlog day: tickets open at the end of its last day (the latest day
    of the mart for the current month), of which waiting on the team, and the oldest one's age in hours. A month
    end with no row had nothing open: 0. (A backlog is a level: never summed over days.)"""
    rows = con.execute(f"""
        with bounds as (
            select cast(date_trunc('month', min(backlog_date)) as date) as first_month,
                   max(backlog_date) as last_day
            from {BACKLOG}
        ),
        month_ends as (
            select cast(m.month_start as date) as month_start,
                   least(cast(m.month_start + interval 1 month - interval 1 day as date), bounds.last_day) as day_end
            from bounds, unnest(generate_series(bounds.first_month, bounds.last_day, interval 1 month))
                as m(month_start)
        )
        select month_ends.month_start, coalesce(sum(b.open_tickets), 0), coalesce(sum(b.waiting_on_us_tickets), 0),
               max(b.oldest_open_ticket_age_hours)
        from month_ends left join {BACKLOG} as b on b.backlog_date = month_ends.day_end
        group by 1 order by 1""").fetchall()
    return ([r[0] for r in rows], [int(r[1]) for r in rows], [int(r[2]) for r in rows], [_number(r[3]) for r in rows])


def _cohort_grid(con: duckdb.DuckDBPyConnection, currency: str | None) -> str:
    """The retention grid of the latest cohorts: share of each cohort's customers with an order in each month since
    their first, shaded by the share; the cell's tooltip has the counts and the cumulative net revenue per customer."""
    rows = con.execute(f"""
        select cohort_month, months_since_first_order, cohort_customers, customers_active, retention_rate,
               cumulative_net_revenue_per_customer
        from {COHORTS}
        where cohort_month > (select max(cohort_month) from {COHORTS}) - interval {COHORT_GRID_COHORTS} month
          and months_since_first_order <= {COHORT_GRID_MONTHS}
        order by cohort_month, months_since_first_order""").fetchall()
    if not rows:
        return ""
    cohorts: dict[date, dict[int, tuple]] = {}
    for cohort, since, size, active, rate, revenue in rows:
        cohorts.setdefault(cohort, {})[since] = (size, active, rate, revenue)
    width = max(since for cells in cohorts.values() for since in cells) + 1
    head = "".join(f"<th>{k}</th>" for k in range(width))
    body = []
    for cohort, cells in cohorts.items():
        size = next(iter(cells.values()))[0]
        tds = []
        for k in range(width):
            if k not in cells:
                tds.append("<td></td>")
                continue
            _, active, rate, revenue = cells[k]
            share = _number(rate) or 0.0
            money = f"{_number(revenue) or 0.0:,.2f} {currency or ''}".strip()
            tip = f"{active} of {size} customers; cumulative net revenue per customer {money}"
            ink = "#fff" if share >= 0.5 else "#1f2933"
            tds.append(
                f"<td class='num' style='background: rgba(31,95,168,{share:.3f}); color: {ink}' "
                f"title='{html.escape(tip)}'>{100 * share:.0f} %</td>"
            )
        body.append(f"<tr><td>{cohort:%b %Y}</td><td class='num'>{size}</td>{''.join(tds)}</tr>")
    return (
        "<section class='card cohorts' id='cohort_retention'><h3>Cohort retention</h3>"
        "<p class='definition'>Customers grouped by the month of their first order (rows, the latest "
        f"{COHORT_GRID_COHORTS}): the share with an order in each month since (columns, month 0 = the first "
        "order's month, so 100 %). Hover a cell for the counts and the cumulative net revenue per customer. "
        f"<code>retention_rate</code></p><table class='latest grid-table'><thead><tr><th>cohort</th>"
        f"<th>customers</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></section>"
    )


def _breach_figure(months: list[date], calendar: list[float | None], business: list[float | None]) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=months,
            y=calendar,
            mode="lines+markers",
            name="calendar time",
            line={"color": _ACCENT, "width": 2.5},
            marker={"size": 7},
        )
    )
    fig.add_trace(
        go.Scatter(
            x=months,
            y=business,
            mode="lines+markers",
            name="business hours",
            line={"color": _CHANNEL_COLOURS["CHAT"], "width": 2.5},
            marker={"size": 7},
        )
    )
    fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    return _finish(fig, legend=True)


def _backlog_figure(
    months: list[date], open_tickets: list[int], waiting_on_us: list[int], oldest: list[float | None]
) -> go.Figure:
    fig = go.Figure()
    on_contact = [total - us for total, us in zip(open_tickets, waiting_on_us, strict=True)]
    age = ["–" if hours is None else f"{hours:,.1f} h" for hours in oldest]
    fig.add_trace(
        go.Bar(
            x=months,
            y=waiting_on_us,
            name="waiting on the team",
            marker={"color": _ACCENT},
            customdata=age,
            hovertemplate="%{y} (oldest open ticket: %{customdata})",
        )
    )
    fig.add_trace(go.Bar(x=months, y=on_contact, name="waiting on the contact", marker={"color": "#9fb8d8"}))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(rangemode="tozero")
    return _finish(fig, legend=True)


def _finish(fig: go.Figure, legend: bool) -> go.Figure:
    """The layout and month axis every chart of the page shares."""
    fig.update_layout(
        height=330,
        margin={"l": 60, "r": 20, "t": 20, "b": 40},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.18, "x": 0},
        hovermode="x unified",
        showlegend=legend,
    )
    shown = _x_range(fig)
    if shown is not None:
        span = (shown[1] - shown[0]).days // 30
        fig.update_xaxes(range=shown, dtick="M1" if span <= 8 else "M2" if span <= 16 else "M3")
    fig.update_xaxes(tickformat="%b<br>%Y", tickangle=0)
    return fig


def _card(key: str, title: str, definition: str, fig: go.Figure, column: str) -> str:
    chart = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"chart-{key}",
        config={"displaylogo": False, "responsive": True},
    )
    return (
        f"<section class='card' id='{key}'><h3>{html.escape(title)}</h3>"
        f"<p class='definition'>{html.escape(definition)} <code>{column}</code></p>{chart}</section>"
    )


def _number(value: object) -> float | None:
    return None if value is None else float(value)


def _figure(kpi: Kpi, series: dict[str, list], channels: dict) -> go.Figure:
    months = series.get("month_start", [])
    values = [_number(v) for v in series.get(kpi.column, [])]
    fig = go.Figure()
    if kpi.column == "nps":
        margins = [_number(v) for v in series.get("nps_margin_of_error", [])]
        upper = [None if v is None or m is None else min(100.0, v + m) for v, m in zip(values, margins, strict=True)]
        lower = [None if v is None or m is None else max(-100.0, v - m) for v, m in zip(values, margins, strict=True)]
        fig.add_trace(
            go.Scatter(x=months, y=upper, mode="lines", line={"width": 0}, hoverinfo="skip", showlegend=False)
        )
        fig.add_trace(
            go.Scatter(
                x=months,
                y=lower,
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor="rgba(31,95,168,0.15)",
                name="95 % margin",
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=months,
            y=values,
            mode="lines+markers",
            name=kpi.title if kpi.column != "nps" else "NPS",
            line={"color": _ACCENT, "width": 2.5},
            marker={"size": 7},
        )
    )
    if kpi.column == "nps":
        _reference(fig, 0.0, "0: as many detractors as promoters")
        _reference(fig, NPS_EXCELLENT, "+50: excellent", colour="#2a9d8f")
        fig.update_yaxes(range=[-100, 100])
    elif kpi.column == "cart_abandonment_rate":
        _reference(
            fig, BAYMARD_CART_ABANDONMENT, "~70 %: average documented online cart abandonment (Baymard)", below=True
        )
    elif kpi.column == "avg_first_response_minutes":
        for channel, (channel_months, channel_values) in sorted(channels.items()):
            fig.add_trace(
                go.Scatter(
                    x=channel_months,
                    y=channel_values,
                    mode="lines+markers",
                    name=f"{channel.lower()} tickets",
                    line={"color": _CHANNEL_COLOURS.get(channel, _REFERENCE), "width": 1.5},
                )
            )
        for channel, target in FIRST_RESPONSE_TARGETS.items():
            label = f"{channel.lower()} target: {_duration(target)}"
            _reference(fig, target, label, colour=_CHANNEL_COLOURS[channel], log_axis=True)
        fig.update_yaxes(type="log", dtick=1)  # one tick per decade: 1, 10, 100, 1000 minutes
    if kpi.unit == "rate":
        fig.update_yaxes(tickformat=".0%", rangemode="tozero")
    elif kpi.unit == "pct":
        fig.update_yaxes(range=[-3, 103], ticksuffix=" %")
    fig.update_layout(
        height=330,
        margin={"l": 60, "r": 20, "t": 20, "b": 40},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.18, "x": 0},
        hovermode="x unified",
        showlegend=kpi.column in ("nps", "avg_first_response_minutes"),
    )
    shown = _x_range(fig)
    if shown is None:
        fig.add_annotation(
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
            showarrow=False,
            text="no data yet",
            font={"size": 14, "color": _REFERENCE},
        )
    else:
        span = (shown[1] - shown[0]).days // 30
        fig.update_xaxes(range=shown, dtick="M1" if span <= 8 else "M2" if span <= 16 else "M3")
    fig.update_xaxes(tickformat="%b<br>%Y", tickangle=0)
    return fig


def _reference(
    fig: go.Figure, y: float, label: str, colour: str = _REFERENCE, log_axis: bool = False, below: bool = False
) -> None:
    """A dashed horizontal line across the chart with its label above (or below) its left end."""
    fig.add_hline(y=y, line={"color": colour, "width": 1.2, "dash": "dash"})
    # an annotation's y on a log axis is log10 of the value (plotly's convention)
    fig.add_annotation(
        x=0,
        xref="paper",
        xanchor="left",
        y=math.log10(y) if log_axis else y,
        yref="y",
        yanchor="top" if below else "bottom",
        text=label,
        showarrow=False,
        font={"size": 11, "color": colour},
    )


def _duration(minutes: float) -> str:
    """5 -> '5 min', 1440 -> '24 h', 95.5 -> '1.6 h'."""
    if minutes < 60:
        return f"{minutes:.1f} min".replace(".0 min", " min")
    return f"{minutes / 60:.1f} h".replace(".0 h", " h")


def _x_range(fig: go.Figure) -> list[date] | None:
    """Half a month either side of the months that have a value in any trace of ``fig``."""
    months = [x for trace in fig.data for x, y in zip(trace.x or (), trace.y or (), strict=False) if y is not None]
    if not months:
        return None
    return [min(months) - timedelta(days=15), max(months) + timedelta(days=15)]


def _format(kpi: Kpi, value: object, currency: str | None) -> str:
    number = _number(value)
    if number is None:
        return "–"
    if kpi.unit == "rate":
        return f"{100 * number:.1f} %"
    if kpi.unit == "pct":
        return f"{number:.1f} %"
    if kpi.unit == "money":
        return f"{number:,.2f} {currency or ''}".strip()
    if kpi.unit == "minutes":
        return _duration(number)
    if kpi.unit == "hours":
        return f"{number:.1f} h"
    return f"{number:+.1f}"


def _latest_table(series: dict[str, list], currency: str | None) -> str:
    """The latest month with its change against the month before, per KPI."""
    months = series.get("month_start", [])
    if not months:
        return "<p class='empty'>The scorecard has no months yet: run <code>journey run</code> first.</p>"
    rows = []
    for kpi in KPIS:
        values = series.get(kpi.column, [])
        latest, previous = values[-1], values[-2] if len(values) > 1 else None
        change = ""
        if latest is not None and previous is not None and float(latest) != float(previous):
            better = (float(latest) > float(previous)) == kpi.higher_is_better
            arrow = "▲" if float(latest) > float(previous) else "▼"
            was = _format(kpi, previous, currency)
            change = f"<span class='{'up' if better else 'down'}'>{arrow} from {was}</span>"
        rows.append(
            f"<tr><td><a href='#{kpi.column}'>{html.escape(kpi.title)}</a></td>"
            f"<td class='num'>{_format(kpi, latest, currency)}</td><td>{change}</td></tr>"
        )
    return (
        f"<table class='latest'><thead><tr><th>KPI</th><th>{months[-1]:%B %Y}</th>"
        f"<th>against the month before</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _page(
    series: dict[str, list],
    channels: dict,
    *,
    source: Path,
    currency: str | None,
    drivers: list[tuple[str, int, int, int, int, int]] | None = None,
    service: str = "",
) -> str:
    months = series.get("month_start", [])
    span = f"{months[0]:%B %Y} – {months[-1]:%B %Y}" if months else "no months yet"
    cards = []
    for kpi in KPIS:
        chart = _figure(kpi, series, channels).to_html(
            full_html=False,
            include_plotlyjs=False,
            div_id=f"chart-{kpi.column}",
            config={"displaylogo": False, "responsive": True},
        )
        cards.append(
            f"<section class='card' id='{kpi.column}'><h3>{html.escape(kpi.title)}</h3>"
            f"<p class='definition'>{html.escape(kpi.definition)}"
            f" <code>{kpi.column}</code></p>{chart}</section>"
        )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>journey: CX scorecard</title>
<script type="text/javascript">{get_plotlyjs()}</script>
<style>
body {{ font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 0;
       background: #f5f6f8; color: #1f2933; }}
header {{ background: #1f2933; color: #fff; padding: 20px 32px; }}
header h1 {{ margin: 0 0 4px 0; font-size: 24px; }}
header p {{ margin: 0; color: #cbd2d9; font-size: 13px; }}
main {{ padding: 20px 32px; }}
.latest {{ border-collapse: collapse; background: #fff; margin-bottom: 24px; font-size: 14px; }}
.latest th, .latest td {{ padding: 6px 14px; border-bottom: 1px solid #e4e7eb; text-align: left; }}
.latest td.num {{ text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }}
.latest a {{ color: #1f2933; text-decoration: none; }}
.up {{ color: #1a7f37; }} .down {{ color: #c0392b; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(600px, 1fr)); gap: 16px; }}
.card {{ background: #fff; border-radius: 6px; padding: 12px 16px 4px 16px;
         box-shadow: 0 1px 2px rgba(0, 0, 0, 0.08); }}
.card h3 {{ margin: 0; font-size: 16px; }}
.definition {{ margin: 2px 0 0 0; color: #616e7c; font-size: 12px; }}
.definition code {{ color: #9aa5b1; }}
.empty {{ background: #fff; padding: 16px; }}
.cohorts {{ margin-top: 16px; padding-bottom: 12px; }}
.grid-table td, .grid-table th {{ padding: 4px 8px; }}
footer {{ padding: 0 32px 24px 32px; color: #616e7c; font-size: 12px; }}
</style>
</head>
<body>
<header>
<h1>Customer experience scorecard</h1>
<p>Monthly KPIs, {html.escape(span)} · {len(months)} month(s) · generated {generated}
 from {html.escape(source.name)}</p>
</header>
<main>
{_latest_table(series, currency)}
<div class="grid">
{"".join(cards)}
</div>
{service}
{_drivers_table(drivers or [])}
</main>
<footer>Every value is read from <code>{SCORECARD}</code> (first-response lines per channel and SLA breaches from
<code>{TICKETS}</code>, the backlog from <code>{BACKLOG}</code>, the cohorts from <code>{COHORTS}</code>); rates are
recomputed each month from the marts' counts. Dashed lines are
reference points, not this shop's targets unless stated: NPS 0 and +50, the chat (5 min) and email
(24 h) first-response targets, and Baymard Institute's ~70 % average cart abandonment.
The current month is partial until it ends.</footer>
</body>
</html>
"""


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, staged = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(staged, 0o644)
        os.replace(staged, path)
    except BaseException:
        Path(staged).unlink(missing_ok=True)
        raise
