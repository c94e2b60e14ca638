-- One row per cohort month x months since the first order: the retention grid. A
-- customer's cohort is the month (of order_date, reporting time zone) of their first
-- counted order; months_since_first_order = 0 is that month. For every cohort, every month
-- from it to the month of `as_of` has a row (zeros included). customers_active: the cohort's
-- customers with a counted order in that month; orders and net_revenue: their counted
-- orders (net revenue in the reporting currency); cumulative_net_revenue: the cohort's net
-- revenue from month 0 through this month; cumulative_net_revenue_per_customer =
-- cumulative_net_revenue / cohort_customers; retention_rate = customers_active /
-- cohort_customers. Orders of no identified customer are in no cohort.
-- Month 0's customers_active is every new customer of the month: a customer is "new" in
-- mart_churn_monthly also when they return after churn_inactivity_days without an order
-- (a reactivation), so its new_customers = month-0 customers + reactivations
-- (tests/assert_cohort_month_zero_matches_churn_new_customers.sql).
with orders as (
    select * from {{ ref('int_orders_converted') }}
    where is_counted and customer_id is not null
        and order_date <= {{ as_of_date() }}
),

order_months as (
    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as order_month,
        net_revenue
    from orders
),

first_months as (
    select
        customer_id,
        min(order_month) as cohort_month
    from order_months
    group by customer_id
),

cohorts as (
    select
        cohort_month,
        count(*) as cohort_customers
    from first_months
    group by cohort_month
),

months as (
    {{ month_spine('(select min(cohort_month) from cohorts)', as_of_date(), 'activity_month') }}
),

grid as (
    select
        cohorts.cohort_month,
        cohorts.cohort_customers,
        months.activity_month,
        -- the datediff renders longer than a line on DuckDB
        {{ dbt.datediff('cohorts.cohort_month', 'months.activity_month', 'month') }} as months_since_first_order  -- noqa: LT05
    from cohorts
    inner join months on cohorts.cohort_month <= months.activity_month
),

activity as (
    select
        first_months.cohort_month,
        order_months.order_month as activity_month,
        count(distinct order_months.customer_id) as customers_active,
        count(*) as orders,
        sum(order_months.net_revenue) as net_revenue
    from order_months
    inner join first_months on order_months.customer_id = first_months.customer_id
    group by first_months.cohort_month, order_months.order_month
),

filled as (
    select
        grid.cohort_month,
        grid.months_since_first_order,
        grid.activity_month,
        grid.cohort_customers,
        coalesce(activity.customers_active, 0) as customers_active,
        coalesce(activity.orders, 0) as orders,
        coalesce(activity.net_revenue, 0) as net_revenue
    from grid
    left join activity
        on
            grid.cohort_month = activity.cohort_month
            and grid.activity_month = activity.activity_month
),

cumulated as (
    select
        filled.*,
        sum(filled.net_revenue) over (
            partition by filled.cohort_month order by filled.months_since_first_order
            rows between unbounded preceding and current row
        ) as cumulative_net_revenue
    from filled
)

select
    cohort_month,
    months_since_first_order,
    activity_month,
    cohort_customers,
    customers_active,
    orders,
    net_revenue,
    cumulative_net_revenue,
    round({{ safe_divide('cumulative_net_revenue', 'cohort_customers') }}, 4) as cumulative_net_revenue_per_customer,
    round({{ safe_divide('customers_active', 'cohort_customers') }}, 6) as retention_rate
from cumulated
