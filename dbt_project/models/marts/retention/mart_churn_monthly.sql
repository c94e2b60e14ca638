-- One row per month x customer segment (CONTRACT §3, §4 "Churn (non-contractual)"), from
-- the month of the first counted order of an identified customer to the month of `as_of`.
-- A customer is active on day d when they have a counted order in the
-- churn_inactivity_days (90) days ending on d, i.e. in [d - 89, d]. For a month:
-- S = active on the day before it starts, E = active on its last day (as_of for the
-- current month), N = active at E but not at S. churned = S - (E - N);
-- churn_rate = churned / S; retention_rate = (E - N) / S.
-- Scales without a customer x day grid: each order opens the interval
-- [order_date, order_date + 89]; overlapping (or touching) intervals of a customer merge
-- into activity intervals, and only the two boundary days of each month are tested
-- against them. Work is linear in orders, plus active customers x months.
-- Segment: the customer's current CRM segment, 'unknown' when missing.
{%- set active_days = var('churn_inactivity_days') | int %}
with orders as (
    select * from {{ ref('int_orders_converted') }}
    where is_counted and customer_id is not null
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

customer_order_days as (
    select distinct
        customer_id,
        order_date
    from orders
),

order_days_with_previous as (
    select
        customer_order_days.customer_id,
        customer_order_days.order_date,
        lag(customer_order_days.order_date) over (
            partition by customer_order_days.customer_id order by customer_order_days.order_date
        ) as previous_order_date
    from customer_order_days
),

interval_starts_flagged as (
    -- a new activity interval starts when the previous order's interval ended before the
    -- day before this order (a gap of at least one inactive day)
    select
        customer_id,
        order_date,
        case
            when previous_order_date is null then 1
            when order_date > cast({{ dbt.dateadd('day', active_days, 'previous_order_date') }} as date) then 1
            else 0
        end as starts_interval
    from order_days_with_previous
),

intervals_numbered as (
    select
        customer_id,
        order_date,
        sum(starts_interval) over (
            partition by customer_id order by order_date rows between unbounded preceding and current row
        ) as interval_number
    from interval_starts_flagged
),

activity_intervals as (
    -- disjoint per customer: a day is covered by at most one interval of a customer
    select
        customer_id,
        interval_number,
        min(order_date) as active_from,
        cast({{ dbt.dateadd('day', active_days - 1, 'max(order_date)') }} as date) as active_until
    from intervals_numbered
    group by customer_id, interval_number
),

months as (
    {{ month_spine('(select min(order_date) from customer_order_days)', as_of_date()) }}
),

month_boundaries as (
    select
        month_start,
        cast({{ dbt.dateadd('day', -1, 'month_start') }} as date) as start_boundary_date,
        least(
            cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, 'month_start')) }} as date),
            {{ as_of_date() }}
        ) as end_boundary_date
    from months
),

boundary_days as (
    select month_start, start_boundary_date as boundary_date, 1 as is_start_boundary
    from month_boundaries
    union all
    select month_start, end_boundary_date as boundary_date, 0 as is_start_boundary
    from month_boundaries
),

customer_month_activity as (
    -- one row per customer x month with activity at either boundary
    select
        activity_intervals.customer_id,
        boundary_days.month_start,
        max(case when boundary_days.is_start_boundary = 1 then 1 else 0 end) as is_active_at_start,
        max(case when boundary_days.is_start_boundary = 0 then 1 else 0 end) as is_active_at_end
    from activity_intervals
    inner join boundary_days
        on activity_intervals.active_from <= boundary_days.boundary_date
            and activity_intervals.active_until >= boundary_days.boundary_date
    group by activity_intervals.customer_id, boundary_days.month_start
),

customer_segments as (
    select
        customers.customer_id,
        coalesce(contacts.segment, 'unknown') as segment
    from (select distinct customer_id from customer_order_days) as customers
    left join contacts on customers.customer_id = contacts.contact_id
),

segment_months as (
    select
        customer_month_activity.month_start,
        customer_segments.segment,
        sum(customer_month_activity.is_active_at_start) as customers_at_start,
        sum(customer_month_activity.is_active_at_end) as customers_at_end,
        sum(
            case
                when customer_month_activity.is_active_at_end = 1 and customer_month_activity.is_active_at_start = 0
                    then 1
                else 0
            end
        ) as new_customers
    from customer_month_activity
    inner join customer_segments on customer_month_activity.customer_id = customer_segments.customer_id
    group by customer_month_activity.month_start, customer_segments.segment
),

segments as (
    select distinct segment from customer_segments
),

month_segment_grid as (
    -- every month for every segment, so a segment's series has no holes
    select
        month_boundaries.month_start,
        month_boundaries.end_boundary_date,
        segments.segment
    from month_boundaries
    cross join segments
),

counted as (
    select
        month_segment_grid.month_start,
        month_segment_grid.segment,
        month_segment_grid.end_boundary_date,
        cast(coalesce(segment_months.customers_at_start, 0) as {{ dbt.type_bigint() }}) as customers_at_start,
        cast(coalesce(segment_months.new_customers, 0) as {{ dbt.type_bigint() }}) as new_customers,
        cast(coalesce(segment_months.customers_at_end, 0) as {{ dbt.type_bigint() }}) as customers_at_end
    from month_segment_grid
    left join segment_months
        on month_segment_grid.month_start = segment_months.month_start
            and month_segment_grid.segment = segment_months.segment
),

measured as (
    select
        counted.*,
        counted.customers_at_end - counted.new_customers as retained_customers,
        counted.customers_at_start - (counted.customers_at_end - counted.new_customers) as churned_customers
    from counted
),

rated as (
    select
        measured.*,
        {{ safe_divide('measured.churned_customers', 'measured.customers_at_start') }} as churn_rate,
        {{ safe_divide('measured.retained_customers', 'measured.customers_at_start') }} as retention_rate
    from measured
)

select
    month_start,
    segment,
    customers_at_start,
    new_customers,
    churned_customers,
    customers_at_end,
    churn_rate,
    retention_rate,
    retained_customers,
    end_boundary_date as measured_at_date
from rated
