-- One row per line item of a counted order, with its product category and customer:
-- the basis of repeat, cross-sell and upsell. The unit price is given twice: in the
-- reporting currency (unit_price) and as the order states it (unit_price_order_currency,
-- in currency_code): upsell compares two orders in the same currency in that currency.
-- A view: mart_repeat_purchase_monthly is its only reader, so a table would copy every
-- order line once more on every run.
{{ config(materialized='view') }}
with lines as (
    select * from {{ ref('stg_crm__order_line_items') }}
),

orders as (
    select * from {{ ref('int_orders_converted') }}
    where is_counted
),

products as (
    select * from {{ ref('stg_crm__products') }}
)

select
    lines.line_item_id,
    lines.order_id,
    orders.customer_id,
    orders.ordered_at,
    orders.order_date,
    coalesce(lines.product_id, products_by_sku.product_id) as product_id,
    coalesce(products.category, products_by_sku.category, 'unknown') as category,
    cast(lines.unit_price * orders.fx_rate as {{ dbt.type_numeric() }}) as unit_price,
    orders.currency_code,
    lines.unit_price as unit_price_order_currency,
    lines.quantity
from lines
inner join orders on lines.order_id = orders.order_id
left join products on lines.product_id = products.product_id
left join products as products_by_sku on lines.product_id is null and lines.sku = products_by_sku.sku
