-- One row per cart date x device type (CONTRACT §3): the carts that started that day, by
-- their status relative to `as_of` (int_carts_summarised: converted within the window,
-- abandoned once the window has passed by the end of as_of, else open).
-- cart_abandonment_rate = abandoned / (converted + abandoned): open carts are undecided and
-- left out. checkout_abandonment_rate = abandoned carts that started checkout / carts that
-- started checkout and are not open. Counts are additive: sum them over any slice and
-- recompute the rates from the sums (checkouts_abandoned and checkouts_closed are the
-- checkout rate's numerator and denominator).
with carts as (
    select * from {{ ref('int_carts_summarised') }}
),

counted as (
    select
        cart_date,
        device_type,
        count(*) as carts_started,
        sum(case when has_checkout then 1 else 0 end) as checkouts_started,
        sum(case when cart_status = 'converted' then 1 else 0 end) as carts_converted,
        sum(case when cart_status = 'abandoned' then 1 else 0 end) as carts_abandoned,
        sum(case when cart_status = 'open' then 1 else 0 end) as carts_open,
        sum(case when cart_status = 'abandoned' and is_recovered then 1 else 0 end) as carts_recovered,
        sum(case when cart_status = 'abandoned' and has_checkout then 1 else 0 end) as checkouts_abandoned,
        sum(case when cart_status <> 'open' and has_checkout then 1 else 0 end) as checkouts_closed
    from carts
    group by cart_date, device_type
),

rated as (
    select
        counted.*,
        {{ safe_divide('counted.carts_abandoned', 'counted.carts_converted + counted.carts_abandoned') }}
            as cart_abandonment_rate,
        {{ safe_divide('counted.checkouts_abandoned', 'counted.checkouts_closed') }} as checkout_abandonment_rate,
        {{ safe_divide('counted.carts_recovered', 'counted.carts_abandoned') }} as cart_recovery_rate
    from counted
)

select
    cart_date,
    device_type,
    cast(carts_started as {{ dbt.type_bigint() }}) as carts_started,
    cast(checkouts_started as {{ dbt.type_bigint() }}) as checkouts_started,
    cast(carts_converted as {{ dbt.type_bigint() }}) as carts_converted,
    cast(carts_abandoned as {{ dbt.type_bigint() }}) as carts_abandoned,
    cast(carts_open as {{ dbt.type_bigint() }}) as carts_open,
    cast(carts_recovered as {{ dbt.type_bigint() }}) as carts_recovered,
    cart_abandonment_rate,
    checkout_abandonment_rate,
    cast(checkouts_abandoned as {{ dbt.type_bigint() }}) as checkouts_abandoned,
    cast(checkouts_closed as {{ dbt.type_bigint() }}) as checkouts_closed,
    cart_recovery_rate
from rated
