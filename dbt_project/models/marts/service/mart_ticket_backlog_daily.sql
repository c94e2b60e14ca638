-- One row per day x channel x priority with tickets open at the day's end: the backlog.
-- A ticket is open at a day's end (midnight after the day in the reporting time zone; for
-- `as_of`, the end of as_of) when it was created before it and its status then, from
-- fct_ticket_history, is not closed: new or waiting on us (the team owes the next step) or
-- waiting on contact. A reopened ticket is open again from its reopening. Age = day end -
-- createdate, in hours. Channel and priority are the ticket's latest ('UNKNOWN' when
-- missing); tickets deleted in the CRM are left out. Days run from the first ticket's
-- created date to `as_of`; a day x channel x priority with nothing open has no row.
-- Counts and open_ticket_age_hours_sum are additive over channels and priorities (not over
-- days: a backlog is a level); oldest_open_ticket_age_hours is not additive (take the max).
-- Incremental (strategy recent_rows): a run recomputes the days from recompute_from on.
{{ config(
    materialized='incremental',
    recompute_column='backlog_date',
    on_schema_change='fail',
    **incremental_on('recent_rows', partition_by='backlog_date'),
) }}
{%- set tz = var('reporting_timezone', 'UTC') %}

with history as (
    select * from {{ ref('fct_ticket_history') }}
    where not is_archived
),

tickets as (
    select * from {{ ref('int_tickets_measured') }}
),

bounds as (
    select
        {%- if is_incremental() %}
        greatest(min(created_date), {{ recent_rows_start('backlog_date') }}) as first_date,
        {%- else %}
        min(created_date) as first_date,
        {%- endif %}
        {{ as_of_date() }} as last_date
    from tickets
),

days as (
    {{ day_spine('(select first_date from bounds)', '(select last_date from bounds)', 'backlog_date') }}
),

day_ends as (
    select
        backlog_date,
        {{ local_to_utc(dbt.dateadd('day', 1, 'cast(backlog_date as timestamp)'), "'" ~ tz ~ "'") }} as day_end_at
    from days
    where backlog_date is not null
),

open_statuses as (
    select
        history.ticket_id,
        history.pipeline_stage,
        history.entered_at,
        history.left_at,
        tickets.created_at,
        coalesce(tickets.channel, 'UNKNOWN') as channel,
        coalesce(tickets.priority, 'UNKNOWN') as priority
    from history
    inner join tickets on history.ticket_id = tickets.ticket_id
    where history.pipeline_stage <> 4
),

open_at_day_end as (
    select
        day_ends.backlog_date,
        open_statuses.channel,
        open_statuses.priority,
        open_statuses.pipeline_stage,
        -- the datediff renders longer than a line on DuckDB
        {{ seconds_between('open_statuses.created_at', 'day_ends.day_end_at') }} / 3600.0 as age_hours  -- noqa: LT05
    from open_statuses
    inner join day_ends
        on
            open_statuses.entered_at < day_ends.day_end_at
            and (open_statuses.left_at is null or open_statuses.left_at >= day_ends.day_end_at)
),

counted as (
    select
        backlog_date,
        channel,
        priority,
        count(*) as open_tickets,
        count(case when pipeline_stage in (1, 3) then 1 end) as waiting_on_us_tickets,
        count(case when pipeline_stage = 2 then 1 end) as waiting_on_contact_tickets,
        sum(age_hours) as open_ticket_age_hours_sum,
        max(age_hours) as oldest_open_ticket_age_hours
    from open_at_day_end
    group by backlog_date, channel, priority
)

select
    backlog_date,
    channel,
    priority,
    open_tickets,
    waiting_on_us_tickets,
    waiting_on_contact_tickets,
    round(open_ticket_age_hours_sum, 4) as open_ticket_age_hours_sum,
    round({{ safe_divide('open_ticket_age_hours_sum', 'open_tickets') }}, 4) as avg_open_ticket_age_hours,
    round(oldest_open_ticket_age_hours, 4) as oldest_open_ticket_age_hours
from counted
