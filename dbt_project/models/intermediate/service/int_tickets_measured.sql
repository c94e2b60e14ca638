-- One row per support ticket created before the end of `as_of`, with its measures:
-- first response = first_agent_reply_date - createdate, resolution = closed_date -
-- createdate, both per ticket. A reply or close after the end of `as_of` has not happened
-- yet. SLA target (minutes): the category's target when it has one (RETURN_REQUEST 2880),
-- else the channel's (CHAT 5, ...). The deadline is created_at + the target, in exact
-- timestamp arithmetic (no rounding to hours or whole minutes): a reply at or before the
-- deadline is on time, a reply strictly after it is a breach, and a ticket with no reply
-- yet is a breach when its deadline is strictly before the end of `as_of` (a reply at the
-- deadline itself, had it come, would still be on time). A ticket without a target (no
-- known channel or category) is never a breach.
-- Business hours (docs/service-marts.md): each ticket follows its channel's support schedule
-- (var support_schedule_channels; a channel without one, or no channel, is always_open, 24x7).
-- first_response_business_minutes and resolution_business_hours count only the time the
-- schedule is open (int_support_schedule_intervals, DST-correct), exactly to the microsecond.
-- A ticket breaches its target in business hours when the open time from creation to its
-- first reply (or, without a reply yet, to the end of `as_of`) is strictly above the target:
-- a reply after closing time whose open time has not passed the target is on time, and a
-- ticket whose schedule was not open at all in that window is never a breach.
{%- set channel_targets = var('sla_first_response_minutes') %}
{%- set category_targets = var('sla_category_first_response_minutes') %}
{%- set schedule_channels = var('support_schedule_channels', {}) %}
with tickets as (
    select * from {{ ref('stg_crm__tickets') }}
    where created_at < {{ as_of_end() }}
        and not is_archived
),

customers as (
    select customer_id from {{ ref('int_customers_resolvable') }}
),

schedule_intervals as (
    select * from {{ ref('int_support_schedule_intervals') }}
),

timed as (
    select
        tickets.ticket_id,
        customers.customer_id,
        tickets.owner_id,
        tickets.channel,
        tickets.priority,
        tickets.category,
        tickets.created_at,
        {{ reporting_date('tickets.created_at') }} as created_date,
        case when tickets.first_replied_at < {{ as_of_end() }} then tickets.first_replied_at end as first_replied_at,
        case when tickets.closed_at < {{ as_of_end() }} then tickets.closed_at end as closed_at,
        case
            {%- for category, minutes in category_targets.items() %}
            when tickets.category = '{{ category }}' then {{ (minutes * 60) | round | int }}
            {%- endfor %}
            {%- for channel, minutes in channel_targets.items() %}
            when tickets.channel = '{{ channel }}' then {{ (minutes * 60) | round | int }}
            {%- endfor %}
        end as sla_target_seconds,
        {%- if schedule_channels %}
        case
            {%- for channel, schedule in schedule_channels.items() %}
            when tickets.channel = '{{ channel }}' then '{{ schedule }}'
            {%- endfor %}
            else 'always_open'
        end as support_schedule
        {%- else %}
        'always_open' as support_schedule
        {%- endif %}
    from tickets
    left join customers on tickets.contact_id = customers.customer_id
),

measured as (
    select
        timed.*,
        -- the two datediffs render longer than a line on DuckDB
        {{ seconds_between('timed.created_at', 'timed.first_replied_at') }} / 60.0 as first_response_minutes,  -- noqa: LT05
        {{ seconds_between('timed.created_at', 'timed.closed_at') }} / 3600.0 as resolution_hours,  -- noqa: LT05
        {{ dbt.dateadd('second', 'timed.sla_target_seconds', 'timed.created_at') }} as sla_due_at,
        -- the first-response window ends at the reply, or at the end of as_of without one
        coalesce(timed.first_replied_at, {{ as_of_end() }}) as response_window_end
    from timed
),

business_overlaps as (
    -- open time of the ticket's schedule inside its first-response and resolution windows;
    -- always_open tickets need no calendar (their business time is their calendar time)
    select
        measured.ticket_id,
        sum({{ overlap_microseconds('schedule_intervals.opens_at', 'schedule_intervals.closes_at',
            'measured.created_at', 'measured.response_window_end') }}) as response_business_microseconds,
        sum(case when measured.closed_at is not null then {{ overlap_microseconds(
            'schedule_intervals.opens_at', 'schedule_intervals.closes_at', 'measured.created_at', 'measured.closed_at')
        }} else 0 end) as resolution_business_microseconds
    from measured
    inner join schedule_intervals
        on
            measured.support_schedule = schedule_intervals.schedule_name
            and measured.created_at < schedule_intervals.closes_at
            and schedule_intervals.opens_at < greatest(
                measured.response_window_end, coalesce(measured.closed_at, measured.response_window_end)
            )
    where measured.support_schedule <> 'always_open'
    group by measured.ticket_id
),

business_timed as (
    select
        measured.*,
        case
            when measured.support_schedule = 'always_open'
                then {{ microseconds_between('measured.created_at', 'measured.response_window_end') }}
            else coalesce(business_overlaps.response_business_microseconds, 0)
        end as response_business_microseconds,
        case
            when measured.closed_at is null then null
            when measured.support_schedule = 'always_open'
                then {{ microseconds_between('measured.created_at', 'measured.closed_at') }}
            else coalesce(business_overlaps.resolution_business_microseconds, 0)
        end as resolution_business_microseconds
    from measured
    left join business_overlaps on measured.ticket_id = business_overlaps.ticket_id
)

select
    ticket_id,
    customer_id,
    owner_id,
    channel,
    priority,
    category,
    created_at,
    created_date,
    first_replied_at,
    closed_at,
    first_replied_at is not null as is_replied,
    closed_at is not null as is_resolved,
    first_response_minutes,
    resolution_hours,
    sla_target_seconds / 60.0 as sla_target_minutes,
    sla_due_at,
    coalesce(
        case
            when first_replied_at is not null then first_replied_at > sla_due_at
            else sla_due_at < {{ as_of_end() }}
        end,
        false
    ) as is_sla_breached,
    support_schedule,
    case
        when first_replied_at is not null then response_business_microseconds / 60000000.0
    end as first_response_business_minutes,
    resolution_business_microseconds / 3600000000.0 as resolution_business_hours,
    coalesce(
        response_business_microseconds > cast(sla_target_seconds as {{ dbt.type_bigint() }}) * 1000000, false
    ) as is_business_hours_sla_breached
from business_timed
