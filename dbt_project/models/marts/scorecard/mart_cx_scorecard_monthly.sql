-- One row per calendar month (reporting time zone): the CX KPIs side by side, each one
-- recomputed from the monthly sums of its additive daily mart (never re-derived from raw
-- events differently), so a number here always agrees with its own mart:
--   nps                    = 100 x (promoters - detractors) / responses        (mart_nps_daily)
--   csat_pct / ces_pct     = 100 x satisfied | low-effort / responses         (mart_csat_daily, mart_ces_daily)
--   cart_abandonment_rate  = abandoned / (converted + abandoned)              (mart_cart_abandonment_daily)
--   call_abandonment_rate  = abandoned / (offered - short_abandoned)          (mart_call_center_daily)
--   avg_first_response_minutes, avg_resolution_hours, ticket_resolution_rate  (mart_support_tickets_daily)
--   positive_review_rate / negative_review_rate = positive | negative / reviews (mart_reviews_daily)
--   churn_rate / retention_rate = churned | retained / customers at start, all segments (mart_churn_monthly)
--   repeat_order_rate      = repeat orders / orders                           (mart_repeat_purchase_monthly)
--   avg_historical_ltv     = net revenue to the month's end / customers with an order by then
with nps as (
    select
        cast({{ dbt.date_trunc('month', 'response_date') }} as date) as month_start,
        sum(responses) as nps_responses,
        sum(promoters) as promoters,
        sum(detractors) as detractors
    from {{ ref('mart_nps_daily') }}
    group by 1
),

csat as (
    select
        cast({{ dbt.date_trunc('month', 'response_date') }} as date) as month_start,
        sum(responses) as csat_responses,
        sum(satisfied_responses) as satisfied_responses
    from {{ ref('mart_csat_daily') }}
    group by 1
),

ces as (
    select
        cast({{ dbt.date_trunc('month', 'response_date') }} as date) as month_start,
        sum(responses) as ces_responses,
        sum(low_effort_responses) as low_effort_responses
    from {{ ref('mart_ces_daily') }}
    group by 1
),

carts as (
    select
        cast({{ dbt.date_trunc('month', 'cart_date') }} as date) as month_start,
        sum(carts_converted) as carts_converted,
        sum(carts_abandoned) as carts_abandoned
    from {{ ref('mart_cart_abandonment_daily') }}
    group by 1
),

calls as (
    select
        cast({{ dbt.date_trunc('month', 'call_date') }} as date) as month_start,
        sum(abandoned_calls) as abandoned_calls,
        sum(offered_calls) - sum(short_abandoned_calls) as calls_in_abandonment_base
    from {{ ref('mart_call_center_daily') }}
    group by 1
),

tickets as (
    select
        cast({{ dbt.date_trunc('month', 'created_date') }} as date) as month_start,
        sum(tickets_created) as tickets_created,
        sum(tickets_replied) as tickets_replied,
        sum(tickets_resolved) as tickets_resolved,
        sum(first_response_minutes_sum) as first_response_minutes_sum,
        sum(resolution_hours_sum) as resolution_hours_sum
    from {{ ref('mart_support_tickets_daily') }}
    group by 1
),

reviews as (
    select
        cast({{ dbt.date_trunc('month', 'review_date') }} as date) as month_start,
        sum(reviews) as reviews,
        sum(positive_reviews) as positive_reviews,
        sum(negative_reviews) as negative_reviews
    from {{ ref('mart_reviews_daily') }}
    group by 1
),

churn as (
    select
        month_start,
        sum(customers_at_start) as customers_at_start,
        sum(churned_customers) as churned_customers,
        sum(customers_at_end - new_customers) as retained_customers
    from {{ ref('mart_churn_monthly') }}
    group by 1
),

repeats as (
    select month_start, orders, repeat_orders
    from {{ ref('mart_repeat_purchase_monthly') }}
),

order_months as (
    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as month_start,
        sum(net_revenue) as net_revenue
    from {{ ref('int_orders_converted') }}
    where is_counted and customer_id is not null
    group by 1, 2
),

first_order_months as (
    select customer_id, min(month_start) as first_month
    from order_months
    group by 1
),

