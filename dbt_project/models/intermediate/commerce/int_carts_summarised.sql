-- One row per cart: a cart_id with at least one `Product Added` (CONTRACT §4). It starts at
-- its first Product Added; it converts when an Order Completed with the same cart_id
-- happens within cart_abandonment_window_hours of the start; it is abandoned when it has
-- not converted and the window has passed by the end of `as_of`; otherwise it is open.
-- A recovered cart is an abandoned cart whose identified customer places a counted order,
-- in any channel, within cart_recovery_days after the window closed.
{%- set window_minutes = (var('cart_abandonment_window_hours') * 60) | int %}
--
-- Incremental (delete+insert on cart_id): a run recomputes the carts whose status or
-- recovery can have changed, and keeps every other cart as it is:
-- - carts with an event int_cart_events_identified rewrote since this model last ran
--   (new and late events, devices re-identified by a login, contacts edited or erased):
--   events whose identified_at is later than the newest last_identified_at held here;
-- - carts held as open: the window may have closed by the new as_of;
-- - abandoned carts of a contact that owns, or owned, an order with a version exported
--   from recompute_from on (a new order may recover them, a cancellation un-recover them).
-- summarised_as_of, last_identified_at and owner_changed_as_of (the as_of of the run that
-- gave a held cart another customer: fct_customer_journey renumbers both owners) are this
-- bookkeeping; marts do not carry them.
-- depends_on: {{ ref('stg_crm__order_versions') }}
{{ config(
    materialized='incremental',
    unique_key='cart_id',
    on_schema_change='fail',
    **incremental_on('delete+insert', partition_by='cart_date'),
) }}
{#- The identified events are read in each branch rather than through one CTE: a CTE with
    several readers is materialized whole (16 M rows) before any reader filters it. -#}
{%- set cart_events = ref('int_cart_events_identified') %}
with
{% if is_incremental() %}
changed_orders as (
    select order_id
    from {{ ref('stg_crm__order_versions') }}
    where {{ incremental_dt_filter('exported_dt', 'summarised_as_of') }}
),

touched_carts as (
    select cart_events.cart_id
    from {{ cart_events }} as cart_events
    where cart_events.cart_id is not null
        and cart_events.identified_at
            > {{ held_max(this, 'last_identified_at', dbt.type_timestamp(), '1900-01-01 00:00:00') }}
    union all
    select held.cart_id
    from {{ this }} as held
    where held.cart_status = 'open'
    union all
    select held.cart_id
    from {{ this }} as held
    where held.cart_status = 'abandoned'
        and held.customer_id in (
            select versions.contact_id
            from {{ ref('stg_crm__order_versions') }} as versions
            where versions.order_id in (select changed_orders.order_id from changed_orders)
        )
),

events as (
    select *
    from {{ cart_events }}
    where cart_id in (select touched_carts.cart_id from touched_carts)
),
{% else %}
events as (
    select * from {{ cart_events }}
    where cart_id is not null
),
{% endif %}

counted_orders as (
    select customer_id, ordered_at
    from {{ ref('int_orders_converted') }}
    where is_counted and customer_id is not null
),

starts as (
    select
        cart_id,
        min(occurred_at) as started_at
    from events
    where event_name = 'Product Added'
    group by cart_id
),

first_events as (
    select cart_id, device_type
    from (
        select
            events.cart_id,
            events.device_type,
            row_number() over (partition by events.cart_id order by events.occurred_at, events.message_id) as event_rank
        from events
        where events.event_name = 'Product Added'
    ) as ranked
    where event_rank = 1
),

cart_customers as (
    -- the cart's customer: from its earliest identified event
    select cart_id, customer_id
    from (
        select
            events.cart_id,
            events.customer_id,
            row_number() over (partition by events.cart_id order by events.occurred_at, events.message_id) as event_rank
        from events
        where events.customer_id is not null
    ) as ranked
    where event_rank = 1
),

windows as (
    select
        starts.cart_id,
        starts.started_at,
        {{ dbt.dateadd('minute', window_minutes, 'starts.started_at') }} as window_ends_at
    from starts
),

milestones as (
    select
        windows.cart_id,
        max(events.identified_at) as last_identified_at,
        min(case when events.event_name = 'Checkout Started' then events.occurred_at end) as checkout_started_at,
        min(
            case
                when events.event_name = 'Order Completed'
                    and events.occurred_at >= windows.started_at
                    and events.occurred_at <= windows.window_ends_at
                    then events.occurred_at
            end
        ) as converted_at,
        min(case when events.event_name = 'Order Completed' then events.occurred_at end) as first_order_completed_at
    from windows
    inner join events on windows.cart_id = events.cart_id
    group by windows.cart_id
),

classified as (
    select
        windows.cart_id,
        cart_customers.customer_id,
        coalesce(first_events.device_type, 'unknown') as device_type,
        windows.started_at,
        {{ reporting_date('windows.started_at') }} as cart_date,
        windows.window_ends_at,
        milestones.checkout_started_at,
        milestones.converted_at,
        milestones.first_order_completed_at,
        milestones.last_identified_at,
        milestones.checkout_started_at is not null as has_checkout,
        case
            when milestones.converted_at is not null then 'converted'
            when windows.window_ends_at <= {{ as_of_end() }} then 'abandoned'
            else 'open'
        end as cart_status
    from windows
    inner join milestones on windows.cart_id = milestones.cart_id
    left join first_events on windows.cart_id = first_events.cart_id
    left join cart_customers on windows.cart_id = cart_customers.cart_id
),

recoveries as (
    select
        classified.cart_id,
        min(counted_orders.ordered_at) as recovered_at
    from classified
    inner join counted_orders
        on classified.customer_id = counted_orders.customer_id
            and classified.window_ends_at < counted_orders.ordered_at
            and counted_orders.ordered_at
            <= {{ dbt.dateadd('day', var('cart_recovery_days'), 'classified.window_ends_at') }}
    where classified.cart_status = 'abandoned'
    group by classified.cart_id
)

select
    classified.cart_id,
    classified.customer_id,
    classified.device_type,
    classified.started_at,
    classified.cart_date,
    classified.window_ends_at,
    classified.checkout_started_at,
    classified.converted_at,
    classified.first_order_completed_at,
    classified.has_checkout,
    classified.cart_status,
    recoveries.recovered_at,
    recoveries.recovered_at is not null as is_recovered,
    {{ as_of_date() }} as summarised_as_of,
    classified.last_identified_at,
    {% if is_incremental() -%}
    case
        when held.cart_id is not null and held.customer_id is distinct from classified.customer_id
            then {{ as_of_date() }}
        else held.owner_changed_as_of
    end
    {%- else -%}
    cast(null as date)
    {%- endif %} as owner_changed_as_of
from classified
left join recoveries on classified.cart_id = recoveries.cart_id
{% if is_incremental() -%}
left join {{ this }} as held on classified.cart_id = held.cart_id
{%- endif %}
