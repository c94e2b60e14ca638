-- One row per CRM order as of `as_of`, tied to its contact, with the revenue rules: an
-- order counts unless cancelled (or deleted); its net revenue is total - refund, converted
-- to the reporting currency at the rate of the order's month. An order already in the
-- reporting currency needs no rate (fx_rate 1), whatever its date; EUR, the unit of
-- fx_rates_monthly, is 1 EUR per EUR in every month. Any other currency without a rate for
-- the order's month gives a null rate, which the test
-- assert_fx_rate_exists_for_every_order_currency_month reports per currency and month.
--
-- Incremental (delete+insert on order_id): a run recomputes only the orders that can have
-- changed: those with a version exported from recompute_from on (a new state, or a late
-- version that moves the first refund), those of a contact exported in that range
-- (created, edited or erased: the order's customer_id may change), and those held without
-- a rate (one may have been added to fx_rates_monthly since). An order never disappears
-- (an archived one stays, cancelled). A corrected rate for a month already converted
-- changes no held order: run with --full-refresh after editing fx_rates_monthly.
-- exported_dt (the export of the order's latest version) is the model's watermark.
-- depends_on: {{ ref('stg_crm__contacts') }}
{{ config(
    materialized='incremental',
    unique_key='order_id',
    on_schema_change='fail',
    **incremental_on('delete+insert', partition_by='exported_dt'),
) }}

with
{% if is_incremental() %}
{%- set recompute = recompute_from(this, 'exported_dt') %}
changed_orders as (
    select versions.order_id
    from {{ ref('stg_crm__order_versions') }} as versions
    where versions.exported_dt >= {{ recompute }}
    union
    select latest.order_id
    from {{ ref('stg_crm__orders') }} as latest
    where latest.contact_id in (
        select contacts.contact_id
        from {{ ref('stg_crm__contacts') }} as contacts
        where contacts.exported_dt >= {{ recompute }}
    )
    union
    select held.order_id
    from {{ this }} as held
    where held.fx_rate is null
),

{% endif %}
orders as (
    select
        stg.*,
        -- the order's month in the reporting time zone: the month whose rate converts it
        cast({{ dbt.date_trunc('month', reporting_date('stg.created_at')) }} as date) as order_month
    from {{ ref('stg_crm__orders') }} as stg
    where stg.created_at < {{ as_of_end() }}
    {%- if is_incremental() %}
        and stg.order_id in (select changed_orders.order_id from changed_orders)
    {%- endif %}
),

versions as (
    select * from {{ ref('stg_crm__order_versions') }}
    {%- if is_incremental() %}
    where order_id in (select changed_orders.order_id from changed_orders)
    {%- endif %}
),

customers as (
    select customer_id from {{ ref('int_customers_resolvable') }}
),

rates as (
    select * from {{ ref('fx_rates_monthly') }}
),

reporting_rates as (
    select month_start, eur_per_unit as reporting_eur_per_unit
    from rates
    where currency_code = '{{ var("reporting_currency") }}'
),

first_refunds as (
    select order_id, min(updated_at) as refunded_at
    from versions
    where refund_amount > 0
    group by order_id
),

converted as (
    select
        orders.order_id,
        customers.customer_id,
        orders.external_order_id,
        orders.source_store,
        orders.currency_code,
        orders.created_at as ordered_at,
        {{ reporting_date('orders.created_at') }} as order_date,
        first_refunds.refunded_at,
        orders.fulfillment_status,
        (orders.fulfillment_status = 'cancelled' or orders.is_archived) as is_cancelled,
        orders.total_amount,
        orders.refund_amount,
        case
            when orders.currency_code = '{{ var("reporting_currency") }}' then cast(1 as {{ type_double() }})
            else {{ eur_per_unit('orders.currency_code', 'rates.eur_per_unit') }}
                / {{ eur_per_unit("'" ~ var('reporting_currency') ~ "'", 'reporting_rates.reporting_eur_per_unit') }}
        end as fx_rate,
        orders.exported_dt
    from orders
    left join customers on orders.contact_id = customers.customer_id
    left join first_refunds on orders.order_id = first_refunds.order_id
    left join rates
        on orders.currency_code = rates.currency_code
            and orders.order_month = rates.month_start
    left join reporting_rates
        on orders.order_month = reporting_rates.month_start
)

select
    order_id,
    customer_id,
    external_order_id,
    source_store,
    currency_code,
    ordered_at,
    order_date,
    refunded_at,
    fulfillment_status,
    is_cancelled,
    not is_cancelled as is_counted,
    fx_rate,
    cast(total_amount * fx_rate as {{ dbt.type_numeric() }}) as gross_revenue,
    cast(least(refund_amount, total_amount) * fx_rate as {{ dbt.type_numeric() }}) as refund_revenue,
    cast(
        case when is_cancelled then 0 else (total_amount - least(refund_amount, total_amount)) * fx_rate end
        as {{ dbt.type_numeric() }}
    ) as net_revenue,
    exported_dt
from converted
