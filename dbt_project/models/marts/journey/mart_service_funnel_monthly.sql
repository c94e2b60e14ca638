-- One row per month (of the ticket's creation) x ticket channel: the service funnel of
-- identified customers, built by the funnel macro (macros/journey_analytics.sql). Steps:
-- ticket_opened (fct_customer_journey) -> first agent reply (int_tickets_measured's
-- first_replied_at: the journey has no reply touchpoint) -> ticket_closed (journey) -> the
-- customer's next opinion (a survey answer or review, journey). Each ticket opens an
-- attempt; a later step counts when it comes at or after the previous one, within
-- service_funnel_window_days of the ticket and before the customer's next ticket. Steps
-- are matched by customer and time (a reply or close of the same customer's ticket).
--
-- Incremental (strategy recent_rows): a run recomputes whole months from the month of
-- recompute_from on, reading the journey and the replies from the day before that month.
{{ config(
    materialized='incremental',
    recompute_column='month_start',
    recompute_grain='month',
    on_schema_change='fail',
    **incremental_on('recent_rows', partition_by='month_start'),
) }}
{%- set window_seconds = var('service_funnel_window_days') | int * 86400 %}

with events as (
    select
        customer_id as actor,
        occurred_at as event_at,
        case when touchpoint in ('survey_answered', 'review_posted') then 'opinion_given' else touchpoint end
            as step_name,
        journey_event_id as event_id,
        channel as ticket_channel
    from {{ ref('fct_customer_journey') }}
    where customer_id is not null
        and touchpoint in ('ticket_opened', 'ticket_closed', 'survey_answered', 'review_posted')
    {%- if is_incremental() %}
        and event_date >= {{ dbt.dateadd('day', -1, recent_rows_start('month_start', 'month')) }}
    {%- endif %}
    union all
    select
        customer_id,
        first_replied_at,
        'ticket_replied',
        {{ dbt.concat(["'reply|'", 'ticket_id']) }},
        lower(channel)
    from {{ ref('int_tickets_measured') }}
    where customer_id is not null and first_replied_at is not null
    {%- if is_incremental() %}
        and first_replied_at >= {{ dbt.dateadd('day', -1, recent_rows_start('month_start', 'month')) }}
    {%- endif %}
),

attempts as (
    {{ funnel('events', ['ticket_opened', 'ticket_replied', 'ticket_closed', 'opinion_given'], window_seconds,
        entry_columns=['ticket_channel']) }}
)

select
    cast({{ dbt.date_trunc('month', reporting_date('entered_at')) }} as date) as month_start,
    coalesce(ticket_channel, 'unknown') as ticket_channel,
    count(*) as tickets_opened,
    count(step_2_at) as tickets_replied,
    count(step_3_at) as tickets_closed,
    count(step_4_at) as opinions_given,
    count(*) - count(step_2_at) as dropped_before_reply,
    count(step_2_at) - count(step_3_at) as dropped_before_close,
    count(step_3_at) - count(step_4_at) as dropped_before_opinion,
    {{ safe_divide('count(step_2_at)', 'count(*)') }} as reply_rate,
    {{ safe_divide('count(step_3_at)', 'count(step_2_at)') }} as reply_to_close_rate,
    {{ safe_divide('count(step_4_at)', 'count(step_3_at)') }} as close_to_opinion_rate,
    {{ safe_divide('count(step_4_at)', 'count(*)') }} as conversion_rate,
    cast(sum({{ dbt.datediff('entered_at', 'step_2_at', 'second') }}) as {{ dbt.type_bigint() }})
        as seconds_to_reply_sum,
    cast(sum({{ dbt.datediff('entered_at', 'step_3_at', 'second') }}) as {{ dbt.type_bigint() }})
        as seconds_to_close_sum,
    cast(sum({{ dbt.datediff('entered_at', 'step_4_at', 'second') }}) as {{ dbt.type_bigint() }})
        as seconds_to_opinion_sum,
    {{ safe_divide('sum(' ~ dbt.datediff('entered_at', 'step_2_at', 'second') ~ ')', 'count(step_2_at) * 3600') }}
        as avg_hours_to_reply,
    {{ safe_divide('sum(' ~ dbt.datediff('entered_at', 'step_3_at', 'second') ~ ')', 'count(step_3_at) * 3600') }}
        as avg_hours_to_close,
    {{ safe_divide('sum(' ~ dbt.datediff('entered_at', 'step_4_at', 'second') ~ ')', 'count(step_4_at) * 3600') }}
        as avg_hours_to_opinion
from attempts
{%- if is_incremental() %}
where {{ reporting_date('entered_at') }} >= {{ recent_rows_start('month_start', 'month') }}
{%- endif %}
group by 1, 2
