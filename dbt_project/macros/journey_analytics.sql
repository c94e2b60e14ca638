{#- Macros of the journey analytics (models/marts/journey): the funnel over ordered
    touchpoints, the Wald interval of a difference of proportions, and the `recent_rows`
    incremental strategy. -#}

{#- funnel(events, steps, window_seconds, ...): one row per attempt of a funnel.

    `events` is a relation or CTE with one row per event and the columns
    `actor` (who moves through the funnel, e.g. customer_id), `event_at` (timestamp),
    `step_name` (which step the event is), `event_id` (a unique tie-breaker) and the
    `entry_columns` (carried from the entry event, e.g. its channel). `steps` lists the
    step_name values in their order. Every event of the first step opens an attempt
    (`entered_at`); step k (k >= 2) is reached at the first event of that step at or after
    the moment step k-1 was reached, no later than `window_seconds` after the entry and,
    with until_next_entry (default), strictly before the actor's next entry: a new cart
    closes the previous cart's attempt. The result has actor, entry_event_id, entered_at,
    the entry columns, deadline_at and step_1_at .. step_n_at (null when not reached; then
    every later step is null too).

    No join: each step is one sort per actor over the attempts reached so far and the
    events of that step, where a running minimum "at or after" finds the next event
    (a window over following rows, which DuckDB, Spark and PostgreSQL all have). -#}
{% macro funnel(events, steps, window_seconds, entry_columns=[], until_next_entry=true) -%}
    {%- set n = steps | length -%}
    with funnel_entries as (
        select
            actor,
            event_id as entry_event_id,
            event_at as entered_at,
            {%- for column in entry_columns %}
            {{ column }},
            {%- endfor %}
            {{ dbt.dateadd('second', window_seconds, 'event_at') }} as deadline_at,
            {%- if until_next_entry %}
            lead(event_at) over (partition by actor order by event_at, event_id) as next_entry_at
            {%- else %}
            cast(null as {{ dbt.type_timestamp() }}) as next_entry_at
            {%- endif %}
        from {{ events }}
        where step_name = '{{ steps[0] }}'
    ),

    funnel_step_1 as (
        select funnel_entries.*, entered_at as step_1_at
        from funnel_entries
    ){% for k in range(2, n + 1) %},

    funnel_next_{{ k }} as (
        -- attempts that reached step {{ k - 1 }} (markers) and the events of step {{ k }}, in time
        -- order per actor; a marker sorts before an event of the same moment
        select
            entry_event_id,
            min(case when is_event = 1 then moment end) over (
                partition by actor order by moment, is_event, event_id
                rows between current row and unbounded following
            ) as next_at,
            is_event
        from (
            select actor, step_{{ k - 1 }}_at as moment, 0 as is_event, entry_event_id as event_id, entry_event_id
            from funnel_step_{{ k - 1 }}
            where step_{{ k - 1 }}_at is not null
            union all
            select actor, event_at, 1, event_id, cast(null as {{ dbt.type_string() }})
            from {{ events }}
            where step_name = '{{ steps[k - 1] }}'
        ) as stream
    ),

    funnel_step_{{ k }} as (
        select
            funnel_step_{{ k - 1 }}.*,
            case
                when funnel_next_{{ k }}.next_at <= funnel_step_{{ k - 1 }}.deadline_at
                    and (funnel_step_{{ k - 1 }}.next_entry_at is null
                        or funnel_next_{{ k }}.next_at < funnel_step_{{ k - 1 }}.next_entry_at)
                    then funnel_next_{{ k }}.next_at
            end as step_{{ k }}_at
        from funnel_step_{{ k - 1 }}
        left join funnel_next_{{ k }}
            on funnel_step_{{ k - 1 }}.entry_event_id = funnel_next_{{ k }}.entry_event_id
            and funnel_next_{{ k }}.is_event = 0
    ){% endfor %}

    select
        actor,
        entry_event_id,
        entered_at,
        {%- for column in entry_columns %}
        {{ column }},
        {%- endfor %}
        deadline_at,
        {%- for k in range(1, n + 1) %}
        step_{{ k }}_at{{ ',' if not loop.last }}
        {%- endfor %}
    from funnel_step_{{ n }}
{%- endmacro %}

{#- The Wald 95 % interval of a difference of two proportions p1 - p2 (p1 = x1 / n1,
    p2 = x2 / n2): diff +/- 1.96 * sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2). `bound` is
    'low' or 'high'. Null when either group is empty. Rounded to 6 decimals (1.96 is itself
    a rounded quantile). -#}
{% macro wald_diff_bound(x1, n1, x2, n2, bound) -%}
    {%- set p1 = safe_divide(x1, n1) -%}
    {%- set p2 = safe_divide(x2, n2) -%}
    round({{ p1 }} - {{ p2 }} {{ '-' if bound == 'low' else '+' }} 1.96 * sqrt(
        {{ p1 }} * (1 - {{ p1 }}) / nullif({{ n1 }}, 0) + {{ p2 }} * (1 - {{ p2 }}) / nullif({{ n2 }}, 0)), 6)
{%- endmacro %}

{#- A sentiment as a rank, to compare two: negative 1, neutral 2, positive 3. -#}
{% macro sentiment_rank(expression) -%}
    case {{ expression }} when 'positive' then 3 when 'neutral' then 2 when 'negative' then 1 end
{%- endmacro %}

{#- Incremental strategy `recent_rows`: delete every held row whose `recompute_column`
    (model config, a date) is on or after recent_rows_start() (the run's window start minus
    the late-data lookback, truncated to `recompute_grain` when the model sets 'month'),
    then insert the batch, which the model computes for exactly those dates. A row the
    source no longer has (a survey deleted, a path no longer in the top N) cannot linger in
    the recomputed range. -#}
{% macro get_incremental_recent_rows_sql(arg_dict) -%}
    {{ delete_where_then_insert(arg_dict, 'recent_rows') }}
{%- endmacro %}

{% macro recent_rows_condition(target, batch, key) -%}
    {{ config.get('recompute_column') }} >= {{ recent_rows_start(config.get('recompute_column'), config.get('recompute_grain'), target) }}
    {%- if key %}
    or {{ key }} in (select {{ key }} from {{ batch }})
    {%- endif %}
{%- endmacro %}

{#- The first date a `recent_rows` model recomputes (see above), as an SQL date: `column`
    and `grain` repeat the model's recompute_column and recompute_grain (a unit test has no
    model config to read them from). -#}
{% macro recent_rows_start(column, grain=none, relation=none) -%}
    {%- set start = recompute_from(relation if relation is not none else this, column) -%}
    {%- if grain == 'month' -%}
        cast({{ dbt.date_trunc('month', start) }} as date)
    {%- else -%}
        {{ start }}
    {%- endif -%}
{%- endmacro %}

{#- One branch of a union of flagged events: customer_id, occurred_at, one 0/1 column per
    name in `kinds` (`flags` maps a kind to its expression, the others are 0), is_opinion 0
    and a null journey_event_id. The caller adds the from clause. -#}
{% macro flag_row(kinds, customer_id, at, flags) -%}
    select {{ customer_id }} as customer_id, {{ at }} as occurred_at,
        {%- for kind in kinds %}
        {{ flags.get(kind, '0') }} as {{ kind }},
        {%- endfor %}
        0 as is_opinion,
        cast(null as {{ dbt.type_string() }}) as journey_event_id
{%- endmacro %}

{#- The interaction kinds counted between two opinions (fct_sentiment_shifts columns). -#}
{% macro sentiment_interaction_kinds() -%}
    {{ return([
        'calls_offered', 'calls_missed', 'calls_abandoned', 'calls_not_resolved',
        'tickets_opened', 'tickets_sla_breached', 'tickets_reopened',
        'orders_placed', 'orders_cancelled', 'orders_refunded', 'carts_abandoned',
    ]) }}
{%- endmacro %}

{#- A path of touchpoint kinds as text, oldest first ('cart_started > call_missed'), from
    the columns step_<k>_kind / step_<k>_at for k in `offsets` (most recent last), keeping
    only the steps whose moment is on or after `cutoff`. '' when none is kept. -#}
{% macro path_text(offsets, cutoff) -%}
    {%- set parts = [] -%}
    {%- for k in offsets -%}
        {%- do parts.append("case when step_" ~ k ~ "_kind is not null and step_" ~ k ~ "_at >= " ~ cutoff
            ~ " then " ~ dbt.concat(["' > '", "step_" ~ k ~ "_kind"]) ~ " else '' end") -%}
    {%- endfor -%}
    {{ dbt.concat(parts) }}
{%- endmacro %}

{#- How many of the steps path_text keeps. -#}
{% macro path_steps(offsets, cutoff) -%}
    ({%- for k in offsets -%}
        case when step_{{ k }}_kind is not null and step_{{ k }}_at >= {{ cutoff }} then 1 else 0 end
        {{- ' + ' if not loop.last -}}
    {%- endfor -%})
{%- endmacro %}
