-- One row per month (of the conversion) x conversion type x touch kind: recovered carts
-- and repeat orders, and their revenue, attributed to the service touches before them
-- (fct_conversion_touches) by last touch, first touch and linear weights. Per month and
-- conversion type, each model's conversions sum to the number of conversions and its
-- revenue to their revenue (touch_kind 'none': no touch in the lookback). Revenue is
-- numeric and linear_conversions rounded to 6 decimals, so a sum does not depend on the
-- order rows are added in (an incremental run gives the same table as a full refresh).
select
    month_start,
    conversion_type,
    touch_kind,
    count(touch_event_id) as touches,
    count(distinct conversion_id) as conversions_touched,
    sum(last_touch_weight) as last_touch_conversions,
    sum(first_touch_weight) as first_touch_conversions,
    round(sum(linear_weight), 6) as linear_conversions,
    sum(last_touch_revenue) as last_touch_revenue,
    sum(first_touch_revenue) as first_touch_revenue,
    sum(linear_revenue) as linear_revenue
from {{ ref('fct_conversion_touches') }}
group by month_start, conversion_type, touch_kind
