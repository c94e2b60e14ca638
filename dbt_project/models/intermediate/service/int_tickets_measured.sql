-- One row per support ticket created before the end of `as_of`, with the contract's
-- ticket measures (CONTRACT §4): first response = first_agent_reply_date - createdate,
-- resolution = closed_date - createdate, both per ticket. A reply or close after the end
-- of `as_of` has not happened yet. SLA target: the category's target when it has one
-- (RETURN_REQUEST 48 h), else the channel's. A breach is a first response later than the
-- target, or no response yet while the target has passed by the end of `as_of`.
{%- set channel_targets = var('sla_first_response_hours') %}
{%- set category_targets = var('sla_category_first_response_hours') %}
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
            {%- for category, hours in category_targets.items() %}
            when tickets.category = '{{ category }}' then {{ hours }}
            {%- endfor %}
            {%- for channel, hours in channel_targets.items() %}
            when tickets.channel = '{{ channel }}' then {{ hours }}
            {%- endfor %}
        end as sla_target_hours
    from tickets
    left join customers on tickets.contact_id = customers.customer_id
),

measured as (
    select
        timed.*,
        {{ seconds_between('timed.created_at', 'timed.first_replied_at') }} / 60.0 as first_response_minutes,
        {{ seconds_between('timed.created_at', 'timed.closed_at') }} / 3600.0 as resolution_hours,
        {{ seconds_between('timed.created_at', as_of_end()) }} / 3600.0 as hours_open_at_as_of
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
    sla_target_hours,
    coalesce(
        case
            when first_replied_at is not null then first_response_minutes > sla_target_hours * 60
            else hours_open_at_as_of >= sla_target_hours
        end,
        false
    ) as is_sla_breached
from measured
