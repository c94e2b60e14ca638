-- One row per customer and UTC day with at least one counted order: the purchase history
-- the predicted-LTV models count in (BG/NBD counts purchase days, not orders). The Python
-- marts (dagster_project/marts/) read it on either engine and roll it up per customer as of
-- their cut-off day.
with

counted_orders as (
    select
        customer_id,
        {{ microseconds_between("cast('1970-01-01 00:00:00' as timestamp)", 'ordered_at') }} as ordered_us,  -- noqa: LT05
        coalesce(net_revenue, 0) as net_revenue
    from {{ ref('int_orders_converted') }}
    where is_counted and customer_id is not null
),

dated as (
    select
        customer_id,
        ordered_us,
        net_revenue,
        -- days since 1970-01-01 UTC; exact: a microsecond count below 2^53 divides exactly
        cast(floor(cast(ordered_us as double) / 86400000000) as bigint) as purchase_day
    from counted_orders
)

select
    customer_id,
    purchase_day,
    sum(net_revenue) as day_revenue,
    count(*) as day_orders,
    min(ordered_us) as first_ordered_us,
    max(ordered_us) as last_ordered_us
from dated
group by customer_id, purchase_day
