-- One row per month x outcome x path: the most frequent ordered sequences of touchpoint
-- kinds that led to an outcome. A path is the customer's last journey_path_steps
-- touchpoints (fct_customer_journey, any kind) before the outcome, oldest first, keeping
-- only those in the journey_path_lookback_days before it; '(none)' when there was none.
-- The journey_path_top_n most frequent paths of each month x outcome are kept.
--
-- Outcomes (the month is the outcome's):
-- - negative_opinion: a survey answer or review with negative sentiment; its path is the
--   touchpoints before it.
-- - repeat_order: an order placed (counted, i.e. not cancelled) by a customer with an
--   earlier counted order; its path is the touchpoints before it.
-- - churn: a customer churns churn_inactivity_days after their last counted order, when
--   that day is on or before `as_of` (from that day on they are no longer active: no order
--   in the churn_inactivity_days ending on it; the churn mart counts the same customers).
--   The churn date is a day: the path is the touchpoints dated before it and within the
--   lookback days before it. A customer churns at most once here, after the last order.
--
-- Incremental (strategy recent_rows): a run recomputes whole months from the month of
-- recompute_from on (the window start minus the late-data lookback), reading only the
-- journey from the lookback days before that month: older touchpoints cannot be in a path
-- of those months.
{{ config(
    materialized='incremental',
    recompute_column='month_start',
    recompute_grain='month',
    on_schema_change='fail',
    **incremental_on('recent_rows', partition_by='month_start'),
) }}
{%- set steps = var('journey_path_steps') | int %}
{%- set lookback = var('journey_path_lookback_days') | int %}

with journey as (
    select
        customer_id, journey_event_id, occurred_at, event_date, touchpoint, sentiment, source_record_id,
        customer_touchpoint_number
    from {{ ref('fct_customer_journey') }}
    where customer_id is not null
    {%- if is_incremental() %}
        and event_date >= {{ dbt.dateadd('day', -(lookback + 1), recent_rows_start('month_start', 'month')) }}
    {%- endif %}
),

lagged as (
    select
        journey.*,
        touchpoint as step_0_kind,
        occurred_at as step_0_at
        {%- for k in range(1, steps + 1) %},
        lag(touchpoint, {{ k }}) over customer_journey as step_{{ k }}_kind,
        lag(occurred_at, {{ k }}) over customer_journey as step_{{ k }}_at{% endfor %}
    from journey
    window customer_journey as (partition by customer_id order by customer_touchpoint_number)
),

counted_orders as (
    select
        order_id,
        customer_id,
        ordered_at,
        row_number() over (partition by customer_id order by ordered_at, order_id) as order_number
    from {{ ref('int_orders_converted') }}
    where is_counted and customer_id is not null
),

churns as (
    select
        customer_id,
        cast({{ dbt.dateadd('day', var('churn_inactivity_days'), reporting_date('max(ordered_at)')) }} as date)
            as churn_date
    from counted_orders
    group by customer_id
),

last_touch_before_churn as (
    select churns.customer_id, churns.churn_date, max(journey.customer_touchpoint_number) as touchpoint_number
    from churns
    inner join journey
        on churns.customer_id = journey.customer_id
            and churns.churn_date > journey.event_date
    where churns.churn_date <= {{ as_of_date() }}
    group by churns.customer_id, churns.churn_date
),

{%- set before = range(steps, 0, -1) | list %}
{%- set through = range(steps - 1, -1, -1) | list %}
{%- set churn_cutoff = 'cast(' ~ dbt.dateadd('day', -lookback, 'outcome_date') ~ ' as ' ~ dbt.type_timestamp() ~ ')' %}
{%- set event_cutoff = dbt.dateadd('day', -lookback, 'occurred_at') %}

outcomes as (
    select
        'negative_opinion' as outcome,
        event_date as outcome_date,
        {{ path_text(before, event_cutoff) }} as path_text,
        {{ path_steps(before, event_cutoff) }} as path_steps
    from lagged
    where touchpoint in ('survey_answered', 'review_posted') and sentiment = 'negative'

    union all
    select
        'repeat_order',
        lagged.event_date,
        {{ path_text(before, event_cutoff) }},
        {{ path_steps(before, event_cutoff) }}
    from lagged
    inner join counted_orders on lagged.source_record_id = counted_orders.order_id
    where lagged.touchpoint = 'order_placed' and counted_orders.order_number > 1

    union all
    select
        'churn',
        churn_date,
        {{ path_text(through, churn_cutoff) }},
        {{ path_steps(through, churn_cutoff) }}
    from (
        select
            lagged.*,
            last_touch_before_churn.churn_date as outcome_date,
            last_touch_before_churn.churn_date
        from last_touch_before_churn
        inner join lagged
            on last_touch_before_churn.customer_id = lagged.customer_id
                and last_touch_before_churn.touchpoint_number = lagged.customer_touchpoint_number
    ) as at_churn

    union all
    -- churned customers without any touchpoint before their churn date (none in the journey)
    select 'churn', churns.churn_date, '', 0
    from churns
    where churns.churn_date <= {{ as_of_date() }}
        and churns.customer_id not in (select last_touch_before_churn.customer_id from last_touch_before_churn)
),

counted as (
    select
        cast({{ dbt.date_trunc('month', 'outcome_date') }} as date) as month_start,
        outcome,
        case when path_steps = 0 then '(none)' else substring(path_text, 4) end as path,
        path_steps,
        count(*) as outcomes
    from outcomes
    {%- if is_incremental() %}
    where outcome_date >= {{ recent_rows_start('month_start', 'month') }}
    {%- endif %}
    group by month_start, outcome, path, path_steps
),

ranked as (
    select
        counted.*,
        sum(outcomes) over (partition by month_start, outcome) as outcomes_in_month,
        row_number() over (partition by month_start, outcome order by outcomes desc, path asc) as path_rank
    from counted
)

select
    month_start,
    outcome,
    path_rank,
    path,
    path_steps,
    outcomes,
    outcomes_in_month,
    {{ safe_divide('outcomes', 'outcomes_in_month') }} as outcome_share
from ranked
where path_rank <= {{ var('journey_path_top_n') | int }}
