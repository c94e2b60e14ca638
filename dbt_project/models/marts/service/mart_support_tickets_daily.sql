-- One row per ticket created date x channel (HubSpot source_type) x priority (CONTRACT §3, §4).
-- Every measure is counted on the ticket's created date (a cohort view): first response =
-- first_agent_reply_date - createdate, resolution = closed_date - createdate, both as known by
-- the end of `as_of`. avg_first_response_minutes and median_first_response_minutes are over
-- replied tickets, avg_resolution_hours over resolved tickets; resolution_rate = resolved /
-- created. SLA breaches come from int_tickets_measured (category target over channel target;
-- no reply while the target has passed by the end of `as_of` is a breach). Counts and *_sum
-- columns are additive; the median is not (recompute it from int_tickets_measured).
-- Business hours (docs/service-marts.md): the same first response, resolution and SLA breach
-- counted only while the ticket's support schedule is open (int_tickets_measured), beside the
-- calendar columns, which do not change.
with tickets as (
    select * from {{ ref('int_tickets_measured') }}
),

keyed as (
    select
        tickets.created_date,
        tickets.is_replied,
        tickets.is_resolved,
        tickets.is_sla_breached,
        tickets.first_response_minutes,
        tickets.resolution_hours,
        tickets.is_business_hours_sla_breached,
        tickets.first_response_business_minutes,
        tickets.resolution_business_hours,
        coalesce(tickets.channel, 'UNKNOWN') as channel,
        coalesce(tickets.priority, 'UNKNOWN') as priority
    from tickets
),

counted as (
    select
        created_date,
        channel,
        priority,
        count(*) as tickets_created,
        count(case when is_replied then 1 end) as tickets_replied,
        count(case when is_resolved then 1 end) as tickets_resolved,
        count(case when is_sla_breached then 1 end) as sla_breaches,
        coalesce(sum(first_response_minutes), 0) as first_response_minutes_sum,
        coalesce(sum(resolution_hours), 0) as resolution_hours_sum,
        percentile_cont(0.5) within group (order by first_response_minutes) as median_first_response_minutes,
        count(case when is_business_hours_sla_breached then 1 end) as business_hours_sla_breaches,
        coalesce(sum(first_response_business_minutes), 0) as first_response_business_minutes_sum,
        coalesce(sum(resolution_business_hours), 0) as resolution_business_hours_sum
    from keyed
    group by created_date, channel, priority
),

measured as (
    select
        created_date,
        channel,
        priority,
        tickets_created,
        tickets_replied,
        tickets_resolved,
        sla_breaches,
        first_response_minutes_sum,
        resolution_hours_sum,
        round(
            {{ safe_divide('first_response_minutes_sum', 'tickets_replied') }}, 4
        ) as avg_first_response_minutes,
        round(median_first_response_minutes, 4) as median_first_response_minutes,
        round({{ safe_divide('resolution_hours_sum', 'tickets_resolved') }}, 4) as avg_resolution_hours,
        round({{ safe_divide('tickets_resolved', 'tickets_created') }}, 6) as resolution_rate,
        round({{ safe_divide('sla_breaches', 'tickets_created') }}, 6) as sla_breach_rate,
        business_hours_sla_breaches,
        round(
            {{ safe_divide('business_hours_sla_breaches', 'tickets_created') }}, 6
        ) as business_hours_sla_breach_rate,
        first_response_business_minutes_sum,
        resolution_business_hours_sum,
        round(
            {{ safe_divide('first_response_business_minutes_sum', 'tickets_replied') }}, 4
        ) as avg_first_response_business_minutes,
        round({{ safe_divide('resolution_business_hours_sum', 'tickets_resolved') }}, 4)
            as avg_resolution_business_hours
    from counted
)

select * from measured
