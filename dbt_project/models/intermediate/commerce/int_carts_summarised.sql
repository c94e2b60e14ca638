-- One row per cart: a cart_id with at least one `Product Added` (CONTRACT §4). It starts at
-- its first Product Added; it converts when an Order Completed with the same cart_id
-- happens within cart_abandonment_window_hours of the start; it is abandoned when it has
-- not converted and the window has passed by the end of `as_of`; otherwise it is open.
-- A recovered cart is an abandoned cart whose identified customer places a counted order,
-- in any channel, within cart_recovery_days after the window closed.
{%- set window_minutes = (var('cart_abandonment_window_hours') * 60) | int %}
with events as (
    select * from {{ ref('int_cart_events_identified') }}
    where cart_id is not null
),

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
        and counted_orders.ordered_at > classified.window_ends_at
        and counted_orders.ordered_at <= {{ dbt.dateadd('day', var('cart_recovery_days'), 'classified.window_ends_at') }}
    where classified.cart_status = 'abandoned'
    group by classified.cart_id
)

select
    classified.*,
    recoveries.recovered_at,
    recoveries.recovered_at is not null as is_recovered
from classified
left join recoveries on classified.cart_id = recoveries.cart_id