months as (
    select month_start from nps
    union
    select month_start from csat
    union
    select month_start from ces
    union
    select month_start from carts
    union
    select month_start from calls
    union
    select month_start from tickets
    union
    select month_start from reviews
    union
    select month_start from churn
    union
    select month_start from repeats
),

lifetime_value as (
    -- cumulative net revenue and customers up to each month's end
    select
        months.month_start,
        (
            select sum(order_months.net_revenue) from order_months
            where order_months.month_start <= months.month_start
        ) as revenue_to_date,
        (
            select count(*) from first_order_months
            where first_order_months.first_month <= months.month_start
        ) as customers_to_date
    from months
),

joined as (
    select
        months.month_start,
        nps.nps_responses,
        nps.promoters,
        nps.detractors,
        csat.csat_responses,
        csat.satisfied_responses,
        ces.ces_responses,
        ces.low_effort_responses,
        carts.carts_converted,
        carts.carts_abandoned,
        calls.abandoned_calls,
        calls.calls_in_abandonment_base,
        tickets.tickets_created,
        tickets.tickets_replied,
        tickets.tickets_resolved,
        tickets.first_response_minutes_sum,
        tickets.resolution_hours_sum,
        reviews.reviews,
        reviews.positive_reviews,
        reviews.negative_reviews,
        churn.customers_at_start,
        churn.churned_customers,
        churn.retained_customers,
        repeats.orders,
        repeats.repeat_orders,
        lifetime_value.revenue_to_date,
        lifetime_value.customers_to_date
    from months
    left join nps on months.month_start = nps.month_start
    left join csat on months.month_start = csat.month_start
    left join ces on months.month_start = ces.month_start
    left join carts on months.month_start = carts.month_start
    left join calls on months.month_start = calls.month_start
    left join tickets on months.month_start = tickets.month_start
    left join reviews on months.month_start = reviews.month_start
    left join churn on months.month_start = churn.month_start
    left join repeats on months.month_start = repeats.month_start
    left join lifetime_value on months.month_start = lifetime_value.month_start
),

scored as (
    select
        joined.*,
        {{ safe_divide('promoters', 'nps_responses') }} as promoter_share,
        {{ safe_divide('detractors', 'nps_responses') }} as detractor_share
    from joined
)

select
    month_start,
    100.0 * {{ safe_divide('promoters - detractors', 'nps_responses') }} as nps,
    round(1.96 * 100.0 * sqrt(
        (promoter_share + detractor_share - (promoter_share - detractor_share) * (promoter_share - detractor_share))
        / nps_responses
    ), 4) as nps_margin_of_error,
    100.0 * {{ safe_divide('satisfied_responses', 'csat_responses') }} as csat_pct,
    100.0 * {{ safe_divide('low_effort_responses', 'ces_responses') }} as ces_pct,
    {{ safe_divide('carts_abandoned', 'carts_converted + carts_abandoned') }} as cart_abandonment_rate,
    {{ safe_divide('abandoned_calls', 'calls_in_abandonment_base') }} as call_abandonment_rate,
    {{ safe_divide('first_response_minutes_sum', 'tickets_replied') }} as avg_first_response_minutes,
    {{ safe_divide('resolution_hours_sum', 'tickets_resolved') }} as avg_resolution_hours,
    {{ safe_divide('tickets_resolved', 'tickets_created') }} as ticket_resolution_rate,
    {{ safe_divide('positive_reviews', 'reviews') }} as positive_review_rate,
    {{ safe_divide('negative_reviews', 'reviews') }} as negative_review_rate,
    {{ safe_divide('churned_customers', 'customers_at_start') }} as churn_rate,
    {{ safe_divide('retained_customers', 'customers_at_start') }} as retention_rate,
    {{ safe_divide('repeat_orders', 'orders') }} as repeat_order_rate,
    cast({{ safe_divide('revenue_to_date', 'customers_to_date') }} as {{ dbt.type_numeric() }}) as avg_historical_ltv,
    nps_responses,
    csat_responses,
    ces_responses,
    tickets_created,
    reviews,
    customers_at_start,
    orders
from scored
