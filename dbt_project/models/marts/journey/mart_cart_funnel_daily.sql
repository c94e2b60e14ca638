-- One row per day (of the cart start) x device type: the cart funnel of identified
-- customers over fct_customer_journey, built by the funnel macro
-- (macros/journey_analytics.sql). Steps: cart_started (a cart's first Product Added) ->
-- checkout_started -> order_placed (an order in any store). Each cart start opens an
-- attempt; a later step counts when it comes at or after the previous one, within
-- cart_funnel_window_hours of the start and before the customer's next cart start (a new
-- cart closes the attempt of the previous one). Steps are matched by customer and time,
-- not by cart id: the journey's order touchpoint carries the order id, and an order by phone
-- after a web cart counts as its conversion. Anonymous carts (no customer) are not in it.
-- An attempt whose window has not closed by the end of `as_of` and has not ordered yet is
-- open (counted in attempts_open, and already in carts_started).
--
-- Incremental (strategy recent_rows): a run recomputes the days from recompute_from on (the
-- window start minus the late-data lookback), reading the journey from the day before.
{{ config(
    materialized='incremental',
    recompute_column='cart_date',
    on_schema_change='fail',
    **incremental_on('recent_rows', partition_by='cart_date'),
) }}
{%- set window_seconds = (var('cart_funnel_window_hours') * 3600) | round | int %}

with events as (
    select
        customer_id as actor,
        occurred_at as event_at,
        touchpoint as step_name,
        journey_event_id as event_id,
        channel as device_type
    from {{ ref('fct_customer_journey') }}
    where customer_id is not null
        and touchpoint in ('cart_started', 'checkout_started', 'order_placed')
    {%- if is_incremental() %}
        and event_date >= {{ dbt.dateadd('day', -1, recent_rows_start('cart_date')) }}
    {%- endif %}
),

attempts as (
    {{ funnel('events', ['cart_started', 'checkout_started', 'order_placed'], window_seconds,
        entry_columns=['device_type']) }}
)

select
    {{ reporting_date('entered_at') }} as cart_date,
    coalesce(device_type, 'unknown') as device_type,
    count(*) as carts_started,
    count(step_2_at) as checkouts_started,
    count(step_3_at) as orders_placed,
    count(*) - count(step_2_at) as dropped_before_checkout,
    count(step_2_at) - count(step_3_at) as dropped_after_checkout,
    cast(
        sum(
            case when step_3_at is null and deadline_at > {{ as_of_end() }} then 1 else 0 end
        ) as {{ dbt.type_bigint() }}
    ) as attempts_open,
    {{ safe_divide('count(step_2_at)', 'count(*)') }} as checkout_rate,
    {{ safe_divide('count(step_3_at)', 'count(step_2_at)') }} as checkout_to_order_rate,
    {{ safe_divide('count(step_3_at)', 'count(*)') }} as conversion_rate,
    cast(sum({{ dbt.datediff('entered_at', 'step_2_at', 'second') }}) as {{ dbt.type_bigint() }})
        as seconds_to_checkout_sum,
    cast(sum({{ dbt.datediff('entered_at', 'step_3_at', 'second') }}) as {{ dbt.type_bigint() }})
        as seconds_to_order_sum,
    {{ safe_divide('sum(' ~ dbt.datediff('entered_at', 'step_2_at', 'second') ~ ')', 'count(step_2_at) * 60') }}
        as avg_minutes_to_checkout,
    {{ safe_divide('sum(' ~ dbt.datediff('entered_at', 'step_3_at', 'second') ~ ')', 'count(step_3_at) * 60') }}
        as avg_minutes_to_order
from attempts
{%- if is_incremental() %}
where {{ reporting_date('entered_at') }} >= {{ recent_rows_start('cart_date') }}
{%- endif %}
group by 1, 2
