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
{%- set channel_targets = var('sla_first_response_minutes') %}
{%- set category_targets = var('sla_category_first_response_minutes') %}
with tickets as (
    select * from {{ ref('stg_crm__tickets') }}
    where created_at < {{ as_of_end() }}
        and not is_archived
),

customers as (
    select customer_id from {{ ref('int_customers_resolvable') }}
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
        end as sla_target_seconds
    from tickets
    left join customers on tickets.contact_id = customers.customer_id
),

measured as (
    select
        timed.*,
        {{ seconds_between('timed.created_at', 'timed.first_replied_at') }} / 60.0 as first_response_minutes,
        {{ seconds_between('timed.created_at', 'timed.closed_at') }} / 3600.0 as resolution_hours,
        {{ dbt.dateadd('second', 'timed.sla_target_seconds', 'timed.created_at') }} as sla_due_at
    from timed
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
    ) as is_sla_breached
from measured
