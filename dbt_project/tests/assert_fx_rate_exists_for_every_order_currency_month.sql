-- Every order converts to the reporting currency: one row per (currency, month) that has
-- orders but no rate in fx_rates_monthly, naming the currency whose rate is missing (the
-- order's, or the reporting currency's own rate against EUR), with how many orders wait for
-- it. An order already in the reporting currency never needs a rate. Add the rows to
-- seeds/fx_rates_monthly.csv and run again: the orders held without a rate are recomputed.
-- A failure blocks what is built from the orders (revenue, LTV, churn, repeat purchase),
-- nothing else.
{{ config(meta={'dagster': {'ref': {'name': 'int_orders_converted'}}}) }}

with unconverted as (
    select
        currency_code,
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as month_start,
        count(*) as orders
    from {{ ref('int_orders_converted') }}
    where fx_rate is null and currency_code is not null
    group by currency_code, cast({{ dbt.date_trunc('month', 'order_date') }} as date)
),

rates as (
    select currency_code, month_start from {{ ref('fx_rates_monthly') }}
),

missing as (
    -- the order's currency has no rate that month
    select unconverted.currency_code as missing_currency, unconverted.month_start, unconverted.orders
    from unconverted
    left join rates
        on unconverted.currency_code = rates.currency_code and unconverted.month_start = rates.month_start
    where rates.currency_code is null and unconverted.currency_code <> 'EUR'
    union all
    -- the reporting currency has no rate that month (every foreign order of the month waits)
    select '{{ var("reporting_currency") }}', unconverted.month_start, unconverted.orders
    from unconverted
    left join rates
        on rates.currency_code = '{{ var("reporting_currency") }}' and unconverted.month_start = rates.month_start
    where rates.currency_code is null and '{{ var("reporting_currency") }}' <> 'EUR'
)

select
    missing_currency as currency_code,
    month_start,
    sum(orders) as orders_without_rate,
    'no exchange rate for ' || missing_currency || ' in ' || cast(month_start as {{ dbt.type_string() }})
        || ' (add it to seeds/fx_rates_monthly.csv)' as problem
from missing
group by missing_currency, month_start
