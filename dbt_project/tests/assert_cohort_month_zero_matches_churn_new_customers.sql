-- Each cohort's month-0 customers of mart_customer_cohorts_monthly against the new customers
-- of mart_churn_monthly (all segments). The two definitions differ by design: churn counts as
-- new everyone active at the month's end but not at its start, which is the customers who
-- first ordered that month plus those who come back after churn_inactivity_days (90) without
-- a counted order (reactivations). So the relation that holds, month by month, is
--   sum over segments of new_customers = month-0 customers_active + reactivated customers,
-- reactivated = a counted order this month (up to as_of), none in the 90 days ending the day
-- before the month starts, and an older one. A row is a month where it does not hold.
{%- set active_days = var('churn_inactivity_days') | int %}
with churn as (
    select
        month_start,
        sum(new_customers) as churn_new_customers
    from {{ ref('mart_churn_monthly') }}
    group by month_start
),

cohort_month_zero as (
    select
        cohort_month as month_start,
        customers_active as first_order_customers
    from {{ ref('mart_customer_cohorts_monthly') }}
    where months_since_first_order = 0
),

orders as (
    select
        customer_id,
        order_date,
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as order_month
    from {{ ref('int_orders_converted') }}
    where is_counted and customer_id is not null and order_date <= {{ as_of_date() }}
),

buyers as (
    select distinct customer_id, order_month from orders
),

reactivated as (
    select
        buyers.order_month as month_start,
        count(*) as reactivated_customers
    from buyers
    where exists (
        select 1 from orders as older
        where older.customer_id = buyers.customer_id
            and older.order_date < cast({{ dbt.dateadd('day', -active_days, 'buyers.order_month') }} as date)
    )
        and not exists (
            select 1 from orders as recent
            where recent.customer_id = buyers.customer_id
                and recent.order_date >= cast({{ dbt.dateadd('day', -active_days, 'buyers.order_month') }} as date)
                and recent.order_date < buyers.order_month
        )
    group by buyers.order_month
),

compared as (
    select
        coalesce(churn.month_start, cohort_month_zero.month_start) as month_start,
        coalesce(churn.churn_new_customers, 0) as churn_new_customers,
        coalesce(cohort_month_zero.first_order_customers, 0) as first_order_customers,
        coalesce(reactivated.reactivated_customers, 0) as reactivated_customers
    from churn
    full outer join cohort_month_zero on churn.month_start = cohort_month_zero.month_start
    left join reactivated on coalesce(churn.month_start, cohort_month_zero.month_start) = reactivated.month_start
)

select *
from compared
where churn_new_customers <> first_order_customers + reactivated_customers
